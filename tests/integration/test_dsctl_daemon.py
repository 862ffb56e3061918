#!/usr/bin/env python3
"""dsctl against the real dsgraphd: every command end to end, --json equal to
what a direct JSON-RPC call returns, exact tree/table output for a graph the
test builds itself, raw mode (a notification has taken effect when dsctl
exits), and exit statuses 0/1/2/3.

Env (set by ctest): DSGRAPHD, DSCTL, DSGRAPH_SOURCE_DIR. Uses the dsgtest harness.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsgtest  # noqa: E402
from dsgtest import Daemon, check, run_all, test  # noqa: E402


def eq(got, want, what="output"):
    """dsgtest.eq with a default description."""
    dsgtest.eq(got, want, what)

DSCTL = os.environ.get("DSCTL") or next(
    (p for p in (os.path.join(dsgtest.SOURCE_DIR, d, "dsctl") for d in ("build-it", "build-dsctl", "build-test", "build"))
     if os.access(p, os.X_OK)), dsgtest.DSCTL)
SEED = os.path.join(dsgtest.SOURCE_DIR, "examples", "deepseek.jsonl")


def dsctl(d, *args, stdin=None):
    """Runs dsctl on daemon d's socket: (exit status, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("DSGRAPH_SOCKET", None)
    p = subprocess.run([DSCTL, "--socket", d.socket] + list(args), input=(stdin or "").encode(),
                       capture_output=True, env=e, timeout=60)
    out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    check("Sanitizer" not in err and "runtime error" not in err, "sanitizer report from dsctl:\n" + err)
    return p.returncode, out, err


def ok(d, *args, stdin=None):
    """dsctl that must succeed; returns stdout."""
    rc, out, err = dsctl(d, *args, stdin=stdin)
    check(rc == 0, "dsctl %s: exit %d, stderr %r" % (" ".join(args), rc, err))
    return out


def build_family(d):
    """A small lineage with a merge: Kid <- (Mom, Dad) <- Grandpa, plus a technique."""
    ok(d, "node", "put", "--label", "Model", "Grandpa", "--prop", "released=2023-01")
    ok(d, "node", "put", "--label", "Model", "Mom", "--prop", "released=2024-02", "--alias", "妈妈")
    ok(d, "node", "put", "--label", "Model", "Dad", "--prop", "released=2024-03")
    ok(d, "node", "put", "--label", "Model", "Kid", "--prop", "released=2025-01", "--prop", "params=7000000000")
    ok(d, "node", "put", "--label", "Technique", "多头潜在注意力", "--alias", "MLA")
    ok(d, "rel", "put", "Mom", "BASED_ON", "Grandpa")
    ok(d, "rel", "put", "Dad", "BASED_ON", "Grandpa")
    ok(d, "rel", "put", "Kid", "BASED_ON", "Mom")
    ok(d, "rel", "put", "Kid", "DISTILLED_FROM", "Dad")
    ok(d, "rel", "put", "Kid", "USES", "MLA")


@test
def ping_stats_and_json_equal_the_result():
    d = Daemon().start(seed=SEED)
    check(ok(d, "ping").startswith("dsgraphd "), "ping output")
    with d.client() as c:
        direct = c.ok("stats")
    eq(json.loads(ok(d, "stats", "--json")), direct, "stats --json")
    out = ok(d, "stats")
    check(out.startswith("nodes ") and "\nby label:\n" in out, "stats output:\n" + out)
    with d.client() as c:
        direct = c.ok("node.get", {"name": "DeepSeek-R1", "relationships": True, "aliases": True})
    eq(json.loads(ok(d, "--json", "show", "DeepSeek-R1")), direct, "show --json")


@test
def show_node_and_relationships():
    d = Daemon().start()
    build_family(d)
    eq(ok(d, "show", "KID"),
       "Kid  (id 4)\n"
       "labels: Model\n"
       "properties:\n"
       "  name      Kid\n"
       "  params    7000000000\n"
       "  released  2025-01\n"
       "relationships:\n"
       "  -[:BASED_ON]-> Mom (Model)\n"
       "  -[:DISTILLED_FROM]-> Dad (Model)\n"
       "  -[:USES]-> 多头潜在注意力 (Technique)\n", "show Kid")
    eq(ok(d, "show", "mla"),
       "多头潜在注意力  (id 5)\n"
       "labels: Technique\n"
       "properties:\n"
       "  name  多头潜在注意力\n"
       "aliases: MLA\n"
       "relationships:\n"
       "  <-[:USES]- Kid (Model)\n", "show by alias")
    eq(ok(d, "show", "--id", "2").splitlines()[0], "Mom  (id 2)")


@test
def lineage_tree():
    d = Daemon().start()
    build_family(d)
    eq(ok(d, "lineage", "Kid"),
       "Kid (2025-01) :Model\n"
       "├─ Mom [BASED_ON] (2024-02) :Model\n"
       "│  └─ Grandpa [BASED_ON] (2023-01) :Model\n"
       "└─ Dad [DISTILLED_FROM] (2024-03) :Model\n"
       "   └─ Grandpa [BASED_ON] (see above)\n", "lineage up")
    eq(ok(d, "lineage", "Grandpa", "--down", "--types", "BASED_ON"),
       "Grandpa (2023-01) :Model\n"
       "├─ Mom [BASED_ON] (2024-02) :Model\n"
       "│  └─ Kid [BASED_ON] (2025-01) :Model\n"
       "└─ Dad [BASED_ON] (2024-03) :Model\n", "lineage down, BASED_ON only")
    eq(ok(d, "lineage", "Kid", "--depth", "1"),
       "Kid (2025-01) :Model\n"
       "├─ Mom [BASED_ON] (2024-02) :Model\n"
       "└─ Dad [DISTILLED_FROM] (2024-03) :Model\n", "lineage depth 1")
    with d.client() as c:
        direct = c.ok("lineage", {"node": {"name": "Kid"}, "direction": "up"})
    eq(json.loads(ok(d, "lineage", "Kid", "--json")), direct, "lineage --json")


@test
def sql_and_search_tables():
    d = Daemon().start()
    build_family(d)
    eq(ok(d, "sql", "SELECT ? AS n, ? AS 名字, NULL AS empty, ? AS f", "--param", "42", "--param", "中文",
          "--param", "2.5"),
       " n  名字  empty    f\n"
       "--  ----  -----  ---\n"
       "42  中文  NULL   2.5\n"
       "(1 row)\n", "sql table")
    out = ok(d, "search", "潜在注意")
    eq(out.splitlines()[0].split(), ["score", "labels", "name"], "search header")
    check(out.splitlines()[2].endswith("  Technique  多头潜在注意力"), "search row:\n" + out)
    res = json.loads(ok(d, "search", "潜在注意", "--json"))
    eq([h["$node"]["properties"]["name"] for h in res["nodes"]], ["多头潜在注意力"], "search --json")


@test
def writes_deletes_and_errors():
    d = Daemon().start()
    build_family(d)
    res = json.loads(ok(d, "--json", "node", "put", "--label", "Model", "Mom", "--prop", "score=1.0",
                        "--prop", "released=null"))
    eq(res["$node"]["properties"], {"name": "Mom", "score": 1.0}, "merged properties")
    rc, out, err = dsctl(d, "node", "delete", "Mom")
    eq(rc, 1, "delete with relationships")
    check(err.startswith("dsctl: ") and out == "", "conflict message: %r %r" % (out, err))
    rc, out, err = dsctl(d, "--json", "node", "delete", "Mom")
    eq((rc, json.loads(out)["error"]["code"]), (1, -32003), "--json error")
    eq(ok(d, "node", "delete", "Mom", "--detach"), "deleted 1 node and 2 relationships\n")
    rel = json.loads(ok(d, "--json", "rel", "put", "#4", "COMPARED_WITH", "Dad", "--create"))["$rel"]
    eq(ok(d, "rel", "delete", "--id", str(rel["id"])), "deleted 1 relationship\n")
    eq(ok(d, "rel", "delete", "Kid", "DISTILLED_FROM", "#3"), "deleted 1 relationship\n")
    rc, out, err = dsctl(d, "node", "get", "Mom")
    eq((rc, out), (1, ""), "deleted node")
    rc, out, err = dsctl(d, "sql", "DELETE FROM nodes")
    eq(rc, 1, "sql write refused")
    rc, out, err = dsctl(d, "node", "put", "Nameless")
    eq(rc, 2, "usage error")


@test
def raw_mode():
    d = Daemon().start()
    out = ok(d, "raw", stdin='{"jsonrpc":"2.0",\n "id":5,\n "method":"ping"}\n')
    r = json.loads(out)
    eq((r["id"], sorted(r["result"])), (5, ["pid", "uptime_ms", "version"]), "raw reply")
    rc, out, err = dsctl(d, "raw", stdin="{oops")
    eq((rc, json.loads(out)["error"]["code"]), (1, -32700), "raw parse error")
    # a notification prints nothing, and has been executed when dsctl exits
    eq(ok(d, "raw", stdin='{"jsonrpc":"2.0","method":"node.put","params":{"labels":["Model"],"name":"Quiet"}}'), "")
    with d.client() as c:
        eq(c.ok("node.get", {"name": "Quiet"})["$node"]["properties"]["name"], "Quiet", "notification took effect")
    eq(ok(d, "raw", stdin='[{"jsonrpc":"2.0","method":"ping"}]'), "", "batch of notifications")


@test
def no_daemon_exit_3():
    d = Daemon().start()
    eq(dsctl(d, "ping")[0], 0)
    d.stop_ok()
    rc, out, err = dsctl(d, "ping")
    eq(rc, 3, "exit status without a daemon")
    check(err.startswith("dsctl: cannot connect to dsgraphd at %s: " % d.socket), err)


if __name__ == "__main__":
    run_all()
