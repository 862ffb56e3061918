#!/usr/bin/env python3
"""Life cycle: SIGTERM under load keeps every acknowledged write, past shutdown_timeout_ms a
running write or plugin is interrupted and rolled back, a second daemon on a live
socket is refused, a stale socket is replaced, a newer schema is refused untouched, the
socket path rule, the log format."""
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import (DSGRAPHD, LOG_LINE_RE, SANITIZER_MARKS, Client, Daemon, TestFailure, check, dumps,  # noqa: E402
                     eq, loads, make_tmpdir, node_of, req, run_all, short, test)
from plugtest import plugin_daemon, upload  # noqa: E402


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@test(timeout=110)
def sigterm_under_load_keeps_acknowledged_writes():
    d = Daemon().start()
    WRITERS = 4
    WINDOW = 8
    acked = {}          # name -> id
    problems = []
    lock = threading.Lock()
    stop_sending = threading.Event()
    counts = [0] * WRITERS

    def writer(t):
        try:
            c = Client(d.socket, timeout=20)
        except OSError as e:
            problems.append("writer %d: connect: %s" % (t, e))
            return
        sent = {}
        k = 0
        try:
            while True:
                while not stop_sending.is_set() and len(sent) < WINDOW:
                    name = "w%d-%06d" % (t, k)
                    sent[k] = name
                    try:
                        c.send_line(req("node.put", {"labels": ["W"], "name": name, "properties": {"k": k}}, k))
                    except OSError:
                        stop_sending.set()   # the daemon went away mid-send; collect what's left
                        break
                    k += 1
                if not sent:
                    return
                try:
                    line = c.recv_line(20)
                except (ConnectionResetError, BrokenPipeError):
                    return
                if line is None:
                    return            # closed by the daemon: the rest was not acknowledged
                r = loads(line)
                rid = r.get("id")
                if rid not in sent or rid != min(sent):
                    problems.append("writer %d: reply id %s, expected %s" % (t, rid, min(sent)))
                    return
                name = sent.pop(rid)
                if "result" in r:
                    n = r["result"]["$node"]
                    if n["properties"].get("name") != name:
                        problems.append("writer %d: reply for %s is node %s" % (t, name, short(n)))
                    with lock:
                        acked[name] = n["id"]
                    counts[t] += 1
                else:
                    code = r.get("error", {}).get("code")
                    if code != -32008:
                        problems.append("writer %d: %s got %s (only -32008 shutting_down is acceptable)"
                                        % (t, name, short(r.get("error"))))
        except socket.timeout as e:
            problems.append("writer %d: timeout: %s" % (t, e))
        except Exception as e:
            problems.append("writer %d: %s: %s" % (t, type(e).__name__, e))
        finally:
            c.close()

    threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(WRITERS)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (len(acked) < 400 or time.monotonic() < d.t_start + 1.5):
        time.sleep(0.05)
        check(not problems, "; ".join(problems))
    n_before = len(acked)
    check(n_before >= 50, "writers too slow: only %d acknowledged writes" % n_before)
    t_term = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(10)
    except Exception:
        raise TestFailure("dsgraphd did not exit within 10 s of SIGTERM under load")
    dt = time.monotonic() - t_term
    for th in threads:
        th.join(15)
    print("  # %d writes acknowledged before SIGTERM, %d in total; exit %d after %.2fs; per writer %s"
          % (n_before, len(acked), rc, dt, counts))
    eq(rc, 0, "exit status after SIGTERM")
    check(not any(th.is_alive() for th in threads), "writers still blocked after the daemon exited")
    check(not problems, "; ".join(problems[:5]))

    # The clean shutdown checkpointed: the main file alone holds every acknowledged node.
    copy_dir = make_tmpdir()
    copy = os.path.join(copy_dir, "copy.db")
    shutil.copyfile(d.db, copy)
    con = sqlite3.connect(copy)
    try:
        n_main = con.execute("SELECT count(*) FROM nodes").fetchone()[0]
    finally:
        con.close()
    check(n_main >= len(acked), "the database file without its WAL has %d nodes, %d were acknowledged: "
          "no checkpoint at shutdown?" % (n_main, len(acked)))

    d.start()
    with d.client(timeout=60) as c:
        names = list(acked)
        replies = c.pipeline([req("node.get", {"label": "W", "name": nm}, i) for i, nm in enumerate(names)], timeout=90)
        missing = []
        for r in replies:
            nm = names[r["id"]]
            if "result" not in r:
                missing.append(nm)
            else:
                eq(node_of(r["result"])["id"], acked[nm], "id of %s after restart" % nm)
        check(not missing, "%d acknowledged nodes missing after restart, e.g. %s" % (len(missing), missing[:5]))
        st = c.ok("stats")
        check(st["nodes"] >= len(acked), "stats.nodes %d < %d acknowledged" % (st["nodes"], len(acked)))
        eq(st["nodes"], n_main, "stats.nodes after restart vs nodes in the checkpointed main file")
    d.stop_ok()


SLOW_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) "
            "SELECT count(*) AS n FROM c")


def slow_sql_rows(d):
    """A row count for SLOW_SQL that takes 0.5 s or more on this build."""
    n = 200000
    with d.client(timeout=60) as c:
        while True:
            t0 = time.monotonic()
            c.ok("sql", {"sql": SLOW_SQL, "params": [n]}, timeout=60)
            dt = time.monotonic() - t0
            if dt >= 0.5 or n >= 200000000:
                return n, dt
            n = int(n * max(2.0, 0.7 / max(dt, 0.01)))


@test
def sigterm_finishes_in_flight_request_and_stops_accepting():
    d = Daemon().start()
    n, dt = slow_sql_rows(d)
    print("  # slow sql: %d rows, %.2fs" % (n, dt))
    c = d.client(timeout=30)
    c.send_line(req("sql", {"sql": SLOW_SQL, "params": [n]}, 1))
    time.sleep(min(0.2, dt / 3))
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    # requests sent after the signal are not executed: -32008, or no reply at all
    try:
        c.send_line(req("node.put", {"labels": ["X"], "name": "after-sigterm"}, 2))
    except OSError:
        pass
    # a connection attempted after SIGTERM is not served
    late = None
    try:
        late = Client(d.socket, timeout=15)
        late.send_line(req("ping", None, 1))
    except OSError:
        late = None
    r = c.recv_json(timeout=30, what="reply to the request in flight at SIGTERM")
    eq(r.get("id"), 1, "first reply id")
    check("result" in r, "the request in flight at SIGTERM must be finished, got %s" % short(r))
    eq(r["result"].get("rows"), [[n]], "in-flight sql result")
    try:
        r2 = c.recv_line(timeout=15)
    except (ConnectionResetError, BrokenPipeError):
        r2 = None
    if r2 is not None:
        r2 = loads(r2)
        eq(r2.get("id"), 2, "second reply id")
        eq((r2.get("error") or {}).get("code"), -32008, "a request after SIGTERM gets -32008 shutting_down (or nothing)")
    if late is not None:
        try:
            line = late.recv_line(timeout=15)
        except (ConnectionResetError, BrokenPipeError):
            line = None
        if line is not None:
            lr = loads(line)
            eq((lr.get("error") or {}).get("code"), -32008,
               "a connection made after SIGTERM must not be served (got %s)" % short(lr))
        late.close()
    rc = d.wait_exit(10)
    print("  # exit %d %.2fs after SIGTERM; request after SIGTERM: %s; connection after SIGTERM: %s"
          % (rc, time.monotonic() - t0, "-32008" if r2 is not None else "no reply",
             "not connected" if late is None else "connected, no service"))
    eq(rc, 0, "exit status")
    c.close()
    d.start()
    with d.client() as c2:
        r, e = c2.call("node.get", {"label": "X", "name": "after-sigterm"})
        check(e is not None and e.get("code") == -32001, "a request sent after SIGTERM was executed: %s" % short(r))


@test
def sigint_stops_cleanly():
    d = Daemon().start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["X"], "name": "before-sigint"})
    rc = d.stop(signal.SIGINT)
    eq(rc, 0, "exit status after SIGINT")
    check(not os.path.exists(d.socket), "the socket file must be removed at a clean exit")
    d.start()
    with d.client() as c:
        node_of(c.ok("node.get", {"label": "X", "name": "before-sigint"}))


@test
def idle_connection_does_not_block_shutdown():
    # A connected client that sends nothing, and one with half a line, must not keep the
    # daemon from exiting on SIGTERM.
    d = Daemon().start()
    c1 = d.client()
    c2 = d.client()
    c2.send_raw(b'{"jsonrpc":"2.0","id":1,"meth')
    c3 = d.client()
    c3.ok("ping")
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, 10)
    eq(rc, 0, "exit status with idle clients connected")
    print("  # exit after %.2fs" % (time.monotonic() - t0))
    for c in (c1, c2, c3):
        c.close()


@test
def second_daemon_on_a_live_socket_is_refused():
    d1 = Daemon(name="one").start()
    with d1.client() as c:
        c.ok("node.put", {"labels": ["X"], "name": "in-one"})
    d2 = Daemon(name="two", dir=d1.dir, socket_path=d1.socket)
    d2.start(wait=False)
    rc = d2.wait_exit(10)
    eq(rc, 1, "exit status of a second daemon on a live socket")
    log = d2.log()
    check(d1.socket in log, "the second daemon's stderr must mention the socket %s: %r" % (d1.socket, log[-1000:]))
    check(os.path.exists(d1.socket), "the second daemon removed the first one's socket file")
    check(d1.alive(), "the first daemon died")
    with d1.client() as c:
        res = c.ok("ping")
        eq(res.get("pid"), d1.pid, "ping answered by the first daemon (pid)")
        node_of(c.ok("node.get", {"label": "X", "name": "in-one"}))
    # also with the same database
    d3 = Daemon(name="three", dir=d1.dir, socket_path=d1.socket, db=d1.db)
    d3.start(wait=False)
    eq(d3.wait_exit(10), 1, "exit status of a second daemon on a live socket and the same db")
    with d1.client() as c:
        eq(c.ok("ping").get("pid"), d1.pid, "ping answered by the first daemon after the third")
    d1.stop_ok()


@test
def stale_socket_is_replaced():
    d1 = Daemon().start()
    with d1.client() as c:
        nid = node_of(c.ok("node.put", {"labels": ["X"], "name": "survivor", "properties": {"v": 1}}))["id"]
    d1.stop(signal.SIGKILL)
    check(os.path.exists(d1.socket), "after SIGKILL the socket file should be left behind (test premise)")
    # nobody listens there now
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(d1.socket)
        raise TestFailure("a killed daemon's socket still accepts connections")
    except ConnectionRefusedError:
        pass
    finally:
        s.close()
    d1.start()
    with d1.client() as c:
        eq(c.ok("ping").get("pid"), d1.pid, "ping answered by the new daemon")
        n = node_of(c.ok("node.get", {"id": nid}))
        eq(n["properties"], {"name": "survivor", "v": 1}, "node written before the SIGKILL")
    d1.stop_ok()


@test
def newer_schema_is_refused_untouched():
    dir = make_tmpdir()
    db = os.path.join(dir, "future.db")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE nodes(id INTEGER PRIMARY KEY, stuff TEXT)")
    con.execute("INSERT INTO nodes VALUES (1, 'from the future')")
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    before = file_digest(db)
    files_before = sorted(os.listdir(dir))
    d = Daemon(dir=dir, db=db)
    d.start(wait=False)
    rc = d.wait_exit(10)
    check(rc != 0 and rc is not None, "dsgraphd must refuse a database with user_version 99 (exit %s)" % rc)
    check(rc > 0, "dsgraphd must exit with an error status, not a signal (%s)" % rc)
    log = d.log()
    check("99" in log, "the error message must mention the version 99: %r" % log[-1500:])
    eq(file_digest(db), before, "sha256 of the database file")
    extra = [f for f in sorted(os.listdir(dir)) if f not in files_before and f.startswith("future.db")]
    check(not extra, "files created next to the refused database: %s" % extra)
    check(not os.path.exists(d.socket) or _refused(d.socket), "a socket still accepts connections")


def _refused(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return False
    except OSError:
        return True
    finally:
        s.close()


@test
def socket_path_rule():
    dir = make_tmpdir()
    env_sock = os.path.join(dir, "env.sock")
    xdg = os.path.join(dir, "xdg")
    os.mkdir(xdg, 0o700)
    # $DSGRAPH_SOCKET when there is no --socket
    d = Daemon(name="a", dir=dir, socket_path=env_sock)
    d.start(socket_arg=False, env={"DSGRAPH_SOCKET": env_sock, "XDG_RUNTIME_DIR": xdg})
    with d.client() as c:
        eq(c.ok("ping").get("pid"), d.pid, "daemon on $DSGRAPH_SOCKET")
    check(not os.path.exists(os.path.join(xdg, "dsgraph.sock")), "a socket in $XDG_RUNTIME_DIR although $DSGRAPH_SOCKET is set")
    d.stop_ok()
    # $XDG_RUNTIME_DIR/dsgraph.sock when neither
    d = Daemon(name="b", dir=dir, socket_path=os.path.join(xdg, "dsgraph.sock"))
    d.start(socket_arg=False, env={"DSGRAPH_SOCKET": None, "XDG_RUNTIME_DIR": xdg})
    with d.client() as c:
        eq(c.ok("ping").get("pid"), d.pid, "daemon on $XDG_RUNTIME_DIR/dsgraph.sock")
    d.stop_ok()
    # --socket wins over the environment
    d = Daemon(name="c", dir=dir)
    d.start(env={"DSGRAPH_SOCKET": env_sock, "XDG_RUNTIME_DIR": xdg})
    with d.client() as c:
        eq(c.ok("ping").get("pid"), d.pid, "daemon on --socket")
    check(_refused(env_sock), "$DSGRAPH_SOCKET was used although --socket was given")
    d.stop_ok()


@test
def config_file_db_and_socket():
    dir = make_tmpdir()
    sock = os.path.join(dir, "cfg.sock")
    db = os.path.join(dir, "cfg.db")
    d = Daemon(name="cfg", dir=dir, socket_path=sock, db=db,
               config={"socket": sock, "db": db, "log_level": "info", "socket_mode": "0600"})
    d.start(socket_arg=False, db_arg=False, log_level=None, env={"DSGRAPH_SOCKET": None})
    with d.client() as c:
        c.ok("node.put", {"labels": ["X"], "name": "cfg"})
    eq(oct(os.stat(sock).st_mode & 0o777), oct(0o600), "socket mode from socket_mode \"0600\"")
    check(os.path.exists(db), "the database named by the config's db was not created")
    d.stop_ok()
    check(" debug " not in d.log(), "debug lines logged with log_level \"info\"")


@test
def bad_config_is_refused():
    d = Daemon(config="this is not lua ((\n")
    d.start(wait=False)
    rc = d.wait_exit(10)
    check(rc is not None and rc > 0, "a config file with a syntax error must be refused (exit %s)" % rc)
    check(d.log().strip(), "no message for a bad config file")
    d = Daemon(config={"max_clients": "many"})
    d.start(wait=False)
    rc = d.wait_exit(10)
    check(rc is not None and rc > 0, "max_clients = \"many\" must be refused (exit %s)" % rc)
    d = Daemon(config={"no_such_setting": 1})
    d.start(wait=False)
    rc = d.wait_exit(10)
    check(rc is not None and rc > 0, "an unknown setting must be refused (exit %s)" % rc)
    check("no_such_setting" in d.log(), "the error should name the unknown setting: %r" % d.log()[-500:])
    # a config is Lua: expressions work
    d = Daemon(config="max_line_bytes = 64 * 1024\nsocket_mode = string.format('%04o', 6 * 64 + 4 * 8 + 4)\n")
    d.start()
    eq(oct(os.stat(d.socket).st_mode & 0o777), oct(0o644), "socket_mode computed in Lua")
    with d.client() as c:
        c.ok("ping")


@test
def daemonizes_without_foreground():
    d = Daemon()
    d.start(wait=False, foreground=False)
    rc = d.wait_exit(10)
    eq(rc, 0, "exit status of the parent of a daemonizing dsgraphd")
    check(os.path.exists(d.socket), "the parent exited before the socket existed")
    child = None
    try:
        with Client(d.socket) as c:
            child = c.ok("ping").get("pid")
            check(isinstance(child, int) and child != d.pid, "ping pid %s (parent was %d)" % (child, d.pid))
            c.ok("node.put", {"labels": ["X"], "name": "daemonized"})
        os.kill(child, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists("/proc/%d" % child):
            try:
                os.waitpid(child, os.WNOHANG)   # not our child; only reaps if it were
            except ChildProcessError:
                pass
            st = open("/proc/%d/stat" % child).read().split()[2] if os.path.exists("/proc/%d/stat" % child) else "X"
            if st in ("Z", "X"):
                break
            time.sleep(0.05)
        check(not os.path.exists(d.socket), "socket still there after SIGTERM to the daemonized dsgraphd")
        child = None
    finally:
        if child:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass


@test
def bad_command_lines_are_refused():
    dir = make_tmpdir()
    cases = [
        ("socket path too long", ["--socket", "/tmp/" + "x" * 150, "--db", os.path.join(dir, "a.db")], ("too long",)),
        ("database in a missing directory", ["--socket", os.path.join(dir, "b.sock"), "--db", "/nonexistent/dir/b.db"],
         ("/nonexistent/dir/b.db",)),
        ("unknown option", ["--bogus"], ("--bogus", "usage", "Usage")),
        ("bad log level", ["--log-level", "loud", "--socket", os.path.join(dir, "c.sock")], ("loud", "log")),
        ("missing config file", ["--config", os.path.join(dir, "missing.conf"), "--socket", os.path.join(dir, "d.sock")],
         ("missing.conf",)),
        ("missing seed file", ["--seed", os.path.join(dir, "missing.jsonl"), "--socket", os.path.join(dir, "e.sock"),
                               "--db", os.path.join(dir, "e.db")], ("missing.jsonl",)),
    ]
    problems = []
    for what, args, words in cases:
        p = subprocess.run([DSGRAPHD, "--foreground"] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=15, cwd=dir)
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode <= 0:
            problems.append("%s: exit status %d" % (what, p.returncode))
        if not any(w in err for w in words):
            problems.append("%s: stderr should mention one of %s: %r" % (what, words, err[-300:]))
        for mark in SANITIZER_MARKS:
            if mark in err:
                problems.append("%s: sanitizer report: %s" % (what, err[err.find(mark):][:200].replace("\n", " | ")))
    check(not any(os.path.exists(os.path.join(dir, f)) for f in ("a.db", "e.db")),
          "a database was created by a refused start: %s" % os.listdir(dir))
    check(not problems, "; ".join(problems))


@test
def stalled_reader_does_not_hold_shutdown_past_shutdown_timeout():
    d = Daemon(config={"shutdown_timeout_ms": 1000, "max_output_bytes": 1048576}).start()
    c = d.client(timeout=10, rcvbuf=4096)
    for i in range(4):     # ~800 kB of replies it never reads (below max_output_bytes)
        c.send_line(req("sql", {"sql": "SELECT zeroblob(100000)"}, i))
    with d.client() as c2:
        c2.ok("ping")
    time.sleep(0.3)
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, 10)
    dt = time.monotonic() - t0
    print("  # exit %d after %.2fs" % (rc, dt))
    eq(rc, 0, "exit status")
    check(dt < 4, "with shutdown_timeout_ms = 1000 the daemon took %.1fs to exit" % dt)
    c.close()


def stop_mid_request(d, c, line, what):
    """Sends line on c, lets it run, then SIGTERM: with shutdown_timeout_ms = 300 the daemon
    must interrupt it and exit 0 within seconds (the request alone runs far longer)."""
    c.send_line(line)
    time.sleep(1.0)
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, 30)
    dt = time.monotonic() - t0
    print("  # %s: exit %d %.2fs after SIGTERM" % (what, rc, dt))
    eq(rc, 0, "exit status after SIGTERM with %s running" % what)
    check(dt < 5, "with shutdown_timeout_ms = 300 and %s running the daemon took %.1fs to exit" % (what, dt))
    check("interrupting 1 request(s) still running" in d.log(),
          "the log should say the running request was interrupted: %s" % short(d.log()[-600:]))


@test(timeout=90)
def shutdown_interrupts_a_long_write_and_rolls_it_back():
    # A million CREATEs take ~14 s in a release build, far longer under the sanitizers.
    d = Daemon(config={"shutdown_timeout_ms": 300, "query_timeout_ms": 3600000}).start()
    with d.client() as c:
        c.ok("node.put", {"labels": ["Kept"], "name": "before"})
    c = d.client(timeout=30)
    stop_mid_request(d, c, req("query", {"query": "UNWIND range(1, 1000000) AS i CREATE (:Slow {i: i})"}, 1),
                     "a Cypher write")
    c.close()
    d.start()
    with d.client() as c:
        r = c.ok("query", {"query": "MATCH (n) RETURN labels(n)[0] AS l, count(*) AS c ORDER BY l"})
        eq(r["rows"], [["Kept", 1]], "the graph after the interrupted write (nothing of it, everything before it)")
        c.ok("node.put", {"labels": ["Kept"], "name": "after"})   # the database takes writes again
    d.stop_ok()


@test(timeout=90)
def shutdown_stops_a_plugin_that_catches_every_error():
    d, _ = plugin_daemon(instructions=1 << 50, extra={"shutdown_timeout_ms": 300})
    c = d.client(timeout=30)
    token, err = upload(c, "spin.bomb", b"loop_pcall\n", plugin="limits", end=False)
    check(err is None, "import.begin/chunk: %s" % short(err))
    stop_mid_request(d, c, req("import.end", {"import": token}, 7), "an importer looping inside pcall")
    c.close()
    d.start()
    with d.client() as c:
        r = c.ok("query", {"query": "MATCH (n:Bomb) RETURN count(n)"})
        eq(r["rows"], [[0]], "Bomb nodes after the interrupted import (its first node is written before the loop)")
    d.stop_ok()


@test
def log_format():
    d = Daemon().start()
    with d.client() as c:
        c.ok("ping")
        c.call("no.such.method")
    d.stop_ok()
    lines = [l for l in d.log().splitlines() if l.strip()]
    check(lines, "dsgraphd logged nothing at --log-level debug")
    bad = [l for l in lines if not LOG_LINE_RE.match(l)]
    check(not bad, "log lines not in the format '2026-11-28T14:00:00.123Z info ...': %s" % short(bad[:5]))
    check(any(d.socket in l for l in lines), "the start-up log should name the socket path")
    # --log-level error: no debug/info lines
    d.start(log_level="error")
    with d.client() as c:
        c.ok("ping")
    d.stop_ok()
    lines = [l for l in d.log().splitlines() if l.strip()]
    noisy = [l for l in lines if re.match(r"^\S+ (debug|info|warn) ", l)]
    check(not noisy, "lines below error logged with --log-level error: %s" % short(noisy[:5]))


if __name__ == "__main__":
    run_all()
