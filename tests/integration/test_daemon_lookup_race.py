#!/usr/bin/env python3
"""Lookups by name racing renames (graph/node.c gs_find_name_mem, graph/adjacency.c name keys):
one client swaps the names of two nodes in single Cypher transactions, over and over, while
other clients look both names up with node.get. Every lookup must see one committed state: the
node it returns carries the name it was asked for, and a name is never missing or ambiguous,
since at every commit exactly one node has each name. A reader that trusted the in-memory name
keys across a commit (the candidate chosen before it, the row read after it) would return the
other node or an error here."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, eq, run_all, test  # noqa: E402

SECONDS = 4.0
SWAP = ("MATCH (a:Model {name: $x}), (b:Model {name: $y}) "
        "SET a.name = 'swapping', b.name = $x SET a.name = $y RETURN id(a), id(b)")


@test(timeout=180)
def lookups_see_one_committed_state_while_names_swap():
    d = Daemon()
    d.start()
    with d.client() as c:
        for n in ("left", "right"):
            c.ok("node.put", {"labels": ["Model"], "name": n})
        # many other names, so the key table has neighbours
        c.ok("query", {"query": "UNWIND range(1, 2000) AS i CREATE (:Model {name: 'm' + toString(i)})"})
        ids = {n: c.ok("node.get", {"name": n})["$node"]["id"] for n in ("left", "right")}
    stop = threading.Event()
    bad, counts = [], {"lookups": 0, "swaps": 0}
    lock = threading.Lock()

    def reader(name):
        with d.client() as rc:
            n = 0
            while not stop.is_set():
                res, err = rc.call("node.get", {"name": name})
                n += 1
                if err is not None:
                    bad.append("node.get %s: error %r" % (name, err))
                elif res["$node"]["properties"].get("name") != name:
                    bad.append("node.get %s returned %r" % (name, res["$node"]))
                if len(bad) > 5:
                    break
            with lock:
                counts["lookups"] += n

    def swapper():
        with d.client() as wc:
            x, y = "left", "right"
            while not stop.is_set():
                wc.ok("query", {"query": SWAP, "params": {"x": x, "y": y}})
                counts["swaps"] += 1

    threads = [threading.Thread(target=reader, args=(n,)) for n in ("left", "right", "left", "right")]
    threads.append(threading.Thread(target=swapper))
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join(60)
    check(not bad, "lookups saw a state no commit had: %s" % bad[:5])
    check(counts["swaps"] >= 20 and counts["lookups"] >= 200,
          "too little overlap to mean anything: %r" % counts)
    with d.client() as c:
        got = {c.ok("node.get", {"name": n})["$node"]["id"] for n in ("left", "right")}
        eq(got, set(ids.values()), "the two nodes still hold the two names")
    d.stop_ok()


if __name__ == "__main__":
    run_all()
