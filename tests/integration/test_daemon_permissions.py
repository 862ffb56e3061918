#!/usr/bin/env python3
"""Write permission: a uid that may not write can read but gets -32004 on writes; write_uids
and write_gids in the config grant it; socket_mode is applied to the socket. Needs root (to
run a client as nobody); skipped otherwise."""
import os
import select
import signal
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import (Daemon, Skip, check, check_response, dumps, eq, expect_error, loads,  # noqa: E402
                     make_tmpdir, node_of, req, run_all, run_as, short, test)

NOBODY = 65534
NOGROUP = 65534


def need_root():
    if os.geteuid() != 0:
        raise Skip("not root: cannot run a client as nobody")


def open_dir():
    d = make_tmpdir()
    os.chmod(d, 0o711)   # nobody must be able to reach the socket
    return d


def start(extra_config=None):
    cfg = {"socket_mode": "0666"}
    cfg.update(extra_config or {})
    d = Daemon(config=cfg, dir=open_dir())
    d.start()
    with d.client() as c:
        a = node_of(c.ok("node.put", {"labels": ["Model"], "name": "Owned", "properties": {"v": 1}}))["id"]
        b = node_of(c.ok("node.put", {"labels": ["Model"], "name": "Base"}))["id"]
        c.ok("rel.put", {"start": a, "type": "BASED_ON", "end": b})
    return d, a, b


def snapshot(d):
    with d.client() as c:
        return (c.ok("stats"),
                c.ok("sql", {"sql": "SELECT * FROM nodes ORDER BY id"}),
                c.ok("node.get", {"name": "Owned", "aliases": True, "relationships": True}))


WRITES = [
    ("node.put", {"labels": ["Model"], "name": "ByNobody"}),
    ("node.put", {"labels": ["Model"], "name": "Owned", "properties": {"v": 2}}),
    ("node.delete", {"name": "Owned", "detach": True}),
    ("rel.put", {"start": {"name": "Base"}, "type": "USES", "end": {"name": "Owned"}}),
    ("rel.delete", {"start": {"name": "Owned"}, "type": "BASED_ON", "end": {"name": "Base"}}),
]


@test
def nobody_can_read_but_not_write():
    need_root()
    d, a, b = start()
    mode = stat.S_IMODE(os.stat(d.socket).st_mode)
    eq(oct(mode), oct(0o666), "socket mode with socket_mode \"0666\"")
    before = snapshot(d)
    reqs = [req("ping", None, 1), req("node.get", {"id": a}, 2), req("stats", None, 3),
            req("lineage", {"node": a}, 4), req("search", {"text": "Owned"}, 5),
            req("sql", {"sql": "SELECT count(*) FROM nodes"}, 6)]
    reqs += [req(m, p, 10 + i) for i, (m, p) in enumerate(WRITES)]
    # a write as a notification must not happen either
    reqs.append(req("node.put", {"labels": ["Model"], "name": "NotifiedByNobody"}, notification=True))
    reqs.append(req("ping", None, 99))
    replies = run_as(NOBODY, NOGROUP, d.socket, reqs)
    eq([r.get("id") for r in replies], [1, 2, 3, 4, 5, 6] + [10 + i for i in range(len(WRITES))] + [99], "reply ids")
    for r in replies[:6] + replies[-1:]:
        check("result" in r, "a read from nobody must succeed: %s" % short(r))
    eq(replies[0]["result"].get("pid"), d.pid, "ping pid")
    eq(node_of(replies[1]["result"])["id"], a, "node.get as nobody")
    for r, (m, p) in zip(replies[6:-1], WRITES):
        expect_error(r, -32004, "%s as nobody" % m)
    eq(snapshot(d), before, "the graph after nobody's writes (stats, nodes, the node)")
    with d.client() as c:
        r, e = c.call("node.get", {"name": "ByNobody"})
        expect_error(e, -32001, "node.get of the node nobody tried to create")
        r, e = c.call("node.get", {"name": "NotifiedByNobody"})
        expect_error(e, -32001, "node.get of the node nobody tried to create by a notification")
        # root (and the daemon's own uid) may write
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "ByRoot"}), "write as root")


@test
def write_uids_lets_nobody_write():
    need_root()
    for cfg in ({"write_uids": [NOBODY]}, {"write_uids": [1000, "nobody"]}, {"write_gids": [NOGROUP]},
                {"write_gids": ["nogroup"]}):
        d, a, b = start(cfg)
        replies = run_as(NOBODY, NOGROUP, d.socket, [
            req("node.put", {"labels": ["Model"], "name": "ByNobody", "properties": {"w": 1}}, 1),
            req("rel.put", {"start": {"name": "ByNobody"}, "type": "USES", "end": a}, 2),
            req("node.put", {"labels": ["Model"], "name": "Owned", "properties": {"v": 3}}, 3),
        ])
        for r in replies:
            check("result" in r, "with %s, a write from nobody must succeed: %s" % (short(cfg), short(r)))
        with d.client() as c:
            n = node_of(c.ok("node.get", {"name": "ByNobody", "relationships": True}))
            eq(n["properties"], {"name": "ByNobody", "w": 1}, "with %s, nobody's node" % short(cfg))
            eq(node_of(c.ok("node.get", {"id": a}))["properties"].get("v"), 3, "with %s, nobody's update" % short(cfg))
            eq(c.ok("stats").get("nodes"), 3, "with %s, stats.nodes" % short(cfg))
        d.stop_ok()


@test
def other_write_uids_do_not_help_nobody():
    need_root()
    d, a, b = start({"write_uids": [1000, 1001], "write_gids": [1000]})
    before = snapshot(d)
    replies = run_as(NOBODY, NOGROUP, d.socket, [
        req("node.put", {"labels": ["Model"], "name": "ByNobody"}, 1), req("ping", None, 2)])
    expect_error(replies[0], -32004, "node.put as nobody with write_uids {1000,1001}")
    check("result" in replies[1], "ping: %s" % short(replies[1]))
    eq(snapshot(d), before, "the graph")


@test
def sighup_reloads_write_permissions():
    # write_uids changes on SIGHUP, also for a client that is already connected.
    need_root()
    d, a, b = start()
    put = lambda i: req("node.put", {"labels": ["Model"], "name": "Hup%d" % i}, i)
    expect_error(run_as(NOBODY, NOGROUP, d.socket, [put(1)])[0], -32004, "node.put as nobody before SIGHUP")
    d.set_config({"socket_mode": "0666", "write_uids": [NOBODY]})
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:
        r = run_as(NOBODY, NOGROUP, d.socket, [put(2)])[0]
        if "result" in r or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    check("result" in r, "after SIGHUP with write_uids = {65534}, nobody's write must succeed: %s" % short(r))
    d.set_config({"socket_mode": "0666"})
    d.proc.send_signal(signal.SIGHUP)
    # poll with a probe (which may be written while the reload is still on its way), then
    # check the real write once the reload is seen
    probe = req("node.put", {"labels": ["Probe"], "name": "HupProbe"}, 9)
    deadline = time.monotonic() + 10
    while "error" not in run_as(NOBODY, NOGROUP, d.socket, [probe])[0] and time.monotonic() < deadline:
        time.sleep(0.1)
    r = run_as(NOBODY, NOGROUP, d.socket, [put(3)])[0]
    expect_error(r, -32004, "node.put as nobody after write_uids was removed again")
    check(d.alive(), "the daemon died on SIGHUP")
    with d.client() as c:
        models = c.ok("sql", {"sql": "SELECT count(*) FROM node_labels WHERE label = 'Model'"})["rows"][0][0]
        eq(models, 3, "Model nodes: the two set up and Hup2")


class Session:
    """One connection held by a forked child running as uid/gid; call() sends a request over
    it and returns the reply (so permission changes can be seen on a live connection)."""

    def __init__(self, uid, gid, path):
        self.to_child_r, self.to_child_w = os.pipe()
        self.from_child_r, self.from_child_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                signal.alarm(0)
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(20)
                s.connect(path)
                inp = os.fdopen(self.to_child_r, "rb")
                out = os.fdopen(self.from_child_w, "wb")
                f = s.makefile("rb")
                for line in inp:
                    s.sendall(line)
                    out.write(f.readline())
                    out.flush()
            finally:
                os._exit(0)
        os.close(self.to_child_r)
        os.close(self.from_child_w)
        self.inp = os.fdopen(self.from_child_r, "rb")

    def call(self, request, timeout=20):
        os.write(self.to_child_w, dumps(request) + b"\n")
        r, _, _ = select.select([self.inp], [], [], timeout)
        check(r, "no reply through the session within %ds" % timeout)
        line = self.inp.readline()
        check(line, "the session's child ended")
        return check_response(loads(line))

    def close(self):
        os.close(self.to_child_w)
        self.inp.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(self.pid, 0)


@test
def sighup_applies_to_connected_clients():
    need_root()
    d, a, b = start()
    sess = Session(NOBODY, NOGROUP, d.socket)
    try:
        put = lambda i: req("node.put", {"labels": ["Model"], "name": "Live%d" % i}, i)
        expect_error(sess.call(put(1)), -32004, "node.put on a live nobody connection before SIGHUP")
        d.set_config({"socket_mode": "0666", "write_uids": [NOBODY]})
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            r = sess.call(put(2))
            if "result" in r or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        check("result" in r, "after SIGHUP granting write, the already connected client must be able to write: %s"
              % short(r))
    finally:
        sess.close()


@test
def daemon_own_uid_and_root_may_write():
    # The daemon runs as nobody: nobody (its own uid) and root may write, uid 4242 may not.
    need_root()
    dir = open_dir()
    os.chown(dir, NOBODY, NOGROUP)
    d = Daemon(config={"socket_mode": "0666"}, dir=dir)
    d.start(user=(NOBODY, NOGROUP))
    eq(os.stat(d.socket).st_uid, NOBODY, "owner of the socket of a daemon running as nobody")
    r = run_as(NOBODY, NOGROUP, d.socket, [req("node.put", {"labels": ["Model"], "name": "ByOwner"}, 1)])[0]
    check("result" in r, "the daemon's own uid must be allowed to write: %s" % short(r))
    with d.client() as c:
        node_of(c.ok("node.put", {"labels": ["Model"], "name": "ByRoot"}), "root must be allowed to write")
    r = run_as(4242, 4242, d.socket, [req("node.put", {"labels": ["Model"], "name": "ByStranger"}, 1),
                                      req("node.get", {"name": "ByOwner"}, 2)])
    expect_error(r[0], -32004, "node.put from uid 4242")
    check("result" in r[1], "node.get from uid 4242: %s" % short(r[1]))
    with d.client() as c:
        eq(c.ok("stats")["nodes"], 2, "nodes")
    d.stop_ok()


@test
def default_socket_mode_keeps_nobody_out():
    need_root()
    d = Daemon(dir=open_dir()).start()
    mode = stat.S_IMODE(os.stat(d.socket).st_mode)
    eq(oct(mode), oct(0o660), "default socket mode")
    try:
        run_as(NOBODY, NOGROUP, d.socket, [req("ping", None, 1)])
    except AssertionError as e:
        check("Permission denied" in str(e) or "PermissionError" in str(e),
              "nobody's connect should fail with EACCES: %s" % e)
    else:
        raise AssertionError("nobody could connect to a socket with the default mode 0660")


if __name__ == "__main__":
    run_all()
