#!/usr/bin/env python3
"""Imports: uploads in chunks, all-or-nothing runs with plugin:input:line errors, dry
runs, import_dirs, re-imports, provenance (imports list/show/retract) through dsctl,
and plugin reloads (dsctl and SIGHUP) that keep connections and uploads alive."""
import base64
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, check, eq, expect_error, run_all, test  # noqa: E402
from plugtest import alive, count_nodes, plugin_daemon, spool_files, upload, write  # noqa: E402

GOOD = "node Model A x=1\nnode Model B\nrel A USES B\nwarn hello there\nalias A aa\n"


def dsctl(d, *args, check_rc=0):
    env = dict(os.environ, DSGRAPH_SOCKET=d.socket)
    p = subprocess.run([DSCTL] + list(args), capture_output=True, text=True, env=env, timeout=120)
    if check_rc is not None:
        eq(p.returncode, check_rc, "exit status of dsctl %s (stderr %r)" % (" ".join(args), p.stderr))
    return p


@test
def upload_import_and_result_shape():
    d, _ = plugin_daemon()
    with d.client() as c:
        res, err = upload(c, "good.lines", GOOD.encode(), chunk=7)
        check(err is None, "import failed: %s" % err)
        for k, v in (("plugin", "lines"), ("input", "good.lines"), ("nodes_created", 2), ("relationships_created", 1),
                     ("dry_run", False), ("unchanged", False)):
            eq(res[k], v, k)
        check(isinstance(res["import_id"], int), "import_id")
        eq(res["warnings"], [{"line": 4, "message": "hello there"}], "warnings with lines")
        eq(len(res["sha256"]), 64, "sha256")
        again, err = upload(c, "other-name.lines", GOOD.encode())
        eq(again["unchanged"], True, "re-import of the same bytes")
        eq(again["import_id"], res["import_id"], "re-import names the first import")
        eq(len(c.ok("imports.list")["imports"]), 1, "imports after a re-import")
        eq(spool_files(d), [], "spool files left")


@test
def failing_import_writes_nothing_and_names_plugin_input_line():
    d, _ = plugin_daemon()
    with d.client() as c:
        _, err = upload(c, "bad.lines", b"node Model P\nnode Model Q\nerror the third line is wrong\nnode Model R\n")
        expect_error(err, -32602, "import with ctx:error on line 3")
        eq(err["message"], "lines: bad.lines:3: the third line is wrong", "error message")
        _, err = upload(c, "boom.lines", b"node Model P\nnode Model Q\nboom\n")
        check(err["message"].startswith("lines: boom.lines:3: lines.lua:"), "Lua error: %r" % err["message"])
        eq(count_nodes(c), 0, "nodes after failed imports")
        eq(c.ok("imports.list")["imports"], [], "imports after failed imports")
        alive(d, c)


@test
def dry_run_writes_nothing():
    d, _ = plugin_daemon()
    with d.client() as c:
        res, err = upload(c, "good.lines", GOOD.encode(), dry_run=True)
        check(err is None, "dry run failed: %s" % err)
        eq(res["dry_run"], True, "dry_run")
        eq(res["import_id"], None, "import_id of a dry run")
        eq(res["nodes_created"], 2, "what a dry run would create")
        eq(count_nodes(c), 0, "nodes after a dry run")
        eq(c.ok("imports.list")["imports"], [], "imports after a dry run")
    p = dsctl(d, "import", "--dry-run", write(os.path.join(d.dir, "x.lines"), GOOD))
    check("nothing written" in p.stdout, "dsctl dry run summary: %r" % p.stdout)
    with d.client() as c:
        eq(count_nodes(c), 0, "nodes after dsctl --dry-run")


@test
def path_import_only_inside_import_dirs():
    d, imp = plugin_daemon()
    outside = write(os.path.join(d.dir, "outside.lines"), GOOD)
    link = os.path.join(imp, "link.lines")
    os.symlink(outside, link)
    with d.client() as c:
        for p in (outside, link, "/etc/passwd", os.path.join(imp, "..", "outside.lines"), "/nonexistent/x.lines"):
            _, err = c.call("import.path", {"path": p})
            expect_error(err, -32004, "import.path %s" % p)
        eq(count_nodes(c), 0, "nodes after refused paths")
        res = c.ok("import.path", {"path": write(os.path.join(imp, "in.lines"), GOOD)})
        eq(res["nodes_created"], 2, "import.path inside import_dirs")


@test
def dsctl_in_place_reads_inside_import_dirs_only():
    d, imp = plugin_daemon()
    inside = write(os.path.join(imp, "in.lines"), GOOD)
    outside = write(os.path.join(d.dir, "outside.lines"), GOOD)
    os.symlink(outside, os.path.join(imp, "link.lines"))
    # a relative path is made absolute here, since the daemon's working directory is not ours
    env = dict(os.environ, DSGRAPH_SOCKET=d.socket)
    p = subprocess.run([DSCTL, "--json", "import", "--in-place", "in.lines"], cwd=imp, capture_output=True,
                       text=True, env=env, timeout=120)
    eq(p.returncode, 0, "dsctl import --in-place of a relative path (stderr %r)" % p.stderr)
    res = json.loads(p.stdout)
    eq((res["plugin"], res["input"], res["nodes_created"], res["relationships_created"]),
       ("lines", "in.lines", 2, 1), "the import.end result shape")
    eq(res["warnings"], [{"line": 4, "message": "hello there"}], "warnings with lines")
    p = dsctl(d, "import", "--in-place", "--dry-run", write(os.path.join(imp, "dry.lines"), "node Model C\n"))
    check("dry run" in p.stdout and "nothing written" in p.stdout, "dry run summary: %r" % p.stdout)
    for path in (outside, os.path.join(imp, "link.lines")):
        p = dsctl(d, "import", "--in-place", path, check_rc=1)
        check("import_dirs" in p.stderr and p.stdout == "", "refused %s: %r" % (path, p.stderr))
    p = dsctl(d, "import", "--in-place", os.path.join(imp, "missing.lines"), check_rc=1)
    check("missing.lines" in p.stderr and "No such file" in p.stderr, "missing file named: %r" % p.stderr)
    with d.client() as c:
        eq(count_nodes(c), 2, "nodes after one in-place import and refused ones")
        eq(len(c.ok("imports.list")["imports"]), 1, "imports")


@test
def upload_limits_abort_and_disconnect():
    d, _ = plugin_daemon(extra={"import_max_bytes": 100, "import_max_uploads": 2})
    with d.client() as c:
        _, err = c.call("import.begin", {"name": "big.lines", "size": 101})
        expect_error(err, -32006, "declared size above import_max_bytes")
        _, err = upload(c, "big.lines", b"#" * 150)
        expect_error(err, -32006, "bytes above import_max_bytes")
        _, err = c.call("import.begin", {"name": "x.unknown"})
        expect_error(err, -32602, "no importer for the extension")
        check("no importer" in err["message"], err["message"])
        res = c.ok("import.begin", {"name": "sniffed.txt", "head": base64.b64encode(b"#lines\n").decode()})
        eq(res["plugin"], "lines", "plugin chosen by detect(head)")
        t2 = c.ok("import.begin", {"name": "a.lines"})["import"]
        _, err = c.call("import.begin", {"name": "b.lines"})
        expect_error(err, -32006, "more uploads than import_max_uploads")
        eq(c.ok("import.abort", {"import": t2}), {"aborted": True}, "abort")
        _, err = c.call("import.end", {"import": t2})
        expect_error(err, -32001, "end after abort")
        token, _ = upload(c, "c.lines", b"node Model Z\n", end=False)
        with d.client() as other:
            _, err = other.call("import.chunk", {"import": token, "data": "eA=="})
            expect_error(err, -32001, "another connection's upload")
        _, err = c.call("import.chunk", {"import": token, "data": "not base64!"})
        expect_error(err, -32602, "bad base64")
    time.sleep(0.3)   # the disconnect dropped both uploads
    with d.client() as c:
        t = c.ok("import.begin", {"name": "d.lines", "size": 5})["import"]
        c.ok("import.chunk", {"import": t, "data": base64.b64encode(b"node").decode()})
        _, err = c.call("import.end", {"import": t})
        expect_error(err, -32602, "fewer bytes than declared")
        eq(count_nodes(c), 0, "nodes")
    eq(spool_files(d), [], "spool files left")


@test
def read_only_clients_cannot_import():
    if os.geteuid() != 0:
        from dsgtest import Skip
        raise Skip("needs root to connect as another uid")
    from dsgtest import run_as
    d, _ = plugin_daemon(extra={"socket_mode": "0666"})
    os.chmod(d.dir, 0o711)
    replies = run_as(65534, 65534, d.socket, [
        {"jsonrpc": "2.0", "id": 1, "method": "import.begin", "params": {"name": "a.lines"}},
        {"jsonrpc": "2.0", "id": 2, "method": "plugins.reload"},
        {"jsonrpc": "2.0", "id": 3, "method": "imports.list"},
        {"jsonrpc": "2.0", "id": 4, "method": "plugins.list"}])
    expect_error(replies[0], -32004, "import.begin as nobody")
    expect_error(replies[1], -32004, "plugins.reload as nobody")
    check("result" in replies[2] and "result" in replies[3], "reads are allowed")


@test
def dsctl_import_imports_show_retract():
    d, _ = plugin_daemon()
    a = write(os.path.join(d.dir, "a.lines"), "node Model V3 params=671\nnode Model MLA\nrel V3 USES MLA\n")
    b = write(os.path.join(d.dir, "b.lines"), "node Model V3 params=685\nnode Model R1\n")
    p = dsctl(d, "--json", "import", a, b)
    res = json.loads(p.stdout)
    eq([r["nodes_created"] for r in res], [2, 1], "nodes created by each import")
    ida, idb = res[0]["import_id"], res[1]["import_id"]
    p = dsctl(d, "import", a)
    check("unchanged" in p.stdout, "re-import through dsctl: %r" % p.stdout)
    p = dsctl(d, "imports")
    check("a.lines" in p.stdout and "b.lines" in p.stdout, "imports table: %r" % p.stdout)
    show = json.loads(dsctl(d, "--json", "imports", "show", str(idb)).stdout)
    eq([pr["value"] for pr in show["properties"]], [685], "what import b asserted")
    with d.client() as c:
        node = c.ok("node.get", {"label": "Model", "name": "V3", "claims": True})
        eq(node["$node"]["properties"]["params"], 685, "the most recent claim is shown")
        eq(sorted(x["import"] for x in node["claims"]["imports"]), [ida, idb], "imports claiming V3")
        eq([(x["value"], x["import"], x["current"]) for x in node["claims"]["properties"] if x["key"] == "params"],
           [(685, idb, True), (671, ida, False)], "both claims on params, newest first")
    dsctl(d, "imports", "retract", str(idb))
    with d.client() as c:
        eq(c.ok("node.get", {"label": "Model", "name": "V3"})["$node"]["properties"]["params"], 671,
           "retract restores the other claim")
        _, err = c.call("node.get", {"label": "Model", "name": "R1"})
        expect_error(err, -32001, "node only b asserted")
        eq(c.ok("stats")["relationships"], 1, "a's relationship stays")
    p = dsctl(d, "imports", "retract", str(idb), check_rc=1)
    check("already retracted" in p.stderr, p.stderr)
    dsctl(d, "imports", "retract", str(ida))
    with d.client() as c:
        eq(c.ok("stats")["nodes"], 0, "nodes after retracting both")


@test
def reload_keeps_connections_and_uploads():
    d, _ = plugin_daemon(copy_plugins=True)
    pdir = os.path.join(d.dir, "plugins")
    with d.client() as c:
        token, err = upload(c, "kept.lines", GOOD.encode(), end=False)
        check(err is None, "begin: %s" % err)
        # fix the broken plugin, reload through dsctl while the upload is open
        write(os.path.join(pdir, "syntax_error.lua"),
              'return {name = "broken", version = "2", importer = {run = function(ctx, input) end}}\n')
        p = dsctl(d, "plugins", "reload")
        check("0 failed" in p.stdout, "reload summary: %r" % p.stdout)
        st = {x["name"]: x["status"] for x in c.ok("plugins.list")["plugins"]}
        eq(st.get("broken"), "ok", "status of the fixed plugin")
        # break it again and reload with SIGHUP
        write(os.path.join(pdir, "syntax_error.lua"), "return {\n  name = 'broken',\n  = 3 }\n")
        d.proc.send_signal(signal.SIGHUP)
        check(d.wait_log("plugins: 4 loaded, 1 failed", 10), "SIGHUP reloaded the plugins")
        c.ok("ping")
        res = c.ok("import.end", {"import": token})
        eq(res["nodes_created"], 2, "the upload survived both reloads")
        errs = [x for x in c.ok("plugins.list")["plugins"] if x["status"] == "error"]
        eq(len(errs), 1, "broken plugins after SIGHUP")
        check(errs[0]["error"].startswith("syntax_error.lua:3:"), errs[0]["error"])
        p = dsctl(d, "plugins")
        check("syntax_error.lua:3:" in p.stdout and "lines" in p.stdout, p.stdout)



@test(timeout=200)
def reload_during_a_running_import():
    import threading
    d, _ = plugin_daemon()
    data = "".join("node Model n%d i=%d\n" % (i, i) for i in range(30000)).encode()
    out = {}
    with d.client(timeout=180) as c:
        token, err = upload(c, "many.lines", data, end=False)
        check(err is None, "begin: %s" % err)

        def finish():
            out["reply"] = c.call("import.end", {"import": token}, timeout=180)

        t = threading.Thread(target=finish, daemon=True)
        t.start()
        time.sleep(0.2)
        with d.client() as other:
            for _ in range(3):
                other.ok("plugins.reload")
                d.proc.send_signal(signal.SIGHUP)
                other.ok("ping")
                time.sleep(0.05)
        t.join(180)
        res, err = out["reply"]
        check(err is None, "the import failed across reloads: %s" % err)
        eq(res["nodes_created"], 30000, "nodes created by the import that ran across reloads")
        alive(d, c)


run_all()
