#!/usr/bin/env python3
"""Pipelining: many requests in one write on one connection; replies complete, in request
order, each with its id; a read sent after a write on the same connection sees the write."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, eq, node_of, req, run_all, short, test  # noqa: E402


@test
def pipeline_1000_requests_in_one_write():
    d = Daemon().start()
    reqs = []
    expect = {}   # id -> function(resp) checking it
    groups = 200  # 5 requests each: put, get, put (update), get, ping
    for g in range(groups):
        name = "pipe-%d" % g
        base = g * 5
        # Mix integer and string ids; all distinct.
        ids = [base + 1, "s%d" % (base + 2), base + 3, "s%d" % (base + 4), base + 5]
        reqs.append(req("node.put", {"labels": ["Pipe"], "name": name, "properties": {"g": g, "v": 1}}, ids[0]))
        reqs.append(req("node.get", {"label": "Pipe", "name": name}, ids[1]))
        reqs.append(req("node.put", {"labels": ["Pipe"], "name": name, "properties": {"v": 2, "w": "x%d" % g}}, ids[2]))
        reqs.append(req("node.get", {"label": "Pipe", "name": name}, ids[3]))
        reqs.append(req("ping", None, ids[4]))

        def props_check(want, g=g, name=name):
            def f(resp):
                check("result" in resp, "group %d: error %s" % (g, short(resp.get("error"))))
                n = node_of(resp["result"], "group %d" % g)
                eq(n["properties"], want, "group %d properties of %s" % (g, name))
                return n["id"]
            return f

        expect[ids[0]] = props_check({"g": g, "v": 1, "name": name})
        # read after write: the get right after the put sees it
        expect[ids[1]] = props_check({"g": g, "v": 1, "name": name})
        expect[ids[2]] = props_check({"g": g, "v": 2, "w": "x%d" % g, "name": name})
        # read after the second write sees the merged properties
        expect[ids[3]] = props_check({"g": g, "v": 2, "w": "x%d" % g, "name": name})

        def ping_check(resp, g=g):
            check("result" in resp and isinstance(resp["result"].get("version"), str),
                  "group %d: bad ping reply %s" % (g, short(resp)))
        expect[ids[4]] = ping_check
    eq(len(reqs), 1000, "number of requests")

    with d.client() as c:
        replies = c.pipeline(reqs, timeout=90)
        eq(len(replies), 1000, "number of replies")
        for i, (r, q) in enumerate(zip(replies, reqs)):
            check(isinstance(r, dict), "reply %d is not an object: %s" % (i, short(r)))
            if r.get("id") != q["id"]:
                got = [x.get("id") for x in replies[max(0, i - 3):i + 4]]
                want = [x["id"] for x in reqs[max(0, i - 3):i + 4]]
                raise AssertionError("reply %d out of order: ids %s where the requests had %s" % (i, got, want))
        node_ids = {}
        for r in replies:
            res = expect[r["id"]](r)
            if res is not None:
                g = (r["id"] if isinstance(r["id"], int) else int(r["id"][1:]) - 1) // 5
                node_ids.setdefault(g, set()).add(res)
        for g, ids in node_ids.items():
            eq(len(ids), 1, "group %d: node ids of the put/get/put/get (merged, one node)" % g)
        check(len(set(min(v) for v in node_ids.values())) == groups, "every group must have its own node")
        st = c.ok("stats")
        eq(st.get("nodes"), groups, "stats.nodes after the pipeline")
        eq(st.get("by_label", {}).get("Pipe"), groups, "stats.by_label.Pipe")


@test
def pipeline_replies_in_order_across_slow_and_fast_requests():
    # A slow read (a big recursive sql) followed by fast pings: the pings' replies must
    # still come after the slow one's, since replies are written in request order.
    d = Daemon().start()
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 300000) "
            "SELECT count(*) AS n FROM c")
    reqs = [req("sql", {"sql": slow}, 1)] + [req("ping", None, i) for i in range(2, 52)]
    reqs.append(req("node.put", {"labels": ["X"], "name": "after"}, 52))
    reqs.append(req("sql", {"sql": "SELECT count(*) AS n FROM nodes"}, 53))
    with d.client() as c:
        replies = c.pipeline(reqs, timeout=60)
        eq([r.get("id") for r in replies], list(range(1, 54)), "reply ids in order")
        eq(replies[0].get("result", {}).get("rows"), [[300000]], "slow sql result")
        eq(replies[-1].get("result", {}).get("rows"), [[1]], "sql count after the pipelined write")


if __name__ == "__main__":
    run_all()
