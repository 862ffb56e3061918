#!/usr/bin/env python3
"""The methods end to end, as docs/protocol.md describes them: node.put merge and identity,
typed values, rel.put/rel.delete, node.delete, lineage, search, sql, stats, ping, seeding."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import (SOURCE_DIR, Daemon, Float, check, eq, expect_error, node_of, rel_of,  # noqa: E402
                     req, run_all, short, test, write_jsonl)


def put(c, labels, name=None, props=None, aliases=None):
    p = {"labels": labels}
    if name is not None:
        p["name"] = name
    if props is not None:
        p["properties"] = props
    if aliases is not None:
        p["aliases"] = aliases
    return node_of(c.ok("node.put", p), "node.put %s" % name)


@test
def ping_result():
    d = Daemon().start()
    with d.client() as c:
        r1 = c.ok("ping")
        check(isinstance(r1.get("version"), str) and re.match(r"^\d+\.\d+\.\d+", r1["version"]),
              "ping version: %s" % short(r1))
        eq(r1.get("pid"), d.pid, "ping pid")
        check(isinstance(r1.get("uptime_ms"), int) and r1["uptime_ms"] >= 0, "ping uptime_ms: %s" % short(r1))
        time.sleep(0.3)
        r2 = c.ok("ping")
        check(r2["uptime_ms"] >= r1["uptime_ms"] + 250, "uptime_ms did not advance: %s then %s" % (r1, r2))
        cm = os.path.join(SOURCE_DIR, "CMakeLists.txt")
        if os.path.exists(cm):
            m = re.search(r"project\(dsgraph VERSION (\S+)", open(cm).read())
            if m:
                eq(r1["version"], m.group(1), "ping version vs the project version")


@test
def node_put_merge():
    d = Daemon().start()
    with d.client() as c:
        n1 = put(c, ["Model"], "M-One", {"a": 1, "b": "x", "c": True}, ["m-uno"])
        eq(n1["labels"], ["Model"], "labels of a new node")
        eq(n1["properties"], {"a": 1, "b": "x", "c": True, "name": "M-One"}, "properties of a new node")
        n2 = put(c, ["Model", "LLM"], "m-one", {"a": 2, "b": None, "d": [1, 2]}, ["Model One"])
        eq(n2["id"], n1["id"], "merge by label + name (case-insensitive)")
        eq(n2["labels"], ["Model", "LLM"], "labels added by the merge")
        eq(n2["properties"], {"a": 2, "c": True, "d": [1, 2], "name": "M-One"},
           "merged properties (later wins, null removes, first spelling of the name kept)")
        # merge by an alias; labels not duplicated; order kept
        n3 = put(c, ["Model", "Open", "LLM"], "model one", {"e": {"k": "v"}}, ["m-uno", "MO"])
        eq(n3["id"], n1["id"], "merge by alias")
        eq(n3["labels"], ["Model", "LLM", "Open"], "labels after adding Open (no duplicates, order kept)")
        # name given as properties.name
        n4 = node_of(c.ok("node.put", {"labels": ["Model"], "properties": {"name": "M-ONE", "f": 1}}))
        eq(n4["id"], n1["id"], "merge with the name in properties.name")
        eq(n4["properties"].get("name"), "M-One", "name keeps its first spelling")
        got = c.ok("node.get", {"id": n1["id"], "aliases": True})
        eq(node_of(got)["properties"], {"a": 2, "c": True, "d": [1, 2], "e": {"k": "v"}, "f": 1, "name": "M-One"},
           "node.get after the merges")
        eq(got.get("aliases"), ["m-uno", "Model One", "MO"], "aliases (insertion order, no duplicates)")
        check("relationships" not in got, "relationships given without \"relationships\":true")
        plain = c.ok("node.get", {"id": n1["id"]})
        check("aliases" not in plain, "aliases given without \"aliases\":true: %s" % short(plain))
        # every way of naming it
        for ref in ({"name": "MO"}, {"name": "model one"}, {"label": "Model", "name": "m-uno"},
                    {"label": "Model", "name": "M-One"}, {"id": n1["id"]}):
            eq(node_of(c.ok("node.get", ref))["id"], n1["id"], "node.get %s" % short(ref))
        # another identity label: a new node
        p = put(c, ["Paper"], "M-One")
        check(p["id"] != n1["id"], "node.put with another first label must create a new node")
        # without a name: always a new node
        a1 = put(c, ["Anon"], None, {"x": 1})
        a2 = put(c, ["Anon"], None, {"x": 1})
        check(a1["id"] != a2["id"], "node.put without a name must always create")
        eq(a1["properties"], {"x": 1}, "properties of a nameless node")
        eq(c.ok("stats")["nodes"], 4, "stats.nodes")


@test
def name_identity_nfkc_casefold():
    d = Daemon().start()
    with d.client() as c:
        n1 = put(c, ["Model"], "DeepSeek-V3")
        n2 = put(c, ["Model"], "deepseek-v3", {"x": 1})
        n3 = put(c, ["Model"], "ＤｅｅｐＳｅｅｋ－Ｖ３", {"y": 2})
        n4 = put(c, ["Model"], "DEEPSEEK-V3")
        eq({n1["id"], n2["id"], n3["id"], n4["id"]}, {n1["id"]}, "ids of DeepSeek-V3 / deepseek-v3 / full-width")
        eq(n3["properties"], {"name": "DeepSeek-V3", "x": 1, "y": 2}, "properties after the merges")
        for nm in ("ＤｅｅｐＳｅｅｋ－Ｖ３", "ＤｅｅｐＳｅｅｋ-V3", "deepseek-v3", "DeepSeek-V3"):
            eq(node_of(c.ok("node.get", {"name": nm}))["id"], n1["id"], "node.get %r" % nm)
        # German sharp s case-folds to "ss"; the ligature ﬁ is NFKC "fi"
        s1 = put(c, ["Model"], "Straße-ﬁne")
        s2 = put(c, ["Model"], "STRASSE-FINE")
        eq(s2["id"], s1["id"], "Straße-ﬁne vs STRASSE-FINE")
        eq(s2["properties"]["name"], "Straße-ﬁne", "first spelling kept")
        other = put(c, ["Model"], "DeepSeek-V3.1")
        check(other["id"] != n1["id"], "DeepSeek-V3.1 is another node")
        eq(c.ok("stats")["nodes"], 3, "stats.nodes")


@test
def typed_values_round_trip():
    d = Daemon().start()
    props = {
        "int": 1, "float": 1.0, "neg": -5, "zero_f": 0.0, "big": 9007199254740993,
        "max": 9223372036854775807, "min": -9223372036854775808, "tenth": 0.1, "exp": 1e300,
        "small": 2.5e-10, "t": True, "f": False, "s": "多头 \"quoted\"\n\ttab \\ ü 😀", "empty": "",
        "list": [1, 1.0, "x", None, True, [], {"k": [1, {"z": 2.0}]}], "map": {"a": {"b": {"c": [0.5, 7]}}, "e": {}},
    }
    with d.client() as c:
        line = json.dumps(req("node.put", {"labels": ["Typed"], "name": "typed", "properties": props}, 1),
                          ensure_ascii=False)
        c.send_line(line.encode())
        raw1 = c.recv_line()
        c.send_line(b'{"jsonrpc":"2.0","id":2,"method":"node.get","params":{"label":"Typed","name":"typed"}}')
        raw2 = c.recv_line()
        c.send_line(b'{"jsonrpc":"2.0","id":3,"method":"search","params":{"text":"typed"}}')
        raw3 = c.recv_line()
    want = dict(props, name="typed")
    for what, raw in (("node.put result", raw1), ("node.get result", raw2)):
        check(raw is not None, "%s: EOF" % what)
        r = json.loads(raw, parse_float=Float)
        check("result" in r, "%s: %s" % (what, short(r)))
        got = node_of(r["result"])["properties"]
        eq(got, want, "%s: properties" % what)
        check_types(got, want, what)
        text = raw.decode()
        check("9007199254740993" in text, "%s: 9007199254740993 not in the raw JSON" % what)
        check("9223372036854775807" in text and "-9223372036854775808" in text, "%s: int64 extremes" % what)
        check(re.search(r'"int"\s*:\s*1\s*[,}]', text), "%s: 1 must come back as the integer 1: %s" % (what, text[:400]))
        m = re.search(r'"float"\s*:\s*([^,}\s]*)', text)
        check(m and m.group(1) != "1" and ("." in m.group(1) or "e" in m.group(1).lower()),
              "%s: 1.0 must come back as a float (with '.' or an exponent), got %s" % (what, m and m.group(1)))
    r3 = json.loads(raw3, parse_float=Float)
    hits = r3["result"]["nodes"]
    check(hits and node_of(hits[0])["properties"] == want, "search result properties: %s" % short(hits))
    check_types(node_of(hits[0])["properties"], want, "search result")


def check_types(got, want, what, path="properties"):
    if isinstance(want, dict):
        check(isinstance(got, dict), "%s: %s is not an object" % (what, path))
        for k in want:
            check_types(got.get(k), want[k], what, path + "." + k)
    elif isinstance(want, list):
        check(isinstance(got, list) and len(got) == len(want), "%s: %s is not a list of %d" % (what, path, len(want)))
        for i, (g, w) in enumerate(zip(got, want)):
            check_types(g, w, what, "%s[%d]" % (path, i))
    else:
        check(type(got) is type(want) or (isinstance(want, float) and isinstance(got, float)),
              "%s: %s: expected %s %r, got %s %r" % (what, path, type(want).__name__, want, type(got).__name__, got))
        eq(got, want, "%s: %s" % (what, path))


@test
def relationships():
    d = Daemon().start()
    with d.client() as c:
        a = put(c, ["Model"], "A")["id"]
        b = put(c, ["Model"], "B")["id"]
        r1 = rel_of(c.ok("rel.put", {"start": a, "type": "USES", "end": b, "properties": {"w": 1, "x": "y"}}))
        eq((r1["type"], r1["start"], r1["end"], r1["properties"]), ("USES", a, b, {"w": 1, "x": "y"}), "new rel")
        # merge on (start, type, end), with refs of every form
        r2 = rel_of(c.ok("rel.put", {"start": {"label": "Model", "name": "a"}, "type": "USES", "end": {"name": "B"},
                                     "properties": {"w": 2.0, "x": None, "z": [1]}}))
        eq(r2["id"], r1["id"], "rel.put merges on (start, type, end)")
        eq(r2["properties"], {"w": 2.0, "z": [1]}, "merged rel properties")
        check(isinstance(r2["properties"]["w"], float), "rel property 2.0 must stay a float")
        r3 = rel_of(c.ok("rel.put", {"start": {"id": a}, "type": "USES", "end": {"id": b}}))
        eq((r3["id"], r3["properties"]), (r1["id"], {"w": 2.0, "z": [1]}), "rel.put without properties merges")
        r4 = rel_of(c.ok("rel.put", {"start": a, "type": "USES", "end": b, "create": True, "properties": {"n": 2}}))
        check(r4["id"] != r1["id"], "rel.put create:true must create a new relationship")
        eq(r4["properties"], {"n": 2}, "properties of the created rel")
        r5 = rel_of(c.ok("rel.put", {"start": b, "type": "USES", "end": a}))
        check(r5["id"] not in (r1["id"], r4["id"]), "the reverse direction is another relationship")
        r6 = rel_of(c.ok("rel.put", {"start": a, "type": "CITES", "end": b}))
        check(r6["id"] not in (r1["id"], r4["id"], r5["id"]), "another type is another relationship")
        got = c.ok("node.get", {"id": a, "relationships": True})
        eq(sorted(rel_of(x)["id"] for x in got["relationships"]), sorted([r1["id"], r4["id"], r5["id"], r6["id"]]),
           "relationships of A")
        eq(c.ok("stats")["relationships"], 4, "stats.relationships")
        # rel.delete by id
        eq(c.ok("rel.delete", {"id": r6["id"]}), {"relationships_deleted": 1}, "rel.delete by id")
        r, e = c.call("rel.delete", {"id": r6["id"]})
        expect_error(e, -32001, "rel.delete of a deleted id")
        # by (start, type, end): deletes every such relationship (r1 and r4)
        eq(c.ok("rel.delete", {"start": {"name": "A"}, "type": "USES", "end": b}), {"relationships_deleted": 2},
           "rel.delete by (start, type, end)")
        got = c.ok("node.get", {"id": a, "relationships": True})
        eq([rel_of(x)["id"] for x in got["relationships"]], [r5["id"]], "relationships of A after the deletes")
        eq(c.ok("stats")["relationships"], 1, "stats.relationships after the deletes")
        # a self-loop is allowed
        r7 = rel_of(c.ok("rel.put", {"start": a, "type": "SELF", "end": a}))
        eq((r7["start"], r7["end"]), (a, a), "self loop")


@test
def node_delete():
    d = Daemon().start()
    with d.client() as c:
        hub = put(c, ["Model"], "Hub")["id"]
        others = [put(c, ["Model"], "O%d" % i)["id"] for i in range(4)]
        c.ok("rel.put", {"start": hub, "type": "USES", "end": others[0]})
        c.ok("rel.put", {"start": hub, "type": "CITES", "end": others[1]})
        c.ok("rel.put", {"start": others[2], "type": "BASED_ON", "end": hub})
        keep = rel_of(c.ok("rel.put", {"start": others[2], "type": "USES", "end": others[3]}))["id"]
        eq(c.ok("node.delete", {"label": "Model", "name": "hub", "detach": True}),
           {"nodes_deleted": 1, "relationships_deleted": 3}, "node.delete detach of a node with 3 relationships")
        r, e = c.call("node.get", {"id": hub})
        expect_error(e, -32001, "node.get of the deleted node")
        st = c.ok("stats")
        eq((st["nodes"], st["relationships"]), (4, 1), "counts after the detach delete")
        eq(c.ok("node.delete", {"id": others[0]}), {"nodes_deleted": 1, "relationships_deleted": 0},
           "node.delete of a node without relationships")
        eq(c.ok("node.delete", {"name": "O1", "detach": True}), {"nodes_deleted": 1, "relationships_deleted": 0},
           "node.delete detach of a node without relationships")
        got = c.ok("node.get", {"id": others[2], "relationships": True})
        eq([rel_of(x)["id"] for x in got["relationships"]], [keep], "untouched relationship")
        # the deleted node's name and aliases are free again
        n = put(c, ["Model"], "Hub")
        check(n["id"] != hub, "a re-created node gets a new id")


def lineage_ids(res):
    return [(node_of(x)["properties"]["name"], x.get("depth")) for x in res["nodes"]]


@test
def lineage():
    d = Daemon().start()
    with d.client() as c:
        ids = {}
        for nm in ("Base", "V3", "R1", "Distill", "Qwen", "Tech", "Cyc1", "Cyc2", "Other"):
            ids[nm] = put(c, ["Model"], nm)["id"]
        rel = {}

        def link(s, t, e):
            rel[(s, t, e)] = rel_of(c.ok("rel.put", {"start": {"name": s}, "type": t, "end": {"name": e}}))["id"]
        link("V3", "BASED_ON", "Base")
        link("R1", "BASED_ON", "V3")
        link("R1", "BASED_ON", "Base")             # a merge: Base is reachable at depth 1 and 2 from R1
        link("Distill", "DISTILLED_FROM", "R1")
        link("Distill", "BASED_ON", "Qwen")
        link("Distill", "USES", "Tech")             # not followed by default
        link("Cyc1", "BASED_ON", "Cyc2")
        link("Cyc2", "BASED_ON", "Cyc1")
        link("Other", "CITES", "Base")

        def by_depth(*pairs):
            # expected order: by depth, then id
            return sorted(pairs, key=lambda p: (p[1], ids[p[0]]))

        res = c.ok("lineage", {"node": {"name": "Distill"}, "direction": "up"})
        eq(node_of(res["root"])["id"], ids["Distill"], "lineage root")
        eq(lineage_ids(res), by_depth(("R1", 1), ("Qwen", 1), ("V3", 2), ("Base", 2)), "lineage up of Distill")
        want_rels = sorted(rel[k] for k in [("Distill", "DISTILLED_FROM", "R1"), ("Distill", "BASED_ON", "Qwen"),
                                            ("R1", "BASED_ON", "V3"), ("R1", "BASED_ON", "Base"),
                                            ("V3", "BASED_ON", "Base")])
        eq([rel_of(x)["id"] for x in res["relationships"]], want_rels, "relationships of lineage up of Distill")
        # direction defaults to up
        res2 = c.ok("lineage", {"node": ids["Distill"]})
        eq(lineage_ids(res2), lineage_ids(res), "lineage without direction = up")
        # depth limit
        res = c.ok("lineage", {"node": {"name": "Distill"}, "direction": "up", "depth": 1})
        eq(lineage_ids(res), by_depth(("R1", 1), ("Qwen", 1)), "lineage up of Distill, depth 1")
        eq([rel_of(x)["id"] for x in res["relationships"]],
           sorted([rel[("Distill", "DISTILLED_FROM", "R1")], rel[("Distill", "BASED_ON", "Qwen")]]),
           "relationships with depth 1")
        res = c.ok("lineage", {"node": {"name": "Distill"}, "direction": "up", "depth": 0})
        eq(len(res["nodes"]), 4, "depth 0 means unlimited")
        # down
        res = c.ok("lineage", {"node": {"name": "Base"}, "direction": "down"})
        eq(lineage_ids(res), by_depth(("V3", 1), ("R1", 1), ("Distill", 2)), "lineage down of Base")
        res = c.ok("lineage", {"node": {"name": "Base"}, "direction": "down", "depth": 1})
        eq(lineage_ids(res), by_depth(("V3", 1), ("R1", 1)), "lineage down of Base, depth 1")
        # types
        res = c.ok("lineage", {"node": {"name": "Distill"}, "types": ["USES"]})
        eq(lineage_ids(res), [("Tech", 1)], "lineage up over USES")
        res = c.ok("lineage", {"node": {"name": "Base"}, "direction": "down", "types": ["CITES"]})
        eq(lineage_ids(res), [("Other", 1)], "lineage down over CITES")
        res = c.ok("lineage", {"node": {"name": "Distill"}, "types": ["BASED_ON"]})
        eq(lineage_ids(res), [("Qwen", 1)], "lineage up over BASED_ON only")
        # cycles end
        res = c.ok("lineage", {"node": {"name": "Cyc1"}})
        eq(lineage_ids(res), [("Cyc2", 1)], "lineage in a cycle (root excluded)")
        eq([rel_of(x)["id"] for x in res["relationships"]],
           sorted([rel[("Cyc1", "BASED_ON", "Cyc2")], rel[("Cyc2", "BASED_ON", "Cyc1")]]), "cycle relationships")
        # a node without parents
        res = c.ok("lineage", {"node": {"name": "Base"}})
        eq((res["nodes"], res["relationships"]), ([], []), "lineage up of a root")


@test
def search():
    d = Daemon().start()
    with d.client() as c:
        mla = put(c, ["Technique"], "Multi-head Latent Attention", {"abbr": "MLA", "desc": "一种高效的注意力机制"},
                  ["多头潜在注意力"])["id"]
        moe = put(c, ["Technique"], "DeepSeekMoE", {"desc": "混合专家模型"}, ["专家混合"])["id"]
        put(c, ["Model"], "DeepSeek-V3", {"uses": "MLA and DeepSeekMoE"})
        put(c, ["Model"], "Unrelated", {"n": 5})
        res = c.ok("search", {"text": "潜在注意力"})
        hits = res.get("nodes")
        check(isinstance(hits, list) and hits, "search 潜在注意力: %s" % short(res))
        eq(node_of(hits[0])["id"], mla, "best hit for 潜在注意力 (an alias substring)")
        check(all(isinstance(h.get("score"), (int, float)) for h in hits), "every hit has a numeric score")
        eq(node_of(c.ok("search", {"text": "注意力机制"})["nodes"][0])["id"], mla, "search a property substring")
        ids = [node_of(h)["id"] for h in c.ok("search", {"text": "专家"})["nodes"]]
        eq(ids, [moe], "search 专家 (two characters: the substring fallback)")
        ids = [node_of(h)["id"] for h in c.ok("search", {"text": "latent att"})["nodes"]]
        eq(ids, [mla], "search is case-insensitive over names")
        got = c.ok("search", {"text": "DeepSeek"})["nodes"]
        eq(len(got), 2, "search DeepSeek matches DeepSeekMoE and DeepSeek-V3")
        scores = [h["score"] for h in got]
        eq(scores, sorted(scores, reverse=True), "hits ranked best first (descending score)")
        eq(len(c.ok("search", {"text": "DeepSeek", "limit": 1})["nodes"]), 1, "limit 1")
        eq(c.ok("search", {"text": "zzqqxx-none"})["nodes"], [], "no hit")
        # search follows updates and deletes
        c.ok("node.put", {"labels": ["Technique"], "name": "DeepSeekMoE", "properties": {"desc": None}})
        eq(c.ok("search", {"text": "混合专家模型"})["nodes"], [], "search after the property was removed")
        c.ok("node.delete", {"id": mla})
        eq(c.ok("search", {"text": "潜在注意力"})["nodes"], [], "search after the node was deleted")


@test
def sql_method():
    d = Daemon().start()
    with d.client() as c:
        for i in range(5):
            put(c, ["Model"], "S%d" % i)
        res = c.ok("sql", {"sql": "SELECT count(*) AS n FROM nodes WHERE id > ?", "params": [0]})
        eq(res, {"columns": ["n"], "rows": [[5]]}, "sql count with a parameter")
        res = c.ok("sql", {"sql": "SELECT ?1 + 1 AS a, ?2 AS b, ?3 AS c, ?4 AS d, 2.0 AS e, x'00ff10' AS f",
                           "params": [41, "x", 1.5, None]})
        eq(res["columns"], ["a", "b", "c", "d", "e", "f"], "columns")
        eq(res["rows"][0][:5], [42, "x", 1.5, None, 2.0], "typed values from sql")
        check(isinstance(res["rows"][0][4], float), "2.0 from sql must be a float")
        check(isinstance(res["rows"][0][0], int), "?1 + 1 must be an integer")
        eq({k: v.lower() for k, v in res["rows"][0][5].items()}, {"$blob": "00ff10"}, "blob from sql")
        res = c.ok("sql", {"sql": "SELECT 1 AS x WHERE 0"})
        eq(res, {"columns": ["x"], "rows": []}, "sql with no rows")
        res = c.ok("sql", {"sql": "SELECT 9007199254740993 AS big, -9223372036854775808 AS mn"})
        eq(res["rows"], [[9007199254740993, -9223372036854775808]], "int64 from sql")
        res = c.ok("sql", {"sql": "SELECT ? AS s", "params": ["注意力 ü"]})
        eq(res["rows"], [["注意力 ü"]], "unicode parameter")


@test
def reader_page_cache_follows_the_config():
    """read_cache_bytes sets each reader connection's page cache (the `sql` method runs on one)."""
    for config, want in ((None, -2048), ({"read_cache_bytes": 16 * 1024 * 1024}, -16384)):
        d = Daemon(config=config).start()
        with d.client() as c:
            res = c.ok("sql", {"sql": "SELECT cache_size FROM pragma_cache_size"})
            eq(res["rows"], [[want]], "reader cache_size with config %s" % config)
        d.stop()
    d = Daemon(config={"read_cache_bytes": 1000})
    d.start(wait=False)
    check(d.wait_exit(10) != 0, "read_cache_bytes below 64 KiB must be refused")
    check("read_cache_bytes" in d.log(), "the error must name read_cache_bytes: " + d.log()[-300:])


@test
def stats_counts():
    d = Daemon().start()
    with d.client() as c:
        st = c.ok("stats")
        eq(st, {"nodes": 0, "relationships": 0, "labels": 0, "types": 0, "by_label": {}, "by_type": {}}, "stats of an empty graph")
        for nm in ("M1", "M2", "M3"):
            put(c, ["Model"], nm)
        put(c, ["Paper"], "P1")
        put(c, ["Paper", "Doc"], "P2")
        c.ok("rel.put", {"start": {"name": "M2"}, "type": "BASED_ON", "end": {"name": "M1"}})
        c.ok("rel.put", {"start": {"name": "M3"}, "type": "BASED_ON", "end": {"name": "M2"}})
        c.ok("rel.put", {"start": {"name": "M3"}, "type": "USES", "end": {"name": "P1"}})
        st = c.ok("stats")
        eq(st, {"nodes": 5, "relationships": 3, "labels": 3, "types": 2,
                "by_label": {"Model": 3, "Paper": 2, "Doc": 1}, "by_type": {"BASED_ON": 2, "USES": 1}}, "stats")


def check_seed_restart(d, seed):
    with d.client() as c:
        st1 = c.ok("stats")
    d.stop_ok()
    d.start(seed=seed)
    with d.client() as c:
        st2 = c.ok("stats")
    eq(st2, st1, "stats after a restart with --seed on the existing database (seeded twice?)")
    return st1


@test
def seed_own_file():
    d = Daemon()
    seed = os.path.join(d.dir, "seed.jsonl")
    write_jsonl(seed, [
        req("node.put", {"labels": ["Model"], "name": "Seed-Base", "properties": {"p": 1}}, notification=True),
        req("node.put", {"labels": ["Model"], "name": "Seed-Child", "aliases": ["种子"]}, notification=True),
        req("node.put", {"labels": ["Paper"], "name": "Seed-Paper"}, notification=True),
        req("node.put", {"labels": ["Model"], "name": "seed-base", "properties": {"q": 2.0}}, notification=True),
        req("rel.put", {"start": {"name": "Seed-Child"}, "type": "BASED_ON", "end": {"label": "Model", "name": "Seed-Base"}},
            notification=True),
        req("rel.put", {"start": {"name": "种子"}, "type": "CITES", "end": {"name": "Seed-Paper"}}, notification=True),
    ])
    d.start(seed=seed)
    with d.client() as c:
        st = c.ok("stats")
        eq((st["nodes"], st["relationships"], st["by_label"], st["by_type"]),
           (3, 2, {"Model": 2, "Paper": 1}, {"BASED_ON": 1, "CITES": 1}), "stats after seeding")
        n = node_of(c.ok("node.get", {"name": "SEED-BASE"}))
        eq(n["properties"], {"name": "Seed-Base", "p": 1, "q": 2.0}, "merged seed node")
        res = c.ok("lineage", {"node": {"name": "Seed-Child"}})
        eq(lineage_ids(res), [("Seed-Base", 1)], "seeded lineage")
    check_seed_restart(d, seed)
    # a seed given for an existing database that was created without one is not applied
    d2 = Daemon(name="noseed", dir=d.dir)
    d2.start()
    d2.stop_ok()
    d2.start(seed=seed)
    with d2.client() as c:
        eq(c.ok("stats")["nodes"], 0, "a seed must be applied only when the database is newly created")


@test
def failed_seed_leaves_no_database():
    # A seed that fails (a rel.put to a node that does not exist) is applied in one
    # transaction: the daemon does not serve a half-seeded graph, and a later start with a
    # good seed seeds the database.
    d = Daemon()
    bad = os.path.join(d.dir, "bad.jsonl")
    good_lines = [req("node.put", {"labels": ["Model"], "name": "S%d" % i}, notification=True) for i in range(3)]
    write_jsonl(bad, good_lines + [req("rel.put", {"start": {"name": "S0"}, "type": "BASED_ON",
                                                   "end": {"name": "Missing"}}, notification=True)])
    d.start(seed=bad, wait=False)
    rc = d.wait_exit(10)
    check(rc > 0, "exit status after a failed seed: %s (docs/architecture.md: the daemon does not serve "
          "an empty graph after a failed seed)" % rc)
    check("Missing" in d.log() or "bad.jsonl" in d.log(), "the failed seed's error should say what failed: %r"
          % d.log()[-800:])
    check(not os.path.exists(d.db), "the new database must be removed after a failed seed")
    good = os.path.join(d.dir, "good.jsonl")
    write_jsonl(good, good_lines)
    d.start(seed=good)
    with d.client() as c:
        eq(c.ok("stats")["nodes"], 3, "nodes after starting again with a good seed")


@test
def seed_deepseek_example():
    seed = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")
    if not os.path.exists(seed):
        print("  # %s missing: only seed_own_file checks seeding" % seed)
        return
    n_nodes = n_rels = 0
    with open(seed, "rb") as f:
        for line in f:
            if line.strip():
                m = json.loads(line)["method"]
                n_nodes += m == "node.put"
                n_rels += m == "rel.put"
    d = Daemon().start(seed=seed)
    st = check_seed_restart(d, seed)
    print("  # deepseek.jsonl: %d node.put, %d rel.put lines; stats %s" % (n_nodes, n_rels, short(st, 300)))
    check(0 < st["nodes"] <= n_nodes, "stats.nodes %d after seeding %d node.put lines" % (st["nodes"], n_nodes))
    check(0 < st["relationships"] <= n_rels, "stats.relationships %d after %d rel.put lines" % (st["relationships"], n_rels))
    with d.client() as c:
        eq(sum(st["by_label"].values()) >= st["nodes"], True, "by_label sums to at least nodes")
        eq(sum(st["by_type"].values()), st["relationships"], "by_type sums to relationships")
        res = c.ok("search", {"text": "DeepSeek"})
        check(res["nodes"], "search DeepSeek in the seeded graph found nothing")


if __name__ == "__main__":
    run_all()
