"""dsgtest: the shared harness of the dsgraphd integration tests (python3 stdlib only).

Not a test itself. Each tests/integration/test_daemon_*.py imports it, marks its test
functions with @test and ends with run_all(), which prints "ok NAME" / "FAIL NAME: reason"
/ "skip NAME: reason" lines and a final "N passed, M failed" line, and exits 1 if any failed.

Environment: DSGRAPHD, DSCTL (binary paths) and DSGRAPH_SOURCE_DIR, as ctest sets them;
defaults: <source>/build-it/dsgraphd and <source>/build-it/dsctl. DSGTEST_KEEP=1 keeps the
temporary directories (under /tmp/dsgt-*) for inspection.

Everything is bounded: every socket operation has a timeout, every daemon started is
SIGKILLed when its test ends (whatever happened), and every test has an alarm.
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DSGRAPH_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
DSGRAPHD = os.environ.get("DSGRAPHD") or os.path.join(SOURCE_DIR, "build-it", "dsgraphd")
DSCTL = os.environ.get("DSCTL") or os.path.join(SOURCE_DIR, "build-it", "dsctl")

READY_TIMEOUT = 10.0      # the socket must accept connections within this after start
STOP_TIMEOUT = 10.0       # SIGTERM -> exit
IO_TIMEOUT = 20.0         # default timeout of one socket operation

LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) ")


# --------------------------------------------------------------------------- JSON


class Float(float):
    """A float that remembers the JSON text it was parsed from (to tell 1 from 1.0)."""

    def __new__(cls, text):
        f = float.__new__(cls, text)
        f.text = text
        return f


def loads(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data, parse_float=Float)


def dumps(obj):
    """Compact JSON, UTF-8 kept as is (no \\u escapes), as bytes, without newline."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def req(method, params=None, id=None, notification=False):
    """A request object (a notification when notification=True)."""
    r = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        r["params"] = params
    if not notification:
        r["id"] = id
    return r


# --------------------------------------------------------------------------- assertions


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def eq(got, expected, what):
    if got != expected:
        raise TestFailure("%s: expected %s, got %s" % (what, short(expected), short(got)))


def short(v, limit=600):
    try:
        s = json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


ERROR_KINDS = {
    -32700: "parse_error",
    -32600: "invalid_request",
    -32601: "method_not_found",
    -32602: "invalid_params",
    -32603: "internal_error",
    -32001: "not_found",
    -32002: "ambiguous",
    -32003: "conflict",
    -32004: "permission_denied",
    -32005: "read_only",
    -32006: "limit_exceeded",
    -32007: "busy",
    -32008: "shutting_down",
}


def check_response(resp, what="response"):
    """Checks the JSON-RPC 2.0 shape of one response object (not a batch)."""
    check(isinstance(resp, dict), "%s is not an object: %s" % (what, short(resp)))
    check(resp.get("jsonrpc") == "2.0", "%s lacks \"jsonrpc\":\"2.0\": %s" % (what, short(resp)))
    check("id" in resp, "%s has no id: %s" % (what, short(resp)))
    has_r, has_e = "result" in resp, "error" in resp
    check(has_r != has_e, "%s must have exactly one of result/error: %s" % (what, short(resp)))
    if has_e:
        e = resp["error"]
        check(isinstance(e, dict) and isinstance(e.get("code"), int) and not isinstance(e.get("code"), bool)
              and isinstance(e.get("message"), str),
              "%s: malformed error object: %s" % (what, short(resp)))
        kind = (e.get("data") or {}).get("kind") if isinstance(e.get("data"), dict) else None
        if e["code"] in ERROR_KINDS:
            check(kind == ERROR_KINDS[e["code"]],
                  "%s: error %d must have data.kind %r, got %s" % (what, e["code"], ERROR_KINDS[e["code"]], short(resp)))
    return resp


def expect_error(resp_or_err, code, what, id=Ellipsis):
    """resp_or_err: a whole response or its error member (or None). Checks code and kind."""
    err = resp_or_err
    if isinstance(resp_or_err, dict) and "jsonrpc" in resp_or_err:
        if id is not Ellipsis:
            eq(resp_or_err.get("id"), id, "%s: id" % what)
        err = resp_or_err.get("error")
        if err is None:
            raise TestFailure("%s: expected error %d (%s), got result %s"
                              % (what, code, ERROR_KINDS.get(code), short(resp_or_err.get("result"))))
    if err is None:
        raise TestFailure("%s: expected error %d (%s), got a result" % (what, code, ERROR_KINDS.get(code)))
    eq(err.get("code"), code, "%s: error code (error %s)" % (what, short(err)))
    kind = (err.get("data") or {}).get("kind") if isinstance(err.get("data"), dict) else None
    eq(kind, ERROR_KINDS[code], "%s: error data.kind" % what)
    check(isinstance(err.get("message"), str) and err["message"], "%s: empty error message" % what)
    return err


# --------------------------------------------------------------------------- client


class RpcError(Exception):
    def __init__(self, err):
        self.err = err
        self.code = err.get("code")
        self.kind = (err.get("data") or {}).get("kind") if isinstance(err.get("data"), dict) else None
        Exception.__init__(self, "rpc error %s: %s" % (self.code, err.get("message")))


class Client:
    """One connection. Lines in, lines out, every operation bounded by a timeout."""

    def __init__(self, path, timeout=IO_TIMEOUT, rcvbuf=None, sndbuf=None):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except BaseException:
            self.sock.close()
            raise
        self.buf = b""
        self.next_id = 1
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    # raw bytes
    def send_raw(self, data):
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def send_line(self, data):
        if not isinstance(data, bytes):
            data = dumps(data)
        self.send_raw(data + b"\n")

    def recv_line(self, timeout=None):
        """The next line without its '\\n', or None at EOF. Raises socket.timeout."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                return line
            if self.eof:
                if self.buf:
                    raise TestFailure("connection closed in the middle of a line: %r" % self.buf[:200])
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete line within %.1fs (have %d bytes: %r)"
                                     % (timeout, len(self.buf), self.buf[:200]))
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                self.eof = True
            else:
                self.buf += chunk

    def recv_json(self, timeout=None, what="response"):
        """The next line parsed; each response object's shape is checked. EOF is a failure."""
        line = self.recv_line(timeout)
        if line is None:
            raise TestFailure("%s: connection closed by the daemon (EOF) instead of a reply" % what)
        try:
            v = loads(line)
        except ValueError as e:
            raise TestFailure("%s: reply is not JSON (%s): %r" % (what, e, line[:300]))
        if isinstance(v, list):
            check(len(v) > 0, "%s: empty batch response array" % what)
            for x in v:
                check_response(x, what)
        else:
            check_response(v, what)
        return v

    def expect_silence(self, wait=0.3):
        """Asserts nothing arrives within wait seconds."""
        try:
            line = self.recv_line(wait)
        except socket.timeout:
            return
        raise TestFailure("expected no reply, got %r" % (line[:300] if line is not None else "EOF"))

    # JSON-RPC
    def new_id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def call(self, method, params=None, timeout=None):
        """Sends one request and reads its reply: (result, error)."""
        id = self.new_id()
        self.send_line(req(method, params, id))
        resp = self.recv_json(timeout, "reply to %s" % method)
        check(isinstance(resp, dict), "reply to %s is not an object: %s" % (method, short(resp)))
        eq(resp.get("id"), id, "id of the reply to %s" % method)
        return resp.get("result"), resp.get("error")

    def rpc(self, method, params=None, timeout=None):
        """Like call but returns the result and raises RpcError on an error reply."""
        result, error = self.call(method, params, timeout)
        if error is not None:
            raise RpcError(error)
        return result

    def ok(self, method, params=None, timeout=None):
        """Like rpc, but an error reply is a test failure."""
        result, error = self.call(method, params, timeout)
        if error is not None:
            raise TestFailure("%s %s failed: %s" % (method, short(params, 300), short(error)))
        return result

    def pipeline(self, requests, timeout=60.0):
        """Sends requests (objects; ids must be set) in one write from a thread while
        reading; returns the replies in arrival order (one per request with an id)."""
        n = sum(1 for r in requests if isinstance(r, list) or "id" in r)
        data = b"".join(dumps(r) + b"\n" for r in requests)
        errors = []

        def sender():
            try:
                self.send_raw(data)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        out = []
        deadline = time.monotonic() + timeout
        try:
            while len(out) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TestFailure("pipeline: only %d of %d replies within %.0fs" % (len(out), n, timeout))
                out.append(self.recv_json(left, "pipelined reply %d" % len(out)))
        finally:
            t.join(timeout=5)
        if errors:
            raise TestFailure("pipeline: sending failed: %s" % errors[0])
        return out


def node_of(result, what="result"):
    check(isinstance(result, dict) and isinstance(result.get("$node"), dict),
          "%s is not a {\"$node\":...}: %s" % (what, short(result)))
    n = result["$node"]
    check(isinstance(n.get("id"), int) and isinstance(n.get("labels"), list)
          and isinstance(n.get("properties"), dict), "%s: malformed $node: %s" % (what, short(result)))
    return n


def rel_of(result, what="result"):
    check(isinstance(result, dict) and isinstance(result.get("$rel"), dict),
          "%s is not a {\"$rel\":...}: %s" % (what, short(result)))
    r = result["$rel"]
    for k, t in (("id", int), ("type", str), ("start", int), ("end", int), ("properties", dict)):
        check(isinstance(r.get(k), t), "%s: malformed $rel (%s): %s" % (what, k, short(result)))
    return r


# --------------------------------------------------------------------------- daemon

_ACTIVE = []       # daemons and temp dirs of the running test, cleaned up when it ends
_TMPDIRS = []


class Pinger(threading.Thread):
    """Pings every 10 ms on its own connection and records each round trip."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.times, self.errors, self.stop = path, [], [], threading.Event()

    def run(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(self.path)
            buf, n = b"", 0
            while not self.stop.is_set():
                n += 1
                t0 = time.monotonic()
                s.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % n)
                while b"\n" not in buf:
                    buf += s.recv(65536)
                buf = buf.split(b"\n", 1)[1]
                self.times.append(time.monotonic() - t0)
                time.sleep(0.010)
            s.close()
        except Exception as e:   # reported by the test thread
            self.errors.append(e)


def vm_hwm_kib(pid):
    """Peak resident memory (VmHWM) of a process in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def sanitized(binary):
    """Is binary built with AddressSanitizer (its memory bounds are looser)?"""
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return False
    return "libasan" in out


def make_tmpdir(prefix="dsgt-"):
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    _TMPDIRS.append(d)
    return d


def lua_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua_value(x) for x in v) + "}"
    raise TypeError("no Lua form for %r" % (v,))


class DaemonExited(TestFailure):
    pass


class Daemon:
    """One dsgraphd in a temporary directory: socket <dir>/<name>.sock, db <dir>/<name>.db,
    config <dir>/<name>.conf (from a dict, when given), stderr <dir>/<name>.<run>.log."""

    def __init__(self, config=None, name="d", dir=None, db=None, socket_path=None):
        self.dir = dir or make_tmpdir()
        self.name = name
        self.socket = socket_path or os.path.join(self.dir, name + ".sock")
        self.db = db or os.path.join(self.dir, name + ".db")
        self.config_path = None
        if config is not None:
            self.set_config(config)
        self.proc = None
        self.runs = 0
        self.log_path = None
        self.logs = []
        self.ready_seconds = None
        check(len(self.socket.encode()) < 100, "socket path too long: " + self.socket)
        _ACTIVE.append(self)

    def set_config(self, config):
        self.config_path = os.path.join(self.dir, self.name + ".conf")
        with open(self.config_path, "w") as f:
            if isinstance(config, str):
                f.write(config)
            else:
                for k, v in config.items():
                    f.write("%s = %s\n" % (k, lua_value(v)))

    def argv(self, seed=None, extra=(), socket_arg=True, db_arg=True, log_level="debug", foreground=True):
        a = [DSGRAPHD] + (["--foreground"] if foreground else [])
        if self.config_path:
            a += ["--config", self.config_path]
        if socket_arg:
            a += ["--socket", self.socket]
        if db_arg:
            a += ["--db", self.db]
        if log_level:
            a += ["--log-level", log_level]
        if seed:
            a += ["--seed", seed]
        return a + list(extra)

    def start(self, seed=None, extra=(), wait=True, env=None, socket_arg=True, db_arg=True,
              log_level="debug", timeout=READY_TIMEOUT, foreground=True, user=None):
        """Starts the daemon; with wait, returns once a connection to the socket succeeds
        (self.ready_seconds = time from spawn to that)."""
        if not os.path.exists(DSGRAPHD):
            raise TestFailure("dsgraphd binary not found at %s (set DSGRAPHD)" % DSGRAPHD)
        check(self.proc is None or self.proc.poll() is not None, "daemon already running")
        self.runs += 1
        self.log_path = os.path.join(self.dir, "%s.%d.log" % (self.name, self.runs))
        self.logs.append(self.log_path)
        logf = open(self.log_path, "wb")
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "abort_on_error=0")
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        self.argv_used = self.argv(seed, extra, socket_arg, db_arg, log_level, foreground)
        t0 = time.monotonic()
        kw = {}
        if user is not None:           # (uid, gid): run the daemon as that user (needs root)
            kw = {"user": user[0], "group": user[1], "extra_groups": []}
        self.proc = subprocess.Popen(self.argv_used, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                     env=e, close_fds=True, **kw)
        logf.close()
        self.t_start = t0
        if wait:
            self.wait_ready(timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=READY_TIMEOUT, path=None):
        """Polls until the socket path exists and accepts a connection."""
        path = path or self.socket
        deadline = self.t_start + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise DaemonExited("dsgraphd exited with status %s before accepting connections" % rc)
            if os.path.exists(path):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                try:
                    s.connect(path)
                    self.ready_seconds = time.monotonic() - self.t_start
                    return self.ready_seconds
                except OSError:
                    pass
                finally:
                    s.close()
            if time.monotonic() > deadline:
                raise TestFailure("dsgraphd did not accept connections on %s within %.0fs" % (path, timeout))
            time.sleep(0.01)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """The exit status (negative: killed by that signal); a failure if still running."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("dsgraphd (pid %d) still running %.0fs later" % (self.proc.pid, timeout))

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig and waits for the exit: returns the status. Kills it if it hangs."""
        if not self.alive():
            return self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("dsgraphd did not exit within %.0fs of signal %d" % (timeout, sig))

    def stop_ok(self, timeout=STOP_TIMEOUT):
        rc = self.stop(signal.SIGTERM, timeout)
        eq(rc, 0, "exit status of dsgraphd after SIGTERM")

    def kill(self):
        if self.alive():
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def log(self, run=None):
        """stderr of the current (or given 1-based) run."""
        path = self.log_path if run is None else self.logs[run - 1]
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def wait_log(self, substring, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if substring in self.log():
                return True
            time.sleep(0.05)
        return False

    def rss_kib(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def client(self, **kw):
        return Client(self.socket, **kw)


# --------------------------------------------------------------------------- helpers


def write_jsonl(path, objs):
    with open(path, "wb") as f:
        for o in objs:
            f.write(dumps(o) + b"\n")


def run_as(uid, gid, socket_path, requests, timeout=20):
    """Runs a client as uid/gid in a forked child (no exec, so the interpreter's location
    does not matter): sends each request (object) on one connection and reads one reply per
    request that has an id. Returns the replies; a child failure raises TestFailure."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:                       # child: never returns
        status = 0
        try:
            os.close(rfd)
            signal.alarm(0)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(socket_path)
            buf = b""
            out = []
            for r in requests:
                s.sendall(dumps(r) + b"\n")
                if "id" not in r:
                    continue
                while b"\n" not in buf:
                    c = s.recv(65536)
                    if not c:
                        raise EOFError("EOF from the daemon")
                    buf += c
                line, buf = buf.split(b"\n", 1)
                out.append(json.loads(line))
            data = json.dumps({"ok": out}).encode()
        except BaseException as e:
            data = json.dumps({"error": "%s: %s" % (type(e).__name__, e)}).encode()
            status = 1
        try:
            while data:
                n = os.write(wfd, data)
                data = data[n:]
        finally:
            os._exit(status)
    os.close(wfd)
    chunks = []
    deadline = time.monotonic() + timeout + 5
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise TestFailure("client as uid %d timed out" % uid)
            r, _, _ = select.select([rfd], [], [], left)
            if r:
                c = os.read(rfd, 1 << 16)
                if not c:
                    break
                chunks.append(c)
    finally:
        os.close(rfd)
        os.waitpid(pid, 0)
    res = json.loads(b"".join(chunks) or b'{"error":"child wrote nothing"}', parse_float=Float)
    if "error" in res:
        raise TestFailure("client as uid %d failed: %s" % (uid, res["error"]))
    for r in res["ok"]:
        check_response(r, "reply to uid %d" % uid)
    return res["ok"]


# --------------------------------------------------------------------------- runner

_TESTS = []


def test(fn=None, timeout=100):
    """Registers a test function (@test or @test(timeout=N))."""
    def reg(f):
        f._timeout = timeout
        _TESTS.append(f)
        return f
    if fn is not None:
        return reg(fn)
    return reg


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer",
                   "AddressSanitizer:DEADLYSIGNAL")


def sanitizer_reports():
    """Sanitizer reports (ASan, LSan, UBSan) in the stderr of the test's daemons."""
    found = []
    for d in _ACTIVE:
        for p in d.logs:
            try:
                with open(p, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            for mark in SANITIZER_MARKS:
                i = text.find(mark)
                if i >= 0:
                    found.append("%s: %s" % (os.path.basename(p), text[i:i + 400].replace("\n", " | ")))
                    break
    return found


class TestTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise TestTimeout("test took too long (alarm)")


def _cleanup(failed):
    for d in list(_ACTIVE):
        try:
            d.kill()
        except Exception:
            pass
        if failed:
            for i, p in enumerate(d.logs):
                try:
                    with open(p, "rb") as f:
                        text = f.read().decode("utf-8", "replace")
                except OSError:
                    continue
                lines = text.splitlines()
                if len(lines) > 60:
                    lines = lines[:20] + ["    ... (%d lines) ..." % (len(lines) - 60)] + lines[-40:]
                print("  --- stderr of dsgraphd %s run %d (%s) ---" % (d.name, i + 1, " ".join(
                    getattr(d, "argv_used", [])) if i + 1 == d.runs else p))
                for line in lines:
                    print("  | " + line)
    del _ACTIVE[:]
    keep = os.environ.get("DSGTEST_KEEP")
    for t in list(_TMPDIRS):
        if keep:
            print("  (kept %s)" % t)
        else:
            shutil.rmtree(t, ignore_errors=True)
    del _TMPDIRS[:]


def run_all():
    passed = failed = skipped = 0
    only = set(sys.argv[1:])
    signal.signal(signal.SIGALRM, _on_alarm)
    t_all = time.monotonic()
    if not os.access(DSGRAPHD, os.X_OK):
        print("FAIL setup: dsgraphd binary not found at %s (set DSGRAPHD)" % DSGRAPHD)
        print("0 passed, 1 failed")
        sys.exit(1)
    for fn in _TESTS:
        name = fn.__name__
        if only and name not in only:
            continue
        t0 = time.monotonic()
        bad = False
        signal.alarm(fn._timeout)
        try:
            fn()
            signal.alarm(0)
            reports = sanitizer_reports()
            if reports:
                raise TestFailure("sanitizer report in dsgraphd's stderr: %s" % reports[0])
            passed += 1
            print("ok %s" % name)
        except Skip as e:
            signal.alarm(0)
            skipped += 1
            print("skip %s: %s" % (name, e))
        except BaseException as e:
            signal.alarm(0)
            if isinstance(e, KeyboardInterrupt):
                raise
            bad = True
            failed += 1
            reason = str(e) if isinstance(e, (TestFailure, TestTimeout)) else "%s: %s" % (type(e).__name__, e)
            print("FAIL %s: %s" % (name, reason.replace("\n", " | ")))
            tb = traceback.format_exc().rstrip().splitlines()
            for line in tb[-12:]:
                print("  " + line)
        finally:
            signal.alarm(0)
            _cleanup(bad)
        print("  # %s took %.1fs" % (name, time.monotonic() - t0))
        sys.stdout.flush()
    print("  # total %.1fs" % (time.monotonic() - t_all))
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
