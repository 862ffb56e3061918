#!/usr/bin/env python3
"""The daemon's shortcuts (docs/performance-history.md, "Socket throughput pass 2") must not change a
byte a client sees:

- a plain ping with nothing of its connection ahead of it is answered by rpc_fast_ping on the
  loop, without jansson: its reply must equal the general path's (the same line queued behind
  another line of the connection takes the general path), for odd ids, whitespace, member
  orders, extra members, batches, "pinG", ping with params, notifications;
- node.get by name ({"name"} or {"label","name"}, UTF-8 without escapes) with nothing of its connection
  ahead of it is answered on the loop by the same fast path (core/rpc_fast.c): its reply, found
  or not, must equal the general path's for the same line queued behind another line;
- quick node.get lookups may run on the loop's own connection in a snapshot shared by the
  requests of one loop iteration: a read must still see every write acknowledged before it was
  sent (on another connection too), errors keep their codes, replies keep their order."""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, eq, node_of, req, run_all, short, test  # noqa: E402

UPTIME = re.compile(rb'"uptime_ms":\d+')

# Lines sent verbatim; each must get the same reply alone (fast path where eligible) as when
# queued behind another line (general path). None: no reply expected (a notification).
LINES = [
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":0,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":-42,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":123456789012345678,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1234567890123456789,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":9223372036854775807,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":99999999999999999999,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":-0,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":1e2,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":null,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":"abc","method":"ping"}',
    b'{"jsonrpc":"2.0","id":"","method":"ping"}',
    b'{"jsonrpc":"2.0","id":"a/b c","method":"ping"}',
    b'{"jsonrpc":"2.0","id":"q\\"uote\\\\back\\/slash\\u00e9\\n","method":"ping"}',
    '{"jsonrpc":"2.0","id":"caf\u00e9 \u6ce8\u610f","method":"ping"}'.encode("utf-8"),
    b'{"jsonrpc":"2.0","id":true,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":[1],"method":"ping"}',
    b'  {  "jsonrpc" : "2.0" ,\t"id" : 7 , "method" : "ping"  }  ',
    b'{"jsonrpc":"2.0","id":8,"method":"ping"}\r',
    b'{"id":9,"method":"ping","jsonrpc":"2.0"}',
    b'{"method":"ping","jsonrpc":"2.0","id":"m"}',
    b'{"jsonrpc":"2.0","id":10,"method":"ping","params":{}}',
    b'{"jsonrpc":"2.0","id":11,"method":"ping","params":{"x":[1,2]}}',
    b'{"jsonrpc":"2.0","id":12,"method":"ping","params":null}',
    b'{"jsonrpc":"2.0","id":13,"method":"ping","extra":"member"}',
    b'{"jsonrpc":"2.0","id":14,"method":"pinG"}',
    b'{"jsonrpc":"2.0","id":15,"method":"ping "}',
    b'{"jsonrpc":"2.0","id":16,"id":17,"method":"ping"}',
    b'{"jsonrpc":"1.0","id":18,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":19,"method":"ping"}x',
    b'[{"jsonrpc":"2.0","id":20,"method":"ping"},{"jsonrpc":"2.0","id":"b","method":"ping"}]',
    b'[{"jsonrpc":"2.0","id":21,"method":"ping"},{"jsonrpc":"2.0","method":"ping"}]',
    b'{"jsonrpc":"2.0","id":22,"method":"ping"',
]
NOTIFICATION = b'{"jsonrpc":"2.0","method":"ping"}'
# Not a ping and not answered on the fast path: the line ahead that forces the general path.
LEAD = b'{"jsonrpc":"2.0","id":"lead","method":"ping","params":{}}'


def norm(line):
    return UPTIME.sub(b'"uptime_ms":0', line)


@test
def fast_and_general_replies_are_identical():
    d = Daemon().start()
    with d.client() as alone, d.client() as queued:
        for line in LINES:
            alone.send_raw(line + b"\n")
            a = alone.recv_line()
            queued.send_raw(LEAD + b"\n" + line + b"\n")   # one write: the line waits behind LEAD
            lead = queued.recv_line()
            check(lead is not None and b'"id":"lead"' in lead, "lead reply: %r" % lead)
            g = queued.recv_line()
            check(a is not None and g is not None, "no reply to %r" % line)
            eq(norm(a), norm(g), "reply to %r alone vs queued" % line)
        # A sample of exact bytes (the general path's format, which the fast path copies).
        alone.send_raw(b'{"jsonrpc":"2.0","id":"x/y","method":"ping"}\n')
        r = alone.recv_line()
        check(re.fullmatch(rb'\{"jsonrpc":"2\.0","id":"x/y","result":\{"version":"[^"]+","pid":%d,"uptime_ms":\d+\}\}'
                           % d.pid, r) is not None, "ping reply bytes: %r" % r)


GET_LINES = [
    b'{"jsonrpc":"2.0","id":1,"method":"node.get","params":{"label":"Model","name":"DeepSeek-R1"}}',
    b'{"jsonrpc":"2.0","id":2,"method":"node.get","params":{"name":"deepseek-r1"}}',
    b'{"jsonrpc":"2.0","id":"a","method":"node.get","params":{"name":"R1"}}',
    b'{"params":{"name":"DeepSeek-R1","label":"Model"},"id":3,"method":"node.get","jsonrpc":"2.0"}',
    b' { "jsonrpc" : "2.0" , "id" : null , "method" : "node.get" , "params" : { "name" : "V3 base" } } ',
    b'{"jsonrpc":"2.0","id":4,"method":"node.get","params":{"label":"Paper","name":"V3 base"}}',
    b'{"jsonrpc":"2.0","id":5,"method":"node.get","params":{"label":"Paper","name":"DeepSeek-R1"}}',
    b'{"jsonrpc":"2.0","id":6,"method":"node.get","params":{"name":"Twin"}}',
    b'{"jsonrpc":"2.0","id":7,"method":"node.get","params":{"name":"nope"}}',
    b'{"jsonrpc":"2.0","id":8,"method":"node.get","params":{"name":""}}',
    b'{"jsonrpc":"2.0","id":9,"method":"node.get","params":{"label":"","name":"R1"}}',
    b'{"jsonrpc":"2.0","id":10,"method":"node.get","params":{"name":"R\\u0031"}}',
    b'{"jsonrpc":"2.0","id":11,"method":"node.get","params":{"name":"\\u6df1\\u5ea6"}}',
    '{"jsonrpc":"2.0","id":12,"method":"node.get","params":{"name":"\u6df1\u5ea6"}}'.encode("utf-8"),
    b'{"jsonrpc":"2.0","id":13,"method":"node.get","params":{"name":"R1","aliases":true}}',
    b'{"jsonrpc":"2.0","id":14,"method":"node.get","params":{"name":"R1","name":"Twin"}}',
    b'{"jsonrpc":"2.0","id":15,"method":"node.get","params":{"name":7}}',
    b'{"jsonrpc":"2.0","id":16,"method":"node.get"}',
    b'{"jsonrpc":"2.0","id":1.5,"method":"node.get","params":{"name":"R1"}}',
]


@test
def fast_node_gets_and_general_replies_are_identical():
    d = Daemon().start()
    with d.client() as alone, d.client() as queued:
        alone.ok("node.put", {"labels": ["Model"], "name": "DeepSeek-R1", "aliases": ["R1"],
                              "properties": {"params_b": 671, "note": "a \"q\" \\ \u6ce8", "ratio": 0.25,
                                             "list": [1, None, {"k": "v"}]}})
        alone.ok("node.put", {"labels": ["Model", "Paper"], "name": "V3 base"})
        alone.ok("node.put", {"labels": ["Model"], "name": "Twin"})
        alone.ok("node.put", {"labels": ["Technique"], "name": "Twin"})
        alone.ok("node.put", {"labels": ["Technique"], "name": "\u6df1\u5ea6"})
        found = 0
        for line in GET_LINES:
            alone.send_raw(line + b"\n")
            a = alone.recv_line()
            queued.send_raw(LEAD + b"\n" + line + b"\n")
            lead = queued.recv_line()
            check(lead is not None and b'"id":"lead"' in lead, "lead reply: %r" % lead)
            g = queued.recv_line()
            check(a is not None and g is not None, "no reply to %r" % line)
            eq(a, g, "reply to %r alone vs queued" % line)
            found += b'"result":{"$node":' in a
        eq(found, 11, "lines that found a node")


@test
def notifications_and_order_around_fast_pings():
    d = Daemon().start()
    with d.client() as c:
        c.send_raw(NOTIFICATION + b"\n")
        c.expect_silence(0.2)
        c.ok("node.put", {"labels": ["Model"], "name": "N", "properties": {"v": 1}})
        # One write mixing fast-path pings, store reads, a write, errors and notifications:
        # the replies come in request order and each read sees the writes before it.
        lines, want = [], []
        for i in range(60):
            k = i % 6
            if k == 0:
                lines.append(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}' % i)
                want.append((i, "ping"))
            elif k == 1:
                lines.append(b'{"jsonrpc":"2.0","id":%d,"method":"node.get","params":{"label":"Model","name":"N"}}' % i)
                want.append((i, "v%d" % (i // 6 + 1)))
            elif k == 2:
                lines.append(NOTIFICATION)
            elif k == 3:
                lines.append(b'{"jsonrpc":"2.0","id":%d,"method":"node.put","params":{"labels":["Model"],'
                             b'"name":"N","properties":{"v":%d}}}' % (i, i // 6 + 2))
                want.append((i, "v%d" % (i // 6 + 2)))
            elif k == 4:
                lines.append(b'{"jsonrpc":"2.0","id":%d,"method":"node.get","params":{"label":"Model","name":"nope"}}' % i)
                want.append((i, -32001))
            else:
                lines.append(b'{"jsonrpc":"2.0","id":%d,"method":"pinG"}' % i)
                want.append((i, -32601))
        c.send_raw(b"\n".join(lines) + b"\n")
        for i, what in want:
            r = c.recv_json(what="reply to request %d" % i)
            eq(r.get("id"), i, "reply order")
            if what == "ping":
                check("version" in r.get("result", {}), "ping reply %s" % short(r))
            elif isinstance(what, int):
                eq(r.get("error", {}).get("code"), what, "error code of request %d" % i)
            else:
                eq(node_of(r.get("result"))["properties"]["v"], int(what[1:]), "v seen by request %d" % i)
        c.expect_silence(0.2)


@test
def lookups_see_writes_acknowledged_on_other_connections():
    # A writer acknowledges v = i, then (only then) readers on other connections must see
    # v >= i; several readers keep the loop busy so lookups share loop iterations and snapshots.
    d = Daemon().start()
    with d.client() as w:
        w.ok("node.put", {"labels": ["Model"], "name": "C", "properties": {"v": 0}})
    acked = [0]
    stop = threading.Event()
    errors = []

    def reader(n):
        try:
            with d.client() as r:
                while not stop.is_set():
                    floor = acked[0]
                    res = r.ok("node.get", {"label": "Model", "name": "C"})
                    v = node_of(res)["properties"]["v"]
                    if v < floor:
                        errors.append("reader %d saw v=%d after v=%d was acknowledged" % (n, v, floor))
                        return
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("reader %d: %s" % (n, e))

    ts = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(4)]
    for t in ts:
        t.start()
    try:
        with d.client() as w:
            for i in range(1, 151):
                w.ok("node.put", {"labels": ["Model"], "name": "C", "properties": {"v": i}})
                acked[0] = i
                if errors:
                    break
    finally:
        stop.set()
        for t in ts:
            t.join(30)
    check(not errors, "; ".join(errors[:3]))
    with d.client() as r:
        eq(node_of(r.ok("node.get", {"label": "Model", "name": "C"}))["properties"]["v"], 150, "final v")


@test
def lookup_replies_keep_their_bytes():
    # node.get on the loop and on the pool (with relationships: not quick) agree on the node.
    d = Daemon().start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Model"], "name": "B\u00e9ta \"q\"", "properties": {"x": 1.5, "s": "a\\b"}})
        c.send_raw(b'{"jsonrpc":"2.0","id":"g","method":"node.get","params":{"label":"Model","name":"B\\u00e9ta \\"q\\""}}\n')
        quick = c.recv_json()
        eq(quick.get("id"), "g", "id")
        slow = c.ok("node.get", {"label": "Model", "name": "B\u00e9ta \"q\"", "relationships": True})
        q = node_of(quick["result"])
        s = node_of(slow)
        eq(q, s, "node from the loop vs the pool")
        c.send_raw(b'{"jsonrpc":"2.0","id":[],"method":"node.get","params":{"name":"nope"}}\n')
        r = c.recv_json()
        eq(r.get("id"), None, "unusable id answered as null")
        eq(r.get("error", {}).get("code"), -32600, "invalid request")


if __name__ == "__main__":
    run_all()
