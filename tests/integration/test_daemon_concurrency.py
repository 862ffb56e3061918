#!/usr/bin/env python3
"""Concurrency: 50 clients at once doing mixed reads and writes; every acknowledged write is
there afterwards and the counts add up."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, dumps, eq, loads, node_of, rel_of, req, run_all, short, test  # noqa: E402

CLIENTS = 50
PER_CLIENT = 40


@test(timeout=110)
def fifty_concurrent_clients():
    d = Daemon().start()
    acked = {}            # (t, k) -> node id
    rels_acked = []
    errors = []
    lock = threading.Lock()
    start_gate = threading.Barrier(CLIENTS)

    def worker(t):
        try:
            with d.client(timeout=60) as c:
                start_gate.wait(30)
                prev = None
                for k in range(PER_CLIENT):
                    name = "c%02d-%02d" % (t, k)
                    props = {"t": t, "k": k, "f": k + 0.5, "s": "客户端 %d" % t}
                    n = node_of(c.ok("node.put", {"labels": ["Conc"], "name": name, "properties": props}))
                    with lock:
                        acked[(t, k)] = n["id"]
                    eq(n["properties"], dict(props, name=name), "client %d: node.put result" % t)
                    # read it back on the same connection: by id, then by name
                    eq(node_of(c.ok("node.get", {"id": n["id"]}))["properties"], dict(props, name=name),
                       "client %d: node.get by id" % t)
                    if k % 4 == 0:
                        eq(node_of(c.ok("node.get", {"label": "Conc", "name": name.upper()}))["id"], n["id"],
                           "client %d: node.get by name" % t)
                    elif k % 4 == 1 and prev is not None:
                        r = rel_of(c.ok("rel.put", {"start": n["id"], "type": "NEXT", "end": prev}))
                        with lock:
                            rels_acked.append(r["id"])
                    elif k % 4 == 2:
                        st = c.ok("stats")
                        check(st["nodes"] >= k + 1, "client %d: stats.nodes %s < its own %d writes" % (t, st["nodes"], k + 1))
                    else:
                        res = c.ok("sql", {"sql": "SELECT count(*) FROM nodes WHERE id <= ?", "params": [n["id"]]})
                        check(res["rows"][0][0] >= 1, "client %d: sql count" % t)
                    prev = n["id"]
                c.ok("ping")
        except BaseException as e:
            with lock:
                errors.append("client %d: %s: %s" % (t, type(e).__name__, e))

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(CLIENTS)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(100 - (time.monotonic() - t0))
    dt = time.monotonic() - t0
    print("  # %d clients x %d nodes: %.2fs, %d rels" % (CLIENTS, PER_CLIENT, dt, len(rels_acked)))
    check(not any(th.is_alive() for th in threads), "some clients did not finish")
    check(not errors, "client errors: %s" % "; ".join(errors[:5]))
    eq(len(acked), CLIENTS * PER_CLIENT, "acknowledged writes")
    eq(len(set(acked.values())), CLIENTS * PER_CLIENT, "distinct node ids")

    with d.client(timeout=60) as c:
        reqs = [req("node.get", {"id": i}, n) for n, i in enumerate(acked.values())]
        keys = list(acked.keys())
        replies = c.pipeline(reqs, timeout=90)
        for r in replies:
            t, k = keys[r["id"]]
            check("result" in r, "acknowledged node c%02d-%02d missing: %s" % (t, k, short(r)))
            n = node_of(r["result"])
            eq(n["properties"].get("t"), t, "node %d property t" % n["id"])
            eq(n["properties"].get("k"), k, "node %d property k" % n["id"])
        st = c.ok("stats")
        eq(st.get("nodes"), CLIENTS * PER_CLIENT, "stats.nodes")
        eq(st.get("relationships"), len(rels_acked), "stats.relationships")
        eq(st.get("by_label"), {"Conc": CLIENTS * PER_CLIENT}, "stats.by_label")
        eq(c.ok("sql", {"sql": "SELECT count(*) FROM nodes"})["rows"], [[CLIENTS * PER_CLIENT]], "sql count")


@test(timeout=110)
def concurrent_merges_of_the_same_node():
    # 20 clients merge properties into the same 5 nodes at once: exactly 5 nodes result and
    # each node has every client's property (merges do not lose each other's writes).
    d = Daemon().start()
    errors = []
    lock = threading.Lock()
    N = 20

    def worker(t):
        try:
            with d.client(timeout=60) as c:
                for r in range(5):
                    for j in range(5):
                        c.ok("node.put", {"labels": ["Shared"], "name": "shared-%d" % j,
                                          "properties": {"p%02d" % t: r}, "aliases": ["alias-%d-%d" % (j, t)]})
        except BaseException as e:
            with lock:
                errors.append("client %d: %s" % (t, e))

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(N)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    check(not errors, "client errors: %s" % "; ".join(errors[:5]))
    with d.client() as c:
        eq(c.ok("stats").get("nodes"), 5, "nodes after concurrent merges")
        for j in range(5):
            res = c.ok("node.get", {"label": "Shared", "name": "shared-%d" % j, "aliases": True})
            want = {"p%02d" % t: 4 for t in range(N)}
            want["name"] = "shared-%d" % j
            eq(node_of(res)["properties"], want, "merged properties of shared-%d" % j)
            eq(sorted(res.get("aliases", [])), sorted("alias-%d-%d" % (j, t) for t in range(N)),
               "aliases of shared-%d" % j)


@test(timeout=110)
def clients_vanishing_mid_request():
    # Clients that send work and close at once (before, during, after execution) must not
    # hurt the daemon; their completed writes are ordinary writes.
    d = Daemon().start()
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 50000) "
            "SELECT count(*) FROM c")
    for round in range(3):
        cs = []
        for i in range(40):
            c = d.client(timeout=10)
            lines = [req("sql", {"sql": slow}, 1), req("node.put", {"labels": ["V"], "name": "v%d-%d" % (round, i)}, 2),
                     req("lineage", {"node": {"name": "v0-0"}}, 3), req("stats", None, 4)]
            c.send_raw(b"".join(dumps(x) + b"\n" for x in lines))
            if i % 3 == 0:
                c.close()           # gone before anything ran
            else:
                cs.append(c)
        time.sleep(0.05 * round)
        for c in cs:
            c.close()               # gone mid-request
    # a client that has a big reply half-written when it vanishes
    for i in range(10):
        c = d.client(timeout=10)
        c.send_line(req("sql", {"sql": "SELECT zeroblob(2000000)"}, 1))
        time.sleep(0.01)
        c.close()
    time.sleep(0.5)
    check(d.alive(), "the daemon died")
    with d.client() as c:
        eq(c.ok("ping").get("pid"), d.pid, "ping after vanishing clients")
        n = c.ok("stats")["nodes"]
        check(0 <= n <= 120, "stats.nodes %d" % n)
        r = c.ok("sql", {"sql": "SELECT count(*) FROM nodes"})
        eq(r["rows"], [[n]], "sql count vs stats")
    d.stop_ok()


@test
def max_clients():
    d = Daemon(config={"max_clients": 3}).start()
    time.sleep(0.2)
    cs = [d.client(timeout=10) for _ in range(3)]
    for c in cs:
        eq(c.ok("ping").get("pid"), d.pid, "ping from one of max_clients clients")
    extra = d.client(timeout=10)
    try:
        extra.send_line(req("ping", None, 1))
        line = extra.recv_line(10)
    except (ConnectionResetError, BrokenPipeError):
        line = None
    check(line is None or (loads(line).get("error") is not None),
          "a connection beyond max_clients = 3 must not be served: %r" % line)
    extra.close()
    for c in cs:
        eq(c.ok("ping").get("pid"), d.pid, "the first clients are still served")
    cs.pop().close()
    deadline = time.monotonic() + 5
    while True:
        c = d.client(timeout=10)
        try:
            c.ok("ping")
            break
        except (OSError, AssertionError):
            c.close()
            check(time.monotonic() < deadline, "no connection accepted after one of max_clients closed")
            time.sleep(0.1)
    c.close()
    for x in cs:
        x.close()


if __name__ == "__main__":
    run_all()
