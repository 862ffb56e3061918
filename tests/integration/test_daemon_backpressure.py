#!/usr/bin/env python3
"""Output limits and back-pressure: a client that never reads is disconnected once its unread
output passes max_output_bytes (and the daemon logs it) while other clients are served and
memory stays bounded; a client that reads as it goes is not disconnected."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, dumps, eq, req, run_all, short, test  # noqa: E402

MAX_OUTPUT = 1048576
BLOB = 100000                      # bytes; its reply is ~200 kB of hex
RSS_LIMIT_KIB = 400 * 1024


def daemon():
    return Daemon(config={"max_output_bytes": MAX_OUTPUT, "max_line_bytes": 65536}).start()


class RssSampler(threading.Thread):
    def __init__(self, d):
        threading.Thread.__init__(self, daemon=True)
        self.d = d
        self.max = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            v = self.d.rss_kib()
            if v:
                self.max = max(self.max, v)
            time.sleep(0.05)


def ping_rtt(c, pid):
    t0 = time.monotonic()
    res = c.ok("ping")
    check(res.get("pid") == pid, "ping: %s" % short(res))
    return time.monotonic() - t0


def disconnects(d):
    return sum(1 for l in d.log().splitlines() if "disconnect" in l)


def wait_disconnects(d, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if disconnects(d) >= n:
            return True
        time.sleep(0.05)
    return disconnects(d) >= n


@test(timeout=110)
def client_that_never_reads_is_disconnected():
    d = daemon()
    rss = RssSampler(d)
    rss.start()
    try:
        idle_rss = d.rss_kib()
        other = d.client(timeout=10)       # stays connected: it must be served throughout
        ping_rtt(other, d.pid)
        c = d.client(timeout=5, rcvbuf=4096)
        time.sleep(0.2)
        base = disconnects(d)              # only lines logged from now on count
        line = dumps(req("sql", {"sql": "SELECT zeroblob(%d) AS b" % BLOB}, 1)) + b"\n"
        sent = 0
        send_error = None
        t0 = time.monotonic()
        # Keep sending (never reading) until the daemon stops taking input or drops us;
        # 2000 replies would be ~400 MB if nothing limited them.
        while sent < 2000 and time.monotonic() - t0 < 30:
            try:
                c.sock.settimeout(3)
                c.sock.sendall(line)
                sent += 1
            except socket.timeout:
                break          # back-pressure: the daemon stopped reading
            except OSError as e:
                send_error = e
                break
            if sent % 50 == 0 and disconnects(d) > base:
                break
        print("  # sent %d requests in %.2fs (%s)" % (sent, time.monotonic() - t0, send_error or "no send error"))
        rtts = [ping_rtt(other, d.pid) for _ in range(5)]
        print("  # ping rtt while the reader stalls: max %.1f ms" % (max(rtts) * 1000))
        check(wait_disconnects(d, base + 1, 15),
              "no log line containing \"disconnect\" for a client that never reads "
              "(unread replies ~%d MB > max_output_bytes %d)" % (sent * 2 * BLOB // 1000000, MAX_OUTPUT))
        # Drain: the connection must end (EOF or reset) after less than all the replies.
        got = 0
        ended = False
        deadline = time.monotonic() + 20
        c.sock.settimeout(5)
        while time.monotonic() < deadline:
            try:
                chunk = c.sock.recv(1 << 20)
            except (ConnectionResetError, BrokenPipeError):
                ended = True
                break
            except socket.timeout:
                break
            if not chunk:
                ended = True
                break
            got += len(chunk)
        full = sent * (2 * BLOB + 60)
        print("  # drained %d bytes of the ~%d the replies would take" % (got, full))
        check(ended, "the connection of the client that never read was not closed (drained %d bytes)" % got)
        check(got < full, "every reply was delivered (%d bytes): the client was never cut off" % got)
        c.close()
        ping_rtt(other, d.pid)
        other.close()
        check(d.alive(), "the daemon died")
    finally:
        rss.stop.set()
        rss.join(2)
    print("  # RSS: idle %s KiB, max %d KiB" % (idle_rss, rss.max))
    check(rss.max < RSS_LIMIT_KIB, "daemon RSS reached %d KiB (limit %d KiB)" % (rss.max, RSS_LIMIT_KIB))


@test(timeout=110)
def several_stalled_clients_and_memory():
    # Five clients stall at once, each pipelining requests with big replies. All are cut
    # off, memory stays bounded, a sixth client is served throughout.
    d = daemon()
    rss = RssSampler(d)
    rss.start()
    stalled = []
    other = d.client(timeout=10)
    try:
        line = dumps(req("sql", {"sql": "SELECT zeroblob(%d) AS b" % BLOB}, 1)) + b"\n"
        for i in range(5):
            stalled.append(d.client(timeout=3, rcvbuf=4096))
        time.sleep(0.2)
        base = disconnects(d)

        def flood(c):
            for _ in range(300):
                try:
                    c.sock.sendall(line)
                except OSError:
                    return
        threads = [threading.Thread(target=flood, args=(c,), daemon=True) for c in stalled]
        for t in threads:
            t.start()
        rtts = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 4:
            rtts.append(ping_rtt(other, d.pid))
            time.sleep(0.05)
        for t in threads:
            t.join(20)
        print("  # %d pings, max rtt %.1f ms" % (len(rtts), max(rtts) * 1000))
        check(wait_disconnects(d, base + 5, 15),
              "expected 5 new log lines containing \"disconnect\", got %d" % (disconnects(d) - base))
        for i, c in enumerate(stalled):
            c.sock.settimeout(10)
            try:
                while c.sock.recv(1 << 20):
                    pass
            except (ConnectionResetError, BrokenPipeError):
                pass
            except socket.timeout:
                raise AssertionError("stalled client %d was not disconnected" % i)
    finally:
        for c in stalled:
            c.close()
        rss.stop.set()
        rss.join(2)
    print("  # RSS max %d KiB" % rss.max)
    check(rss.max < RSS_LIMIT_KIB, "daemon RSS reached %d KiB (limit %d KiB)" % (rss.max, RSS_LIMIT_KIB))
    ping_rtt(other, d.pid)
    other.close()


@test(timeout=110)
def reading_client_is_not_disconnected():
    # 30 sequential big replies (6 MB in all, each 200 kB < max_output_bytes), read as they
    # come: no disconnect.
    d = daemon()
    with d.client(timeout=20) as c:
        time.sleep(0.2)
        base = disconnects(d)
        for i in range(30):
            res = c.ok("sql", {"sql": "SELECT zeroblob(?) AS b", "params": [BLOB]})
            blob = res["rows"][0][0]
            check(isinstance(blob, dict) and len(blob.get("$blob", "")) == 2 * BLOB,
                  "reply %d: expected {\"$blob\": 200000 hex digits}, got %s" % (i, short(blob, 200)))
            check(set(blob["$blob"]) == {"0"}, "zeroblob hex must be all zeros")
        c.ok("ping")
        time.sleep(0.2)
        check(disconnects(d) == base, "a client that reads its replies was disconnected: %s"
              % short([l for l in d.log().splitlines() if "disconnect" in l]))


@test(timeout=110)
def back_pressure_on_many_pipelined_requests():
    # 3000 pipelined pings in one write (more than max_pending_requests = 1024): the daemon
    # stops reading until the client catches up; every request is answered, in order.
    d = daemon()
    with d.client(timeout=30) as c:
        time.sleep(0.2)
        base = disconnects(d)
        reqs = [req("ping", None, i) for i in range(3000)]
        replies = c.pipeline(reqs, timeout=90)
        eq([r.get("id") for r in replies], list(range(3000)), "ids of 3000 pipelined pings")
        for r in replies:
            check("result" in r, "ping %s failed: %s" % (r.get("id"), short(r)))
        c.ok("ping")
        check(disconnects(d) == base, "a client that reads was disconnected")


@test(timeout=110)
def small_max_pending_requests_keeps_order():
    # With max_pending_requests = 4, 2000 pipelined writes and reads are still all answered
    # in order, and every read sees the write before it.
    d = Daemon(config={"max_pending_requests": 4}).start()
    reqs = []
    for i in range(1000):
        reqs.append(req("node.put", {"labels": ["Q"], "name": "q%d" % i, "properties": {"i": i}}, 2 * i))
        reqs.append(req("node.get", {"label": "Q", "name": "q%d" % i}, 2 * i + 1))
    with d.client(timeout=30) as c:
        replies = c.pipeline(reqs, timeout=90)
        eq([r.get("id") for r in replies], list(range(2000)), "reply ids")
        for r in replies:
            check("result" in r, "request %s failed: %s" % (r.get("id"), short(r)))
            eq(r["result"]["$node"]["properties"].get("i"), r["id"] // 2, "node of reply %s" % r["id"])
        eq(c.ok("stats").get("nodes"), 1000, "stats.nodes")


if __name__ == "__main__":
    run_all()
