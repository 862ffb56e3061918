#!/usr/bin/env python3
"""examples/deepseek.jsonl through the dsgraph_requests importer (what `make run` does on the
first start): it builds exactly the graph that replaying the same requests with --seed builds,
it is one import with provenance, a second import changes nothing, and a bad request line is an
error naming the plugin, the input and the line, with nothing written."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import SOURCE_DIR, Daemon, check, eq, run_all, test  # noqa: E402
from plugtest import SHIPPED_PLUGINS, upload  # noqa: E402

CURATED = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")


def daemon(seed=None):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [SHIPPED_PLUGINS]})
    d.start(seed=seed)
    return d


def graph_of(c):
    """Every node (labels, properties, sorted aliases) and relationship by names, id-free."""
    nodes = {}
    for row in c.ok("sql", {"sql": "SELECT id FROM nodes ORDER BY id"})["rows"]:
        r = c.ok("node.get", {"id": row[0], "aliases": True})
        n = r["$node"]
        nodes[n["id"]] = (tuple(n["labels"]), n["properties"], sorted(r["aliases"]))
    rels = []
    for row in c.ok("sql", {"sql": "SELECT id FROM rels ORDER BY id"})["rows"]:
        rel = c.ok("sql", {"sql": "SELECT type, start, end, props FROM rels WHERE id = ?",
                           "params": [row[0]]})["rows"][0]
        rels.append((rel[0], nodes[rel[1]][1]["name"], nodes[rel[2]][1]["name"], rel[3]))
    return sorted((repr(v) for v in nodes.values())), sorted(repr(r) for r in rels)


def read_curated():
    with open(CURATED, "rb") as f:
        return f.read()


@test
def import_equals_seed_replay():
    seeded, imported = daemon(seed=CURATED), daemon()   # the harness stops every daemon after the test
    with seeded.client() as a, imported.client() as b:
        res, err = upload(b, "deepseek.jsonl", read_curated(), plugin="dsgraph_requests")
        check(err is None, "import failed: %s" % (err,))
        eq(res["nodes_created"], a.ok("stats")["nodes"], "nodes created by the import")
        eq(b.ok("stats"), a.ok("stats"), "stats after import vs after --seed")
        ga, gb = graph_of(a), graph_of(b)
        eq(gb[0], ga[0], "nodes (labels, properties, aliases)")
        eq(gb[1], ga[1], "relationships (type, ends, properties)")


@test
def second_import_changes_nothing():
    with daemon().client() as c:
        data = read_curated()
        first, err = upload(c, "deepseek.jsonl", data)   # chosen by detect()
        check(err is None, "first import failed: %s" % (err,))
        eq(first["plugin"], "dsgraph_requests", "plugin chosen by sniffing")
        before = c.ok("stats")
        again, err = upload(c, "deepseek.jsonl", data)
        check(err is None, "second import failed: %s" % (err,))
        check(again.get("unchanged") is True, "second import reported as unchanged: %r" % (again,))
        eq(c.ok("stats"), before, "stats after the second import")
        eq(len(c.ok("imports.list")["imports"]), 1, "imports recorded")


@test
def bad_line_names_plugin_input_and_line():
    with daemon().client() as c:
        lines = read_curated().split(b"\n")[:3]
        lines.append(b'{"jsonrpc":"2.0","method":"node.delete","params":{"name":"x"}}')
        res, err = upload(c, "broken.jsonl", b"\n".join(lines) + b"\n", plugin="dsgraph_requests")
        check(err is not None, "an unsupported method must fail the import, got %r" % (res,))
        msg = err["message"]
        for part in ("dsgraph_requests", "broken.jsonl", ":4:", "node.delete"):
            check(part in msg, "error %r names %r" % (msg, part))
        eq(c.ok("stats")["nodes"], 0, "nodes after the failed import")


if __name__ == "__main__":
    run_all()
