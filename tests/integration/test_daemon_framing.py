#!/usr/bin/env python3
"""Framing and JSON-RPC envelope: parse errors, invalid UTF-8, batches, notifications,
invalid requests, blank lines and CRLF, oversized lines."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import (Daemon, TestFailure, check, dumps, eq, expect_error, node_of, req,  # noqa: E402
                     run_all, short, test)

PING = b'{"jsonrpc":"2.0","id":%d,"method":"ping"}'


def ping_line(i):
    return PING % i


def expect_ping(c, id, what):
    r = c.recv_json(what=what)
    check(isinstance(r, dict), "%s: expected one object, got %s" % (what, short(r)))
    eq(r.get("id"), id, "%s: id" % what)
    check("result" in r and isinstance(r["result"].get("version"), str), "%s: not a ping result: %s" % (what, short(r)))


@test
def malformed_json_then_valid_request():
    d = Daemon().start()
    with d.client() as c:
        c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":\n' + ping_line(2) + b"\n")
        r = c.recv_json(what="reply to malformed JSON")
        expect_error(r, -32700, "malformed JSON", id=None)
        expect_ping(c, 2, "the valid request after a malformed line")
        # more kinds of garbage, each answered with -32700 and id null
        for bad in (b"{", b"nonsense", b'{"jsonrpc":"2.0","id":3,"method":"ping"', b"[1,2", b"\"unterminated",
                    b'{"jsonrpc":"2.0","id":4,"method":"ping"} trailing'):
            c.send_line(bad)
            expect_error(c.recv_json(what="reply to %r" % bad), -32700, "line %r" % bad, id=None)
        c.send_line(ping_line(5))
        expect_ping(c, 5, "ping after several malformed lines")


@test
def invalid_utf8_is_a_parse_error():
    d = Daemon().start()
    with d.client() as c:
        c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"node.put","params":{"labels":["U"],"name":"a\xff\xfeb"}}\n')
        expect_error(c.recv_json(what="reply to invalid UTF-8"), -32700, "invalid UTF-8 in a string", id=None)
        # an overlong encoding and a lone surrogate encoded in UTF-8 are invalid too
        c.send_raw(b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":"\xc0\xaf"}}\n')
        expect_error(c.recv_json(what="reply to overlong UTF-8"), -32700, "overlong UTF-8", id=None)
        c.send_raw(b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":"\xed\xa0\x80"}}\n')
        expect_error(c.recv_json(what="reply to UTF-8 surrogate"), -32700, "UTF-8-encoded surrogate", id=None)
        c.send_line(ping_line(4))
        expect_ping(c, 4, "ping after invalid UTF-8")
        # nothing was written
        st = c.ok("stats")
        eq(st.get("nodes"), 0, "stats.nodes after a rejected node.put")
        # valid multi-byte UTF-8 is fine
        res = c.ok("node.put", {"labels": ["U"], "name": "ünïcødé 模型 😀"})
        eq(node_of(res)["properties"].get("name"), "ünïcødé 模型 😀", "name with multi-byte UTF-8")


@test
def batches():
    d = Daemon().start()
    with d.client() as c:
        # a mixed batch with a notification: an array without the notification's entry
        batch = [req("ping", None, 1),
                 req("node.put", {"labels": ["B"], "name": "from-batch-notification"}, notification=True),
                 req("node.put", {"labels": ["B"], "name": "from-batch"}, "two"),
                 req("no.such.method", None, 3)]
        c.send_line(batch)
        r = c.recv_json(what="reply to a mixed batch")
        check(isinstance(r, list), "a batch must get an array, got %s" % short(r))
        eq(sorted(str(x.get("id")) for x in r), ["1", "3", "two"], "ids in the batch reply (no notification entry)")
        by_id = {x["id"]: x for x in r}
        check("result" in by_id[1] and "version" in by_id[1]["result"], "batch ping: %s" % short(by_id[1]))
        eq(node_of(by_id["two"].get("result"))["properties"].get("name"), "from-batch", "batch node.put result")
        expect_error(by_id[3], -32601, "unknown method inside a batch", id=3)
        # the notification inside the batch was executed (notifications are run, not answered)
        res = c.ok("node.get", {"label": "B", "name": "from-batch-notification"})
        node_of(res, "the node written by the batch's notification")

        # empty array -> one -32600 error object (not an array), id null
        c.send_line(b"[]")
        r = c.recv_json(what="reply to []")
        check(isinstance(r, dict), "reply to [] must be a single error object, got %s" % short(r))
        expect_error(r, -32600, "empty batch", id=None)

        # a batch of only notifications gets nothing: the next line read is the ping's reply
        c.send_line([req("ping", None, notification=True),
                     req("node.put", {"labels": ["B"], "name": "only-notif"}, notification=True)])
        c.send_line(ping_line(10))
        expect_ping(c, 10, "ping after a batch of only notifications")
        node_of(c.ok("node.get", {"label": "B", "name": "only-notif"}), "node written by an all-notification batch")

        # a batch whose elements are not requests: an array of -32600 errors with id null
        c.send_line(b"[1]")
        r = c.recv_json(what="reply to [1]")
        check(isinstance(r, list) and len(r) == 1, "reply to [1] must be an array of one error, got %s" % short(r))
        expect_error(r[0], -32600, "batch element 1", id=None)

        c.send_line(b'[{"jsonrpc":"2.0","id":20,"method":"ping"},7]')
        r = c.recv_json(what="reply to a batch with one good and one bad element")
        check(isinstance(r, list) and len(r) == 2, "expected an array of 2, got %s" % short(r))
        ids = sorted(r, key=lambda x: x.get("id") is None)
        eq(ids[0].get("id"), 20, "good element's id")
        check("result" in ids[0], "good element answered: %s" % short(ids[0]))
        expect_error(ids[1], -32600, "bad batch element", id=None)

        c.send_line(ping_line(21))
        expect_ping(c, 21, "ping after batches")


@test
def notifications_get_no_reply():
    d = Daemon().start()
    with d.client() as c:
        c.send_line(req("ping", notification=True))
        c.send_line(req("node.put", {"labels": ["N"], "name": "notified"}, notification=True))
        # errors in notifications are not answered either
        c.send_line(req("no.such.method", notification=True))
        c.send_line(req("node.get", {"id": "x"}, notification=True))
        c.send_line(ping_line(1))
        expect_ping(c, 1, "first reply after four notifications")
        # the notified write happened, before the later request on this connection
        node_of(c.ok("node.get", {"label": "N", "name": "notified"}), "node written by a notification")
        c.send_line(req("ping", notification=True))
        c.expect_silence(0.5)


@test
def invalid_requests():
    d = Daemon().start()
    with d.client() as c:
        cases = [
            (b'{"id":5,"method":"ping"}', 5, "missing jsonrpc"),
            (b'{"jsonrpc":"1.0","id":6,"method":"ping"}', 6, "jsonrpc 1.0"),
            (b'{"jsonrpc":"2.0","id":7,"method":42}', 7, "method a number"),
            (b'{"jsonrpc":"2.0","id":"eight","method":null}', "eight", "method null"),
            (b'{"jsonrpc":"2.0","id":9}', 9, "no method"),
            (b'42', None, "a number"),
            (b'"ping"', None, "a string"),
            (b'null', None, "null"),
        ]
        for line, id, what in cases:
            c.send_line(line)
            r = c.recv_json(what="reply to %s" % what)
            check(isinstance(r, dict), "%s: expected one error object, got %s" % (what, short(r)))
            expect_error(r, -32600, what, id=id)
        # an id that is not a string/number/null is unreadable: the error has id null
        c.send_line(b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}')
        expect_error(c.recv_json(what="reply to an object id"), -32600, "object as id", id=None)
        c.send_line(ping_line(11))
        expect_ping(c, 11, "ping after invalid requests")


@test
def blank_lines_and_crlf():
    d = Daemon().start()
    with d.client() as c:
        c.send_raw(b"\n\r\n\n" + ping_line(1) + b"\r\n\n" + ping_line(2) + b"\n")
        expect_ping(c, 1, "CRLF-terminated request after blank lines")
        expect_ping(c, 2, "request after a blank line")
        c.expect_silence(0.3)
        # a request split over several writes is one line
        line = ping_line(3) + b"\n"
        for i in range(0, len(line), 7):
            c.send_raw(line[i:i + 7])
            time.sleep(0.01)
        expect_ping(c, 3, "request sent in pieces")


@test
def deep_nesting_and_odd_json():
    d = Daemon().start()
    with d.client() as c:
        # nesting far deeper than any parser allows: an error, not a crash
        c.send_line(b"[" * 100000)
        r = c.recv_json(what="reply to 100000 '['")
        check(isinstance(r, dict), "reply to deep nesting must be one error object: %s" % short(r))
        check(r.get("error", {}).get("code") in (-32700, -32600), "deep nesting: %s" % short(r))
        c.send_line(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + b'{"a":' * 5000 + b'1' + b'}' * 5001)
        r = c.recv_json(what="reply to deeply nested params")
        check(r.get("id") in (1, None), "deeply nested params: %s" % short(r))
        c.send_line(ping_line(3))
        expect_ping(c, 3, "ping after odd JSON")


@test
def nul_in_string_is_not_a_parse_error():
    d = Daemon().start()
    with d.client() as c:
        # \u0000 inside a string is valid JSON: it must not be a parse error (-32700). Either
        # the value round-trips exactly or the request is refused as invalid params.
        c.send_line(b'{"jsonrpc":"2.0","id":2,"method":"node.put","params":{"labels":["Z"],"name":"nul",'
                    b'"properties":{"s":"a\\u0000b"}}}')
        r = c.recv_json(what="reply to a string with \\u0000")
        check(r.get("id") == 2, "a string with \\u0000 is valid JSON; expected a reply with id 2, got %s" % short(r))
        if "error" in r:
            expect_error(r, -32602, "a property string containing U+0000")
        else:
            eq(node_of(r["result"])["properties"].get("s"), "a\u0000b", "string with U+0000 round trip")
        c.send_line(ping_line(4))
        expect_ping(c, 4, "ping after a string with U+0000")


@test
def half_closed_connection_still_gets_replies():
    # `printf '...\n' | socat - UNIX-CONNECT:...` shuts down its write side after the request;
    # the replies must still come, then EOF.
    d = Daemon().start()
    with d.client() as c:
        c.send_raw(ping_line(1) + b"\n" + ping_line(2) + b"\n")
        c.sock.shutdown(socket.SHUT_WR)
        expect_ping(c, 1, "first reply after SHUT_WR")
        expect_ping(c, 2, "second reply after SHUT_WR")
        eq(c.recv_line(10), None, "EOF after the replies")


@test
def ids_are_echoed_exactly():
    d = Daemon().start()
    with d.client() as c:
        for id in (0, -1, 9007199254740993, "", "ünï", "x" * 200, 1.5):
            c.send_line(req("ping", None, id))
            r = c.recv_json(what="ping with id %r" % (id,))
            eq(r.get("id"), id, "echoed id")
            if isinstance(id, float):
                eq(getattr(r["id"], "text", None) is not None, True, "float id comes back as a float")
        c.send_line(b'{"jsonrpc":"2.0","id":null,"method":"ping"}')
        r = c.recv_json(what="ping with id null")
        check(r.get("id") is None and "result" in r, "id null is a request with id null, answered: %s" % short(r))


def oversized_daemon():
    return Daemon(config={"max_line_bytes": 65536}).start()


def closed(c, timeout=10.0):
    """True once the daemon closed the connection (EOF, or ECONNRESET after it closed with
    unread input). Remaining complete lines are returned as a list in the second item."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = c.recv_line(deadline - time.monotonic())
        except (ConnectionResetError, BrokenPipeError):
            return True, lines
        except socket.timeout:
            return False, lines
        if line is None:
            return True, lines
        lines.append(line)
    return False, lines


@test
def oversized_line_gets_limit_error_then_close():
    d = oversized_daemon()
    with d.client() as c:
        # just under the limit: fine
        pad = "a" * 60000
        c.send_line(req("sql", {"sql": "SELECT length(?) AS n", "params": [pad]}, 1))
        r = c.recv_json(what="reply to a 60 kB line")
        check("result" in r, "a line below max_line_bytes must be served: %s" % short(r))
        eq(r["result"].get("rows"), [[60000]], "sql length of the 60 kB parameter")
        # over the limit: -32006 with id null, then the connection is closed
        big = dumps(req("sql", {"sql": "SELECT length(?) AS n", "params": ["b" * 100000]}, 2)) + b"\n"
        errs = []

        def sender():
            try:
                c.send_raw(big)
            except OSError as e:
                errs.append(e)
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        try:
            r = c.recv_json(timeout=10, what="reply to a 100 kB line")
        except (ConnectionResetError, BrokenPipeError) as e:
            raise TestFailure("connection reset before the -32006 error arrived: %s" % e)
        expect_error(r, -32006, "line longer than max_line_bytes", id=None)
        is_closed, rest = closed(c)
        check(not rest, "nothing may follow the -32006 error, got %s" % short([x[:200] for x in rest]))
        check(is_closed, "the connection must be closed after the -32006 error")
        t.join(5)
    # the daemon still serves new connections
    with d.client() as c2:
        c2.send_line(ping_line(3))
        expect_ping(c2, 3, "ping on a new connection after the oversized line")


@test
def oversized_line_without_newline_is_cut_off():
    # A client that streams bytes without ever sending '\n' must not make the daemon buffer
    # without bound: past max_line_bytes it gets -32006 and is disconnected.
    d = oversized_daemon()
    with d.client() as c:
        c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"sql","params":{"sql":"SELECT length(?)","params":["')
        errs = []

        def sender():
            try:
                for _ in range(40):
                    c.send_raw(b"z" * 8192)
            except OSError as e:
                errs.append(e)
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        try:
            r = c.recv_json(timeout=10, what="reply to an unterminated 300 kB line")
        except (ConnectionResetError, BrokenPipeError) as e:
            raise TestFailure("connection reset before the -32006 error arrived: %s" % e)
        expect_error(r, -32006, "unterminated line longer than max_line_bytes", id=None)
        is_closed, rest = closed(c)
        check(is_closed and not rest, "the connection must be closed after the error (rest %s)" % short(rest))
        t.join(5)
    with d.client() as c2:
        c2.send_line(ping_line(2))
        expect_ping(c2, 2, "ping on a new connection")


if __name__ == "__main__":
    run_all()
