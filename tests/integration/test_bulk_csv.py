#!/usr/bin/env python3
"""The CSV importer's C bulk path (ctx:bulk_csv, core/bulk_csv.c + graph/bulk_load.c) against
its Lua row loop: the same inputs imported by plugins/csv.lua (bulk) and by a copy of it with
the bulk call switched off must leave byte-identical tables (nodes, labels, aliases,
relationships, search rows, every claim, the imports' counts), including merges, aliases,
typed arrays, escapes, non-ASCII names, relationships that create their ends, repeated
relationships, and imports into a graph that already has data. Errors must read the same
and leave the graph exactly as it was; dry runs change nothing; the adjacency index
follows a large import (lineage sees every edge)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, TestFailure, check, eq, make_tmpdir, run_all, test  # noqa: E402
from plugtest import SHIPPED_PLUGINS, upload  # noqa: E402

NODES1 = "\n".join([
    "name:ID(Model),:LABEL,params_total:long,open_source:boolean,score:double,tags:string[],note,"
    "ints:long[],reals:double[],flags:boolean[]",
    'DeepSeek-V3,Model,671000000000,true,1,moe;mla,"a note, with a comma",1;2;3,1.5;2,true;false',
    'DeepSeek-V3-Base,Model;Base,671000000000,,,,"two\nlines",,,',
    'DeepSeek-R1,Model,671000000000,TRUE,88.5,,"say ""hi"" \t tab \x01 ctl \\ slash",,0.1,',
    "Ｄｅｅｐｓｅｅｋ-Ｖ2,Model,236000000000,false,, x ;;y,ünïcode café,, 7 ,",
    "deepseek-v3,Model,,,,,the same node again: merged,,,",
    "Janus,Model;Multimodal,,,0.%s1,,,-5,," % ("0" * 150),   # a long real
]) + "\n"

# a name column that differs from the ID: the ID becomes an alias (relationship files use it)
NODES_ALIASED = ":ID(Model),name,:LABEL,org\nr1z,DeepSeek-R1-Zero,Model,DeepSeek\nv2l,DeepSeek-V2-Lite,,\n"

RELS1 = "\r\n".join([
    ":START_ID(Model),:END_ID(Model),:TYPE,relation,weight:double",
    "DeepSeek-R1,DeepSeek-V3-Base,BASED_ON,finetune,0.5",
    "r1z,DeepSeek-V3,BASED_ON,rl,",
    "DeepSeek-R1,DeepSeek-V3-Base,BASED_ON,finetune2,",
    "NewModel,deepseek-v3,DISTILLED_FROM,,",
    "DeepSeek-R1,DeepSeek-R1,SELF,,",
]) + "\r\n"

# into a graph that has nodes and relationships already
NODES2 = "name:ID(Model),:LABEL,open_source:boolean,note\nDeepSeek-V3,Model,false,changed\nFresh,Model,true,\n"
RELS2 = ":START_ID(Model),:END_ID(Model),:TYPE,relation\nFresh,DeepSeek-V3,BASED_ON,finetune\n" \
        "DeepSeek-R1,DeepSeek-V3-Base,BASED_ON,finetune3\n"

DUMPS = [
    "SELECT id, name_key, props FROM nodes ORDER BY id",
    "SELECT node_id, pos, label FROM node_labels ORDER BY node_id, pos",
    "SELECT node_id, alias, alias_key FROM aliases ORDER BY node_id, alias_key",
    "SELECT id, type, start, end, props FROM rels ORDER BY id",
    "SELECT rowid, name, aliases, body FROM node_fts ORDER BY rowid",
    "SELECT node_id, import_id, created FROM node_claims ORDER BY 1, 2",
    "SELECT rel_id, import_id, created FROM rel_claims ORDER BY 1, 2",
    "SELECT node_id, alias_key, import_id FROM alias_claims ORDER BY 1, 2, 3",
    "SELECT kind, entity_id, key, value, import_id FROM prop_claims ORDER BY 1, 2, 3, 5",
    "SELECT id, input_name, nodes, relationships, properties, warnings, finished_at IS NOT NULL FROM imports ORDER BY id",
    "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name",
]


def plugin_dir():
    """plugins/csv.lua as `csv` (bulk) and a copy named `csv_lua` whose bulk call is off."""
    d = make_tmpdir("dsgt-bulk-")
    with open(os.path.join(SHIPPED_PLUGINS, "csv.lua")) as f:
        src = f.read()
    check("if ctx.bulk_csv then" in src, "csv.lua calls ctx:bulk_csv")
    with open(os.path.join(d, "csv.lua"), "w") as f:
        f.write(src)
    lua = src.replace("if ctx.bulk_csv then", "if false then").replace('name = "csv"', 'name = "csv_lua"')
    with open(os.path.join(d, "csv_lua.lua"), "w") as f:
        f.write(lua)
    return d


def daemon(pdir):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [pdir], "plugin_memory_limit": 64 << 20, "plugin_instruction_limit": 1000000000})
    d.start()
    return d


def dump(c):
    """Every table the import writes, in a comparable form (search bodies as sorted lines)."""
    out = []
    for sql in DUMPS:
        rows = c.ok("sql", {"sql": sql})["rows"]
        if "node_fts" in sql:
            rows = [[r[0], r[1], r[2], sorted((r[3] or "").split("\n"))] for r in rows]
        out.append((sql, rows))
    return out


def imported(c, plugin, name, text, dry_run=False):
    res, err = upload(c, name, text.encode(), plugin=plugin, dry_run=dry_run)
    check(err is None, "%s %s: %r" % (plugin, name, err))
    return {k: res[k] for k in ("nodes_created", "nodes_updated", "relationships_created", "relationships_updated",
                                "properties_set", "aliases_added", "warnings_total", "dry_run")}


def same_dumps(a, b, what):
    for (sql, ra), (_, rb) in zip(a, b):
        eq(ra, rb, "%s: %s" % (what, sql))


@test(timeout=300)
def bulk_and_lua_paths_write_the_same_rows():
    pdir = plugin_dir()
    bulk, lua = daemon(pdir), daemon(pdir)
    steps = [("nodes1.csv", NODES1), ("aliased.csv", NODES_ALIASED), ("rels1.csv", RELS1), ("nodes2.csv", NODES2),
             ("rels2.csv", RELS2)]
    with bulk.client() as cb, lua.client() as cl:
        for name, text in steps:
            rb = imported(cb, "csv", name, text)
            rl = imported(cl, "csv_lua", name, text)
            eq(rb, rl, "import result of %s" % name)
            same_dumps(dump(cb), dump(cl), "after " + name)
        v3 = cb.ok("node.get", {"label": "Model", "name": "DeepSeek-V3"})["$node"]["properties"]
        eq((v3["note"], v3["open_source"], v3["score"], v3["tags"], v3["reals"]),
           ("changed", False, 1.0, ["moe", "mla"], [1.5, 2.0]), "merged values")
        r1 = cb.ok("node.get", {"label": "Model", "name": "DeepSeek-R1"})["$node"]["properties"]
        eq(r1["note"], 'say "hi" \t tab \x01 ctl \\ slash', "escapes round-trip")
        eq(cb.ok("node.get", {"label": "Model", "name": "r1z"})["$node"]["properties"]["name"], "DeepSeek-R1-Zero",
           "the ID is an alias")
        eq(cb.ok("sql", {"sql": "SELECT count(*) FROM rels WHERE start = (SELECT id FROM nodes WHERE "
                                 "name_key = 'deepseek-r1') AND type = 'BASED_ON'"})["rows"], [[1]],
           "a repeated relationship is merged")
        eq(cb.ok("sql", {"sql": "SELECT count(*) FROM prop_claims"})["rows"],
           cl.ok("sql", {"sql": "SELECT count(*) FROM prop_claims"})["rows"], "claims")
        hs = cb.ok("sql", {"sql": "SELECT v FROM node_fts_config WHERE k = 'hashsize'"})["rows"]
        check(hs in ([], [[1048576]]), "the search index's hashsize is back to the default: %r" % hs)
        am = cb.ok("sql", {"sql": "SELECT v FROM node_fts_config WHERE k = 'automerge'"})["rows"]
        check(am in ([], [[4]]), "the search index merges again: %r" % am)
        hits = cb.ok("search", {"text": "café"})
        check(any("ünïcode" in (n.get("$node", n).get("properties", {}).get("note", "")) for n in
                  (hits if isinstance(hits, list) else hits.get("results", hits.get("nodes", [])))),
              "search finds a bulk-loaded string: %r" % hits)
        eq(len(dump(cb)[0][1]), 9, "nodes compared")
    check("bulk csv: " in bulk.log() and "bulk csv: " not in lua.log(), "one daemon ran the C loop, the other Lua")
    bulk.stop_ok()
    lua.stop_ok()


BAD = [
    ("quote.csv", NODES1 + 'X,Model,1,true,1,,"say "hi"",,,\n'),
    ("open.csv", NODES1 + 'X,Model,1,true,1,,"never closed\n'),
    ("int.csv", NODES1 + "X,Model,671B,,,,,,,\n"),
    ("bool.csv", NODES1 + "X,Model,,yes,,,,,,\n"),
    ("real.csv", NODES1 + "X,Model,,,0x10,,,,,\n"),
    ("arr.csv", NODES1 + "X,Model,,,,,,1;two,,\n"),
    ("utf8.csv", (NODES1 + "X,Model,,,,,bad \udcfe byte,,,\n")),
    ("fields.csv", NODES1 + "X,Model,1\n"),
    ("noid.csv", NODES1 + ",Model,,,,,,,,\n"),
    ("type.csv", ":START_ID,:END_ID,:TYPE\nA,B,BASED_ON\nA,B,not-a-type\n"),
    ("end.csv", ":START_ID,:END_ID,:TYPE\nA,B,BASED_ON\nA,,BASED_ON\n"),
]


@test(timeout=300)
def errors_read_the_same_and_leave_the_graph_as_it_was():
    pdir = plugin_dir()
    d = daemon(pdir)
    with d.client() as c:
        # on the empty graph the load drops the secondary indexes: a failure must bring them back
        empty = dump(c)
        _, err = upload(c, "late.csv", (NODES1 + "X,Model,671B,,,,,,,\n").encode(), plugin="csv")
        check(err and err["message"].startswith("csv: late.csv:9: column"), "late error: %r" % err)
        same_dumps(dump(c), empty, "after a failed import into the empty graph")
        _, err = upload(c, "late_rels.csv", (RELS1 + "A,B,BASED_ON,x,nan\r\n").encode(), plugin="csv")
        check(err and "late_rels.csv:7:" in err["message"], "late relationship error: %r" % err)
        same_dumps(dump(c), empty, "after a failed relationship import into the empty graph")
        imported(c, "csv", "nodes1.csv", NODES1)
        imported(c, "csv", "rels1.csv", RELS1)
        before = dump(c)
        for name, text in BAD:
            data = text.encode("utf-8", "surrogateescape")
            _, eb = upload(c, name, data, plugin="csv")
            _, el = upload(c, name, data, plugin="csv_lua")
            check(eb is not None and el is not None, "%s must fail: %r / %r" % (name, eb, el))
            eq(eb["message"], el["message"].replace("csv_lua:", "csv:", 1), "message of " + name)
            check(eb["message"].startswith("csv: %s:" % name), "names the input: %r" % eb["message"])
            same_dumps(dump(c), before, "after the failed " + name)
        # the ambiguous alias needs the alias to exist first: two nodes share it, then a relationship uses it
        imported(c, "csv", "amb_nodes.csv", ":ID,name,:LABEL\nx,A,Model\nx,B,Model\n")
        mid = dump(c)
        _, eb = upload(c, "amb_rels.csv", b":START_ID,:END_ID,:TYPE\nDeepSeek-R1,x,BASED_ON\n", plugin="csv")
        _, el = upload(c, "amb_rels.csv", b":START_ID,:END_ID,:TYPE\nDeepSeek-R1,x,BASED_ON\n", plugin="csv_lua")
        # both name the plugin file's line (the Lua loop's ctx:node call, or the ctx:bulk_csv call)
        eq(re.sub(r"csv(_lua)?\.lua:\d+: ", "", eb["message"]),
           re.sub(r"csv(_lua)?\.lua:\d+: ", "", el["message"].replace("csv_lua:", "csv:", 1)), "ambiguous message")
        check(re.search(r"^csv: amb_rels\.csv:2: csv\.lua:\d+: ctx:node: ", eb["message"]), eb["message"])
        check("amb_rels.csv:2:" in eb["message"] and "matches 2 nodes" in eb["message"], eb["message"])
        same_dumps(dump(c), mid, "after the ambiguous import")
        data = BAD[0][1].encode()
        m = upload(c, "q.csv", data, plugin="csv")[1]["message"]
        at = re.match(r"csv: q\.csv:9: csv: line 9 \(byte (\d+)\): malformed quoting", m)   # "two\nlines" is 2 lines
        line9 = [i for i, ch in enumerate(data) if ch == 10][7] + 1
        check(at and line9 < int(at.group(1)) <= len(data), "line and byte offset: %s (line 9 at byte %d)" % (m, line9))
    d.stop_ok()


@test(timeout=300)
def dry_run_reports_and_changes_nothing():
    pdir = plugin_dir()
    d = daemon(pdir)
    with d.client() as c:
        imported(c, "csv", "aliased.csv", NODES_ALIASED)
        before = dump(c)
        dry = imported(c, "csv", "nodes1.csv", NODES1, dry_run=True)
        eq((dry["dry_run"], dry["nodes_created"]), (True, 5), "dry-run counts")
        same_dumps(dump(c), before, "after the dry run")
        real = imported(c, "csv", "nodes1.csv", NODES1)
        eq(dict(real, dry_run=True), dry, "a dry run reports what the import does")
    d.stop_ok()


@test(timeout=600)
def lineage_sees_every_edge_of_a_large_import():
    n = 70000   # above the adjacency index's rebuild threshold (65,536 touched relationships)
    pdir = plugin_dir()
    d = daemon(pdir)
    nodes = "name:ID,:LABEL,step:long\n" + "".join("m%d,Model,%d\n" % (i, i) for i in range(n))
    rels = ":START_ID,:END_ID,:TYPE\n" + "".join("m%d,m%d,BASED_ON\n" % (i, i - 1) for i in range(1, n))
    with d.client() as c:
        eq(imported(c, "csv", "chain_nodes.csv", nodes)["nodes_created"], n, "nodes")
        eq(imported(c, "csv", "chain_rels.csv", rels)["relationships_created"], n - 1, "relationships")
        res = c.ok("lineage", {"node": {"label": "Model", "name": "m0"}, "direction": "down", "count_only": True},
                   timeout=120)
        eq(res.get("count", res.get("nodes")), n - 1, "descendants of the chain's root: %r" % res)
        eq(c.ok("sql", {"sql": "SELECT count(*) FROM rel_claims WHERE created = 1"})["rows"], [[n - 1]], "claims")
        eq(c.ok("sql", {"sql": "SELECT count(*), count(DISTINCT node_id) FROM node_claims WHERE import_id = 2"})
           ["rows"], [[n, n]], "the relationships' import claims each end once")
    d.stop_ok()


def written_bytes(pid):
    """wchar of /proc/PID/io: every byte the process handed to write()/pwrite()."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise TestFailure("no wchar in /proc/%d/io" % pid)


@test(timeout=300)
def a_bulk_load_writes_about_its_database_once():
    """A bulk load's label rows open no statement journal (the adjacency index's label tracking is a
    pre-update hook, not a trigger): with one, every row wrote a 4 KiB page to a temporary file
    inside the load's savepoint, ~10x the database's own size in writes."""
    n = 30000
    pdir = plugin_dir()
    d = daemon(pdir)
    nodes = "name:ID,:LABEL,step:long\n" + "".join("m%d,Model,%d\n" % (i, i) for i in range(n))
    with d.client() as c:
        c.ok("ping")
        before = written_bytes(d.pid)
        eq(imported(c, "csv", "many_nodes.csv", nodes)["nodes_created"], n, "nodes")
        wrote = written_bytes(d.pid) - before
    on_disk = sum(os.path.getsize(d.db + sfx) for sfx in ("", "-wal") if os.path.exists(d.db + sfx))
    check(on_disk > 0, "database files")
    print("  wrote %d bytes, database + WAL %d bytes" % (wrote, on_disk))
    check(wrote < 4 * on_disk, "the import wrote %d bytes for %d bytes of database and WAL (more than 4x: a "
                               "statement journal per row?)" % (wrote, on_disk))
    d.stop_ok()


if __name__ == "__main__":
    run_all()
