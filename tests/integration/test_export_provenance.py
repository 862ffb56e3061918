#!/usr/bin/env python3
"""json_export is lossless, provenance included (issue 4: "importing an export into an empty
daemon and exporting again gives identical output (types, aliases and provenance included)";
docs/plugins.md, "Replaying provenance"):

- the bundled data (examples/deepseek.jsonl through dsgraph_requests), the seed report (a second
  import whose claims conflict with the first), a direct write, and a third import that was
  retracted: the export lists the three imports (renumbered 1..3) and, per entity, who claimed
  what; imported into an empty daemon it recreates the three imports (same plugin, input,
  sha256, times, counts, retraction) with no row of its own, and exporting again gives the same
  bytes; importing it again, or into the daemon it came from, changes nothing; retracting the
  seed report's import afterwards has the same effect on the restored graph as on the original;
- a generated graph with every property type (int, int64 extremes, 1.0 vs 1, strings with
  Chinese/quotes/newlines, booleans, nested lists and objects, empty list vs empty object),
  claimed by two imports with conflicting values and by direct writes, round trips byte for byte;
  with --opt provenance=false the old format round trips too (and the import keeps its row);
- a document whose claims name an import it does not list, or a plugin naming an import it
  did not replay, fails with a clear error and writes nothing."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, SOURCE_DIR, Daemon, Skip, check, eq, loads, make_tmpdir, run_all, test  # noqa: E402

SHIPPED = os.path.join(SOURCE_DIR, "plugins")
BUNDLED = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")
SEED_REPORT = os.environ.get("DSGRAPH_SEED_REPORT") or os.path.join(
    SOURCE_DIR, "..", "shared", "seeds", "000_81a8176beca22a22.txt")
IMPORT_FIELDS = ("plugin", "input", "sha256", "started_at", "finished_at", "retracted_at", "nodes",
                 "relationships", "properties", "warnings")

BAD_REPLAY = """
-- names an import it did not replay: ctx:replay_claims must refuse
return {
  name = "bad_replay",
  importer = {
    extensions = {"badreplay"},
    run = function(ctx, input)
      local n = ctx:node{labels = "Thing", name = "x", props = {v = 1}}
      ctx:replay_import{plugin = "p", input = "i", sha256 = "00", started_at = "2020-01-01T00:00:00.000Z"}
      ctx:replay_claims("node", n, {properties = {{key = "v", value = 1, import = 1}}})
    end,
  },
}
"""


def daemon(plugin_dir=None, memory=None):
    d = Daemon(config={})
    cfg = {"plugin_dirs": [SHIPPED] + ([plugin_dir] if plugin_dir else [])}
    if memory:
        cfg["plugin_memory_limit"] = memory
    d.set_config(cfg)
    d.start()
    return d


def dsctl(d, *args, check_rc=0):
    r = subprocess.run([DSCTL, "--socket", d.socket] + list(args), capture_output=True, timeout=300)
    if check_rc is not None:
        check(r.returncode == check_rc, "dsctl %s: exit %d, expected %d; stderr: %s" % (
            " ".join(args), r.returncode, check_rc, r.stderr.decode(errors="replace")))
    return r


def export(d, *opts):
    return dsctl(d, "export", "json_export", *opts).stdout


def import_bytes(d, data, name="graph.json", check_rc=0):
    path = os.path.join(d.dir, name)
    with open(path, "wb") as f:
        f.write(data)
    r = dsctl(d, "import", path, "--plugin", "json_graph", "--json", check_rc=check_rc)
    return loads(r.stdout) if r.returncode == 0 else r


def imports_of(d):
    with d.client() as c:
        return c.ok("imports.list")["imports"]


def claims_of(d, label, name):
    with d.client() as c:
        return c.ok("node.get", {"label": label, "name": name, "claims": True})


def comparable(imports):
    return [{k: i[k] for k in IMPORT_FIELDS} for i in imports]


def node_claims(doc, name):
    n = [n for n in doc["nodes"] if n["properties"].get("name") == name]
    eq(len(n), 1, "nodes named %s in the export" % name)
    return n[0].get("claims", {})


@test(timeout=400)
def bundled_data_with_provenance_round_trips():
    if not os.path.exists(SEED_REPORT):
        raise Skip("no seed report at %s" % SEED_REPORT)
    a = daemon()
    dsctl(a, "import", BUNDLED)
    dsctl(a, "import", SEED_REPORT, "--plugin", "deepseek_report")
    extra = os.path.join(a.dir, "extra.json")
    with open(extra, "w") as f:
        json.dump({"nodes": [{"id": 1, "labels": ["Model"], "properties": {"name": "DeepSeek-V3", "note": "x"}},
                             {"id": 2, "labels": ["Model"], "properties": {"name": "Extra-Model"}}],
                   "relationships": []}, f)
    third = loads(dsctl(a, "import", extra, "--plugin", "json_graph", "--json").stdout)
    dsctl(a, "imports", "retract", str(third["import_id"]))
    with a.client() as c:   # a direct write: source 0 claims the node, not its value
        c.ok("node.put", {"labels": ["Model"], "name": "DeepSeek-R1", "properties": {"direct_note": "直接写入"}})
    first = export(a)
    doc = json.loads(first)
    eq([(i["id"], i["plugin"]) for i in doc["imports"]],
       [(1, "dsgraph_requests"), (2, "deepseek_report"), (3, "json_graph")], "the exported imports")
    eq(comparable(doc["imports"]), comparable(imports_of(a)), "the exported imports' fields")
    check(doc["imports"][2]["retracted_at"] is not None, "the retracted import says so")
    v3 = node_claims(doc, "DeepSeek-V3")
    hours = [(c["import"], c["value"]) for c in v3["properties"] if c["key"] == "training_gpu_hours"]
    eq(sorted(hours), [(1, 2788000), (2, 2780000)], "the conflicting claims on DeepSeek-V3.training_gpu_hours")
    eq(sorted(c["import"] for c in v3["entity"]), [1, 2], "who asserted DeepSeek-V3")
    r1 = node_claims(doc, "DeepSeek-R1")
    check({"effect": "asserted", "import": 0} in r1["entity"], "the direct write claims R1: %r" % r1["entity"])
    check(all(c["key"] != "direct_note" for c in r1["properties"]), "a direct write claims no value")
    check(any(c["alias"] for c in node_claims(doc, "DeepSeek-V3").get("aliases", [])), "alias claims")
    check(all("claims" in r for r in doc["relationships"]), "every relationship has claims")

    b = daemon()
    res = import_bytes(b, first)
    check(res.get("import_id") is None, "the restoring import keeps no row of its own: %r" % res.get("import_id"))
    eq(len(res.get("replayed_imports", [])), 3, "replayed imports")
    eq(comparable(imports_of(b)), comparable(imports_of(a)), "the restored imports")
    second = export(b)
    check(second == first, "export -> import -> export differs (%d vs %d bytes)" % (len(second), len(first)))
    # the restored claims read like the original ones (import ids differ, values and currency do not)
    strip = lambda cl: sorted((p["key"], json.dumps(p["value"]), p["current"]) for p in cl["claims"]["properties"])
    eq(strip(claims_of(b, "Model", "DeepSeek-V3")), strip(claims_of(a, "Model", "DeepSeek-V3")),
       "node.get claims of DeepSeek-V3")

    again = import_bytes(b, first, "again.json")
    eq((again["nodes_created"], again["relationships_created"], again["properties_set"]), (0, 0, 0),
       "importing the same export again")
    eq(len(imports_of(b)), 3, "imports after the second restore")
    human = dsctl(b, "import", os.path.join(b.dir, "again.json"), "--plugin", "json_graph").stdout.decode()
    ids = ", ".join(str(i["id"]) for i in imports_of(b))
    check("restored imports %s with json_graph" % ids in human, "dsctl's summary of a restore: %r" % human)
    check(export(b) == first, "the export after restoring twice")
    home = import_bytes(a, first)
    eq(home["replayed_imports"], [i["id"] for i in imports_of(a)], "restoring into the source reuses its imports")
    check(export(a) == first, "restoring an export into the daemon it came from changes nothing")

    # provenance works the same on the restored graph: retract the seed report's import on both
    rid_a = [i["id"] for i in imports_of(a) if i["plugin"] == "deepseek_report"][0]
    rid_b = [i["id"] for i in imports_of(b) if i["plugin"] == "deepseek_report"][0]
    ra = loads(dsctl(a, "imports", "retract", str(rid_a), "--json").stdout)
    rb = loads(dsctl(b, "imports", "retract", str(rid_b), "--json").stdout)
    eq({k: v for k, v in rb.items() if k != "import"}, {k: v for k, v in ra.items() if k != "import"},
       "what retracting the seed report undid")
    check(ra["properties_restored"] > 0, "the retraction restored values: %r" % ra)
    after_a, after_b = export(a), export(b)
    da, db = json.loads(after_a), json.loads(after_b)
    for x in (da, db):
        for i in x["imports"]:
            i["retracted_at"] = bool(i["retracted_at"])   # the time of the retraction differs
    check(da == db, "after retracting the seed report the two graphs differ")
    v3a = [n for n in da["nodes"] if n["properties"]["name"] == "DeepSeek-V3"][0]
    eq(v3a["properties"]["training_gpu_hours"], 2788000, "the curated value is back after the retraction")
    a.stop_ok()
    b.stop_ok()


VALUES = {
    "int": 42, "neg": -7, "big": 9223372036854775807, "small": -9223372036854775808, "zero": 0,
    "real": 1.0, "pi": 3.141592653589793, "tiny": 1e-300, "huge": 1.5e300, "negreal": -0.5,
    "text": "模型 \"quoted\", comma\nnew line\ttab \\ backslash", "empty_text": "", "emoji": "🚀",
    "yes": True, "no": False,
    "ints": [1, 2, 3], "reals": [1.0, 2.5], "mixed": [1, "two", 3.0, True, None, [4], {"five": 5}],
    "empty_list": [], "empty_object": {}, "object": {"b": [1, {"c": None}], "a": "x", "n": 1.0},
}


@test(timeout=300)
def every_property_type_round_trips_with_provenance():
    a = daemon()
    nodes = [{"id": 1, "labels": ["Thing", "Extra"], "properties": dict(VALUES, name="一号"), "aliases": ["one", "壹"]},
             {"id": 2, "labels": ["Thing"], "properties": {"name": "two", "int": 1, "real": 2.0}}]
    rels = [{"id": 1, "type": "KNOWS", "start": 1, "end": 2, "properties": dict(VALUES)}]
    import_bytes(a, json.dumps({"nodes": nodes, "relationships": rels}).encode(), "first.json")
    # a second import disagrees on types and values (1 vs 1.0, list vs object) and adds an alias
    nodes2 = [{"id": 1, "labels": ["Thing"], "properties": {"name": "一号", "int": 42.0, "ints": {"1": 1},
                                                           "new": [None]}, "aliases": ["uno"]},
              {"id": 2, "labels": ["Thing"], "properties": {"name": "two", "int": 1}}]
    rels2 = [{"id": 1, "type": "KNOWS", "start": 1, "end": 2, "properties": {"yes": False}}]
    import_bytes(a, json.dumps({"nodes": nodes2, "relationships": rels2}).encode(), "second.json")
    with a.client() as c:
        c.ok("node.put", {"labels": ["Other"], "name": "direct", "properties": {"v": [1.0]}})
    first = export(a)
    doc = json.loads(first)
    eq(len(doc["imports"]), 2, "imports")
    one = node_claims(doc, "一号")
    ints = [(c["import"], c["value"]) for c in one["properties"] if c["key"] == "int"]
    eq(ints, [(1, 42), (2, 42.0)], "claims on int: 42 then 42.0, oldest first")
    check(isinstance(ints[1][1], float), "42.0 stays a real in the claims")
    eq(node_claims(doc, "direct"), {"entity": [{"effect": "created", "import": 0}]}, "a direct write's claims")
    b = daemon()
    import_bytes(b, first)
    second = export(b)
    check(second == first, "the generated graph's export differs after the round trip:\n%s\n---\n%s" % (
        first.decode(), second.decode()))
    with b.client() as c:
        p = c.ok("node.get", {"label": "Thing", "name": "一号"})["$node"]["properties"]
        for k in ("big", "small", "tiny", "huge", "text", "mixed", "empty_list", "empty_object", "object"):
            eq(json.dumps(p[k], sort_keys=True), json.dumps(VALUES[k], sort_keys=True), "restored %s" % k)
        check(isinstance(p["int"], float) and isinstance(p["real"], float), "1.0 stays a real")

    # the format without provenance still round trips; its import then keeps its own row
    plain = export(a, "--opt", "provenance=false")
    check(plain.startswith(b'{"nodes":[') and b'"claims"' not in plain, "provenance=false leaves provenance out")
    e = daemon()
    res = import_bytes(e, plain)
    check(res["import_id"] is not None and "replayed_imports" not in res, "a plain import is an ordinary import")
    eq([i["plugin"] for i in imports_of(e)], ["json_graph"], "the plain import's row")
    check(export(e, "--opt", "provenance=false") == plain, "the plain export after the round trip")
    for d in (a, b, e):
        d.stop_ok()


@test(timeout=400)
def a_big_export_round_trips_under_a_small_memory_cap():
    """json_export's layout is read one record per line: an export many times the plugin
    memory cap restores exactly (provenance included), where the same document on one line,
    read whole, cannot. (At 1M nodes with the default cap, keeping each node's handle table in
    the id map failed at node 621,120.)"""
    a = daemon()
    n = 12000   # the id map must stay small too: ~100-byte handle tables for 12,000 nodes pass 1 MiB
    nodes = [{"id": i, "labels": ["Model"] + (["Even"] if i % 2 == 0 else []),
              "properties": {"name": "model-%d" % i, "n": i, "note": "第%d号 \"q\"\n" % i, "tags": ["a", i, 1.5]},
              "aliases": ["alias-%d" % i] if i % 7 == 0 else []} for i in range(1, n + 1)]
    rels = [{"id": i, "type": "BASED_ON", "start": i, "end": i // 2, "properties": {"relation": "finetune"}}
            for i in range(2, n + 1)]
    import_bytes(a, json.dumps({"nodes": nodes, "relationships": rels}).encode(), "first.json")
    second = [{"id": i, "labels": ["Model"], "properties": {"name": "model-%d" % i, "n": -i}} for i in range(1, n, 5)]
    import_bytes(a, json.dumps({"nodes": second, "relationships": []}).encode(), "second.json")
    first = export(a)
    cap = 1 << 20
    check(len(first) > cap * 3 // 2, "the export is bigger than the cap: %d bytes" % len(first))
    b = daemon(memory=cap)
    res = import_bytes(b, first)
    eq(res.get("replayed_imports"), [i["id"] for i in imports_of(b)], "the restored imports")
    eq(len(res["replayed_imports"]), 2, "both imports replayed")
    check(export(b) == first, "the export restored under a 1 MiB cap exports the same bytes")
    c = daemon(memory=cap)
    whole = import_bytes(c, json.dumps(json.loads(first), ensure_ascii=False).encode(), check_rc=1)
    check(b"memory limit" in whole.stderr, "the same graph on one line is read whole: %r" % whole.stderr[:300])
    eq(len(imports_of(c)), 0, "the failed import left nothing")
    for d in (a, b, c):
        d.stop_ok()


@test(timeout=200)
def replays_that_name_unknown_imports_fail_cleanly():
    plugdir = make_tmpdir("dsgt-replay-")
    with open(os.path.join(plugdir, "bad_replay.lua"), "w") as f:
        f.write(BAD_REPLAY)
    d = daemon(plugdir)
    doc = {"imports": [{"id": 1, "plugin": "p", "input": "in", "sha256": "ab", "started_at": "2020-01-01T00:00:00.000Z",
                        "finished_at": "2020-01-01T00:00:01.000Z", "retracted_at": None, "nodes": 1,
                        "relationships": 0, "properties": 1, "warnings": 0}],
           "nodes": [{"id": 1, "labels": ["Thing"], "properties": {"name": "x", "v": 1}, "aliases": [],
                      "claims": {"properties": [{"import": 2, "key": "v", "value": 1}]}}],
           "relationships": []}
    r = import_bytes(d, json.dumps(doc).encode(), check_rc=1)
    err = r.stderr.decode()
    check("nodes[1]" in err and "names import 2" in err and "not in \"imports\"" in err, "the error: %r" % err)
    doc["nodes"][0]["claims"] = {"properties": [{"import": 1, "key": "name", "value": "x"}]}
    r = import_bytes(d, json.dumps(doc).encode(), "name.json", check_rc=1)
    check("name is its identity" in r.stderr.decode(), "claiming the name: %r" % r.stderr)
    doc["nodes"][0]["claims"] = {"aliases": [{"import": 1, "alias": "not-an-alias"}]}
    r = import_bytes(d, json.dumps(doc).encode(), "alias.json", check_rc=1)
    check("is not an alias of" in r.stderr.decode(), "claiming a missing alias: %r" % r.stderr)
    path = os.path.join(d.dir, "x.badreplay")
    with open(path, "w") as f:
        f.write("x\n")
    r = dsctl(d, "import", path, check_rc=1)
    err = r.stderr.decode()
    check("bad_replay" in err and "ctx:replay_claims" in err and "ctx:replay_import returned" in err,
          "a plugin naming an import it did not replay: %r" % err)
    with d.client() as c:
        eq(c.ok("stats")["nodes"], 0, "nothing written by the failed imports")
        eq(c.ok("imports.list")["imports"], [], "no import rows left by the failed imports")
    # a dry run of a replaying import writes nothing either
    doc["nodes"][0]["claims"] = {"properties": [{"import": 1, "key": "v", "value": 1}]}
    path = os.path.join(d.dir, "dry.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    dsctl(d, "import", path, "--plugin", "json_graph", "--dry-run")
    with d.client() as c:
        eq(c.ok("stats")["nodes"], 0, "nothing written by the dry run")
        eq(c.ok("imports.list")["imports"], [], "no import rows after the dry run")
    d.stop_ok()


run_all()
