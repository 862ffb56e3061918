#!/usr/bin/env python3
"""csv_export (docs/plugins.md, "Shipped exporters") round trips through csv (the importer):
the bundled data (nodes file + one relationship file per label pair) exported, imported
into an empty daemon and exported again gives the same bytes; a generated graph with
every property type keeps each value and its type (1 vs 1.0, big int64, Chinese, commas,
quotes, newlines, lists); part=parts and the errors of part=relationships."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, SOURCE_DIR, Daemon, Float, check, eq, loads, run_all, test  # noqa: E402

SHIPPED = os.path.join(SOURCE_DIR, "plugins")
SEED = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")


def daemon(seed=None):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [SHIPPED], "plugin_memory_limit": 64 << 20,
                  "plugin_instruction_limit": 1000000000})
    d.start(seed=seed)
    return d


def dsctl(d, *args, check_rc=0):
    r = subprocess.run([DSCTL, "--socket", d.socket] + list(args), capture_output=True, timeout=120)
    if check_rc is not None:
        check(r.returncode == check_rc, "dsctl %s: exit %d, expected %d; stderr: %s" % (
            " ".join(args), r.returncode, check_rc, r.stderr.decode(errors="replace")))
    return r


def export_all(d, *extra):
    """{part args (tuple) -> bytes} for every part that part=parts lists."""
    parts = dsctl(d, "export", "csv_export", "--opt", "part=parts").stdout.decode().splitlines()
    eq(parts[0], "part=nodes", "the first part")
    out = []
    for line in parts:
        args = []
        for kv in line.split():
            args += ["--opt", kv]
        if line == "part=nodes":
            args += list(extra)
        out.append((tuple(args), dsctl(d, "export", "csv_export", *args).stdout))
    return out


def import_all(d, files):
    for i, (args, data) in enumerate(files):
        path = os.path.join(d.dir, "part%d.csv" % i)
        with open(path, "wb") as f:
            f.write(data)
        dsctl(d, "import", path, "--plugin", "csv")


def round_trip(files, extra=()):
    e = daemon()
    import_all(e, files)
    again = export_all(e, *extra)
    e.stop_ok()
    return again


@test(timeout=300)
def bundled_data_round_trip():
    d = daemon(seed=SEED)
    for extra in ((), ("--opt", "aliases=rows")):
        first = export_all(d, *extra)
        check(len(first) > 2, "several relationship files: %r" % [a for a, _ in first])
        nodes = first[0][1].decode()
        check(nodes.startswith(":ID,:LABEL,name:string,"), "the nodes header: %r" % nodes[:80])
        check("params_total:long" in nodes.splitlines()[0], "a typed long column")
        check(",Model,DeepSeek-V3," in nodes or "DeepSeek-V3,Model,DeepSeek-V3," in nodes, "a model row")
        eq(len(nodes.splitlines()) - 1 > 0, True, "node rows")
        again = round_trip(first, extra)
        eq([a for a, _ in again], [a for a, _ in first], "the parts after the round trip")
        for (args, a), (_, b) in zip(first, again):
            check(a == b, "csv_export %s differs after the round trip:\n%s\n---\n%s" % (
                " ".join(args), a.decode()[:3000], b.decode()[:3000]))
    # counts: every node and relationship came back
    files = export_all(d)
    e = daemon()
    import_all(e, files)
    with d.client() as c, e.client() as c2:
        s1, s2 = c.ok("stats"), c2.ok("stats")
        eq(s2["nodes"], s1["nodes"], "nodes after the round trip")
        eq(s2["relationships"], s1["relationships"], "relationships after the round trip")
    e.stop_ok()
    d.stop_ok()


BIG = 9223372036854775807
VALUES = {
    "flag": True, "off": False, "count": 1, "big": BIG, "small": -BIG - 1, "real": 1.0, "pi": 0.1,
    "neg": -2.5e-300, "text": '中文, "引号"\n第二行', "spaces": "  padded  ", "tags": ["a b", "中文", "x,y", 'q"'],
    "nums": [1, -2, BIG], "reals": [1.5, 2.0], "bools": [True, False],
}
VALUES2 = {"flag": False, "count": 42, "real": 2.5, "text": "plain", "tags": ["one"]}


def node_props(c, label, name):
    return c.ok("node.get", {"label": label, "name": name})["$node"]["properties"]


def same(got, want, what):
    if isinstance(want, float):
        check(isinstance(got, Float) and ("." in got.text or "e" in got.text.lower()),
              "%s: %r should stay a real" % (what, getattr(got, "text", got)))
        eq(float(got), want, what)
    elif isinstance(want, list):
        check(isinstance(got, list) and len(got) == len(want), "%s: %r vs %r" % (what, got, want))
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, "%s[%d]" % (what, i))
    else:
        check(type(got) is type(want) and got == want, "%s: %r (%s), expected %r (%s)" % (
            what, got, type(got).__name__, want, type(want).__name__))


@test(timeout=300)
def every_property_type_round_trips():
    d = daemon()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Thing", "Extra"], "name": "一号, \"one\"", "properties": VALUES,
                          "aliases": ["alias one"]})
        c.ok("node.put", {"labels": ["Thing"], "name": "two", "properties": VALUES2})
        c.ok("node.put", {"labels": ["Model"], "name": "M"})
        a = c.ok("node.get", {"label": "Thing", "name": "two"})["$node"]["id"]
        b = c.ok("node.get", {"label": "Model", "name": "M"})["$node"]["id"]
        one = c.ok("node.get", {"label": "Thing", "name": "一号, \"one\""})["$node"]["id"]
        c.ok("rel.put", {"start": one, "type": "KNOWS", "end": a, "properties": {"since": 2024, "w": 0.5, "note": "a,b"}})
        c.ok("rel.put", {"start": a, "type": "USES", "end": b, "properties": {"ok": True}})
    first = export_all(d, "--opt", "aliases=rows")
    eq([a for a, _ in first], [("--opt", "part=nodes", "--opt", "aliases=rows"),
                               ("--opt", "part=relationships", "--opt", "start=Thing", "--opt", "end=Model"),
                               ("--opt", "part=relationships", "--opt", "start=Thing", "--opt", "end=Thing")],
       "the parts")
    header = first[0][1].decode().splitlines()[0]
    for col in ("big:long", "bools:boolean[]", "count:long", "flag:boolean", "nums:long[]", "real:double",
                "reals:double[]", "tags:string[]", "text:string"):
        check(col in header.split(","), "column %s in %r" % (col, header))
    e = daemon()
    import_all(e, first)
    again = export_all(e, "--opt", "aliases=rows")
    for (args, x), (_, y) in zip(first, again):
        check(x == y, "csv_export %s differs after the round trip:\n%s\n---\n%s" % (" ".join(args), x.decode(), y.decode()))
    with e.client() as c:
        p = node_props(c, "Thing", "一号, \"one\"")
        for k, v in VALUES.items():
            same(p.get(k), v, k)
        p2 = node_props(c, "Thing", "two")
        for k, v in VALUES2.items():
            same(p2.get(k), v, "two." + k)
        check("big" not in p2, "an absent value stays absent")
        n = c.ok("node.get", {"label": "Thing", "name": "alias one"})["$node"]
        eq(n["properties"]["name"], "一号, \"one\"", "the alias finds the node")
        eq(sorted(n["labels"]), ["Extra", "Thing"], "both labels")
        eq(c.ok("stats")["nodes"], 3, "nodes")
        eq(c.ok("stats")["relationships"], 2, "relationships")
        raw = loads(subprocess.run([DSCTL, "--socket", e.socket, "export", "json_export"],
                                   capture_output=True, timeout=60).stdout)
        rels = {r["type"]: r["properties"] for r in raw["relationships"]}
        same(rels["KNOWS"].get("since"), 2024, "since")
        same(rels["KNOWS"].get("w"), 0.5, "w")
        same(rels["KNOWS"].get("note"), "a,b", "note")
        same(rels["USES"].get("ok"), True, "ok")
    e.stop_ok()
    # part=relationships with several label pairs needs start/end; an unknown part is an error
    r = dsctl(d, "export", "csv_export", "--opt", "part=relationships", check_rc=1)
    check(b"start=LABEL" in r.stderr and b"Thing->Model" in r.stderr, "the error names the pairs: %r" % r.stderr)
    r = dsctl(d, "export", "csv_export", "--opt", "part=edges", check_rc=1)
    check(b"part must be" in r.stderr, "unknown part: %r" % r.stderr)
    d.stop_ok()


@test
def values_that_do_not_round_trip_become_strings():
    d = daemon()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Model"], "name": "x", "properties": {
            "obj": {"b": 1, "a": [1, 2]}, "mixed": 1, "semi": ["a;b"], "empty": [], "both": 1}})
        c.ok("node.put", {"labels": ["Model"], "name": "y", "properties": {"mixed": "one", "both": 2.5}})
    data = dsctl(d, "export", "csv_export").stdout.decode()
    head, x, y = data.splitlines()
    eq(head, ":ID,:LABEL,name:string,both:double,empty:string,mixed:string,obj:string,semi:string", "header")
    eq(x, 'x,Model,x,1.0,[],1,"{""a"":[1,2],""b"":1}","[""a;b""]"', "row x")
    eq(y, "y,Model,y,2.5,,one,,", "row y")
    eq(dsctl(d, "export", "csv_export", "--opt", "part=relationships").stdout,
       b":START_ID(Model),:END_ID(Model),:TYPE\n", "no relationships")
    d.stop_ok()
    e = daemon()
    eq(dsctl(e, "export", "csv_export").stdout, b":ID,:LABEL,name:string\n", "an empty graph")
    eq(dsctl(e, "export", "csv_export", "--opt", "part=parts").stdout, b"part=nodes\n", "parts of an empty graph")
    e.stop_ok()


run_all()
