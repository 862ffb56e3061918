#!/usr/bin/env python3
"""`lineage` on the loop thread (core/server_jobs.c, LOOP_MAX_NODES = 64): a small walk is
answered by the loop itself, a bigger one is declined part way and handed to a reader thread.
Neither may change a byte a client sees or the order of its replies:

- a small ancestry is answered while the only reader thread is busy with a slow request (so it
  did not wait for that thread), and a big tree from the same client is not (it waited);
- replies equal what the reader thread gives for the same request (a batch whose first call
  declines runs the rest of its calls there), and match the graph the test built;
- pipelined lines and batches that mix small walks, big walks and lookups keep their order;
- errors found on the loop (no such node, bad params) are answered as before."""
import contextlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Client, Daemon, TestFailure, check, eq, expect_error, req, run_all, test  # noqa: E402

CHAIN = 10          # A0 <- A1 <- ... <- A9: A9 has 9 ancestors (a small walk)
FANOUT = 100        # H <- C0..C99: H's descendants (101 nodes with H) outgrow the loop's 64
SLOW_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000000) "
            "SELECT count(*) FROM c")


def build(c):
    """The chain and the hub, in two batches; returns {name: id}."""
    nodes = ["A%d" % i for i in range(CHAIN)] + ["H"] + ["C%d" % i for i in range(FANOUT)]
    batch = [req("node.put", {"labels": ["Model"], "name": n, "properties": {"rank": i}}, i + 1)
             for i, n in enumerate(nodes)]
    c.send_line(batch)
    ids = {}
    for r in c.recv_json(60):
        check("result" in r, "node.put failed: %s" % r)
        ids[r["result"]["$node"]["properties"]["name"]] = r["result"]["$node"]["id"]
    rels = [("A%d" % (i + 1), "A%d" % i) for i in range(CHAIN - 1)] + [("C%d" % i, "H") for i in range(FANOUT)]
    batch = [req("rel.put", {"start": ids[s], "type": "BASED_ON", "end": ids[e]}, i + 1)
             for i, (s, e) in enumerate(rels)]
    c.send_line(batch)
    for r in c.recv_json(60):
        check("result" in r, "rel.put failed: %s" % r)
    return ids


@contextlib.contextmanager
def daemon_with_graph(config=None):
    """A fresh daemon holding build()'s graph: yields (daemon, a client, {name: id}); stops it
    cleanly afterwards (exit status 0)."""
    d = Daemon(config)
    d.start()
    with Client(d.socket) as c:
        yield d, c, build(c)
    d.stop_ok()


def up(name, **extra):
    p = {"node": {"label": "Model", "name": name}, "direction": "up"}
    p.update(extra)
    return p


def down(name, **extra):
    p = {"node": {"label": "Model", "name": name}, "direction": "down"}
    p.update(extra)
    return p


def check_chain(result, ids, what):
    """A9's ancestors: A8 at depth 1 ... A0 at depth 9, and the 9 relationships between them."""
    eq(result["root"]["$node"]["id"], ids["A9"], what + ": root")
    got = sorted((n["$node"]["properties"]["name"], n["depth"]) for n in result["nodes"])
    eq(got, sorted(("A%d" % i, CHAIN - 1 - i) for i in range(CHAIN - 1)), what + ": ancestors and depths")
    pairs = sorted((r["$rel"]["start"], r["$rel"]["end"]) for r in result["relationships"])
    eq(pairs, sorted((ids["A%d" % (i + 1)], ids["A%d" % i]) for i in range(CHAIN - 1)), what + ": relationships")


def check_hub(result, ids, what):
    eq(result["root"]["$node"]["id"], ids["H"], what + ": root")
    eq(sorted(n["$node"]["id"] for n in result["nodes"]), sorted(ids["C%d" % i] for i in range(FANOUT)),
       what + ": descendants")
    eq(len(result["relationships"]), FANOUT, what + ": relationships")


@test
def small_walk_does_not_wait_for_a_busy_reader():
    with daemon_with_graph({"read_threads": 1}) as (d, c, ids), Client(d.socket) as slow:
        c.ok("lineage", up("A9"))   # warm: the loop's own connection is open
        # a cold first lookup slower than LOOP_INLINE_SLOW_NS (a loaded machine, the sanitizers)
        # rightly sends lookups to the pool for LOOP_INLINE_BACKOFF_NS (1 s): let that pass
        time.sleep(1.1)
        slow.send_line(req("sql", {"sql": SLOW_SQL}, 1))
        # the reader thread is now busy for a while; a small walk is answered anyway
        r = c.ok("lineage", up("A9"), timeout=30)
        check_chain(r, ids, "small walk while the reader is busy")
        try:
            line = slow.recv_line(0.0001)
        except socket.timeout:
            line = None
        check(line is None, "the slow request was answered before the small walk: the walk waited for the "
                            "reader thread instead of running on the loop (or SLOW_SQL got too fast)")
        # a big walk declines on the loop and queues behind the slow request on the one reader
        c.send_line(req("lineage", down("H"), 77))
        big = c.recv_json(60, "big walk")
        eq(big.get("id"), 77, "id of the big walk's reply")
        check_hub(big["result"], ids, "big walk")
        try:
            done = slow.recv_json(0.5, "slow sql")
        except socket.timeout:
            raise TestFailure("the big walk was answered before the slow request it had to wait for: "
                              "it did not go to the reader thread")
        eq(done["result"]["rows"], [[6000000]], "slow sql result")


@test
def loop_and_reader_give_the_same_replies():
    with daemon_with_graph() as (d, c, ids):
        for params, kind in ((up("A9"), "full"), (up("A9", count_only=True), "count"),
                             (up("A9", fields=["name", "rank"]), "fields"), (up("A9", depth=3), "depth 3"),
                             (down("A0", types=["BASED_ON"]), "down")):
            alone = c.ok("lineage", params)   # on the loop
            # the same call behind one that declines: the reader thread runs both
            c.send_line([req("lineage", down("H", count_only=True), 1), req("lineage", params, 2)])
            batch = c.recv_json(30, "batch")
            eq([r["id"] for r in batch], [1, 2], "batch reply ids")
            eq(batch[0]["result"]["count"], FANOUT, "the hub's count")
            eq(batch[1]["result"], alone, "loop vs reader reply (%s)" % kind)
        check_chain(c.ok("lineage", up("A9")), ids, "A9 up")
        eq(c.ok("lineage", up("A9", count_only=True))["count"], CHAIN - 1, "A9's count")
        eq(len(c.ok("lineage", down("A0"))["nodes"]), CHAIN - 1, "A0's descendants")
        check_hub(c.ok("lineage", down("H")), ids, "the hub, full")
        eq(c.ok("lineage", down("H", count_only=True))["count"], FANOUT, "the hub, count")
        eq(len(c.ok("lineage", down("H", depth=1, fields=["name"]))["nodes"]), FANOUT, "the hub, depth 1, names")


@test
def pipelined_and_batched_replies_keep_their_order():
    with daemon_with_graph() as (d, c, ids):
        reqs = []
        for i in range(12):
            kind = i % 4
            if kind == 0:
                reqs.append(req("lineage", up("A9"), 100 + i))
            elif kind == 1:
                reqs.append(req("lineage", down("H"), 100 + i))
            elif kind == 2:
                reqs.append(req("node.get", {"label": "Model", "name": "A%d" % (i % CHAIN)}, 100 + i))
            else:
                reqs.append(req("lineage", up("A%d" % (i % CHAIN), count_only=True), 100 + i))
        replies = c.pipeline(reqs)
        eq([r["id"] for r in replies], [100 + i for i in range(12)], "reply order")
        for i, r in enumerate(replies):
            check("result" in r, "reply %d failed: %s" % (i, r))
            kind = i % 4
            if kind == 0:
                check_chain(r["result"], ids, "pipelined small walk %d" % i)
            elif kind == 1:
                check_hub(r["result"], ids, "pipelined big walk %d" % i)
            elif kind == 2:
                eq(r["result"]["$node"]["id"], ids["A%d" % (i % CHAIN)], "pipelined lookup %d" % i)
            else:
                eq(r["result"]["count"], i % CHAIN, "pipelined count %d" % i)
        # one batch: small, big (declines: the rest of the batch runs on a reader), small, lookup
        c.send_line([req("lineage", up("A9"), 1), req("lineage", down("H", count_only=True), 2),
                     req("lineage", up("A5", count_only=True), 3),
                     req("node.get", {"label": "Model", "name": "H"}, 4)])
        batch = c.recv_json(30, "mixed batch")
        eq([r["id"] for r in batch], [1, 2, 3, 4], "batch reply order")
        check_chain(batch[0]["result"], ids, "batch small walk")
        eq(batch[1]["result"]["count"], FANOUT, "batch big count")
        eq(batch[2]["result"]["count"], 5, "batch A5 count")
        eq(batch[3]["result"]["$node"]["id"], ids["H"], "batch lookup")
        c.expect_silence(0.3)   # nothing answered twice


@test
def walks_stay_exact_while_a_writer_grows_the_tree():
    """S starts with no children and a writer gives it 150, one committed rel.put at a time, so
    readers' walks of S cross LOOP_MAX_NODES while they run: each reader's successive counts
    never go down, each equals the full reply's length, and the last one sees every write."""
    with daemon_with_graph() as (d, c, ids):
        s_id = c.ok("node.put", {"labels": ["Model"], "name": "S"})["$node"]["id"]
        kids = [c.ok("node.put", {"labels": ["Model"], "name": "K%d" % i})["$node"]["id"] for i in range(150)]
        problems, done, rounds = [], threading.Event(), [0, 0, 0]

        def reader(k):
            try:
                with Client(d.socket) as r:
                    last = -1
                    while not done.is_set():
                        rounds[k] += 1
                        n = r.ok("lineage", down("S", count_only=True))["count"]
                        full = r.ok("lineage", down("S"))
                        check_chain(r.ok("lineage", up("A9")), ids, "reader %d: A9 meanwhile" % k)
                        if n < last or len(full["nodes"]) < n or len(full["relationships"]) != len(full["nodes"]):
                            problems.append("reader %d: count %d after %d, full reply %d nodes / %d rels"
                                            % (k, n, last, len(full["nodes"]), len(full["relationships"])))
                            return
                        last = len(full["nodes"])
            except Exception as e:   # noqa: BLE001 - reported below
                problems.append("reader %d: %r" % (k, e))

        threads = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(3)]
        for t in threads:
            t.start()
        while min(rounds) == 0 and not problems:   # every reader is walking before the first write
            time.sleep(0.01)
        for kid in kids:
            c.ok("rel.put", {"start": kid, "type": "BASED_ON", "end": s_id})
        done.set()
        for t in threads:
            t.join(60)
        check(not problems, "; ".join(problems[:3]))
        check(sum(rounds) >= 6, "the readers walked only %d times while the writer wrote" % sum(rounds))
        eq(c.ok("lineage", down("S", count_only=True))["count"], 150, "S's children after the writes")
        eq(sorted(n["$node"]["id"] for n in c.ok("lineage", down("S"))["nodes"]), sorted(kids), "S's children")


@test
def errors_on_the_loop_keep_their_codes():
    with daemon_with_graph() as (d, c, ids):
        expect_error(c.call("lineage", up("nobody"))[1], -32001, "lineage of a missing node")
        expect_error(c.call("lineage", dict(up("A9"), direction="sideways"))[1], -32602, "bad direction")
        expect_error(c.call("lineage", up("A9", count_only=True, fields=["name"]))[1], -32602,
                     "count_only and fields")
        eq(c.ok("lineage", up("A9", count_only=True))["count"], CHAIN - 1, "still answering")


if __name__ == "__main__":
    run_all()
