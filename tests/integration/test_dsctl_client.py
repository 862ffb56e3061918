#!/usr/bin/env python3
"""dsctl against fake_dsgraphd: exact output of tables (Chinese alignment),
--json output equal to the JSON-RPC result, exit statuses 0/1/2/3, the
requests dsctl sends, raw mode and raw notifications.

Env: DSCTL (the binary; default /work/main/build-dsctl/dsctl). Plain
python3, no pytest: prints "N passed, M failed" and exits non-zero on failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import traceback
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fake_dsgraphd import FakeDsgraphd  # noqa: E402

SOURCE_DIR = os.environ.get("DSGRAPH_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
DSCTL = os.environ.get("DSCTL") or next(
    (p for p in (os.path.join(SOURCE_DIR, d, "dsctl") for d in ("build-dsctl", "build-it", "build-test", "build"))
     if os.access(p, os.X_OK)), "/work/main/build-dsctl/dsctl")
TMP = tempfile.mkdtemp(prefix="dsctl-test-")
SOCK = os.path.join(TMP, "fake.sock")
FAKE = FakeDsgraphd(SOCK)


def run(*args, stdin=None, env=None, sock=True):
    """Runs dsctl; returns (exit status, stdout, stderr) as text."""
    e = dict(os.environ)
    e.pop("DSGRAPH_SOCKET", None)
    e.update(env or {})
    argv = [DSCTL] + (["--socket", SOCK] if sock else []) + list(args)
    p = subprocess.run(argv, input=(stdin or "").encode("utf-8"), capture_output=True, env=e, timeout=30)
    err = p.stderr.decode("utf-8")
    assert "Sanitizer" not in err and "runtime error" not in err, "sanitizer report:\n" + err
    return p.returncode, p.stdout.decode("utf-8"), err


def width(s):
    """Terminal columns of s: East Asian wide/fullwidth characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def node(nid, name, labels, **props):
    """A {"$node":...} entity as the protocol writes it."""
    p = {"name": name}
    p.update(props)
    return {"$node": {"id": nid, "labels": labels, "properties": p}}


def rel(rid, typ, start, end, **props):
    """A {"$rel":...} entity as the protocol writes it."""
    return {"$rel": {"id": rid, "type": typ, "start": start, "end": end, "properties": props}}


def eq(got, want, what="output"):
    """assert got == want with a readable diff."""
    assert got == want, "%s differs:\n--- got ---\n%s\n--- want ---\n%s" % (what, got, want)


def last_request(method):
    """The last request dsctl sent for method (batches included)."""
    for r in reversed(FAKE.requests):
        for m in (r if isinstance(r, list) else [r]):
            if isinstance(m, dict) and m.get("method") == method:
                return m
    raise AssertionError("no %s request received" % method)


NOT_FOUND = {"code": -32001, "message": "node.get: no node named \"DeepSeek-V9\"", "data": {"kind": "not_found"}}

SEARCH = {"nodes": [
    dict(node(6, "Multi-head Latent Attention", ["Technique"]), score=1.7),
    dict(node(7, "多头潜在注意力机制", ["Technique", "概念"]), score=0.25),
]}

SQL = {"columns": ["id", "name", "released"],
       "rows": [[1, "DeepSeek-V3", "2024-12"], [2, "深度求索", None], [10, "x", 2.5]]}

LINEAGE = {
    "root": node(1, "DeepSeek-R1-Distill-Qwen-7B", ["Model"], released="2025-01"),
    "nodes": [
        dict(node(2, "DeepSeek-R1", ["Model"], released="2025-01"), depth=1),
        dict(node(4, "Qwen2.5-Math-7B", ["Model"], released="2024-09"), depth=1),
        dict(node(3, "DeepSeek-V3-Base", ["Model"], released="2024-12"), depth=2),
        dict(node(5, "DeepSeek-R1-Zero", ["Model"]), depth=2),
    ],
    "relationships": [
        rel(10, "DISTILLED_FROM", 1, 2), rel(11, "BASED_ON", 1, 4), rel(12, "BASED_ON", 2, 3),
        rel(13, "DISTILLED_FROM", 2, 5), rel(14, "BASED_ON", 5, 3),
    ],
}

MLA_GET = {
    "$node": {"id": 6, "labels": ["Technique"],
              "properties": {"abbr": "MLA", "name": "Multi-head Latent Attention", "年份": 2024, "ratio": 0.1}},
    "aliases": ["MLA", "多头潜在注意力"],
    "relationships": [rel(20, "USES", 3, 6), rel(21, "USES", 2, 6, since="2025"), rel(22, "IMPROVES", 6, 8)],
}


# ---------------------------------------------------------------- usage / help

def test_help():
    for args in (["--help"], ["help"], ["-h"], ["ping", "--help"]):
        rc, out, err = run(*args, sock=False)
        eq(rc, 0, "exit status of %s" % args)
        for cmd in ("ping", "stats", "show", "node put", "node get", "node delete", "rel put",
                    "rel delete", "lineage", "search", "sql", "raw"):
            assert "dsctl " + cmd in out, "%s missing from --help" % cmd


def test_usage_errors_exit_2_without_connecting():
    bad = [[], ["frobnicate"], ["node"], ["node", "put", "X"], ["node", "get"], ["node", "get", "A", "--id", "3"],
           ["node", "get", "--id", "x3"], ["rel", "put", "A", "B"], ["rel", "delete"], ["sql"],
           ["search"], ["search", "x", "--limit", "ten"], ["lineage", "X", "--up", "--down"],
           ["lineage", "X", "--depth", "-1"], ["show", "X", "--bogus"], ["ping", "extra"],
           ["node", "put", "--label", "M", "X", "--prop", "novalue"], ["--socket"]]
    for args in bad:
        rc, out, err = run("--socket", "/nonexistent/dsgraph.sock", *args, sock=False)
        eq(rc, 2, "exit status of %s (stderr %r)" % (args, err))
        eq(out, "", "stdout of %s" % args)
        assert err.startswith("dsctl: ") and "usage:" in err, "stderr of %s: %r" % (args, err)


def test_no_daemon_exit_3():
    path = os.path.join(TMP, "nobody.sock")
    rc, out, err = run("--socket", path, "ping", sock=False)
    eq(rc, 3)
    eq(out, "")
    eq(err, "dsctl: cannot connect to dsgraphd at %s: No such file or directory; start one with: "
            "dsgraphd --socket %s  (or: make run)\n" % (path, path), "stderr")
    rc, out, err = run("stats", sock=False, env={"DSGRAPH_SOCKET": path})
    eq(rc, 3)
    assert path in err


# ---------------------------------------------------------------- commands

def test_ping_and_socket_forms():
    rc, out, err = run("ping")
    eq((rc, out, err), (0, "dsgraphd 0.1.0: pid 4242, up 1.234 s\n", ""))
    rc, out, _ = run("ping", "--json", sock=False, env={"DSGRAPH_SOCKET": SOCK})
    eq(rc, 0)
    eq(json.loads(out), {"version": "0.1.0", "pid": 4242, "uptime_ms": 1234})
    rc, out, _ = run("--socket=" + SOCK, "--json", "ping", sock=False)
    eq(rc, 0)
    assert out.endswith("}\n") and out.count("\n") == 1, repr(out)


def test_stats():
    FAKE.add("stats", {"nodes": 42, "relationships": 61, "labels": 6, "types": 8,
                       "by_label": {"Model": 15, "Technique": 9, "技术": 1}, "by_type": {"BASED_ON": 2, "USES": 20}})
    rc, out, err = run("stats")
    eq(rc, 0)
    eq(out, "nodes          42\n"
            "relationships  61\n"
            "labels          6\n"
            "types           8\n"
            "\n"
            "by label:\n"
            "  Model      15\n"
            "  Technique   9\n"
            "  技术        1\n"
            "\n"
            "by type:\n"
            "  BASED_ON   2\n"
            "  USES      20\n")


def test_search_table_with_chinese():
    FAKE.add("search", SEARCH)
    rc, out, err = run("search", "潜在注意力", "--limit", "5")
    eq((rc, err), (0, ""))
    eq(out, "score  labels           name\n"
            "-----  ---------------  ---------------------------\n"
            "  1.7  Technique        Multi-head Latent Attention\n"
            " 0.25  Technique, 概念  多头潜在注意力机制\n")
    # the name column starts at the same terminal column on every line
    lines = out.splitlines()
    cols = {width(l[:l.index(w)]) for l, w in zip(lines, ["name", "---------------------------", "Multi", "多头潜在注意力机制"])}
    eq(len(cols), 1, "name column positions %s" % cols)
    eq(last_request("search")["params"], {"text": "潜在注意力", "limit": 5}, "search params")
    FAKE.clear()
    FAKE.add("search", {"nodes": []})
    rc, out, _ = run("search", "nothing", "matches")
    eq((rc, out), (0, "no matches\n"))
    eq(last_request("search")["params"], {"text": "nothing matches"}, "words joined")


def test_sql_table_null_and_params():
    FAKE.add("sql", SQL)
    rc, out, err = run("sql", "SELECT id, name, released FROM nodes WHERE id > ? AND name <> ?",
                       "--param", "0", "--param", "x y", "--param", '"7"', "--param", "null")
    eq((rc, err), (0, ""))
    eq(out, "id  name         released\n"
            "--  -----------  --------\n"
            " 1  DeepSeek-V3  2024-12\n"
            " 2  深度求索     NULL\n"
            "10  x            2.5\n"
            "(3 rows)\n")
    eq(last_request("sql")["params"], {"sql": "SELECT id, name, released FROM nodes WHERE id > ? AND name <> ?",
                                       "params": [0, "x y", "7", None]}, "sql params")
    rc, out, _ = run("--json", "sql", "SELECT 1")
    eq(json.loads(out), SQL)


def test_json_flag_anywhere_prints_result_exactly():
    FAKE.add("search", SEARCH)
    for args in (["--json", "search", "x"], ["search", "--json", "x"], ["search", "x", "--json"]):
        rc, out, err = run(*args)
        eq(rc, 0)
        assert out.endswith("\n") and out.count("\n") == 1, repr(out)
        eq(json.loads(out), SEARCH, "--json of %s" % args)
    assert "多头潜在注意力机制" in out, "UTF-8 must not be \\u-escaped"
    assert '"score":1.7' in out and '"score":0.25' in out, out


def test_rpc_error_exit_1():
    FAKE.add("node.get", error=NOT_FOUND)
    rc, out, err = run("show", "DeepSeek-V9")
    eq((rc, out, err), (1, "", "dsctl: node.get: no node named \"DeepSeek-V9\"\n"))
    rc, out, err = run("node", "get", "DeepSeek-V9", "--json")
    eq(rc, 1)
    eq(json.loads(out), {"error": NOT_FOUND})
    assert out.count("\n") == 1
    rc, out, err = run("frob-method-that-dsctl-does-not-have", sock=True)
    eq(rc, 2)


def test_show_with_relationships():
    FAKE.add("node.get", MLA_GET, params={"name": "mla"})
    FAKE.add("node.get", node(3, "DeepSeek-V3", ["Model"]), params={"id": 3})
    FAKE.add("node.get", node(2, "DeepSeek-R1", ["Model", "推理模型"]), params={"id": 2})
    FAKE.add("node.get", error={"code": -32001, "message": "gone", "data": {"kind": "not_found"}}, params={"id": 8})
    rc, out, err = run("show", "mla")
    eq((rc, err), (0, ""))
    eq(out, "Multi-head Latent Attention  (id 6)\n"
            "labels: Technique\n"
            "properties:\n"
            "  abbr   MLA\n"
            "  name   Multi-head Latent Attention\n"
            "  年份   2024\n"
            "  ratio  0.10000000000000001\n"
            "aliases: MLA, 多头潜在注意力\n"
            "relationships:\n"
            "  -[:IMPROVES]-> #8\n"
            "  <-[:USES]- DeepSeek-R1 (Model, 推理模型)\n"
            "  <-[:USES]- DeepSeek-V3 (Model)\n")
    eq(last_request("node.get")["method"], "node.get")
    first = [r for r in FAKE.requests if isinstance(r, dict) and r.get("method") == "node.get"][0]
    eq(first["params"], {"name": "mla", "relationships": True, "aliases": True}, "show params")
    batches = [r for r in FAKE.requests if isinstance(r, list)]
    eq(len(batches), 1, "other ends fetched in one batch")
    eq(sorted(m["params"]["id"] for m in batches[0]), [2, 3, 8])
    eq(len({m["id"] for m in batches[0]} | {first["id"]}), 4, "distinct request ids")
    rc, out, err = run("show", "mla", "--json")
    eq(json.loads(out), MLA_GET)
    eq(len([r for r in FAKE.requests if isinstance(r, list)]), 1, "--json fetches no other ends")


def test_show_many_neighbours_in_chunked_batches():
    rels = [rel(100 + i, "USES", 1000 + i, 6) for i in range(600)]
    FAKE.add("node.get", {"$node": {"id": 6, "labels": ["Technique"], "properties": {"name": "MLA"}},
                          "aliases": [], "relationships": rels}, params={"name": "MLA"})
    for i in range(600):
        FAKE.add("node.get", node(1000 + i, "M%03d" % i, ["Model"]), params={"id": 1000 + i})
    rc, out, err = run("show", "MLA")
    eq((rc, err), (0, ""))
    lines = out.splitlines()
    eq(lines[-600:], ["  <-[:USES]- M%03d (Model)" % i for i in range(600)])
    batches = [r for r in FAKE.requests if isinstance(r, list)]
    eq([len(b) for b in batches], [256, 256, 88])


def test_double_dash_ends_global_flags():
    FAKE.add("search", {"nodes": []})
    rc, out, _ = run("search", "--", "--json")
    eq((rc, out), (0, "no matches\n"))
    eq(last_request("search")["params"], {"text": "--json"})


def test_show_by_id_and_label():
    FAKE.add("node.get", node(3, "DeepSeek-V3", ["Model"]))
    rc, out, _ = run("show", "--id", "3")
    eq(rc, 0)
    eq(last_request("node.get")["params"], {"id": 3, "relationships": True, "aliases": True})
    eq(out, "DeepSeek-V3  (id 3)\nlabels: Model\nproperties:\n  name  DeepSeek-V3\n")
    run("show", "DeepSeek-V3", "--label", "Model")
    eq(last_request("node.get")["params"],
       {"name": "DeepSeek-V3", "label": "Model", "relationships": True, "aliases": True})


def test_node_put_get_delete():
    FAKE.add("node.put", node(9, "DeepSeek-V3", ["Model", "MoE"], params_total=671000000000, released="2024-12"))
    rc, out, err = run("node", "put", "--label", "Model", "--label", "MoE", "DeepSeek-V3",
                       "--prop", "params_total=671000000000", "--prop", "released=2024-12",
                       "--prop", "open=true", "--prop", 'tags=["a","b"]', "--prop", "ratio=1.0",
                       "--prop", "old=null", "--prop", "note=a=b", "--alias", "V3", "--alias", "深度求索V3")
    eq((rc, err), (0, ""))
    eq(last_request("node.put")["params"], {
        "labels": ["Model", "MoE"], "name": "DeepSeek-V3",
        "properties": {"params_total": 671000000000, "released": "2024-12", "open": True, "tags": ["a", "b"],
                       "ratio": 1.0, "old": None, "note": "a=b"},
        "aliases": ["V3", "深度求索V3"]})
    assert "1.0" in FAKE.lines[-1].decode(), "1.0 stays a float on the wire"
    eq(out, "DeepSeek-V3  (id 9)\nlabels: Model, MoE\nproperties:\n"
            "  name          DeepSeek-V3\n  params_total  671000000000\n  released      2024-12\n")
    FAKE.add("node.get", node(9, "DeepSeek-V3", ["Model"]))
    rc, out, _ = run("node", "get", "--id", "9")
    eq(last_request("node.get")["params"], {"id": 9})
    FAKE.add("node.delete", {"nodes_deleted": 1, "relationships_deleted": 3})
    rc, out, _ = run("node", "delete", "DeepSeek-V3", "--label", "Model", "--detach")
    eq((rc, out), (0, "deleted 1 node and 3 relationships\n"))
    eq(last_request("node.delete")["params"], {"name": "DeepSeek-V3", "label": "Model", "detach": True})
    rc, out, _ = run("--json", "node", "delete", "--id", "9")
    eq(json.loads(out), {"nodes_deleted": 1, "relationships_deleted": 3})
    eq(last_request("node.delete")["params"], {"id": 9})


def test_rel_put_delete():
    FAKE.add("rel.put", rel(10, "BASED_ON", 4, 12, weight=0.5))
    rc, out, err = run("rel", "put", "DeepSeek-R1", "BASED_ON", "#12", "--prop", "weight=0.5", "--create")
    eq((rc, err), (0, ""))
    eq(last_request("rel.put")["params"], {"start": {"name": "DeepSeek-R1"}, "type": "BASED_ON", "end": 12,
                                           "properties": {"weight": 0.5}, "create": True})
    eq(out, "DeepSeek-R1 -[:BASED_ON]-> #12  (relationship id 10)\nproperties:\n  weight  0.5\n")
    FAKE.add("rel.delete", {"relationships_deleted": 1})
    rc, out, _ = run("rel", "delete", "--id", "10")
    eq((rc, out), (0, "deleted 1 relationship\n"))
    eq(last_request("rel.delete")["params"], {"id": 10})
    rc, out, _ = run("rel", "delete", "#4", "BASED_ON", "DeepSeek-V3")
    eq(last_request("rel.delete")["params"], {"start": 4, "type": "BASED_ON", "end": {"name": "DeepSeek-V3"}})


def test_lineage_tree_with_merge():
    FAKE.add("lineage", LINEAGE)
    rc, out, err = run("lineage", "DeepSeek-R1-Distill-Qwen-7B", "--up", "--depth", "3",
                       "--types", "BASED_ON, DISTILLED_FROM")
    eq((rc, err), (0, ""))
    eq(out, "DeepSeek-R1-Distill-Qwen-7B (2025-01) :Model\n"
            "├─ DeepSeek-R1 [DISTILLED_FROM] (2025-01) :Model\n"
            "│  ├─ DeepSeek-V3-Base [BASED_ON] (2024-12) :Model\n"
            "│  └─ DeepSeek-R1-Zero [DISTILLED_FROM] :Model\n"
            "│     └─ DeepSeek-V3-Base [BASED_ON] (see above)\n"
            "└─ Qwen2.5-Math-7B [BASED_ON] (2024-09) :Model\n")
    eq(last_request("lineage")["params"], {"node": {"name": "DeepSeek-R1-Distill-Qwen-7B"}, "direction": "up",
                                           "depth": 3, "types": ["BASED_ON", "DISTILLED_FROM"]})
    rc, out, _ = run("lineage", "DeepSeek-R1-Distill-Qwen-7B", "--json")
    eq(json.loads(out), LINEAGE)


def test_lineage_down_and_cycle():
    FAKE.add("lineage", {
        "root": node(3, "DeepSeek-V3-Base", ["Model"]),
        "nodes": [dict(node(2, "DeepSeek-R1", ["Model"]), depth=1),
                  dict(node(1, "Distill", ["Model"]), depth=2)],
        "relationships": [rel(12, "BASED_ON", 2, 3), rel(10, "DISTILLED_FROM", 1, 2),
                          rel(15, "BASED_ON", 1, 2), rel(16, "BASED_ON", 3, 1)]})
    rc, out, err = run("lineage", "--id", "3", "--down")
    eq((rc, err), (0, ""))
    eq(last_request("lineage")["params"], {"node": {"id": 3}, "direction": "down"})
    eq(out, "DeepSeek-V3-Base :Model\n"
            "└─ DeepSeek-R1 [BASED_ON] :Model\n"
            "   └─ Distill [DISTILLED_FROM, BASED_ON] :Model\n"
            "      └─ DeepSeek-V3-Base [BASED_ON] (see above)\n")


def test_lineage_edge_cases():
    FAKE.add("lineage", {"root": node(1, "Alone", []), "nodes": [], "relationships": []}, params={"node": {"id": 1}})
    FAKE.add("lineage", {"root": node(1, "Root", ["Model"]), "nodes": [],
                         "relationships": [rel(5, "BASED_ON", 1, 77)]})
    rc, out, err = run("lineage", "--id", "1")
    eq((rc, out, err), (0, "Alone\n  (no ancestors)\n", ""))
    rc, out, err = run("lineage", "Root")
    eq((rc, out, err), (0, "Root :Model\n└─ #77 [BASED_ON]\n", ""))


def test_socket_path_too_long():
    long_path = "/tmp/" + "x" * 200 + ".sock"
    rc, out, err = run("--socket", long_path, "ping", sock=False)
    eq((rc, out), (3, ""))
    assert err.startswith("dsctl: cannot connect to dsgraphd at %s: File name too long" % long_path), err


# ---------------------------------------------------------------- raw

def test_raw_verbatim_and_multiline():
    FAKE.add("stats", raw='{"jsonrpc":"2.0",  "id":7, "result":{"z":1,"a":1.50}}')
    rc, out, err = run("raw", stdin='{\n  "jsonrpc": "2.0",\n  "id": 7,\n  "method": "stats"\n}\n')
    eq((rc, out, err), (0, '{"jsonrpc":"2.0",  "id":7, "result":{"z":1,"a":1.50}}\n', ""))
    eq(FAKE.lines[-1], b'{   "jsonrpc": "2.0",   "id": 7,   "method": "stats" }', "sent as one line")
    rc, out, _ = run("--json", "raw", stdin='{"jsonrpc":"2.0","id":7,"method":"stats"}')
    eq(out, '{"jsonrpc":"2.0",  "id":7, "result":{"z":1,"a":1.50}}\n')


def test_raw_errors_and_batches():
    rc, out, err = run("raw", stdin="{not json")
    eq(rc, 1)
    eq(json.loads(out)["error"]["code"], -32700)
    eq(err, "dsctl: parse error at line 1\n")
    rc, out, err = run("raw", stdin='[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"ping"}]')
    eq(rc, 0)
    eq(json.loads(out), [{"jsonrpc": "2.0", "id": 1, "result": {"version": "0.1.0", "pid": 4242, "uptime_ms": 1234}}])
    rc, out, err = run("raw", stdin="   \n")
    eq(rc, 2)


def test_raw_notification_prints_nothing():
    FAKE.add("node.put", node(1, "X", ["Model"]))
    before = len(FAKE.requests)
    rc, out, err = run("raw", stdin='{"jsonrpc":"2.0","method":"node.put","params":{"labels":["Model"],"name":"X"}}')
    eq((rc, out, err), (0, "", ""))
    got = FAKE.requests[before:]
    eq(got[0], {"jsonrpc": "2.0", "method": "node.put", "params": {"labels": ["Model"], "name": "X"}})
    rc, out, err = run("raw", stdin='[{"jsonrpc":"2.0","method":"node.put","params":{}},'
                                    '{"jsonrpc":"2.0","method":"ping"}]')
    eq((rc, out, err), (0, "", ""), "batch of notifications")


# ---------------------------------------------------------------- transport

def test_lost_connection_exit_1():
    FAKE.add("stats", close=True)
    rc, out, err = run("stats")
    eq(rc, 1)
    assert err.startswith("dsctl: lost connection to dsgraphd at %s" % SOCK), err


def test_big_reply():
    rows = [[i, "名字-%d-" % i + "x" * 200] for i in range(30000)]  # ~7 MiB
    FAKE.add("sql", {"columns": ["n", "s"], "rows": rows})
    rc, out, err = run("--json", "sql", "SELECT big")
    eq((rc, err), (0, ""))
    eq(json.loads(out)["rows"][-1], rows[-1])
    rc, out, err = run("sql", "SELECT big")
    eq(rc, 0)
    eq(out.count("\n"), 30000 + 3)


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_") and callable(v)]


def main():
    if not os.access(DSCTL, os.X_OK):
        print("dsctl binary not found at %s (set DSCTL)" % DSCTL)
        return 1
    FAKE.start()
    passed = failed = 0
    try:
        for t in TESTS:
            FAKE.clear()
            try:
                t()
                passed += 1
                print("ok   %s" % t.__name__)
            except Exception:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print("FAIL %s\n%s" % (t.__name__, traceback.format_exc()))
    finally:
        FAKE.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
