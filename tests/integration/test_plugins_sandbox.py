#!/usr/bin/env python3
"""The plugin sandbox: every escape is refused, budget and memory bombs abort only
their run, a broken plugin is listed with file:line while the others load, and the
daemon stays healthy (ping answers) after each."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import check, eq, expect_error, run_all, test  # noqa: E402
from plugtest import alive, count_nodes, plugin_daemon, write  # noqa: E402

ESCAPES = ["os.execute", "io.popen", "io.open", "io.lines", "package.loadlib", "require", "require_c", "debug",
           "debug.sethook", "load_binary", "load_binary_mode_b", "collectgarbage", "collectgarbage_default",
           "dofile", "loadfile", "coroutine", "os.exit", "os.remove", "os.getenv"]


@test
def plugins_list_reports_broken_plugin_with_file_and_line():
    d, _ = plugin_daemon()
    with d.client() as c:
        plugins = c.ok("plugins.list")["plugins"]
        by_file = {os.path.basename(p["file"]): p for p in plugins}
        broken = by_file["syntax_error.lua"]
        eq(broken["status"], "error", "status of the broken plugin")
        check(broken["error"].startswith("syntax_error.lua:4:"), "error names file:line: %r" % broken["error"])
        for f in ("lines.lua", "escape.lua", "limits.lua", "exporter_only.lua"):
            eq(by_file[f]["status"], "ok", "status of " + f)
        eq(by_file["lines.lua"]["importer"]["extensions"], ["lines"], "importer extensions")
        eq(by_file["exporter_only.lua"]["exporter"]["formats"], ["txt"], "exporter descriptor is listed")
        check(by_file["exporter_only.lua"]["importer"] is None, "exporter-only plugin has no importer")
        alive(d, c)


@test(timeout=200)
def every_escape_is_refused():
    d, imp = plugin_daemon()
    mark = os.path.join(d.dir, "MARK")
    write(mark + ".keep", "x")
    with d.client() as c:
        for which in ESCAPES:
            path = write(os.path.join(imp, which + ".escape"), "%s\n%s\n" % (which, mark + ".keep" if which == "os.remove" else mark))
            res, err = c.call("import.path", {"path": path})
            check(err is not None, "escape %s was not refused: %s" % (which, res))
            check(err["message"].startswith("escape: %s.escape:" % which), "error names plugin and input: %r" % err["message"])
            alive(d, c)
        check(not os.path.exists(mark), "an escape created the marker file")
        check(os.path.exists(mark + ".keep"), "os.remove removed a file")
        eq(count_nodes(c), 0, "nodes written by refused escapes")
        eq(c.ok("imports.list")["imports"], [], "imports recorded by failed runs")


@test(timeout=200)
def budget_and_memory_bombs_abort_the_run():
    d, imp = plugin_daemon(memory=32 * 1024 * 1024, instructions=20000000)
    expected = {"loop": "instruction budget of 20000000 exceeded",
                "loop_pcall": "instruction budget of 20000000 exceeded",
                "string": "memory limit of 33554432 bytes exceeded",
                "table": "memory limit of 33554432 bytes exceeded",
                "table_pcall": "memory limit of 33554432 bytes exceeded"}
    with d.client() as c:
        for bomb, msg in expected.items():
            path = write(os.path.join(imp, bomb + ".bomb"), bomb + "\n")
            res, err = c.call("import.path", {"path": path}, timeout=120)
            expect_error(err, -32006, "bomb " + bomb)
            eq(err["message"], "limits: %s.bomb:1: %s" % (bomb, msg), "message of bomb " + bomb)
            alive(d, c)
        res, err = c.call("import.path", {"path": write(os.path.join(imp, "rep.bomb"), "string_rep\n")})
        check(err is not None, "string.rep bomb was not refused")
        eq(count_nodes(c), 0, "nodes written before the bombs went off")
    rss = d.rss_kib()
    check(rss is not None and rss < 1024 * 1024, "daemon RSS after the bombs: %s KiB" % rss)


run_all()
