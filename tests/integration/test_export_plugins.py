#!/usr/bin/env python3
"""Exporters (docs/plugins.md, "The exporter API") through the real daemon and dsctl:
golden files of every shipped exporter on the bundled data (json_export, dot_lineage,
markdown_report, graphml_export, csv_export), the JSON round trip
(export -> import into an empty daemon -> export gives the same bytes), `dot -Tsvg`
without warnings on every DOT output, xmllint on GraphML, exporters on an empty graph,
an exporter that fails halfway (clear error, no file), limits, determinism, the ctx
API, and the README's lineage picture (examples/deepseek-lineage.svg) being up to date.
Set DSGTEST_UPDATE_GOLDEN=1 to rewrite the golden files and the picture."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, SOURCE_DIR, Daemon, Skip, check, eq, make_tmpdir, run_all, test  # noqa: E402

SHIPPED = os.path.join(SOURCE_DIR, "plugins")
TEST_PLUGINS = os.path.join(SOURCE_DIR, "tests", "plugins", "export")
SEED = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")
GOLDEN = os.path.join(SOURCE_DIR, "tests", "golden")
PICTURE = os.path.join(SOURCE_DIR, "examples", "deepseek-lineage.svg")
UPDATE = os.environ.get("DSGTEST_UPDATE_GOLDEN") == "1"
SEED_REPORT = os.environ.get("DSGRAPH_SEED_REPORT") or os.path.join(
    SOURCE_DIR, "..", "shared", "seeds", "000_81a8176beca22a22.txt")

DOT_VARIANTS = [
    [],
    ["--opt", "techniques=true", "--opt", "impacts=true"],
    ["--opt", "root=DeepSeek-R1", "--opt", "direction=up"],
    ["--opt", "root=DeepSeek-V3-Base", "--opt", "direction=down", "--opt", "depth=1"],
    ["--opt", "root=DeepSeek V2", "--opt", "direction=both", "--opt", "techniques=true"],
]


def daemon(seed=SEED, extra=None):
    d = Daemon(config={})
    cfg = {"plugin_dirs": [SHIPPED, TEST_PLUGINS], "plugin_memory_limit": 32 << 20,
           "plugin_instruction_limit": 200000000}
    cfg.update(extra or {})
    d.set_config(cfg)
    d.start(seed=seed)
    return d


def dsctl(d, *args, check_rc=0):
    r = subprocess.run([DSCTL, "--socket", d.socket] + list(args), capture_output=True, timeout=120)
    if check_rc is not None:
        check(r.returncode == check_rc, "dsctl %s: exit %d, expected %d; stderr: %s" % (
            " ".join(args), r.returncode, check_rc, r.stderr.decode(errors="replace")))
    return r


def export(d, name, *args):
    return dsctl(d, "export", name, *args).stdout


def need(prog):
    if not shutil.which(prog):
        raise Skip("%s is not installed (scripts/ensure-deps installs it)" % prog)


def dot_ok(data, what):
    """dot -Tsvg parses data with nothing on stderr (no warnings)."""
    need("dot")
    r = subprocess.run(["dot", "-Tsvg"], input=data, capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stderr == b"", "dot -Tsvg on %s: exit %d, stderr %r" % (what, r.returncode, r.stderr))
    check(b"<svg" in r.stdout, "dot -Tsvg on %s: no SVG" % what)


def golden(name, data):
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    with open(path, "rb") as f:
        want = f.read()
    check(data == want, "%s differs from the golden file %s (DSGTEST_UPDATE_GOLDEN=1 rewrites it)" % (name, path))


@test
def json_golden_and_round_trip():
    d = daemon()
    first = export(d, "json_export")
    golden("deepseek.json", first)
    doc = json.loads(first)
    eq(len(doc["nodes"]), 56, "nodes")
    eq(len(doc["relationships"]), 131, "relationships")
    d.stop_ok()
    e = daemon(seed=None)
    path = os.path.join(e.dir, "graph.json")
    with open(path, "wb") as f:
        f.write(first)
    dsctl(e, "import", path, "--plugin", "json_graph")
    second = export(e, "json_export")
    check(second == first, "the JSON export of the re-imported graph differs from the original export")
    e.stop_ok()


@test
def dot_golden_and_variants_parse_without_warnings():
    d = daemon()
    data = export(d, "dot_lineage")
    golden("deepseek-lineage.dot", data)
    for text in (b"rankdir=LR", b"subgraph cluster_", b"Noto Sans CJK SC", b"671B/37B", b"style=dashed"):
        check(text in data, "the DOT output has no %r" % text)
    for args in DOT_VARIANTS:
        out = export(d, "dot_lineage", *args)
        dot_ok(out, "dot_lineage %s" % " ".join(args))
    dot_ranks_by_release(data)
    up = export(d, "dot_lineage", "--opt", "root=DeepSeek-R1", "--opt", "direction=up")
    check(b"DeepSeek-V3-Base" in up and b"Qwen2.5" not in up, "root=DeepSeek-R1 direction=up shows its ancestors only")
    d.stop_ok()


def dot_edges(data, shown=None):
    """The lineage edge lines of a DOT export, in order; only those between models in shown."""
    import re
    out = []
    for line in data.decode().splitlines():
        m = re.match(r"  m(\d+) -> m(\d+) \[", line)
        if m and (shown is None or (m.group(1) in shown and m.group(2) in shown)):
            out.append(line)
    return out


def dot_models(data):
    import re
    return set(re.findall(r"^ +m(\d+) \[label=", data.decode(), re.M))


@test
def dot_lineage_root_edges_are_the_whole_graphs_between_its_models():
    """With root=, the edges come from the walk's queries, not a pass over every relationship:
    they must be exactly the whole diagram's edges between the models shown, in the same order,
    including an edge from a descendant to an ancestor (a merge across the root) and edges
    leaving the tree."""
    d = daemon(seed=None)
    try:
        dsctl(d, "query", "CREATE (a:Model {name: 'A'}), (r:Model {name: 'R'})-[:BASED_ON {relation: 'finetune'}]->(a), "
              "(c:Model {name: 'C'})-[:BASED_ON {relation: 'adapter'}]->(r), "
              "(g:Model {name: 'G'})-[:BASED_ON {relation: 'merge'}]->(c), (g)-[:BASED_ON {relation: 'merge'}]->(a), "
              "(x:Model {name: 'X'}), (g)-[:BASED_ON {relation: 'merge'}]->(x), "
              "(s:Model {name: 'S'})-[:DISTILLED_FROM]->(g), (t:Thing {name: 'T'}), (c)-[:BASED_ON]->(t)")
        whole = export(d, "dot_lineage")
        eq(len(dot_edges(whole)), 6, "edges of the whole diagram: %r" % dot_edges(whole))
        cases = {("both", "0"): 5, ("down", "0"): 3, ("up", "0"): 1, ("both", "1"): 2, ("down", "2"): 2}
        for (direction, depth), n in cases.items():
            out = export(d, "dot_lineage", "--opt", "root=R", "--opt", "direction=" + direction, "--opt", "depth=" + depth)
            shown = dot_models(out)
            got = dot_edges(out)
            eq(got, dot_edges(whole, shown), "root=R direction=%s depth=%s: the whole diagram's edges" % (direction, depth))
            eq(len(got), n, "root=R direction=%s depth=%s: edges %r" % (direction, depth, got))
        seeded = daemon()
        try:
            whole = export(seeded, "dot_lineage")
            for args in DOT_VARIANTS[2:]:
                out = export(seeded, "dot_lineage", *args)
                eq(dot_edges(out), dot_edges(whole, dot_models(out)), "dot_lineage %s: edges" % " ".join(args))
        finally:
            seeded.stop_ok()
    finally:
        d.stop_ok()


def dot_ranks_by_release(data):
    """Laid out along release time: a timeline of months chained in date order by invisible
    edges, and every dated model in the rank=same column of its release month."""
    import re
    text = data.decode()
    labels = dict(re.findall(r'  (time\d+) \[label="([^"]+)", shape=plaintext', text))
    groups = re.findall(r"  \{ rank=same; (time\d+); ([^}]*)\}", text)
    months = [labels[t] for t, _ in groups]
    check(len(months) >= 5, "rank=same columns: %r" % months)
    eq(months, sorted(set(months)), "the timeline's months, in date order, once each")
    chain = " -> ".join("time%d" % (i + 1) for i in range(len(months)))
    check("  %s [style=invis];" % chain in text, "the timeline is chained in order by invisible edges")
    column = {}
    for t, members in groups:
        for m in members.replace(";", " ").split():
            column[m] = labels[t]
    models = re.findall(r'  +(m\d+) \[label="[^"\\]*\\n(\d{4}-\d{2})[^"]*"\];', text)
    check(len(models) >= 20, "dated models: %d" % len(models))
    for m, month in models:
        eq(column.get(m), month, "the column of %s" % m)


@test
def markdown_report_golden():
    d = daemon()
    zh = export(d, "markdown_report")
    golden("deepseek-report.zh.md", zh)
    check("| DeepSeek-V2 | 2024年5月 | MoE架构、MLA | 236B/21B |" in zh.decode(), "the summary table row of V2")
    check(b"```mermaid\ngraph LR\n" in zh, "a Mermaid block")
    golden("deepseek-report.en.md", export(d, "markdown_report", "--opt", "lang=en"))
    d.stop_ok()


def summary_table(text):
    """The rows (lists of cells) of the table under the | 模型 | 发布时间 | 主要特点 | 参数规模 | header."""
    lines = text.splitlines()
    head = [i for i, l in enumerate(lines) if l.strip() == "| 模型 | 发布时间 | 主要特点 | 参数规模 |"]
    eq(len(head), 1, "summary table headers")
    rows = []
    for l in lines[head[0] + 2:]:
        if not l.strip().startswith("|"):
            break
        rows.append([c.strip() for c in l.strip().strip("|").split("|")])
    return rows


@test
def seed_report_summary_table_round_trip():
    """Importing only the seed report, the zh report's summary table has the seed table's
    rows, in the same order, with the same values, cell by cell."""
    if not os.path.exists(SEED_REPORT):
        raise Skip("no seed report at %s" % SEED_REPORT)
    with open(SEED_REPORT, encoding="utf-8") as f:
        want = summary_table(f.read())
    check(len(want) >= 4, "the seed's table: %r" % want)
    d = daemon(seed=None)
    dsctl(d, "import", SEED_REPORT, "--plugin", "deepseek_report")
    got = summary_table(export(d, "markdown_report", "--opt", "lang=zh").decode())
    eq(len(got), len(want), "rows of the summary table")
    for i, (g, w) in enumerate(zip(got, want)):
        eq(len(g), len(w), "cells of row %d" % (i + 1))
        for j, (gc, wc) in enumerate(zip(g, w)):
            eq(gc, wc, "row %d (%s), column %d" % (i + 1, w[0], j + 1))
    # the display name is a property: the node keeps the name the curated data merges on
    with d.client() as c:
        n = c.ok("node.get", {"label": "Model", "name": "DeepSeek-Coder-V2"})["$node"]["properties"]
        eq(n.get("name"), "DeepSeek-Coder-V2", "the node's name")
        eq(n.get("summary_name"), "DeepSeek Coder V2", "its display name in the table")
    d.stop_ok()


@test
def graphml_is_well_formed():
    need("xmllint")
    d = daemon()
    data = export(d, "graphml_export")
    path = os.path.join(d.dir, "g.graphml")
    with open(path, "wb") as f:
        f.write(data)
    r = subprocess.run(["xmllint", "--noout", path], capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stderr == b"", "xmllint: %r" % r.stderr)
    check(b'attr.name="params_total" attr.type="long"' in data, "typed key for params_total")
    graphml_follows_the_schema(data, nodes=56, edges=131)
    golden("deepseek.graphml", data)
    d.stop_ok()


@test
def csv_goldens():
    """csv_export's files on the bundled data: the nodes file and one file per label pair."""
    d = daemon()
    parts = export(d, "csv_export", "--opt", "part=parts").decode().splitlines()
    eq(len(parts), 9, "csv parts of the bundled data: %r" % parts)
    for line in parts:
        args, name = [], []
        for kv in line.split():
            args += ["--opt", kv]
            name.append(kv.split("=", 1)[1])
        golden(os.path.join("csv", "-".join(name) + ".csv"), export(d, "csv_export", *args))
    d.stop_ok()


GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"
# the attributes graphml.xsd (structure + attributes extension) allows on each element
GRAPHML_ATTRS = {
    "graphml": set(),
    "key": {"id", "for", "attr.name", "attr.type"},
    "graph": {"id", "edgedefault"},
    "node": {"id"},
    "edge": {"id", "source", "target", "directed"},
    "data": {"key"},
}


def graphml_follows_the_schema(data, nodes, edges):
    """Labels and types are typed <key>s + <data>, never extra attributes on <node>/<edge>;
    every <data> names a declared key of its domain and its text fits the key's type."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(data)
    keys = {}
    for el in root.iter():
        tag = el.tag.replace(GRAPHML_NS, "")
        check(tag in GRAPHML_ATTRS, "element <%s> is not GraphML" % tag)
        extra = {a for a in el.attrib if not a.startswith("{")} - GRAPHML_ATTRS[tag]
        check(not extra, "<%s> has attributes outside the schema: %s" % (tag, sorted(extra)))
        if tag == "key":
            check(el.get("id") not in keys, "key id %s declared twice" % el.get("id"))
            check(el.get("attr.type") in ("boolean", "int", "long", "float", "double", "string"),
                  "key %s: attr.type %r" % (el.get("id"), el.get("attr.type")))
            keys[el.get("id")] = (el.get("for"), el.get("attr.type"), el.get("attr.name"))
    eq(keys.get("labels"), ("node", "string", "labels"), "the typed key of node labels")
    eq(keys.get("type"), ("edge", "string", "type"), "the typed key of relationship types")
    counts = {"node": 0, "edge": 0}
    for tag in ("node", "edge"):
        for el in root.iter(GRAPHML_NS + tag):
            counts[tag] += 1
            seen = set()
            for dat in el.findall(GRAPHML_NS + "data"):
                k = dat.get("key")
                check(k in keys and keys[k][0] == tag, "<%s id=%s> data key %r is not a declared %s key" % (
                    tag, el.get("id"), k, tag))
                check(k not in seen, "<%s id=%s> has data %s twice" % (tag, el.get("id"), k))
                seen.add(k)
                kind, text = keys[k][1], dat.text or ""
                if kind == "long":
                    int(text)
                elif kind == "double":
                    float(text)
                elif kind == "boolean":
                    check(text in ("true", "false"), "boolean data %r" % text)
            check(("labels" if tag == "node" else "type") in seen,
                  "<%s id=%s> has no %s data" % (tag, el.get("id"), "labels" if tag == "node" else "type"))
    eq(counts, {"node": nodes, "edge": edges}, "nodes and edges in the GraphML")


@test(timeout=300)
def dot_lineage_of_one_tree_needs_memory_for_that_tree_only():
    # 20,000 models; the root's tree is 1,000 of them. With a 3 MiB plugin cap the export
    # must work: the plugin may hold the tree's models, never the whole graph's.
    seed = os.path.join(make_tmpdir(), "forest.jsonl")
    with open(seed, "w") as f:
        rid, batch = 0, []
        def put(method, params):
            nonlocal rid
            rid += 1
            batch.append({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
            if len(batch) == 500:
                f.write(json.dumps(batch) + "\n")
                batch.clear()
        for i in range(1, 20001):
            put("node.put", {"labels": ["Model"], "name": "m%d" % i,
                             "properties": {"released": "2024-%02d" % (1 + i % 12), "card": "x" * 200}})
        for i in range(2, 1001):   # m1 <- m2, m3; m2 <- m4, m5; ... a binary tree of 1,000
            put("rel.put", {"start": {"label": "Model", "name": "m%d" % i}, "type": "BASED_ON",
                            "end": {"label": "Model", "name": "m%d" % (i // 2)}, "properties": {"relation": "finetune"}})
        for i in range(1002, 20001):   # the rest: pairs outside the tree
            put("rel.put", {"start": {"label": "Model", "name": "m%d" % i}, "type": "BASED_ON",
                            "end": {"label": "Model", "name": "m%d" % (i - 1)}, "properties": {"relation": "finetune"}})
        if batch:
            f.write(json.dumps(batch) + "\n")
    d = daemon(seed, {"plugin_memory_limit": 3 << 20})
    try:
        out = export(d, "dot_lineage", "--opt", "root=m1", "--opt", "direction=down")
        eq(out.count(b" -> m"), 999, "edges of the 1,000-model tree")
        check(b"m1000 [" in out and b"m1001 [" not in out, "the tree's models and no other")
        whole = dsctl(d, "export", "dot_lineage", check_rc=1)   # the whole graph does not fit 3 MiB
        check(b"memory limit" in whole.stderr, "the whole graph's export fails on the cap: %r" % whole.stderr)
    finally:
        d.stop()


@test
def exporters_on_an_empty_graph():
    d = daemon(seed=None)
    eq(export(d, "json_export"), b'{"imports":[],"nodes":[],"relationships":[]}\n', "json_export of nothing")
    eq(export(d, "json_export", "--opt", "provenance=false"), b'{"nodes":[],"relationships":[]}\n',
       "json_export of nothing without provenance")
    eq(export(d, "csv_export", "--opt", "part=parts"), b"part=nodes\n", "csv_export's parts of nothing")
    eq(export(d, "csv_export"), b":ID,:LABEL,name:string\n", "csv_export of nothing: the header only")
    dot_ok(export(d, "dot_lineage"), "dot_lineage of an empty graph")
    dot_ok(export(d, "dot_lineage", "--opt", "techniques=true", "--opt", "impacts=true"), "empty, with layers")
    if shutil.which("xmllint"):
        path = os.path.join(d.dir, "e.graphml")
        dsctl(d, "export", "graphml_export", "-o", path)
        r = subprocess.run(["xmllint", "--noout", path], capture_output=True, timeout=60)
        check(r.returncode == 0, "xmllint on the empty GraphML: %r" % r.stderr)
        with open(path, "rb") as f:
            graphml_follows_the_schema(f.read(), nodes=0, edges=0)
    # an empty file is still a success: -o FILE is written and renamed
    for name in ("json_export", "markdown_report", "dot_lineage", "csv_export"):
        path = os.path.join(d.dir, "empty." + name)
        dsctl(d, "export", name, "-o", path)
        check(os.path.getsize(path) > 0 and not os.path.exists(path + ".tmp"), "%s -o FILE of nothing" % name)
    check(export(d, "markdown_report").startswith("# AI 模型知识图谱报告".encode()), "markdown_report of nothing")
    r = dsctl(d, "export", "dot_lineage", "--opt", "root=DeepSeek-R1", check_rc=1)
    check(b"no Model named DeepSeek-R1" in r.stderr, "root on an empty graph: %r" % r.stderr)
    d.stop_ok()


@test
def failing_exporter_leaves_no_file():
    d = daemon()
    out = os.path.join(d.dir, "out.txt")
    r = dsctl(d, "export", "fail_halfway", "-o", out, check_rc=1)
    err = r.stderr.decode()
    check("fail_halfway" in err and "gave up after five nodes" in err and "fail_halfway.lua:" in err,
          "the error names the plugin, file:line and message: %r" % err)
    check(not os.path.exists(out) and not os.path.exists(out + ".tmp"), "no output file after a failed export")
    # an existing file is left as it was
    with open(out, "w") as f:
        f.write("old\n")
    dsctl(d, "export", "fail_halfway", "-o", out, check_rc=1)
    eq(open(out).read(), "old\n", "the previous file")
    check(not os.path.exists(out + ".tmp"), "no FILE.tmp")
    # to stdout the chunks already written stay, but the exit status and stderr say it failed
    r = dsctl(d, "export", "fail_halfway", check_rc=1)
    check(b"gave up after five nodes" in r.stderr, "stderr of a failed export to stdout: %r" % r.stderr)
    # rendering: a failed export is never handed to dot, and leaves no picture
    if shutil.which("dot"):
        svg = os.path.join(d.dir, "fail.svg")
        r = dsctl(d, "export", "fail_halfway", "--format", "svg", "-o", svg, check_rc=1)
        check(b"gave up after five nodes" in r.stderr, "stderr of a failed --format svg: %r" % r.stderr)
        check(not os.path.exists(svg) and not os.path.exists(svg + ".tmp"), "no picture after a failed export")
    with d.client() as c:
        res, e = c.call("export", {"plugin": "fail_halfway"})
        check(e is not None and "fail_halfway" in e["message"], "JSON-RPC error: %r" % (e,))
        eq(e["data"].get("plugin"), "fail_halfway", "error.data.plugin")
        res, e = c.call("export", {"plugin": "json_graph"})
        check(e is not None and "has no exporter" in e["message"], "an importer-only plugin: %r" % (e,))
        res, e = c.call("export", {"plugin": "nope"})
        check(e is not None and "no plugin named" in e["message"], "unknown plugin: %r" % (e,))
        res, e = c.call("export", {"plugin": "probe", "opts": [1]})
        check(e is not None, "opts must be an object")
        c.ok("ping")
    d.stop_ok()


@test(timeout=200)
def limits_end_the_run_not_the_daemon():
    d = daemon(extra={"export_max_bytes": 1 << 20})
    with d.client() as c:
        for kind, text in (("memory", "memory limit"), ("loop", "instruction budget"),
                           ("output", "export_max_bytes=1048576"), ("utf8", "not valid UTF-8"),
                           ("query_write", "read-only")):
            res, e = c.call("export", {"plugin": "bomb", "opts": {"kind": kind}}, timeout=120)
            check(e is not None and text in e["message"] and "bomb" in e["message"],
                  "bomb %s: %r" % (kind, e))
        c.ok("ping")
        eq(c.ok("stats")["nodes"], 56, "the graph is unchanged")
    d.stop_ok()


@test
def output_is_deterministic():
    d = daemon()
    for name in ("json_export", "dot_lineage", "graphml_export", "markdown_report", "csv_export"):
        a, b = export(d, name), export(d, name)
        check(a == b and len(a) > 0, "two exports by %s differ" % name)
    d.stop_ok()


@test
def ctx_api():
    d = daemon()
    out = json.loads(export(d, "probe", "--opt", "x=1"))
    eq(out["plugin"], "probe", "ctx.plugin")
    eq(out["opts"], {"x": "1"}, "opts")
    eq(out["models"], 23, "ctx:nodes('Model')")
    eq(out["based_on"], 12, "ctx:rels('BASED_ON')")
    eq(out["node_name"], "DeepSeek-R1", "ctx:node")
    check(out["missing"] is True, "ctx:node of a missing id is nil")
    check("DeepSeek-V3-Base" in out["r1_up"], "ctx:lineage up of R1: %r" % out["r1_up"])
    check(out["search_first"] is not None, "ctx:search found something")
    q = json.loads(export(d, "probe", "--opt", "query=true"))
    eq(q["query_columns"], ["n"], "ctx:query columns")
    eq(q["query_n"], 23, "ctx:query count")
    d.stop_ok()


@test
def svg_rendering_and_readme_picture():
    need("dot")
    d = daemon()
    out = os.path.join(d.dir, "lineage.svg")
    dsctl(d, "export", "dot_lineage", "--format", "svg", "-o", out)
    data = open(out, "rb").read()
    check(data.startswith(b"<?xml") and b"<svg" in data, "an SVG file")
    if UPDATE:
        shutil.copyfile(out, PICTURE)
    check(os.path.exists(PICTURE), "examples/deepseek-lineage.svg is missing")
    check(open(PICTURE, "rb").read() == data,
          "examples/deepseek-lineage.svg is out of date: regenerate it with "
          "`dsctl export dot_lineage --format svg -o examples/deepseek-lineage.svg` (or DSGTEST_UPDATE_GOLDEN=1)")
    png = os.path.join(d.dir, "lineage.png")
    dsctl(d, "export", "dot_lineage", "--format", "png", "-o", png)
    check(open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "a PNG file")
    r = dsctl(d, "export", "dot_lineage", "--format", "pdf", check_rc=2)
    d.stop_ok()


run_all()
