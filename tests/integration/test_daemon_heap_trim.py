#!/usr/bin/env python3
"""heap_trim_after_ms (core/workers.c, etc/dsgraph.conf): once the writer has spent that long in
writes and has nothing left to do, it returns the freed heap to the system and empties its SQLite
page cache (what the import filled), once, and logs both;
writes shorter than the setting and heap_trim_after_ms = 0 never trim. heap_trim_threshold_bytes
is handed to the allocator at start (logged, default and configured). The RSS effect itself is
measured by the bench (docs/performance.md); these tests run under ASan, whose allocator is not
glibc's, so they check when the writer trims, not how much it gives back."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import Daemon, check, eq, run_all, test  # noqa: E402
from plugtest import SHIPPED_PLUGINS, upload  # noqa: E402

TRIMMED = "heap trimmed in"
CACHE = re.compile(r"heap trimmed in .* \(writer's page cache (\d+) -> (\d+) KiB\)")


def csv_nodes(n):
    return ("name:ID(Model),:LABEL,tag\n" + "".join("trim/model-%05d,Model,t%d\n" % (i, i % 13) for i in range(n))).encode()


def daemon(after_ms):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [SHIPPED_PLUGINS], "heap_trim_after_ms": after_ms})
    d.start()
    return d


def trims(d):
    return d.log().count(TRIMMED)


def wait_trims(d, want, timeout=20):
    t0 = time.monotonic()
    while trims(d) < want and time.monotonic() - t0 < timeout:
        time.sleep(0.05)
    return trims(d)


@test(timeout=120)
def an_import_past_the_setting_trims_once_when_idle():
    d = daemon(1)
    with d.client() as c:
        res, err = upload(c, "nodes.csv", csv_nodes(2000), plugin="csv")
        check(err is None, "import: %r" % (err,))
        eq(wait_trims(d, 1), 1, "one trim after the import")
        m = CACHE.search(d.log())
        check(m is not None, "the trim line names the page cache: %r" % [l for l in d.log().splitlines() if TRIMMED in l])
        before, after = int(m.group(1)), int(m.group(2))
        check(before >= 256 and after <= before // 4,
              "the import filled the writer's page cache and the trim emptied it: %d -> %d KiB" % (before, after))
        time.sleep(0.5)
        eq(trims(d), 1, "an idle writer trims once, not again and again")
        eq(c.ok("stats")["nodes"], 2000, "the import is all there")
        res, err = upload(c, "more.csv", csv_nodes(3000), plugin="csv")
        check(err is None, "second import: %r" % (err,))
        eq(wait_trims(d, 2), 2, "the next import past the setting trims again")
    d.stop_ok()


@test(timeout=120)
def short_writes_and_zero_never_trim():
    for after_ms, what in ((600000, "writes far shorter than the setting"), (0, "heap_trim_after_ms = 0")):
        d = daemon(after_ms)
        with d.client() as c:
            res, err = upload(c, "nodes.csv", csv_nodes(2000), plugin="csv")
            check(err is None, "import: %r" % (err,))
            c.ok("node.put", {"labels": ["Model"], "name": "one-more"})
            time.sleep(1.0)
            eq(trims(d), 0, what + ": no trim")
        d.stop_ok()


@test(timeout=60)
def the_trim_threshold_reaches_the_allocator():
    for conf, want in (({}, 16 << 20), ({"heap_trim_threshold_bytes": 1 << 20}, 1 << 20)):
        d = Daemon(config={})
        d.set_config(dict({"plugin_dirs": [SHIPPED_PLUGINS]}, **conf))
        d.start()
        with d.client() as c:
            c.ok("ping")
        line = [l for l in d.log().splitlines() if "heap: trim threshold" in l]
        eq(len(line), 1, "one heap line at start: %r" % (conf,))
        check("trim threshold %d bytes" % want in line[0], "%r: %s" % (conf, line[0]))
        d.stop_ok()


if __name__ == "__main__":
    run_all()
