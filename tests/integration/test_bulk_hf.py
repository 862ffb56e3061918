#!/usr/bin/env python3
"""The Hugging Face importer's bulk path (ctx:bulk, core/bulk_lua.c + graph/bulk_load.c) against
its ctx:node / ctx:rel row loop: the same JSON Lines imported by plugins/hf_models.lua (bulk) and
by a copy of it with the bulk call switched off must leave byte-identical tables (nodes, labels,
aliases, relationships, search rows, every claim, the imports' counts) and the same results and
warnings: a generated model tree (bench/gen_lineage) into an empty graph and into a graph that
has data, base_model lists, unknown relations, self-references, placeholder base models that
later get their own record, a case variant of a name, and an author that is the alias of a
curated Organization. Errors (no id, invalid JSON, a bad base_model) name the line, read the
same both ways and leave every table as it was; a bulk load cannot be mixed with ctx:node, and a
bulk call whose error the plugin catches still fails the run."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSGRAPHD, Daemon, check, eq, make_tmpdir, run_all, test  # noqa: E402
from plugtest import SHIPPED_PLUGINS, upload  # noqa: E402

GEN = os.path.join(os.path.dirname(DSGRAPHD), "bench", "gen_lineage")

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
    "SELECT id, plugin, input_name, nodes, relationships, properties, warnings, finished_at IS NOT NULL "
    "FROM imports ORDER BY id",
    "SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name",
]

# hand-written records; line numbers matter (warnings name them)
HAND = [
    {"id": "deepseek-ai/DeepSeek-V3", "author": "deepseek-ai", "created_at": "2024-12-26T00:00:00.000Z",
     "tags": ["transformers"], "downloads": 10, "likes": 2, "cardData": {"license": "mit"}},
    {"id": "someone/V3-merge", "author": "someone", "tags": ["merge"],
     "cardData": {"base_model": ["deepseek-ai/DeepSeek-V3", "Qwen/Qwen2.5-7B"]}},              # a list
    {"id": "someone/V3-odd", "cardData": {"base_model": "deepseek-ai/DeepSeek-V3",
                                          "base_model_relation": "distilled"}},              # unknown relation
    {"id": "someone/selfie", "author": "someone", "cardData": {"base_model": "someone/selfie"}},   # self
    None,                                                                                   # a blank line
    {"id": "Qwen/Qwen2.5-7B", "author": "Qwen", "pipeline_tag": "text-generation", "downloads": 5,
     "tags": ["gguf"]},                                                                     # placeholder's record
    {"id": "QWEN/qwen2.5-7b", "author": "Qwen", "likes": 3},                                # same node, other case
    {"id": "someone/V3-merge", "author": "someone", "tags": ["merge"],
     "cardData": {"base_model": ["deepseek-ai/DeepSeek-V3", "Qwen/Qwen2.5-7B"]}},              # again: no change
    {"id": "deepseek-ai/DeepSeek-V3-GGUF", "author": "deepseek-ai", "tags": ["gguf"],
     "cardData": {"base_model": "deepseek-ai/DeepSeek-V3", "base_model_relation": "quantized"}},
    {"id": "x/unicode-é", "author": "Ünï", "tags": ["a\"quote", "tab\t", {"k": ["nested"]}], "downloads": -1,
     "library_name": "", "cardData": {"license": None, "base_model": []}},
    {"modelId": "y/legacy-id", "createdAt": "2023-01-01", "tags": "not a list", "likes": 1.5},
]


def hand_text(records):
    return "".join((json.dumps(r, ensure_ascii=False) if r is not None else "   ") + "\n" for r in records)


def generated(n):
    d = make_tmpdir("dsgt-hfgen-")
    subprocess.run([GEN, "--models", str(n), "--seed", "7", "--out", d], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "models.jsonl"), encoding="utf-8") as f:
        return f.read()


def plugin_dir(extra=None):
    """plugins/hf_models.lua as `hf_models` (bulk) and a copy `hf_models_lua` whose ctx:bulk call is off."""
    d = make_tmpdir("dsgt-bulkhf-")
    with open(os.path.join(SHIPPED_PLUGINS, "hf_models.lua")) as f:
        src = f.read()
    check("ctx.bulk and ctx:bulk()" in src, "hf_models.lua opens ctx:bulk")
    with open(os.path.join(d, "hf_models.lua"), "w") as f:
        f.write(src)
    lua = src.replace("ctx.bulk and ctx:bulk()", "nil").replace('name = "hf_models"', 'name = "hf_models_lua"')
    check(lua != src and "ctx.bulk and ctx:bulk()" not in lua, "the copy has no bulk call")
    with open(os.path.join(d, "hf_models_lua.lua"), "w") as f:
        f.write(lua)
    for name, text in (extra or {}).items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return d


def daemon(pdir):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [pdir], "plugin_memory_limit": 64 << 20, "plugin_instruction_limit": 1000000000})
    d.start()
    return d


def dump(c):
    out = []
    for sql in DUMPS:
        rows = c.ok("sql", {"sql": sql})["rows"]
        if "node_fts" in sql:
            rows = [[r[0], r[1], r[2], sorted((r[3] or "").split("\n"))] for r in rows]
        if "FROM imports" in sql:
            rows = [[r[0], r[1].replace("hf_models_lua", "hf_models")] + r[2:] for r in rows]
        out.append((sql, rows))
    return out


def same_dumps(a, b, what):
    for (sql, ra), (_, rb) in zip(a, b):
        eq(len(ra), len(rb), "%s: row count of %s" % (what, sql))
        for x, y in zip(ra, rb):
            eq(x, y, "%s: %s" % (what, sql))


def imported(c, plugin, name, text):
    res, err = upload(c, name, text.encode(), plugin=plugin)
    check(err is None, "%s %s: %r" % (plugin, name, err))
    return {k: res[k] for k in ("nodes_created", "nodes_updated", "relationships_created", "relationships_updated",
                                "properties_set", "aliases_added", "warnings", "warnings_total")}


def both(cb, cl, name, text):
    rb = imported(cb, "hf_models", name, text)
    rl = imported(cl, "hf_models_lua", name, text)
    eq(rb, rl, "import result of %s" % name)
    same_dumps(dump(cb), dump(cl), "after " + name)
    return rb


@test(timeout=600)
def bulk_and_row_loop_write_the_same_graph():
    gen = generated(3000)
    pdir = plugin_dir()
    bulk, lua = daemon(pdir), daemon(pdir)
    with bulk.client() as cb, lua.client() as cl:
        # into the empty graph: the load defers the indexes
        r = both(cb, cl, "gen.jsonl", gen)
        eq(r["nodes_created"] >= 3000, True, "models created: %r" % r)
        check(r["relationships_created"] > 3000, "DEVELOPED_BY and BASED_ON: %r" % r)
        # hand-written records into a graph with data (the generated models touched again too)
        first = json.loads(gen.split("\n", 1)[0])
        extra = HAND + [dict(first, downloads=123456789, likes=None),
                        {"id": "z/child", "author": first["author"], "cardData": {"base_model": first["id"]}}]
        r = both(cb, cl, "hand.jsonl", hand_text(extra))
        warns = [(w["line"], w["message"]) for w in r["warnings"]]
        eq(warns, [(3, 'unknown base_model_relation "distilled" (kept as it is)'),
                   (4, "the model names itself as its base; skipped")], "warnings name their lines")
        q = cb.ok("node.get", {"label": "Model", "name": "qwen/qwen2.5-7b"})["$node"]["properties"]
        # the placeholder got its record, the case variant merged into it, then line 8's placeholder
        # call set hf_id back (tags: the variant's empty list)
        eq((q["hf_id"], q["downloads"], q["likes"], q["tags"]), ("Qwen/Qwen2.5-7B", 5, 3, []),
           "merges into an existing node")
        m = cb.ok("sql", {"sql": "SELECT json_extract(r.props, '$.relation'), json_extract(r.props, "
                                 "'$.relation_inferred') FROM rels r JOIN nodes n ON n.id = r.start "
                                 "WHERE n.name_key = 'someone/v3-merge' AND r.type = 'BASED_ON'"})["rows"]
        eq(m, [["merge", 1], ["merge", 1]], "a base_model list: two BASED_ON, merge inferred, not repeated")
        eq(len(dump(cb)[0][1]) > 3000, True, "nodes compared")
    check("bulk lua: " in bulk.log() and "bulk lua: " not in lua.log(), "one daemon ran ctx:bulk, the other the loop")
    bulk.stop_ok()
    lua.stop_ok()


@test(timeout=600)
def an_author_meets_its_curated_organization_by_alias():
    gen = generated(500)
    pdir = plugin_dir()
    bulk, lua = daemon(pdir), daemon(pdir)
    with bulk.client() as cb, lua.client() as cl:
        for c in (cb, cl):
            c.ok("node.put", {"labels": ["Organization"], "name": "DeepSeek", "aliases": ["deepseek-ai"],
                              "properties": {"founded": 2023}})
        both(cb, cl, "hand.jsonl", hand_text(HAND))
        both(cb, cl, "gen.jsonl", gen)   # deepseek-ai again, in a graph with nodes and relationships
        orgs = cb.ok("sql", {"sql": "SELECT count(*) FROM node_labels WHERE label = 'Organization' AND node_id IN "
                                    "(SELECT node_id FROM aliases WHERE alias_key = 'deepseek-ai' UNION "
                                    "SELECT id FROM nodes WHERE name_key IN ('deepseek-ai', 'deepseek'))"})["rows"]
        eq(orgs, [[1]], "deepseek-ai is the curated DeepSeek, not a second Organization")
        dev = cb.ok("sql", {"sql": "SELECT count(*) FROM rels r JOIN nodes o ON o.id = r.end "
                                   "WHERE r.type = 'DEVELOPED_BY' AND o.name_key = 'deepseek'"})["rows"][0][0]
        check(dev >= 2, "models DEVELOPED_BY DeepSeek: %d" % dev)
    bulk.stop_ok()
    lua.stop_ok()


# bulk:node / bulk:rel write plain props (strings, integers, booleans, lists of them) straight from
# Lua, everything else through jansson (core/bulk_lua.c, props_from_lua): both must give the text
# ctx:node / ctx:rel give, or the same error. BULK and NAME are filled in per copy.
KINDS = r"""
local CASES = {
  { s = "plain", i = 42, neg = -7, big = math.maxinteger, small = math.mininteger, t = true, f = false },
  { esc = "q\"b\\s/\b\f\n\r\t\1\31\127 é 漢 😀", ["ké y"] = "v", z = "" },
  { list = { "x", 1, true, "ü\n" }, empty = dsgraph.list {}, one = { "only" }, ints = { -1, 0, 1 } },
  { nul = "a\0b", real = 1.5, int_as_real = 2.0 },
  { nested = { a = { "b" } }, obj = { k = "v" }, map = dsgraph.map {}, emptyobj = {} },
  { gone = dsgraph.null, kept = "k" },
  { name = "not the name", other = 1 },
  { lst = dsgraph.list { "a", "b" }, tagged = setmetatable({ "c" }, { __index = {} }) },
  {},
}
local BAD = {
  utf8 = { s = "\xff" }, key_utf8 = { ["\xff"] = 1 }, mixed = { "a", k = "b" }, holes = { l = { 1, nil, 3 } },
  fn = { f = function() end }, inf = { x = math.huge }, list_props = dsgraph.list { 1 },
}
return { name = "NAME", importer = { extensions = { "kinds" }, run = function(ctx, input)
  local how = input:read("l")
  local bulk = BULK and ctx:bulk() or nil
  local w = bulk or ctx
  if how == "good" then
    local prev
    for i, props in ipairs(CASES) do
      local id = w:node { labels = { "Thing" }, name = "thing-" .. i, props = props }
      if prev then w:rel(prev, "NEXT", id, props) end
      w:node { labels = { "Thing" }, name = "thing-" .. i, props = props }   -- again: no change
      prev = id
    end
  elseif how:match("^rel ") then
    local a = w:node { labels = { "Thing" }, name = "rel-a" }
    w:rel(a, "NEXT", w:node { labels = { "Thing" }, name = "rel-b" }, BAD[how:sub(5)])
  else
    w:node { labels = { "Thing" }, name = "bad", props = BAD[how] }
  end
  if bulk then bulk:finish() end
end } }
"""


@test(timeout=300)
def every_kind_of_value_reads_the_same_through_bulk_and_ctx():
    pdir = plugin_dir({"kinds.lua": KINDS.replace("BULK and", "true and").replace("NAME", "kinds"),
                       "kinds_lua.lua": KINDS.replace("BULK and", "false and").replace("NAME", "kinds_lua")})
    bulk, lua = daemon(pdir), daemon(pdir)
    with bulk.client() as cb, lua.client() as cl:
        empty = dump(cb)
        for how in ("utf8", "key_utf8", "mixed", "holes", "fn", "inf", "list_props", "rel utf8", "rel mixed",
                    "rel fn"):
            _, eb = upload(cb, "bad.kinds", (how + "\n").encode(), plugin="kinds")
            _, el = upload(cl, "bad.kinds", (how + "\n").encode(), plugin="kinds_lua")
            check(eb is not None and el is not None, "%s must fail: %r / %r" % (how, eb, el))
            msg = lambda e: re.sub(r"(bulk|ctx):(node|rel)", r"\2", e["message"].replace("kinds_lua", "kinds"))
            eq(msg(eb), msg(el), "the message for " + how)
            if how == "key_utf8":   # the bad byte is spelled out (core/rpc.c): the reply is still valid UTF-8
                check("props.\\xFF: key is not valid UTF-8" in eb["message"], eb["message"])
            same_dumps(dump(cb), empty, "after the failed " + how)
        rb, eb = upload(cb, "good.kinds", b"good\n", plugin="kinds")
        rl, el = upload(cl, "good.kinds", b"good\n", plugin="kinds_lua")
        check(eb is None and el is None, "%r / %r" % (eb, el))
        eq({k: rb[k] for k in ("nodes_created", "relationships_created", "properties_set")},
           {k: rl[k] for k in ("nodes_created", "relationships_created", "properties_set")}, "counts")
        plugin_named = lambda d: [(q, [[x.replace("kinds_lua", "kinds") if isinstance(x, str) else x for x in r]
                                        for r in rows]) for q, rows in d]
        same_dumps(dump(cb), plugin_named(dump(cl)), "after good.kinds")
        props = cb.ok("sql", {"sql": "SELECT props FROM nodes WHERE name_key = 'thing-3'"})["rows"][0][0]
        eq(props, '{"empty":[],"ints":[-1,0,1],"list":["x",1,true,"\\u00fc\\n"],"name":"thing-3","one":["only"]}'
           .replace("\\u00fc", "ü"), "lists as jansson writes them")
    check("bulk lua: " in bulk.log(), "the bulk copy ran ctx:bulk")
    bulk.stop_ok()
    lua.stop_ok()


MISUSE = r'''
return { name = "bulk_misuse", importer = { extensions = { "misuse" }, run = function(ctx, input)
  local how = input:read("l")
  local bulk = ctx:bulk()
  bulk:node { labels = { "Model" }, name = "misuse-a", props = { x = 1 } }
  if how == "node" then ctx:node { labels = { "Model" }, name = "misuse-b" } end
  if how == "catch" then
    local ok, err = pcall(bulk.node, bulk, { labels = { "Model" }, name = "  " })
    assert(not ok and err:find("bulk:node: name is empty", 1, true), err)
  end
  if how == "finish" then bulk:finish(); bulk:finish() end
  if how == "ok" then
    local id = bulk:node { labels = { "Model" }, name = "misuse-b", props = { y = dsgraph.null, z = "z" } }
    bulk:rel(id, "LIKES", bulk:node { label = "Model", name = "misuse-a" }, { w = 2.5, gone = dsgraph.null })
    local n = bulk:finish()
    assert(n.nodes == 3 and n.relationships == 1, "counts")
    ctx:node { labels = { "Model" }, name = "after-finish" }
  end
  if how == "rel" then bulk:rel(1, "LIKES", 999999) end
end } }
'''


@test(timeout=600)
def errors_name_the_line_and_leave_every_table_as_it_was():
    pdir = plugin_dir({"bulk_misuse.lua": MISUSE})
    d = daemon(pdir)
    gen = generated(300)
    with d.client() as c:
        empty = dump(c)
        bad = [
            ("noid.jsonl", gen + '{"author": "x"}\n', 301, 'the record has no "id"'),
            ("json.jsonl", gen + '{"id": "a/b",\n', 301, "invalid JSON: "),
            ("base.jsonl", gen + '{"id": "a/b", "cardData": {"base_model": 7}}\n', 301,
             "cardData.base_model must be a string or a list of strings"),
            ("early.jsonl", hand_text(HAND[:3]) + "[1, 2]\n" + gen, 4, "a model record must be a JSON object"),
        ]

        def expect_failures(what):
            for name, text, line, msg in bad:
                _, eb = upload(c, name, text.encode(), plugin="hf_models")
                _, el = upload(c, name, text.encode(), plugin="hf_models_lua")
                check(eb is not None and el is not None, "%s must fail: %r / %r" % (name, eb, el))
                check(eb["message"].startswith("hf_models: %s:%d: %s" % (name, line, msg)), eb["message"])
                eq(eb["message"], el["message"].replace("hf_models_lua:", "hf_models:", 1), "message of " + name)
                same_dumps(dump(c), what, "after the failed " + name)

        expect_failures(empty)   # on the empty graph the load drops the secondary indexes: they must come back
        imported(c, "hf_models", "hand.jsonl", hand_text(HAND))
        imported(c, "hf_models", "gen.jsonl", gen)
        before = dump(c)
        expect_failures(before)
        for how, msg in [("node", "ctx:node: a bulk load is open (ctx:bulk)"),
                         ("catch", "ctx:bulk: the bulk load was not finished"),
                         ("none", "ctx:bulk: the bulk load was not finished"),
                         ("finish", "bulk:finish: the bulk load is finished"),
                         ("rel", "bulk:rel: end node 999999 not found")]:
            _, err = upload(c, how + ".misuse", (how + "\n").encode(), plugin="bulk_misuse")
            check(err is not None and msg in err["message"], "%s: %r" % (how, err))
            check(err["message"].startswith("bulk_misuse: %s.misuse:1: " % how), err["message"])
            same_dumps(dump(c), before, "after the misuse " + how)
        res, err = upload(c, "ok.misuse", b"ok\n", plugin="bulk_misuse")
        check(err is None, "the general merges: %r" % err)
        eq((res["nodes_created"], res["relationships_created"], res["properties_set"]), (3, 1, 3), "counts")
        b = c.ok("node.get", {"label": "Model", "name": "misuse-b"})["$node"]["properties"]
        eq(b, {"name": "misuse-b", "z": "z"}, "a null property is absent")
        eq(c.ok("sql", {"sql": "SELECT props FROM rels WHERE type = 'LIKES'"})["rows"], [['{"w":2.5}']], "rel props")
    d.stop_ok()


if __name__ == "__main__":
    run_all()
