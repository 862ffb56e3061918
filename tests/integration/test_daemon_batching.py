#!/usr/bin/env python3
"""Request batching and output coalescing (docs/architecture.md, "How a request flows"):
consecutive read-only lines of one connection run as one worker job, quick node.get requests of
several clients share a worker hand-off, replies are written once per loop iteration. None of
that may change what a client sees: replies in request order, a read after a write in the same
pipeline sees it, errors and pings between reads keep their place, max_output_bytes still
disconnects a client that does not read, and node.get/ping replies keep their exact bytes."""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, dumps, eq, expect_error, node_of, req, run_all, short, test  # noqa: E402


def check_order(replies, reqs, what):
    for i, (r, q) in enumerate(zip(replies, reqs)):
        if not isinstance(r, dict) or r.get("id") != q["id"]:
            got = [x.get("id") if isinstance(x, dict) else x for x in replies[max(0, i - 3):i + 4]]
            want = [x["id"] for x in reqs[max(0, i - 3):i + 4]]
            raise AssertionError("%s: reply %d out of order: ids %s where the requests had %s" % (what, i, got, want))


@test
def writes_between_pipelined_reads_are_seen_in_order():
    # Runs of 40 reads (longer than one batched job of 32 lines) separated by a write that
    # changes the value the reads return: every read must see exactly the writes before it.
    d = Daemon().start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Model"], "name": "Counter", "properties": {"v": 0}})
        reqs, want = [], {}
        rid = 0
        for v in range(1, 8):
            for _ in range(40):
                rid += 1
                reqs.append(req("node.get", {"label": "Model", "name": "Counter"}, rid))
                want[rid] = v - 1
            rid += 1
            reqs.append(req("node.put", {"labels": ["Model"], "name": "Counter", "properties": {"v": v}}, rid))
            want[rid] = v
        replies = c.pipeline(reqs, timeout=90)
        eq(len(replies), len(reqs), "number of replies")
        check_order(replies, reqs, "reads and writes")
        for r in replies:
            check("result" in r, "reply %s: error %s" % (r.get("id"), short(r.get("error"))))
            eq(node_of(r["result"])["properties"]["v"], want[r["id"]], "v seen by request %s" % r["id"])


@test
def errors_and_pings_between_batched_reads_keep_their_place():
    d = Daemon().start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Model"], "name": "A", "properties": {"k": "a"}})
        lines, kinds = [], []
        for i in range(1, 121):
            m = i % 6
            if m == 0:
                lines.append(b'{"jsonrpc":"2.0","id":%d,"method":"node.get","params":{"name":' % i)   # parse error
                kinds.append("parse")
            elif m == 1:
                lines.append(dumps(req("ping", None, i)))
                kinds.append("ping")
            elif m == 2:
                lines.append(dumps(req("node.get", {"name": "missing-%d" % i}, i)))
                kinds.append("missing")
            elif m == 3:
                lines.append(dumps([req("node.get", {"name": "A"}, i), req("node.get", {"name": "A"}, "b%d" % i)]))
                kinds.append("batch")
            else:
                lines.append(dumps(req("node.get", {"label": "Model", "name": "A"}, i)))
                kinds.append("get")
        c.send_raw(b"".join(l + b"\n" for l in lines))
        for i, kind in enumerate(kinds, 1):
            r = c.recv_json(30, "reply %d" % i)
            if kind == "parse":
                expect_error(r, -32700, "line %d" % i, id=None)
            elif kind == "batch":
                check(isinstance(r, list) and [x.get("id") for x in r] == [i, "b%d" % i],
                      "line %d: batch reply %s" % (i, short(r)))
                for x in r:
                    eq(node_of(x["result"])["properties"], {"k": "a", "name": "A"}, "batch member %s" % x["id"])
            elif kind == "missing":
                expect_error(r, -32001, "line %d" % i, id=i)
            else:
                eq(r.get("id"), i, "reply %d id" % i)
                check("result" in r, "line %d: %s" % (i, short(r)))
                if kind == "ping":
                    eq(r["result"].get("pid"), d.pid, "ping pid")
                    check(isinstance(r["result"].get("uptime_ms"), int), "ping uptime_ms: %s" % short(r))
                else:
                    eq(node_of(r["result"])["properties"], {"k": "a", "name": "A"}, "line %d" % i)


@test
def many_clients_quick_reads_interleaved_with_a_writer():
    # 12 readers pipelining node.get (their jobs share worker hand-offs) while one client keeps
    # bumping a value: each reader must see the value never go backwards, in its own order.
    d = Daemon().start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Model"], "name": "Shared", "properties": {"v": 0}})
    failures = []

    def reader(k):
        try:
            with d.client(timeout=60) as rc:
                last = -1
                for round_ in range(15):
                    reqs = [req("node.get", {"label": "Model", "name": "Shared"}, "%d-%d-%d" % (k, round_, i))
                            for i in range(20)]
                    replies = rc.pipeline(reqs, timeout=60)
                    check_order(replies, reqs, "reader %d" % k)
                    for r in replies:
                        v = node_of(r["result"])["properties"]["v"]
                        check(v >= last, "reader %d: v went back from %d to %d" % (k, last, v))
                        last = v
        except Exception as e:   # reported below
            failures.append("reader %d: %s" % (k, e))

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    with d.client() as w:
        for v in range(1, 60):
            w.ok("node.put", {"labels": ["Model"], "name": "Shared", "properties": {"v": v}})
            got = node_of(w.ok("node.get", {"label": "Model", "name": "Shared"}))["properties"]["v"]
            eq(got, v, "read after write on the writer's connection")
    for t in threads:
        t.join(120)
    check(not failures, "; ".join(failures[:3]))


@test
def quick_reads_that_are_never_read_still_hit_max_output_bytes():
    # node.get replies of a big node, pipelined and never read: the coalesced output buffer must
    # not hide them from max_output_bytes; another client is served throughout.
    d = Daemon(config={"max_output_bytes": 262144}).start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Model"], "name": "Big", "properties": {"blob": "x" * 20000}})
    other = d.client(timeout=10)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(d.socket)
    line = dumps(req("node.get", {"label": "Model", "name": "Big"}, 1)) + b"\n"
    dropped = False
    t0 = time.monotonic()
    try:
        s.settimeout(3)
        for _ in range(3000):          # 3000 x 20 kB = 60 MB if nothing stopped it
            s.sendall(line * 4)
            if time.monotonic() - t0 > 30:
                break
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
    except socket.timeout:
        pass                            # back-pressure: the daemon stopped reading us
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "max_output_bytes" not in d.log():
        time.sleep(0.05)
    check("max_output_bytes" in d.log(), "the daemon must log the disconnect (dropped=%s)" % dropped)
    eq(other.ok("ping").get("pid"), d.pid, "the other client is still served")
    s.close()
    other.close()


@test
def node_get_and_ping_reply_bytes():
    # node.get is built as text from the stored properties and ping is pre-serialised: the bytes
    # must be what jansson writes (compact, keys of the properties sorted, member order kept).
    d = Daemon().start()
    with d.client() as c:
        props = {"z": 1, "a": [1, 2.5, None, True], "m": {"y": "é\"\\\n", "b": {}}, "f": 1e100}
        n = node_of(c.ok("node.put", {"labels": ["Model", "Extra"], "name": "Bytes", "properties": props}))
        c.send_raw(dumps(req("node.get", {"name": "Bytes"}, 5)) + b"\n")
        raw = c.recv_line(10)
        body = json.dumps({"$node": {"id": n["id"], "labels": ["Model", "Extra"],
                                     "properties": dict(sorted(dict(props, name="Bytes").items()))}},
                          separators=(",", ":"), ensure_ascii=False)
        want = '{"jsonrpc":"2.0","id":5,"result":' + body.replace("1e+100", "1e100") + '}'
        got = raw.decode("utf-8").rstrip("\n")
        eq(json.loads(got), json.loads(want), "node.get reply value")
        check(got.startswith('{"jsonrpc":"2.0","id":5,"result":{"$node":{"id":%d,"labels":["Model","Extra"],'
                             '"properties":{"a":[1,2.5,null,true],"f":' % n["id"]), "node.get bytes: %s" % got)
        c.send_raw(b'{"jsonrpc":"2.0","id":"p","method":"ping"}\n')
        got = c.recv_line(10).decode()
        check(got.startswith('{"jsonrpc":"2.0","id":"p","result":{"version":"') and
              '"pid":%d,"uptime_ms":' % d.pid in got and got.endswith("}}"), "ping bytes: %s" % got)


if __name__ == "__main__":
    run_all()
