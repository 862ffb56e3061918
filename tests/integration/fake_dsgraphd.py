#!/usr/bin/env python3
"""A tiny stand-in for dsgraphd: speaks the framing of docs/protocol.md
(one JSON value per line, JSON-RPC 2.0, batches, notifications) and answers
from canned rules, recording every request it receives. Used by
test_dsctl_client.py to check dsctl's output without the real daemon.

Standalone:  python3 fake_dsgraphd.py --socket PATH [--rules RULES.json]
where RULES.json is a list of {"method":M, "params":{subset}, "result":R}
(or "error":E, or "raw":"reply line verbatim", or "close":true).
"""
import json
import os
import socket
import sys
import threading


def _matches(want, got):
    """True when every member of want equals the same member of got."""
    if want is None:
        return True
    if not isinstance(got, dict):
        return False
    return all(k in got and got[k] == v for k, v in want.items())


class FakeDsgraphd:
    """Serves canned replies on a Unix socket from a background thread."""

    def __init__(self, path):
        self.path = path
        self.rules = []          # checked first to last
        self.requests = []       # every parsed line (objects and batches)
        self.lines = []          # every raw line received (bytes)
        self._sock = None
        self._threads = []
        self._lock = threading.Lock()

    def add(self, method, result=None, params=None, error=None, raw=None, close=False):
        """Adds a rule; the first rule matching method and params answers."""
        self.rules.append({"method": method, "params": params, "result": result,
                           "error": error, "raw": raw, "close": close})

    def clear(self):
        """Forgets rules and recorded requests between tests."""
        with self._lock:
            self.rules = []
            self.requests = []
            self.lines = []

    def start(self):
        """Binds the socket and starts accepting."""
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.path)
        self._sock.listen(16)
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        return self

    def stop(self):
        """Closes the listening socket and removes it."""
        try:
            self._sock.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _rule_for(self, req):
        for r in self.rules:
            if r["method"] == req.get("method") and _matches(r["params"], req.get("params")):
                return r
        return None

    @staticmethod
    def _error(rid, code, kind, message):
        return {"jsonrpc": "2.0", "id": rid,
                "error": {"code": code, "message": message, "data": {"kind": kind}}}

    def _answer(self, req):
        """Returns (response or None, raw line or None, close flag)."""
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
            return self._error(None, -32600, "invalid_request", "invalid request"), None, False
        notification = "id" not in req
        rid = req.get("id")
        rule = self._rule_for(req)
        if rule is None and req["method"] == "ping":
            rule = {"result": {"version": "0.1.0", "pid": 4242, "uptime_ms": 1234},
                    "error": None, "raw": None, "close": False}
        if rule is None:
            resp = self._error(rid, -32601, "method_not_found", "no such method: %s" % req["method"])
        elif rule["close"]:
            return None, None, True
        elif rule["raw"] is not None:
            return None, (None if notification else rule["raw"]), False
        elif rule["error"] is not None:
            resp = {"jsonrpc": "2.0", "id": rid, "error": rule["error"]}
        else:
            resp = {"jsonrpc": "2.0", "id": rid, "result": rule["result"]}
        return (None if notification else resp), None, False

    def _handle_line(self, line):
        """Returns (bytes to send, close flag) for one received line."""
        with self._lock:
            self.lines.append(line)
        try:
            msg = json.loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            err = self._error(None, -32700, "parse_error", "parse error at line 1")
            return self._dump(err), False
        with self._lock:
            self.requests.append(msg)
        if isinstance(msg, list):
            if not msg:
                return self._dump(self._error(None, -32600, "invalid_request", "empty batch")), False
            out = []
            for m in msg:
                resp, _, close = self._answer(m)
                if close:
                    return b"", True
                if resp is not None:
                    out.append(resp)
            return (self._dump(out) if out else b""), False
        resp, raw, close = self._answer(msg)
        if close:
            return b"", True
        if raw is not None:
            return raw.encode("utf-8") + b"\n", False
        return (self._dump(resp) if resp is not None else b""), False

    @staticmethod
    def _dump(obj):
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    def _serve(self, conn):
        buf = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.rstrip(b"\r")
                    if not line.strip():
                        continue
                    out, close = self._handle_line(line)
                    if out:
                        conn.sendall(out)
                    if close:
                        return


def main(argv):
    """Runs the fake in the foreground until interrupted."""
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--rules")
    args = ap.parse_args(argv)
    fake = FakeDsgraphd(args.socket)
    if args.rules:
        with open(args.rules, encoding="utf-8") as f:
            for r in json.load(f):
                fake.add(r["method"], r.get("result"), r.get("params"), r.get("error"),
                         r.get("raw"), r.get("close", False))
    fake.start()
    print("fake_dsgraphd: listening on %s" % args.socket, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
