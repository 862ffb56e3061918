#!/usr/bin/env python3
"""bench/run.py - the benchmark suite of issue 6 (`make bench`; docs/performance.md).

Release build (build-bench/), synthetic lineage graph (bench/gen_lineage), the SQLite C API
baseline (bench/baseline), the echo ceiling (bench/echo_server), and a fresh dsgraphd on a
temporary socket and database driven by the C load generator (bench/loadgen). Every figure is
the median and min-max of several runs, next to the baseline measured in the same run, with the
ratio. Writes bench/results/latest.json and prints a table.

Correctness is checked, never timing: the daemon's descendant/ancestor counts must equal the
baseline's and the generator's, the load must answer without errors, and stats must count every
node and relationship. Any failure prints "BENCH FAILED: ..." and exits 1.

python3 stdlib only. Every subprocess has a timeout; every process started is killed at exit.
"""
import argparse
import filecmp
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROCS = []          # every process we started, killed at exit


class BenchError(Exception):
    pass


def fail(msg):
    """Aborts the run with a message (printed as BENCH FAILED)."""
    raise BenchError(msg)


def log(msg):
    """Progress on stderr, so stdout stays the table."""
    print("bench: " + msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- processes


def run(cmd, timeout, **kw):
    """Runs a command to completion; returns stdout (text). Fails loudly on a non-zero exit."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(cmd[:3]), p.returncode, (p.stderr or p.stdout)[-2000:]))
    return p.stdout


def run_json(cmd, timeout):
    out = run(cmd, timeout)
    try:
        return json.loads(out)
    except ValueError:
        fail("%s printed no JSON: %r" % (cmd[0], out[-500:]))


def kill_all():
    """Kills every process this run started (at exit, whatever happened)."""
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def rpc(sock_path, method, params=None, timeout=30.0):
    """One JSON-RPC call on a new connection; returns the whole response object."""
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        req["params"] = params
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                fail("%s: connection closed without a reply" % method)
            buf += chunk
        return json.loads(buf)
    finally:
        s.close()


def proc_status(pid):
    """VmHWM and VmRSS of a process in MiB, and VmRSS split into RssAnon (private memory) and
    RssFile (mapped file pages: the readers map the database, so these are the OS page cache)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0]) / 1024.0
    return out


class Daemon:
    """A dsgraphd in the foreground on a temporary socket and database."""

    def __init__(self, exe, workdir, tag, db=None, seed=None, timeout=30.0, import_dirs=None):
        self.sock = os.path.join(workdir, tag + ".sock")
        self.db = db or os.path.join(workdir, tag + ".db")
        self.logf = open(os.path.join(workdir, tag + ".log"), "ab")
        cmd = [exe, "--foreground", "--socket", self.sock, "--db", self.db, "--log-level", "warn"]
        if seed:
            cmd += ["--seed", seed]
        if import_dirs:   # a config file: the daemon may read these directories itself (import.path)
            conf = os.path.join(workdir, tag + ".conf")
            with open(conf, "w") as f:
                f.write("import_dirs = {%s}\n" % ", ".join(json.dumps(x, ensure_ascii=False) for x in import_dirs))
            cmd += ["--config", conf]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=self.logf)
        PROCS.append(self.proc)
        self.pid = self.proc.pid
        self.ready_s = self.wait_ping(t0, timeout)

    def wait_ping(self, t0, timeout):
        """Seconds from spawn to the first answered ping."""
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                fail("dsgraphd exited %s at start-up (log: %s)" % (self.proc.returncode, self.logf.name))
            if os.path.exists(self.sock):
                try:
                    r = rpc(self.sock, "ping", timeout=2.0)
                    if "result" in r:
                        return time.monotonic() - t0
                except (OSError, ValueError):
                    pass
            time.sleep(0.002)
        fail("dsgraphd did not answer ping within %.0f s" % timeout)

    def stop(self):
        """SIGTERM and wait: the clean shutdown checkpoints the WAL for the next start."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.logf.close()


# ----------------------------------------------------------------------------- statistics


def agg(values):
    """median, min and max of several runs."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": vals[0], "max": vals[-1], "runs": len(vals)}


def loadgen(args, sock, mode, extra, pid=None, timeout=600):
    """Runs bench/loadgen once; fails on a socket failure or time-out."""
    cmd = [args.loadgen, "--socket", sock, "--mode", mode, "--timeout", str(int(timeout))] + extra
    if pid:
        cmd += ["--pid", str(pid)]
    r = run_json(cmd, timeout + 30)
    if r["failed"] or r["timed_out"]:
        fail("loadgen %s %s: failed=%s timed_out=%s" % (mode, " ".join(extra), r["failed"], r["timed_out"]))
    return r


def socket_matrix(args, sock, mode, pid, names=None):
    """requests/s and latency for 1/16/64 clients, unpipelined (W=1) and pipelined (W=16)."""
    out = {}
    for conns in (1, 16, 64):
        for window in (1, 16):
            runs = []
            for _ in range(args.runs):
                extra = ["--conns", str(conns), "--window", str(window), "--duration", str(args.duration)]
                if names:
                    extra += ["--names", names]
                r = loadgen(args, sock, mode, extra, pid, timeout=args.duration + 60)
                if r["errors"]:
                    fail("%s c=%d w=%d: %d error replies, first: %s" % (mode, conns, window, r["errors"], r["first_error"]))
                runs.append(r)
            out["c%d_w%d" % (conns, window)] = {
                "rps": agg([r["rps"] for r in runs]), "p50_ms": agg([r["p50_ms"] for r in runs]),
                "p99_ms": agg([r["p99_ms"] for r in runs]), "client_cores": agg([r["client_cores"] for r in runs]),
                "server_cores": agg([r["server_cores"] for r in runs])}
    return out


def socket_matrix_threads(args, sock, mode, pid, names=None):
    """The same figures with loadgen --threads (each client its own thread doing blocking round
    trips, like independent dsctl-style clients) for 1 and 16 clients, unpipelined."""
    out = {}
    for conns in (1, 16):
        runs = []
        for _ in range(args.runs):
            extra = ["--threads", "--conns", str(conns), "--window", "1", "--duration", str(args.duration)]
            if names:
                extra += ["--names", names]
            r = loadgen(args, sock, mode, extra, pid, timeout=args.duration + 60)
            if r["errors"]:
                fail("%s c=%d threads: %d error replies, first: %s" % (mode, conns, r["errors"], r["first_error"]))
            runs.append(r)
        out["c%d_w1" % conns] = {
            "rps": agg([r["rps"] for r in runs]), "p50_ms": agg([r["p50_ms"] for r in runs]),
            "p99_ms": agg([r["p99_ms"] for r in runs]), "client_cores": agg([r["client_cores"] for r in runs]),
            "server_cores": agg([r["server_cores"] for r in runs])}
    return out


SOCKET_CLIENTS = {
    "echo, get, ping": "loadgen epoll mode: one thread drives every connection (batches across ready sockets)",
    "echo_threads, get_threads, ping_threads": "loadgen --threads: one thread per client, blocking round trips",
}


# ----------------------------------------------------------------------------- steps


def build(args):
    """The Release build (-O2, no sanitizers) of the daemon and the bench programs."""
    bdir = os.path.join(ROOT, "build-bench")
    log("release build in %s" % bdir)
    run(["cmake", "-S", ROOT, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release"], 600)
    run(["cmake", "--build", bdir, "-j", str(os.cpu_count() or 2), "--target", "dsgraphd", "dsctl",
         "gen_lineage", "baseline", "loadgen", "echo_server"], 1800)
    args.dsgraphd = args.dsgraphd or os.path.join(bdir, "dsgraphd")
    args.dsctl = args.dsctl or os.path.join(bdir, "dsctl")
    args.bin_dir = args.bin_dir or os.path.join(bdir, "bench")


def machine():
    """What the figures were measured on."""
    cpu = "?"
    mem = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        with open("/proc/meminfo") as f:
            mem = next((l.split(":", 1)[1].strip() for l in f if l.startswith("MemTotal")), "?")
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_total": mem, "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg()}


SMALL_RESULT = 2000          # lineage/query answers up to this many nodes get more samples
SMALL_RESULT_REQUESTS = 200


def requests_for(args, expect):
    """Round trips per lineage/query figure: --runs, or SMALL_RESULT_REQUESTS when the answer is small.
    A small answer takes 0.03-5 ms, and on this machine its round trip is bimodal (whether the
    reader thread it is handed to was asleep), so the median of three would be a coin toss."""
    return str(max(args.runs, SMALL_RESULT_REQUESTS) if expect <= SMALL_RESULT else args.runs)


def ping_rtt_bench(args, sock, pid):
    """`ping` round trips taken the way the small lineage rows take theirs (SMALL_RESULT_REQUESTS
    back to back on one connection), so that "round trip − ping" estimates server time with both
    sides measured alike (docs/performance.md, "What each number means")."""
    r = loadgen(args, sock, "raw", ["--body", '"method":"ping"', "--requests", str(SMALL_RESULT_REQUESTS)], pid)
    if r["errors"]:
        fail("ping round trips: %d errors (%s)" % (r["errors"], r["first_error"]))
    return {"median": r["p50_ms"], "min": r["min_ms"], "max": r["max_ms"], "runs": r["requests"],
            "server_us": r.get("server_us_per_request", -1)}


def lineage_bench(args, sock, pid, name, direction, expect, what):
    """`lineage` round trips; the node count must equal the baseline's."""
    r = loadgen(args, sock, "lineage", ["--name", name, "--direction", direction,
                                        "--requests", requests_for(args, expect),
                                        "--count-nodes"], pid)
    if r["errors"] or r["result_nodes"] != expect:
        fail("lineage %s of %s: daemon gave %s nodes (errors %d: %s), baseline/generator %d"
             % (what, name, r["result_nodes"], r["errors"], r["first_error"], expect))
    return {"median": r["p50_ms"], "min": r["min_ms"], "max": r["max_ms"], "runs": r["requests"],
            "result": r["result_nodes"], "reply_bytes": r["last_reply_bytes"],
            "server_us": r.get("server_us_per_request", -1)}


def lineage_mode_bench(args, sock, pid, name, direction, expect, extra):
    """`lineage` with count_only / fields (docs/protocol.md); the count must equal the baseline's."""
    params = {"node": {"label": "Model", "name": name}, "direction": direction}
    params.update(extra)
    body = json.dumps({"method": "lineage", "params": params})[1:-1]
    r = loadgen(args, sock, "raw", ["--body", body, "--requests", requests_for(args, expect), "--count-nodes"], pid)
    if r["errors"] or r["result_nodes"] != expect:
        fail("lineage %s of %s: daemon gave %s nodes (errors %d: %s), baseline %d"
             % (extra, name, r["result_nodes"], r["errors"], r["first_error"], expect))
    return {"median": r["p50_ms"], "min": r["min_ms"], "max": r["max_ms"], "runs": r["requests"],
            "result": r["result_nodes"], "reply_bytes": r["last_reply_bytes"],
            "server_us": r.get("server_us_per_request", -1)}


CYPHER = {"down": "MATCH (r:Model {name: $name})<-[:BASED_ON*]-(d:Model) RETURN count(DISTINCT d)",
          "up": "MATCH (r:Model {name: $name})-[:BASED_ON*]->(a:Model) RETURN count(DISTINCT a)"}


def query_bench(args, sock, pid, name, direction, expect):
    """Cypher `query` when the daemon has it: probe the method, then try the likely parameter shapes."""
    probe = rpc(sock, "query", {"query": "RETURN 1"})
    if probe.get("error", {}).get("code") == -32601:
        return {"status": "n/a: the daemon has no `query` method yet"}
    last = probe.get("error", {}).get("message", "")
    for key in ("query", "cypher"):
        body = json.dumps({"method": "query", "params": {key: CYPHER[direction], "params": {"name": name}}})[1:-1]
        r = loadgen(args, sock, "raw", ["--body", body, "--requests", requests_for(args, expect), "--count-nodes"],
                    pid)
        if not r["errors"] and r["result_value"] == expect:
            return {"median": r["p50_ms"], "min": r["min_ms"], "max": r["max_ms"], "runs": r["requests"],
                    "result": r["result_value"], "server_us": r.get("server_us_per_request", -1)}
        if r["errors"]:
            last = r["first_error"]
        elif r["result_value"] != -1:
            fail("query count of %s: daemon gave %s, baseline %d" % (name, r["result_value"], expect))
    return {"status": "n/a: `query` exists but the probe did not run (%s)" % last[:200]}


def cypher_lookup_bench(args, sock, pid, names):
    """The same point lookup by name through Cypher `query` and through the `sql` method
    (issue 5: within 2x of `sql`), 1 and 16 clients, not pipelined."""
    out = {"query": {}, "sql": {}}
    for conns in (1, 16):
        for mode, key in (("qget", "query"), ("sqlget", "sql")):
            runs = []
            for _ in range(args.runs):
                r = loadgen(args, sock, mode, ["--conns", str(conns), "--window", "1", "--duration", str(args.duration),
                                               "--names", names], pid, timeout=args.duration + 60)
                if r["errors"]:
                    fail("%s c=%d: %d error replies, first: %s" % (mode, conns, r["errors"], r["first_error"]))
                runs.append(r)
            out[key]["c%d_w1" % conns] = {"rps": agg([r["rps"] for r in runs]),
                                          "p50_ms": agg([r["p50_ms"] for r in runs]),
                                          "p99_ms": agg([r["p99_ms"] for r in runs])}
    return out


CYPHER_SCANS = (
    # key, query, baseline key: each answers one integer the baseline must give too
    ("author_count", "MATCH (m:Model) WHERE m.author = $author RETURN count(m)", "scan_author_count"),
    ("tag_groups", "MATCH (m:Model) WITH m.pipeline_tag AS t, count(*) AS c RETURN count(t)", "scan_tag_groups"),
    ("first_edges", "MATCH (m:Model)-[:BASED_ON]->(p:Model) WITH m.name AS child, p.name AS parent LIMIT 10 RETURN count(*)",
     "first_edges"),
    ("relation_groups", "MATCH ()-[r:BASED_ON]->() WITH r.relation AS k, count(*) AS c RETURN count(k)",
     "scan_relation_groups"),
)


def cypher_scan_bench(args, sock, pid, author, base):
    """Cypher queries that read one property of every model (a filter, a grouping), one that
    stops at its first rows (a LIMIT over a pattern every model matches), and a grouping on a
    property of every relationship: round trips on one connection; each answer must equal the
    baseline's."""
    out = {}
    for key, text, bkey in CYPHER_SCANS:
        body = json.dumps({"method": "query", "params": {"query": text, "params": {"author": author}}})[1:-1]
        want = base[bkey]["result"]
        n = requests_for(args, 1) if key == "first_edges" else str(args.runs)   # milliseconds, or seconds
        r = loadgen(args, sock, "raw", ["--body", body, "--requests", n, "--count-nodes"], pid)
        if r["errors"] or r["result_value"] != want:
            fail("cypher scan %s: daemon gave %s (errors %d: %s), baseline %d"
                 % (key, r["result_value"], r["errors"], r["first_error"], want))
        out[key] = {"median": r["p50_ms"], "min": r["min_ms"], "max": r["max_ms"], "runs": r["requests"],
                    "result": r["result_value"], "query": text}
    return out


def provenance_bench(args, sock, pid, mid):
    """Provenance reads no issue sets a target for, kept here so that a slow plan shows: node.get of
    the ~1,000 root with its claims (`"claims":true`: both imports, its property claims and which
    is current), and `imports.show` of each CSV import (its first page of every kind of claim).
    Each must list what the load claimed."""
    out = {}
    params = {"label": "Model", "name": mid, "claims": True}
    one = rpc(sock, "node.get", params).get("result") or {}
    imports = [c["import"] for c in one.get("claims", {}).get("imports", [])]
    if len(imports) != 2 or not one.get("claims", {}).get("properties"):
        fail("node.get of %s with claims: imports %s, properties %s" % (mid, imports, one.get("claims")))
    body = json.dumps({"method": "node.get", "params": params})[1:-1]
    r = loadgen(args, sock, "raw", ["--body", body, "--requests", str(SMALL_RESULT_REQUESTS)], pid)
    if r["errors"]:
        fail("node.get with claims: %d errors (%s)" % (r["errors"], r["first_error"]))
    out["node_get_claims"] = {"median": r["p50_ms"], "min": r["min_ms"], "max": r["max_ms"], "runs": r["requests"]}
    for imp in rpc(sock, "imports.list").get("result", {}).get("imports") or []:
        times = []
        for _ in range(args.runs):
            t0 = time.monotonic()
            rep = rpc(sock, "imports.show", {"id": imp["id"]}, timeout=600).get("result") or {}
            times.append((time.monotonic() - t0) * 1e3)
            if not (rep.get("nodes") or rep.get("relationships")):
                fail("imports.show %d lists no claims: %s" % (imp["id"], str(rep)[:300]))
        out["show_%s" % os.path.basename(imp["input"])] = agg(times)
    return out


def export_bench(args, work, sock, pid, big):
    """(d): `dsctl export` of the whole graph as JSON and of the largest root's tree as DOT:
    wall time of the dsctl process, bytes written, the daemon's peak RSS so far."""
    out = {}
    for key, argv in (("json", ["export", "json_export"]),
                      ("dot", ["export", "dot_lineage", "--opt", "root=" + big, "--opt", "direction=down"])):
        path = os.path.join(work, "export." + key)
        t0 = time.monotonic()
        r = subprocess.run([args.dsctl, "--socket", sock] + argv + ["-o", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=7200)
        elapsed = time.monotonic() - t0
        if r.returncode != 0 or not os.path.exists(path):
            fail("export %s: exit %d: %s" % (key, r.returncode, r.stderr.decode("utf-8", "replace")[:300]))
        out[key] = {"s": elapsed, "bytes": os.path.getsize(path), "rss": proc_status(pid)}
        if key == "json":
            out["restore"] = restore_bench(args, work, path)
        os.unlink(path)
    return out


def restore_bench(args, work, path):
    """The JSON export restored (json_graph, in place) into a fresh daemon, which must then
    export the same bytes: the backup round trip at full size. Wall time of the import, the
    restoring daemon's peak RSS."""
    d = Daemon(args.dsgraphd, work, "restore", import_dirs=[work])
    try:
        t0 = time.monotonic()
        r = subprocess.run([args.dsctl, "--socket", d.sock, "import", "--in-place", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=7200)
        elapsed = time.monotonic() - t0
        if r.returncode != 0:
            fail("restore of the JSON export: exit %d: %s" % (r.returncode, r.stderr.decode("utf-8", "replace")[:300]))
        rss = proc_status(d.pid)
        again = os.path.join(work, "export.again.json")
        r = subprocess.run([args.dsctl, "--socket", d.sock, "export", "json_export", "-o", again],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=7200)
        if r.returncode != 0 or not filecmp.cmp(path, again, shallow=False):
            fail("the restored graph exports other bytes than the graph it came from (%s vs %s)" % (again, path))
        os.unlink(again)
        return {"s": elapsed, "rss": rss, "same_bytes": True}
    finally:
        d.stop()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(d.db + suffix):
                os.unlink(d.db + suffix)


def main():
    """Options, build, the whole run, results file and table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=int, default=1000000)
    ap.add_argument("--small", action="store_true", help="10,000 models (CI smoke mode)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 3)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per socket load run (default 2, small 0.5)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--dsgraphd")
    ap.add_argument("--dsctl")
    ap.add_argument("--bin-dir", help="directory of gen_lineage, baseline, loadgen, echo_server")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"))
    ap.add_argument("--no-seed-load", action="store_true", help="skip the in-process --seed load figure")
    ap.add_argument("--no-import", action="store_true", help="skip the `dsctl import` figures")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--no-hf-import", action="store_true", help="skip the HF JSON Lines import figure")
    ap.add_argument("--load", choices=("socket", "csv"), default="csv",
                    help="how the main daemon is loaded: `dsctl import` of the CSV files (default; it is then the "
                         "CSV import figure) or node.put/rel.put batches through the socket (~16 min at 1M)")
    ap.add_argument("--no-export", action="store_true", help="skip the `dsctl export` figures")
    ap.add_argument("--only-import", action="store_true",
                    help="generate, run the baseline, then only the `dsctl import` figures (skips the socket load, "
                         "lineage, lookups, start-up and --seed)")
    args = ap.parse_args()
    if args.small:
        args.models = 10000
    args.runs = args.runs or 3
    args.duration = args.duration or (0.5 if args.small else 2.0)
    t_start = time.monotonic()
    if not args.no_build:
        build(args)
    bdir = args.bin_dir or os.path.join(ROOT, "build-bench", "bench")
    args.dsgraphd = args.dsgraphd or os.path.join(ROOT, "build-bench", "dsgraphd")
    args.dsctl = args.dsctl or os.path.join(ROOT, "build-bench", "dsctl")
    for prog in ("gen_lineage", "baseline", "loadgen", "echo_server"):
        setattr(args, prog, os.path.join(bdir, prog))
    for exe in (args.dsgraphd, args.gen_lineage, args.baseline, args.loadgen, args.echo_server):
        if not os.access(exe, os.X_OK):
            fail("missing program %s (build it, or pass --bin-dir/--dsgraphd)" % exe)
    work = tempfile.mkdtemp(prefix="dsgraph-bench-")
    res = {"command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]), "machine": machine(),
           "models": args.models, "seed": args.seed, "runs": args.runs, "duration_s": args.duration,
           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        bench(args, work, res)
    finally:
        kill_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log("kept %s" % work)
    res["wall_s"] = round(time.monotonic() - t_start, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    from report import table   # bench/report.py: the table from the results
    print(table(res))
    print("results: %s (%.0f s)" % (args.out, res["wall_s"]))


def bench(args, work, res):
    """Every benchmark, in order, into res."""
    data = os.path.join(work, "data")
    log("generating %d models" % args.models)
    t0 = time.monotonic()
    run([args.gen_lineage, "--models", str(args.models), "--seed", str(args.seed), "--out", data], 900)
    res["generate_s"] = time.monotonic() - t0
    with open(os.path.join(data, "summary.json")) as f:
        gen = res["generator"] = json.load(f)
    big, mid, leaf = gen["largest_root"]["name"], gen["mid_root"]["name"], gen["deep_leaf"]["name"]
    names = os.path.join(data, "names.txt")

    log("baseline (SQLite C API)")
    base = res["baseline"] = run_json([args.baseline, "--data", data, "--db", os.path.join(work, "baseline.db"),
                                       "--largest", big, "--mid", mid, "--leaf", leaf, "--runs", str(args.runs),
                                       "--author", big.split("/")[0],
                                       "--lookups", str(50000 if args.models <= 100000 else 200000),
                                       "--floor-db", os.path.join(work, "floor.db")], 1800)
    fl = base["floor"]
    for key, want in (("nodes", gen["models"]), ("edges", gen["edges"])):
        if fl[key] != want or fl["read_" + key] != want:
            fail("baseline floor load: %s %d read, %d in the file, generator says %d"
                 % (key, fl[key], fl["read_" + key], want))
    os.unlink(os.path.join(work, "floor.db"))
    for key, want in (("desc_count_largest", gen["largest_root"]["descendants"]),
                      ("desc_count_mid", gen["mid_root"]["descendants"]),
                      ("anc_count_leaf", gen["deep_leaf"]["ancestors"]),
                      ("desc_list_largest", gen["largest_root"]["descendants"])):
        if base[key]["result"] != want:
            fail("baseline %s = %d, generator says %d" % (key, base[key]["result"], want))

    if args.only_import:
        import_figures(args, work, res, data, gen, base)
        res["export"] = {"status": "skipped (--only-import)"}
        return

    log("echo ceiling")
    esock = os.path.join(work, "echo.sock")
    echo = subprocess.Popen([args.echo_server, "--socket", esock, "--max-seconds", "1200"], stdout=subprocess.DEVNULL)
    PROCS.append(echo)
    for _ in range(500):
        if os.path.exists(esock):
            break
        time.sleep(0.01)
    res["echo"] = socket_matrix(args, esock, "ping", echo.pid)
    res["echo_threads"] = socket_matrix_threads(args, esock, "ping", echo.pid)
    res["socket_clients"] = SOCKET_CLIENTS
    echo.terminate()
    echo.wait(10)

    if args.load == "csv":
        log("dsgraphd: load with `dsctl import nodes.csv rels.csv` (the CSV import figure)")
        d = Daemon(args.dsgraphd, work, "daemon")
        res["import_csv"] = import_into(args, d, [os.path.join(data, "nodes.csv"), os.path.join(data, "rels.csv")],
                                        "csv", gen, base, True)
    else:
        log("dsgraphd: load through the socket (pipelined JSON-RPC batches)")
        d = Daemon(args.dsgraphd, work, "daemon")
        r = loadgen(args, d.sock, "replay", ["--file", os.path.join(data, "rpc.jsonl"), "--window", "4"], d.pid, 7200)
        if r["errors"]:
            fail("load: %d error replies, first: %s" % (r["errors"], r["first_error"]))
        res["load_socket"] = {"s": r["elapsed_s"], "calls": r["calls"], "calls_per_s": r["calls"] / r["elapsed_s"],
                              "server_cores": r["server_cores"], "client_cores": r["client_cores"]}
    res["rss_after_load"] = proc_status(d.pid)
    st = rpc(d.sock, "stats").get("result") or {}
    if st.get("nodes") != gen["models"] or st.get("relationships") != gen["edges"]:
        fail("stats after load: %s, expected %d nodes and %d relationships" % (st, gen["models"], gen["edges"]))
    if not importers_present():
        res["import_csv"] = res["import_hf"] = {"status": "not available yet (core/dsctl_import.c and plugins/csv.lua, issue 3)"}

    log("lineage and query")
    lin = res["lineage"] = {}
    lin["ping_rtt"] = ping_rtt_bench(args, d.sock, d.pid)
    lin["desc_largest"] = lineage_bench(args, d.sock, d.pid, big, "down", base["desc_count_largest"]["result"], "down")
    lin["desc_mid"] = lineage_bench(args, d.sock, d.pid, mid, "down", base["desc_count_mid"]["result"], "down")
    lin["anc_leaf"] = lineage_bench(args, d.sock, d.pid, leaf, "up", base["anc_count_leaf"]["result"], "up")
    if rpc(d.sock, "lineage", {"node": {"label": "Model", "name": leaf}, "count_only": True}).get("result"):
        for key, nm, dirn, bkey in (("desc_largest", big, "down", "desc_count_largest"),
                                    ("desc_mid", mid, "down", "desc_count_mid"),
                                    ("anc_leaf", leaf, "up", "anc_count_leaf")):
            lin[key + "_count"] = lineage_mode_bench(args, d.sock, d.pid, nm, dirn, base[bkey]["result"],
                                                     {"count_only": True})
        lin["desc_largest_names"] = lineage_mode_bench(args, d.sock, d.pid, big, "down",
                                                       base["desc_count_largest"]["result"], {"fields": ["name"]})
        lin["desc_mid_names"] = lineage_mode_bench(args, d.sock, d.pid, mid, "down",
                                                   base["desc_count_mid"]["result"], {"fields": ["name"]})
    q = res["query"] = {}
    q["desc_largest"] = query_bench(args, d.sock, d.pid, big, "down", base["desc_count_largest"]["result"])
    q["desc_mid"] = query_bench(args, d.sock, d.pid, mid, "down", base["desc_count_mid"]["result"])
    q["anc_leaf"] = query_bench(args, d.sock, d.pid, leaf, "up", base["anc_count_leaf"]["result"])
    res["cypher_scan"] = cypher_scan_bench(args, d.sock, d.pid, big.split("/")[0], base)
    res["rss_after_lineage"] = proc_status(d.pid)
    if args.load == "csv":
        res["provenance"] = provenance_bench(args, d.sock, d.pid, mid)

    log("point lookups and ping")
    res["cypher_lookup"] = cypher_lookup_bench(args, d.sock, d.pid, names)
    res["get"] = socket_matrix(args, d.sock, "get", d.pid, names)
    res["ping"] = socket_matrix(args, d.sock, "ping", d.pid)
    res["get_threads"] = socket_matrix_threads(args, d.sock, "get", d.pid, names)
    res["ping_threads"] = socket_matrix_threads(args, d.sock, "ping", d.pid)
    res["rss_after_lookups"] = proc_status(d.pid)
    if args.no_export:
        res["export"] = {"status": "skipped (--no-export)"}
    else:
        log("export")
        res["export"] = export_bench(args, work, d.sock, d.pid, big)
    d.stop()

    log("start-up with the graph loaded")
    starts, idle = [], []
    for _ in range(args.runs):
        d2 = Daemon(args.dsgraphd, work, "daemon", db=d.db)
        starts.append(d2.ready_s)
        time.sleep(0.2)
        idle.append(proc_status(d2.pid)["VmRSS"])
        d2.stop()
    res["startup_s"] = agg(starts)
    res["idle_rss_after_restart_mib"] = agg(idle)

    if not args.no_seed_load:
        log("dsgraphd: load through --seed (in-process, one transaction)")
        ds = Daemon(args.dsgraphd, work, "seeded", seed=os.path.join(data, "rpc.jsonl"), timeout=7200)
        res["load_seed"] = {"s": ds.ready_s, "rss": proc_status(ds.pid)}
        ds.stop()
    import_figures(args, work, res, data, gen, base)


def import_figures(args, work, res, data, gen, base):
    """The `dsctl import` figures (CSV, then HF JSON Lines), each into a fresh daemon."""
    if importers_present() and not args.no_import:
        if "import_csv" not in res:   # --load csv measured it already
            log("dsgraphd: `dsctl import` of nodes.csv + rels.csv")
            res["import_csv"] = import_bench(args, work, [os.path.join(data, "nodes.csv"),
                                                          os.path.join(data, "rels.csv")], "csv", gen, base, True)
        log("dsgraphd: `dsctl import --in-place` of nodes.csv + rels.csv (the daemon reads them, no upload)")
        res["import_csv_in_place"] = import_bench(args, work, [os.path.join(data, "nodes.csv"),
                                                               os.path.join(data, "rels.csv")], "csv-in-place",
                                                  gen, base, True, in_place=True, retract=True)
        if args.no_hf_import:
            res["import_hf"] = {"status": "skipped (--no-hf-import)"}
        else:
            log("dsgraphd: `dsctl import` of models.jsonl (HF)")
            res["import_hf"] = import_bench(args, work, [os.path.join(data, "models.jsonl")], "hf", gen, base, False)
    elif importers_present():
        res["import_csv"] = res["import_hf"] = {"status": "skipped (--no-import)"}


def importers_present():
    """The CSV/HF importers (issue 3) are benchmarked once they exist."""
    return all(os.path.exists(os.path.join(ROOT, *p)) for p in
               (("core", "dsctl_import.c"), ("plugins", "csv.lua"), ("plugins", "hf_models.lua")))


def import_bench(args, work, files, tag, gen, base, exact, in_place=False, retract=False):
    """`dsctl import FILES` into a fresh daemon: wall time, peak RSS, what it created. With exact
    (the CSV files) the graph must equal the generator's and the largest tree the baseline's. With
    in_place the daemon may read the files' directory and dsctl passes --in-place (no upload).
    With retract the imports are then retracted, newest first (retract_all)."""
    if not args.dsctl or not os.access(args.dsctl, os.X_OK):
        return {"status": "n/a: no dsctl binary"}
    d = Daemon(args.dsgraphd, work, "import-" + tag,
               import_dirs=[os.path.dirname(os.path.realpath(files[0]))] if in_place else None)
    r = import_into(args, d, files, tag, gen, base, exact, in_place)
    if retract:
        r["retract"] = retract_all(d, gen)
    d.stop()
    return r


def retract_all(d, gen):
    """`imports.retract` of every import on d, newest first (rels.csv's, then nodes.csv's): the
    seconds each took and its reply. Afterwards the graph must be empty, and the replies must say
    that every relationship and node the generator made was deleted."""
    imports = rpc(d.sock, "imports.list").get("result", {}).get("imports") or []
    out, nodes, rels = [], 0, 0
    for imp in sorted(imports, key=lambda i: -i["id"]):
        t0 = time.monotonic()
        rep = rpc(d.sock, "imports.retract", {"id": imp["id"]}, timeout=7200)
        took = time.monotonic() - t0
        if "result" not in rep:
            fail("imports.retract %d: %s" % (imp["id"], rep.get("error")))
        res = rep["result"]
        nodes += res["nodes_deleted"]
        rels += res["relationships_deleted"]
        out.append({"import": imp["id"], "input": imp.get("input"), "s": took, "result": res})
    st = rpc(d.sock, "stats").get("result") or {}
    if st.get("nodes") != 0 or st.get("relationships") != 0 or nodes != gen["models"] or rels != gen["edges"]:
        fail("retract: stats %s after it; replies deleted %d nodes and %d relationships, expected %d and %d"
             % (st, nodes, rels, gen["models"], gen["edges"]))
    return {"imports": out, "s": sum(i["s"] for i in out)}


def import_into(args, d, files, tag, gen, base, exact, in_place=False):
    """import_bench's measurement on a running daemon d (left running)."""
    env = dict(os.environ, DSGRAPH_SOCKET=d.sock)
    t0 = time.monotonic()
    out = run([args.dsctl, "import"] + (["--in-place"] if in_place else []) + files, 7200, env=env)
    took = time.monotonic() - t0
    rss = proc_status(d.pid)
    st = rpc(d.sock, "stats").get("result") or {}
    r = {"s": took, "rss": rss, "nodes": st.get("nodes"), "relationships": st.get("relationships"),
         "dsctl": out.strip()[-600:]}
    # a big import leaves its search rows to the writer (search_backlog): when are they all there?
    while True:
        b = rpc(d.sock, "sql", {"sql": "SELECT count(*) FROM search_backlog"}).get("result")
        if not b or b["rows"] == [[0]] or time.monotonic() - t0 > took + 1800:
            break
        time.sleep(0.05)
    if b and b["rows"] == [[0]]:
        r["search_rows_s"] = time.monotonic() - t0
    if exact:
        if st.get("nodes") != gen["models"] or st.get("relationships") != gen["edges"]:
            fail("import %s: stats %s, expected %d nodes and %d relationships" % (tag, st, gen["models"], gen["edges"]))
        lin = loadgen(args, d.sock, "lineage", ["--name", gen["largest_root"]["name"], "--direction", "down",
                                                 "--requests", "1", "--count-nodes"], d.pid)
        if lin["errors"] or lin["result_nodes"] != base["desc_count_largest"]["result"]:
            fail("import %s: lineage of the largest root gave %s, baseline %d"
                 % (tag, lin["result_nodes"], base["desc_count_largest"]["result"]))
    return r


if __name__ == "__main__":
    sys.dont_write_bytecode = True   # no bench/__pycache__ from importing report.py
    sys.path.insert(0, HERE)
    try:
        main()
    except BenchError as e:
        kill_all()
        print("BENCH FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
    except subprocess.TimeoutExpired as e:
        kill_all()
        print("BENCH FAILED: timeout: %s" % e, file=sys.stderr)
        sys.exit(1)
