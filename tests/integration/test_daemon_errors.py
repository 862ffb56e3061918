#!/usr/bin/env python3
"""Error codes of the methods: -32601, -32602, -32001, -32002, -32003, -32005, -32006,
and that a failed request changes nothing."""
import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import SOURCE_DIR, Daemon, check, eq, expect_error, node_of, rel_of, run_all, short, test  # noqa: E402

SQL_MAX_ROWS = 100


def daemon():
    return Daemon(config={"sql_max_rows": SQL_MAX_ROWS}).start()


def schema_version():
    try:
        with open(os.path.join(SOURCE_DIR, "graph", "store.h")) as f:
            m = re.search(r"#define\s+GRAPH_SCHEMA_VERSION\s+(\d+)", f.read())
            return int(m.group(1)) if m else None
    except OSError:
        return None


def counts(c):
    st = c.ok("stats")
    return st.get("nodes"), st.get("relationships")


@test
def unknown_method():
    d = daemon()
    with d.client() as c:
        for m in ("no.such.method", "Ping", "node", "node.put.extra", ""):
            r, e = c.call(m, {})
            expect_error(e, -32601, "method %r" % m)
        r, e = c.call("no.such.method")
        err = expect_error(e, -32601, "method without params")
        check("no.such.method" in err["message"], "the -32601 message should name the method: %s" % short(err))


@test
def invalid_params():
    d = daemon()
    with d.client() as c:
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "P1"}))
        before = counts(c)
        cases = [
            ("node.get", {"id": "x"}, "id"),
            ("node.get", {"id": 1.5}, "id"),
            ("node.get", {}, None),
            ("node.get", {"name": 5}, "name"),
            ("node.put", {"name": "NoLabels"}, "labels"),
            ("node.put", {"labels": [], "name": "EmptyLabels"}, "labels"),
            ("node.put", {"labels": "Model", "name": "LabelsNotArray"}, "labels"),
            ("node.put", {"labels": ["Model"], "name": "X", "properties": [1, 2]}, "properties"),
            ("node.put", {"labels": ["Model"], "name": "X", "aliases": "A"}, "aliases"),
            ("rel.put", {"start": {"id": 1}, "end": {"id": 1}}, "type"),
            ("rel.put", {"start": {"id": 1}, "type": 7, "end": {"id": 1}}, "type"),
            ("lineage", {"node": {"name": "P1"}, "direction": "sideways"}, "direction"),
            ("lineage", {"node": {"name": "P1"}, "depth": "deep"}, "depth"),
            ("sql", {}, "sql"),
            ("sql", {"sql": 42}, "sql"),
            ("search", {}, "text"),
            ("search", {"text": "x", "limit": "ten"}, "limit"),
        ]
        for method, params, member in cases:
            r, e = c.call(method, params)
            err = expect_error(e, -32602, "%s %s" % (method, short(params)))
            if member:
                check(member in err["message"],
                      "%s %s: the -32602 message must name the member %r: %r"
                      % (method, short(params), member, err["message"]))
        eq(counts(c), before, "counts after invalid writes")
        c.ok("node.get", {"id": node_of(c.ok("node.get", {"name": "P1"}))["id"]})


@test
def not_found():
    d = daemon()
    with d.client() as c:
        a = node_of(c.ok("node.put", {"labels": ["Model"], "name": "Exists"}))["id"]
        for method, params in [
            ("node.get", {"name": "DeepSeek-V9"}),
            ("node.get", {"id": 987654}),
            ("node.get", {"label": "Paper", "name": "Exists"}),
            ("node.delete", {"id": 987654}),
            ("node.delete", {"name": "DeepSeek-V9"}),
            ("rel.put", {"start": a, "type": "USES", "end": 987654}),
            ("rel.put", {"start": {"name": "Nope"}, "type": "USES", "end": a}),
            ("rel.delete", {"id": 987654}),
            ("lineage", {"node": {"name": "Nope"}}),
        ]:
            r, e = c.call(method, params)
            expect_error(e, -32001, "%s %s" % (method, short(params)))
        eq(counts(c), (1, 0), "counts after not-found errors")


@test
def ambiguous_name():
    d = daemon()
    with d.client() as c:
        a = node_of(c.ok("node.put", {"labels": ["Model"], "name": "Twin"}))["id"]
        b = node_of(c.ok("node.put", {"labels": ["Paper"], "name": "twin"}))["id"]
        check(a != b, "different identity labels must give different nodes")
        r, e = c.call("node.get", {"name": "TWIN"})
        err = expect_error(e, -32002, "node.get by a name two nodes have")
        for i in (a, b):
            check(str(i) in err["message"], "the -32002 message must list id %d: %r" % (i, err["message"]))
        for lab in ("Model", "Paper"):
            check(lab in err["message"], "the -32002 message must list label %s: %r" % (lab, err["message"]))
        # with the label it is unambiguous
        eq(node_of(c.ok("node.get", {"label": "Paper", "name": "Twin"}))["id"], b, "node.get with label")
        # ambiguous refs in other methods
        r, e = c.call("rel.put", {"start": {"name": "twin"}, "type": "X", "end": a})
        expect_error(e, -32002, "rel.put with an ambiguous start")
        r, e = c.call("node.delete", {"name": "twin"})
        expect_error(e, -32002, "node.delete by an ambiguous name")
        eq(counts(c), (2, 0), "counts after ambiguous errors")


@test
def delete_node_with_relationships_is_a_conflict():
    d = daemon()
    with d.client() as c:
        a = node_of(c.ok("node.put", {"labels": ["Model"], "name": "Child"}))["id"]
        b = node_of(c.ok("node.put", {"labels": ["Model"], "name": "Parent"}))["id"]
        rel = rel_of(c.ok("rel.put", {"start": a, "type": "BASED_ON", "end": b}))
        for ref in ({"id": a}, {"id": b}, {"label": "Model", "name": "Child"}):
            r, e = c.call("node.delete", ref)
            expect_error(e, -32003, "node.delete %s with a relationship, no detach" % short(ref))
            r, e = c.call("node.delete", dict(ref, detach=False))
            expect_error(e, -32003, "node.delete %s with detach false" % short(ref))
        got = c.ok("node.get", {"id": a, "relationships": True})
        eq(node_of(got)["properties"].get("name"), "Child", "the node is still there")
        eq([rel_of(x)["id"] for x in got.get("relationships", [])], [rel["id"]], "its relationship is still there")
        eq(counts(c), (2, 1), "counts after the refused delete")


@test
def sql_that_writes_is_refused():
    d = daemon()
    with d.client() as c:
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "Keep", "properties": {"v": 1}}))
        before = counts(c)
        snap = c.ok("sql", {"sql": "SELECT * FROM nodes ORDER BY id"})
        for sql in [
            "INSERT INTO nodes(id) VALUES (424242)",
            "DELETE FROM nodes",
            "UPDATE nodes SET id = id + 1000",
            "DROP TABLE nodes",
            "CREATE TABLE evil(x)",
            "ATTACH DATABASE ':memory:' AS other",
            "PRAGMA user_version = 7",
            "PRAGMA journal_mode = DELETE",
            "VACUUM",
            "WITH x AS (SELECT 1) INSERT INTO nodes(id) SELECT 424243 FROM x",
        ]:
            r, e = c.call("sql", {"sql": sql})
            expect_error(e, -32005, "sql %r" % sql)
        eq(counts(c), before, "counts after refused sql")
        eq(c.ok("sql", {"sql": "SELECT * FROM nodes ORDER BY id"}), snap, "nodes table after refused sql")
        eq(c.ok("sql", {"sql": "PRAGMA user_version"}).get("rows"), [[schema_version()]],
           "user_version (reading PRAGMA is allowed)")
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "AfterSql"}), "a write after refused sql")


@test
def sql_row_limit():
    d = daemon()
    with d.client() as c:
        q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) SELECT x FROM c"
        res = c.ok("sql", {"sql": q, "params": [SQL_MAX_ROWS]})
        eq(len(res.get("rows", [])), SQL_MAX_ROWS, "rows at exactly sql_max_rows")
        eq(res["rows"][-1], [SQL_MAX_ROWS], "last row")
        r, e = c.call("sql", {"sql": q, "params": [SQL_MAX_ROWS + 1]})
        expect_error(e, -32006, "sql returning sql_max_rows + 1 rows")
        r, e = c.call("sql", {"sql": q, "params": [100000]})
        expect_error(e, -32006, "sql returning 100000 rows")
        c.ok("ping")


@test
def sql_extra_statements_and_limits():
    d = daemon()
    with d.client() as c:
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "Stay"}))
        for sql in ("SELECT 1; DELETE FROM nodes", "SELECT 1; SELECT 2"):
            r, e = c.call("sql", {"sql": sql})
            check(e is not None and e.get("code") in (-32602, -32005),
                  "sql %r must be refused (one statement only), got %s" % (sql, short(r if e is None else e)))
        eq(counts(c), (1, 0), "counts after a multi-statement sql")
        eq(c.ok("sql", {"sql": "SELECT 1 AS one;  "}).get("rows"), [[1]], "trailing ';' and spaces are fine")
        r, e = c.call("search", {"text": "Stay", "limit": 1001})
        expect_error(e, -32602, "search limit 1001 (at most 1000)")
        eq(len(c.ok("search", {"text": "Stay", "limit": 1000}).get("nodes", [])), 1, "search limit 1000")
        r, e = c.call("lineage", {"node": {"name": "Stay"}, "depth": -1})
        expect_error(e, -32602, "lineage depth -1")


@test
def parse_error_message_gives_position():
    d = daemon()
    with d.client() as c:
        c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping",,}\n')
        err = expect_error(c.recv_json(), -32700, "truncated object", id=None)
        msg = err["message"]
        for word in ("line", "column", "byte"):
            check(re.search(word + r"\D{0,3}\d+", msg), "the -32700 message must give the %s: %r" % (word, msg))


@test
def busy_database_gives_busy_error():
    # Another process holds the write lock longer than busy_timeout_ms: writes get -32007,
    # reads still work (WAL), and writes work again once the lock is gone.
    d = Daemon(config={"busy_timeout_ms": 300}).start()
    with d.client() as c:
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "Before"}))
        con = sqlite3.connect(d.db, isolation_level=None, timeout=5)
        try:
            con.execute("BEGIN IMMEDIATE")
            t0 = time.monotonic()
            r, e = c.call("node.put", {"labels": ["Model"], "name": "DuringLock"})
            dt = time.monotonic() - t0
            expect_error(e, -32007, "node.put while another process holds the write lock")
            check(0.25 <= dt < 5, "busy error after %.2fs; busy_timeout_ms is 300" % dt)
            eq(counts(c), (1, 0), "reads while the database is locked")
        finally:
            con.execute("ROLLBACK")
            con.close()
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "AfterLock"}))
        eq(counts(c), (2, 0), "counts after the lock is released")
        r, e = c.call("node.get", {"name": "DuringLock"})
        expect_error(e, -32001, "the busy write did not happen")


if __name__ == "__main__":
    run_all()
