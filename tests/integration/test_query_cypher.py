#!/usr/bin/env python3
"""`query` end to end: the JSON-RPC method and `dsctl query` against a real dsgraphd.
The output contract (--json object, NaN tokens, error object and exit status),
all-or-nothing writes, the row and time limits, stdin and --param, the table and
CSV forms, and the DeepSeek questions against the bundled data.

Env (set by ctest): DSGRAPHD, DSCTL, DSGRAPH_SOURCE_DIR. Uses the dsgtest harness.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsgtest  # noqa: E402
from dsgtest import Daemon, check, eq, run_all, test  # noqa: E402

DSCTL = dsgtest.DSCTL
SEED = os.path.join(dsgtest.SOURCE_DIR, "examples", "deepseek.jsonl")


def dsctl(d, *args, stdin=None):
    """(exit status, stdout, stderr) of dsctl on d's socket."""
    e = dict(os.environ)
    e.pop("DSGRAPH_SOCKET", None)
    p = subprocess.run([DSCTL, "--socket", d.socket] + list(args), input=(stdin or "").encode(),
                       capture_output=True, env=e, timeout=60)
    out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    check("runtime error" not in err and "Sanitizer" not in err, "sanitizer report:\n" + err)
    return p.returncode, out, err


def q(d, text, *extra):
    """query --json that must succeed: the parsed result object."""
    rc, out, err = dsctl(d, "query", "--json", *extra, text)
    check(rc == 0, "query %r: exit %d, stdout %r, stderr %r" % (text, rc, out, err))
    check(out.count("\n") == 1, "exactly one line expected: %r" % out)
    return json.loads(out)


def qerr(d, text, *extra):
    """query --json that must fail: the error member."""
    rc, out, err = dsctl(d, "query", "--json", *extra, text)
    check(rc != 0, "query %r should fail, got %r" % (text, out))
    return json.loads(out)["error"]


def column(res, i=0):
    return [r[i] for r in res["rows"]]


@test
def contract_values_and_nan():
    d = Daemon().start()
    rc, out, err = dsctl(d, "query", "--json", "RETURN 1 AS i, 1.0 AS f, 0.0/0.0 AS n, 1.0/0.0 AS p, -1.0/0.0 AS m, 'é' AS s")
    eq(rc, 0, "exit")
    check(out.startswith('{"columns":["i","f","n","p","m","s"],"rows":[[1,1.0,NaN,Infinity,-Infinity,"é"]],"stats":{'),
          "raw output: " + out)
    res = q(d, "RETURN 1 AS x")
    eq(sorted(res), ["columns", "rows", "stats"], "members")
    eq(res["stats"], {"nodes_created": 0, "nodes_deleted": 0, "relationships_created": 0, "relationships_deleted": 0,
                      "properties_set": 0, "properties_removed": 0, "labels_added": 0, "labels_removed": 0}, "stats")
    res = q(d, "CREATE (:A {v: 1})")
    eq(res["columns"], [], "columns of a query without RETURN")
    eq(res["rows"], [], "rows of a query without RETURN")
    eq(res["stats"]["nodes_created"], 1, "nodes_created")


@test
def temporal_values_print_as_text_and_are_stored_typed():
    """A date set by a query prints as its ISO text in query results (the TCK's form),
    while node.get and the sql method show the stored, typed form {"$date": ...}."""
    d = Daemon().start()
    q(d, "CREATE (:Model {name: 'M', released: date('2025-01-20'), window: duration({days: 3})})")
    res = q(d, "MATCH (m:Model) RETURN m, m.released + m.window AS due, m.released.year AS y")
    eq(res["rows"][0][0]["$node"]["properties"], {"name": "M", "released": "2025-01-20", "window": "P3D"}, "node in a row")
    eq(res["rows"][0][1:], ["2025-01-23", 2025], "arithmetic and fields on the stored values")
    with d.client() as c:
        got = c.ok("node.get", {"name": "M"})
        eq(got["$node"]["properties"]["released"], {"$date": "2025-01-20"}, "node.get shows the typed form")
        eq(got["$node"]["properties"]["window"], {"$duration": "P3D"}, "a duration's typed form")
    rc, out, err = dsctl(d, "query", "RETURN date('2025-02-30') AS x")
    check(rc != 0 and "2025-02-30" in err, "a bad date names the text: %r" % err)


@test
def contract_errors():
    d = Daemon().start()
    e = qerr(d, "MATCH (n)\nRETURN m")
    eq(e["type"], "SyntaxError", "type")
    eq(e["code"], "UndefinedVariable", "code")
    eq(e["phase"], "compile", "phase")
    eq(e["position"], {"line": 2, "column": 8}, "position")
    check(e["message"], "message")
    e = qerr(d, "RETURN 1 / 0 AS x")
    eq((e["type"], e["phase"]), ("ArithmeticError", "runtime"), "runtime error")
    rc, out, err = dsctl(d, "query", "RETURN 1 +")
    check(rc != 0 and "^" in err, "human error with a caret: %r" % err)
    with d.client() as c:
        result, error = c.call("query", {"query": "RETURN x"})
        data = error["data"]
        eq((data["kind"], data["type"], data["code"]), ("invalid_params", "SyntaxError", "UndefinedVariable"), "rpc data")


@test
def all_or_nothing():
    d = Daemon().start()
    q(d, "CREATE (:A {v: 1})")
    e = qerr(d, "MATCH (n:A) SET n.v = 2 CREATE (:B) WITH n RETURN 1 / 0 AS x")
    eq(e["code"], "DivisionByZero", "code")
    res = q(d, "MATCH (n) RETURN labels(n) AS l, n.v AS v")
    eq(res["rows"], [[["A"], 1]], "graph unchanged after a failed write")
    e = qerr(d, "MATCH (n:A) CREATE (n)-[:T]->(:C) WITH n DELETE n")
    eq(e["code"], "DeleteConnectedNode", "code")
    eq(q(d, "MATCH (n) RETURN count(n) AS c")["rows"], [[1]], "still one node")


@test
def limits():
    d = Daemon(config={"query_max_rows": 50, "query_timeout_ms": 300}).start()
    e = qerr(d, "UNWIND range(1, 100) AS x RETURN x")
    eq(e["type"], "LimitExceeded", "row limit")
    e = qerr(d, "UNWIND range(1, 40) AS x CREATE (:N) WITH x UNWIND range(1, 40) AS y RETURN y")
    eq(e["type"], "LimitExceeded", "row limit on a write")
    eq(q(d, "MATCH (n) RETURN count(n) AS c")["rows"], [[0]], "nothing created")
    q(d, "UNWIND range(1, 40) AS i CREATE (:N {i: i})-[:T]->(:M)")
    q(d, "MATCH (a:N), (b:M) WHERE a.i = b.i - 1000 CREATE (a)-[:X]->(b)")
    e = qerr(d, "MATCH (a), (b), (c) WITH a, b, c WHERE a.i + b.i + c.i < 0 RETURN count(*) AS n")
    eq(e["type"], "LimitExceeded", "time or row limit")
    e = qerr(d, "UNWIND range(1, 40) AS i CREATE (:Q) WITH i "
                "RETURN size([x IN range(1, 3000) | size([y IN range(1, 3000) WHERE y = x])]) AS n")
    eq((e["type"], e["code"]), ("LimitExceeded", "Timeout"), "time limit")
    eq(q(d, "MATCH (n:Q) RETURN count(n) AS c")["rows"], [[0]], "nothing created past the time limit")


@test
def memory_limit():
    """query_memory_limit bounds a query's working memory; what a predicate or subquery used
    for one row is given back once it has its answer, so one per row fits a small limit."""
    d = Daemon(config={"query_memory_limit": 4 << 20}).start()
    q(d, "CREATE (h:Hub) WITH h UNWIND range(1, 500) AS v CREATE (h)-[:T]->(:C {v: v})")
    # each row's subquery holds ~100 KB (2,000 rows) while it runs: 3,000 rows keep none of it
    res = q(d, "UNWIND range(1, 3000) AS i WITH i WHERE EXISTS { UNWIND range(1, 2000) AS j WITH j WHERE j = 2000 } "
               "RETURN count(*) AS c")
    eq(res["rows"], [[3000]], "an EXISTS subquery per row")
    res = q(d, "UNWIND range(1, 3000) AS i WITH i WHERE COUNT { MATCH (:Hub)-->(c) WHERE c.v > i - 1000000 } = 500 "
               "RETURN count(*) AS c")
    eq(res["rows"], [[3000]], "a COUNT of 500 matches per row")
    res = q(d, "UNWIND range(1, 3000) AS i WITH i WHERE (:Hub)-->(:C {v: 500}) RETURN count(*) AS c")
    eq(res["rows"], [[3000]], "a pattern predicate per row")
    # what a query keeps counts: 3,000 lists of 200 values are ~10 MB
    e = qerr(d, "UNWIND range(1, 3000) AS i RETURN size(collect([x IN range(1, 200) | x])) AS n")
    eq((e["type"], e["code"]), ("LimitExceeded", "MemoryLimit"), "memory limit")
    check("query_memory_limit" in e["message"], "the message names the setting: %r" % e["message"])
    d.stop_ok()


@test
def scan_memory():
    """A scan keeps what matched, not every candidate: the label's ids of a scan per row
    (`UNWIND ... MATCH (n:L {k: x})`, an upsert's MERGE) and what a rejected node or
    relationship read for its pattern properties are given back, so they fit a small limit."""
    d = Daemon(config={"query_memory_limit": 4 << 20}).start()
    for lo in range(1, 30001, 5000):
        q(d, "UNWIND range($lo, $lo + 4999) AS i CREATE (:W {id: i})", "--param", "lo=%d" % lo)
    q(d, "CREATE (:Hub)-[:R {k: 0}]->(:Tail)")
    for lo in range(1, 30001, 5000):
        q(d, "MATCH (h:Hub), (t:Tail) UNWIND range($lo, $lo + 4999) AS k CREATE (h)-[:R {k: k}]->(t)",
          "--param", "lo=%d" % lo)
    q(d, "UNWIND range(1, 2000) AS i CREATE (:V {id: i})")
    # one scan of 30,000 candidates: ~5 MB of props and pattern maps if the rejected kept theirs
    eq(q(d, "MATCH (n:W {id: 29999}) RETURN n.id AS id")["rows"], [[29999]], "one node of 30,000 by a property")
    eq(q(d, "MATCH (:Hub)-[r:R {k: 29999}]->(:Tail) RETURN r.k AS k")["rows"], [[29999]],
       "one relationship of 30,001 by a property")
    # 300 scans of 2,000 nodes: 4.8 MB of id arrays if each row kept its own
    eq(q(d, "UNWIND range(1, 300) AS x MATCH (n:V {id: x}) RETURN count(n) AS c")["rows"], [[300]],
       "a scan per row")
    res = q(d, "UNWIND range(1791, 2090) AS x MERGE (n:V {id: x}) RETURN count(n) AS c")
    eq((res["rows"], res.get("stats", {}).get("nodes_created", 0)), ([[300]], 90),
       "MERGE per row finds the 210 there and creates the 90 new")
    eq(q(d, "MATCH (n:V) RETURN count(n) AS c, max(n.id) AS top")["rows"], [[2090, 2090]], "each created once")
    # reading one property of 30,000 nodes keeps that value, not each node's ~250-byte map
    pad = "x" * 60
    for lo in range(1, 30001, 2000):
        q(d, "UNWIND range($lo, $lo + 1999) AS i CREATE (:X {id: i, a: $p + i, b: $p + 'b', c: $p + 'c'})",
          "--param", "lo=%d" % lo, "--param", "p=\"%s\"" % pad)
    eq(q(d, "MATCH (n:X) RETURN count(n.id) AS c, sum(n.id) AS s")["rows"], [[30000, 450015000]],
       "one property of every node")
    eq(q(d, "MATCH (n:X) WHERE n.id % 1000 = 0 RETURN count(n) AS c")["rows"], [[30]], "a WHERE on one property")
    # counting per group keeps a row per group, not every row's three ~65-byte strings
    groups = q(d, "MATCH (n:X) RETURN n.id % 7 AS k, count(n.a) AS ca, count(n.b) AS cb, sum(size(n.c)) AS sc "
                  "ORDER BY k")["rows"]
    want = [[k, n, n, n * (len(pad) + 1)] for k in range(7) for n in [sum(1 for i in range(1, 30001) if i % 7 == k)]]
    eq(groups, want, "three properties of 30,000 nodes counted in 7 groups")
    # ORDER BY ... LIMIT keeps the three best rows, not 30,000 rows of three ~65-byte strings
    top = q(d, "MATCH (n:X) RETURN n.a AS a, n.b AS b, n.c AS c ORDER BY a DESC LIMIT 3")["rows"]
    eq([r[0] for r in top], [pad + "9999", pad + "9998", pad + "9997"], "the top 3 of 30,000 by a string")
    d.stop_ok()


@test
def stdin_params_table_csv():
    d = Daemon().start()
    q(d, "CREATE (:Model {name: 'DeepSeek-V3', size: 671}), (:Model {name: '深度求索', size: 1})")
    rc, out, err = dsctl(d, "query", "--json", "--param", "min=100", "-",
                         stdin="MATCH (m:Model)\nWHERE m.size > $min\nRETURN m.name AS n")
    eq((rc, json.loads(out)["rows"]), (0, [["DeepSeek-V3"]]), "query from stdin")
    res = q(d, "MATCH (m:Model) WHERE m.size > $min RETURN m.name AS n", "--param", "min=100")
    eq(res["rows"], [["DeepSeek-V3"]], "param")
    rc, out, err = dsctl(d, "query", "MATCH (m:Model) RETURN m.name AS name, m ORDER BY m.size")
    eq(rc, 0, "table exit")
    check("(:Model {name: 'DeepSeek-V3', ...})" in out, "node display: " + out)
    lines = out.splitlines()
    check(lines[0].startswith("name") and "(2 rows)" in out, "table: " + out)
    rc, out, err = dsctl(d, "query", "--csv", "UNWIND ['a,b', 'c'] AS x RETURN x")
    eq(out, 'x\n"a,b"\nc\n', "csv")


@test
def deepseek_questions():
    d = Daemon().start(seed=SEED)
    desc = q(d, "MATCH (d:Model)-[:BASED_ON|DISTILLED_FROM*]->(:Model {name: 'DeepSeek-V3-Base'}) "
                "RETURN DISTINCT d.name AS name ORDER BY name")
    names = column(desc)
    for n in ("DeepSeek-V3", "DeepSeek-R1", "DeepSeek-R1-Zero", "DeepSeek-R1-Distill-Qwen-7B"):
        check(n in names, "%s descends from DeepSeek-V3-Base: %r" % (n, names))
    shared = q(d, "MATCH (:Model {name: 'DeepSeek-R1'})-[:BASED_ON|DISTILLED_FROM*0..]->(a)-[:USES]->(t:Technique)"
                  "<-[:USES]-(:Model {name: 'DeepSeek-V2'}) RETURN DISTINCT t.name AS technique ORDER BY technique")
    eq(column(shared), ["DeepSeekMoE", "Multi-head Latent Attention"], "techniques R1 shares with V2 (through its base)")
    distills = q(d, "MATCH (m:Model)-[:DISTILLED_FROM]->(:Model {name: 'DeepSeek-R1'}) "
                    "RETURN m.name AS name, m.params_total AS size ORDER BY size")
    eq(len(distills["rows"]), 6, "six distills")
    eq(distills["rows"][0], ["DeepSeek-R1-Distill-Qwen-1.5B", 1500000000], "smallest distill")
    eq(distills["rows"][-1], ["DeepSeek-R1-Distill-Llama-70B", 70000000000], "largest distill")
    impacts = q(d, "MATCH (m:Model)-[:HAS_IMPACT]->(i:Impact) RETURN i.category AS category, "
                   "collect(DISTINCT m.name) AS models ORDER BY category")
    eq(column(impacts), ["democratization", "market", "open-source"], "impact categories")
    eq(impacts["rows"][1][1], ["DeepSeek-R1"], "market impact")
    lookup = q(d, "MATCH (m:Model {name: $n}) RETURN m.params_total AS p", "--param", 'n="deepseek-v3"')
    eq(lookup["rows"], [], "name lookup is exact (name_key only narrows)")
    lookup = q(d, "MATCH (m:Model {name: $n}) RETURN m.params_total AS p", "--param", 'n="DeepSeek-V3"')
    eq(lookup["rows"], [[671000000000]], "point lookup by name")
    # released dates are text ("2024-12-26", or a month "2024-12"); date() reads both
    month = q(d, "MATCH (v3:Model {name: 'DeepSeek-V3'}), (m:Model) WHERE m.released =~ '[0-9]{4}-[0-9]{2}(-[0-9]{2})?' "
                 "AND date(v3.released) < date(m.released) <= date(v3.released) + duration({days: 30}) "
                 "RETURN m.name AS name, duration.inDays(date(v3.released), date(m.released)).days AS days "
                 "ORDER BY name")
    check(["DeepSeek-R1", 25] in month["rows"], "R1 came 25 days after V3: %r" % month["rows"])
    check(all(r[1] == 25 for r in month["rows"]), "every model in the month after V3 is an R1 release: %r" % month["rows"])


if __name__ == "__main__":
    run_all()
