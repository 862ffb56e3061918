#!/usr/bin/env python3
"""A 1,000,000-row CSV import (plugins/csv.lua, uploaded by dsctl in chunks) while
another client pings every 10 ms: every ping is answered within 50 ms, and the
daemon's peak memory (VmHWM) stays under the bound documented in docs/plugins.md
(MAX_HWM_MIB below; sanitizer builds get SANITIZER_HWM_MIB because ASan's shadow
memory and quarantine count too). DSGTEST_CSV_ROWS overrides the row count."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, Pinger, Skip, check, eq, run_all, sanitized, test, vm_hwm_kib  # noqa: E402
from plugtest import SHIPPED_PLUGINS, plugin_daemon  # noqa: E402

ROWS = int(os.environ.get("DSGTEST_CSV_ROWS", "1000000"))
MAX_PING_S = 0.050
MAX_HWM_MIB = 256
SANITIZER_HWM_MIB = 1536


@test(timeout=590)
def million_row_csv_import_keeps_pings_fast():
    if not os.path.exists(os.path.join(SHIPPED_PLUGINS, "csv.lua")):
        raise Skip("plugins/csv.lua is absent")
    d, _ = plugin_daemon(plugin_dirs=[SHIPPED_PLUGINS], memory=64 * 1024 * 1024, instructions=10 ** 12)
    path = os.path.join(d.dir, "models.csv")
    with open(path, "w") as f:
        f.write("name:ID(Model),:LABEL,i:long,note\n")
        for i in range(ROWS):
            f.write("m%d,Model,%d,row %d\n" % (i, i, i))
    pinger = Pinger(d.socket)
    pinger.start()
    env = dict(os.environ, DSGRAPH_SOCKET=d.socket)
    t0 = time.monotonic()
    p = subprocess.run([DSCTL, "--json", "import", path], capture_output=True, text=True, env=env, timeout=560)
    took = time.monotonic() - t0
    pinger.stop.set()
    pinger.join(10)
    check(not pinger.errors, "pinger failed: %s" % (pinger.errors[:1],))
    eq(p.returncode, 0, "dsctl import exit status (stderr %r)" % p.stderr[-500:])
    with d.client() as c:
        eq(c.ok("stats")["nodes"], ROWS, "nodes after the import")
    hwm = vm_hwm_kib(d.pid) / 1024.0
    worst = max(pinger.times) if pinger.times else None
    print("  # %d rows in %.1fs, %d pings, worst %.1f ms, VmHWM %.0f MiB" % (
        ROWS, took, len(pinger.times), (worst or 0) * 1000, hwm))
    check(len(pinger.times) > 10, "too few pings: %d" % len(pinger.times))
    slow = [x for x in pinger.times if x > MAX_PING_S]
    asan = sanitized(d.argv_used[0])
    if asan and slow:
        # A sanitizer build runs the import 3x slower on a machine shared with other tests; a
        # few pings then wait for a CPU (the pinger too). Allowed there: at most 0.1% of pings
        # over 50 ms and none over 200 ms. Release builds get the strict rule.
        print("  # sanitizer build: %d of %d pings over 50 ms (allowed: 0.1%%, none over 200 ms)" % (len(slow), len(pinger.times)))
        check(len(slow) <= len(pinger.times) // 1000 and worst <= 0.200,
              "%d of %d pings slower than 50 ms (worst %.1f ms)" % (len(slow), len(pinger.times), worst * 1000))
    else:
        check(not slow, "%d of %d pings slower than 50 ms (worst %.1f ms)" % (len(slow), len(pinger.times), worst * 1000))
    bound = SANITIZER_HWM_MIB if asan else MAX_HWM_MIB
    check(hwm < bound, "daemon VmHWM %.0f MiB >= %d MiB" % (hwm, bound))


run_all()
