#!/usr/bin/env python3
"""The search backlog (graph/search.c, core/workers.c): an import that creates more nodes than
search_defer_nodes commits without their search rows, the writer fills them afterwards between
writes, and search finds the same nodes before, during and after; a backlog left in the
database (a daemon stopped before it was done) is resumed at the next start; the rows it
writes are the ones an import that writes them at once leaves."""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, eq, run_all, test  # noqa: E402
from plugtest import SHIPPED_PLUGINS, upload  # noqa: E402

N = 3000


def csv_files():
    nodes = ["name:ID(Model),:LABEL,tag,pipeline"]
    for i in range(1, N + 1):
        nodes.append("org%d/Model-%05d,Model,%s,%s" % (i % 7, i, "round-%d" % i if i % 100 == 0 else "tag-%d" % i,
                                                         "text-generation" if i % 3 else "fill-mask"))
    rels = [":START_ID(Model),:END_ID(Model),:TYPE,relation"]
    for i in range(2, N + 1):
        rels.append("org%d/Model-%05d,org%d/Model-%05d,BASED_ON,finetune" % (i % 7, i, (i // 2) % 7, i // 2))
    return "\n".join(nodes) + "\n", "\n".join(rels) + "\n"


def daemon(defer):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [SHIPPED_PLUGINS], "search_defer_nodes": defer})
    d.start()
    return d


def fts_rows(c):
    rows = c.ok("sql", {"sql": "SELECT rowid, name, aliases, body FROM node_fts ORDER BY rowid", "params": []})
    return [[r[0], r[1], r[2], sorted((r[3] or "").split("\n"))] for r in rows["rows"]]


def backlog(c):
    return c.ok("sql", {"sql": "SELECT count(*), coalesce(sum(hi - lo + 1), 0) FROM search_backlog"})["rows"][0]


def ids(c, text, order=True):
    hits = c.ok("search", {"text": text, "limit": 1000})["nodes"]
    got = [h["$node"]["id"] for h in hits]
    return got if order else sorted(got)


def wait_empty(c, what, timeout=60):
    t0 = time.monotonic()
    while backlog(c)[0] != 0:
        check(time.monotonic() - t0 < timeout, "%s: the search backlog was not filled in %d s" % (what, timeout))
        time.sleep(0.05)


QUERIES = ["model-00042", "round-", "org3/", "tag-12", "fill-mask", "7", "no such text"]


@test(timeout=300)
def deferred_rows_are_filled_and_search_agrees():
    nodes, rels = csv_files()
    now, later = daemon(0), daemon(500)
    with now.client() as a, later.client() as b:
        for name, text in (("nodes.csv", nodes), ("rels.csv", rels)):
            for c in (a, b):
                res, err = upload(c, name, text.encode(), plugin="csv")
                check(err is None, "import %s: %r" % (name, err))
        eq(backlog(a), [0, 0], "search_defer_nodes = 0 leaves no backlog")
        eq(len(fts_rows(a)), N, "search rows written by the import")
        # right after the import (the backlog may be partly filled): the same nodes
        for q in QUERIES:
            eq(ids(b, q, order=False), ids(a, q, order=False), "search %r while the backlog is filled" % q)
        eq(ids(b, "org1/model-00050")[:1], [50], "an exact name comes first")
        wait_empty(b, "3000 nodes")
        eq(fts_rows(b), fts_rows(a), "the filled rows are the rows an import writes at once")
        for q in QUERIES:
            eq(ids(b, q), ids(a, q), "search %r after the backlog is filled" % q)
        # writes keep working after the backlog, and rows follow them
        b.ok("node.put", {"labels": ["Model"], "name": "org1/Model-00050", "properties": {"tag": "changed-tag"}})
        eq(ids(b, "changed-tag"), [50], "a change after the backlog")
    later.stop_ok()
    log = open(later.log_path).read()
    check("search backlog: the search rows of %d node ids written" % N in log,
          "the writer filled the import's %d rows after its commit: %r"
          % (N, [ln for ln in log.splitlines() if "backlog" in ln]))
    log = open(now.log_path).read()
    check("search backlog" not in log, "no backlog with search_defer_nodes = 0")


@test(timeout=300)
def a_backlog_left_in_the_database_is_resumed_at_start():
    nodes, _ = csv_files()
    d = daemon(0)
    with d.client() as c:
        res, err = upload(c, "nodes.csv", nodes.encode(), plugin="csv")
        check(err is None, "import: %r" % (err,))
        before = fts_rows(c)
        want = {q: ids(c, q) for q in QUERIES}
    d.stop_ok()
    # as a daemon stopped half-way leaves it: ids 1000..2500 recorded, their rows gone
    con = sqlite3.connect(d.db)
    con.execute("DELETE FROM node_fts WHERE rowid BETWEEN 1000 AND 2500")
    con.execute("INSERT INTO search_backlog(lo, hi) VALUES (1000, 2500)")
    con.commit()
    con.close()
    d.start()
    with d.client() as c:
        wait_empty(c, "a resumed backlog")
        check("search backlog: the search rows of 1501 node ids written" in open(d.log_path).read(),
              "the log names the resumed backlog")
        eq(fts_rows(c), before, "the rows are back")
        for q in QUERIES:
            eq(ids(c, q), want[q], "search %r after the resumed backlog" % q)


if __name__ == "__main__":
    run_all()
