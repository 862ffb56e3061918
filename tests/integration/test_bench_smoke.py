#!/usr/bin/env python3
"""The benchmark suite's smoke test: bench/run.py --small (10,000 models) against the binaries
under test (DSGRAPHD/DSCTL from ctest; the bench programs from the same build's bench/ directory),
one short run per figure. It fails if a benchmark errors or a result is wrong (run.py checks the
daemon's descendant/ancestor counts against the SQLite baseline and the generator, and the load
against stats), never on timing. Skips (exit 0, "skip") if the bench programs were not built.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DSGRAPH_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
DSGRAPHD = os.environ.get("DSGRAPHD") or os.path.join(SOURCE_DIR, "build-it", "dsgraphd")
DSCTL = os.environ.get("DSCTL") or os.path.join(SOURCE_DIR, "build-it", "dsctl")
BIN_DIR = os.environ.get("DSGRAPH_BENCH_BIN") or os.path.join(os.path.dirname(DSGRAPHD), "bench")


def main():
    progs = [os.path.join(BIN_DIR, p) for p in ("gen_lineage", "baseline", "loadgen", "echo_server")]
    missing = [p for p in progs + [DSGRAPHD] if not os.access(p, os.X_OK)]
    if missing:
        print("skip bench_smoke: not built: %s" % ", ".join(missing))
        print("0 passed, 0 failed")
        return 0
    with tempfile.TemporaryDirectory(prefix="dsgraph-bench-smoke-") as tmp:
        out = os.path.join(tmp, "latest.json")
        cmd = [sys.executable, os.path.join(SOURCE_DIR, "bench", "run.py"), "--small", "--no-build",
               "--runs", "1", "--duration", "0.2", "--dsgraphd", DSGRAPHD, "--dsctl", DSCTL,
               "--bin-dir", BIN_DIR, "--out", out]
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
        except subprocess.TimeoutExpired:
            print("FAIL bench_smoke: run.py did not finish within 400 s")
            return 1
        if p.returncode != 0:
            print(p.stdout[-6000:])
            print("FAIL bench_smoke: run.py exited %d" % p.returncode)
            return 1
        with open(out) as f:
            res = json.load(f)
        gen, base, lin = res["generator"], res["baseline"], res["lineage"]
        problems = []
        if gen["models"] != 10000:
            problems.append("models %s" % gen["models"])
        for key, bkey in (("desc_largest", "desc_count_largest"), ("desc_mid", "desc_count_mid"),
                          ("anc_leaf", "anc_count_leaf")):
            if lin[key]["result"] != base[bkey]["result"]:
                problems.append("%s: daemon %s, baseline %s" % (key, lin[key]["result"], base[bkey]["result"]))
        fl = base.get("floor", {})   # the leanest SQLite load of the same files, read back from its file
        if [fl.get(k) for k in ("nodes", "read_nodes", "edges", "read_edges")] != [gen["models"]] * 2 + [gen["edges"]] * 2:
            problems.append("floor load: %s" % fl)
        if "SQLite floor" not in p.stdout:
            problems.append("no SQLite floor row in the table")
        for mode in ("get", "ping"):
            if sorted(res[mode]) != ["c16_w1", "c16_w16", "c1_w1", "c1_w16", "c64_w1", "c64_w16"]:
                problems.append("%s matrix incomplete: %s" % (mode, sorted(res[mode])))
        cs = res.get("cypher_scan", {})   # run.py checked each answer against the baseline's
        for key, bkey in (("author_count", "scan_author_count"), ("tag_groups", "scan_tag_groups"),
                          ("first_edges", "first_edges"), ("relation_groups", "scan_relation_groups")):
            if cs.get(key, {}).get("result") != base[bkey]["result"] or base[bkey]["result"] < 1:
                problems.append("cypher_scan %s: %s, baseline %s" % (key, cs.get(key), base[bkey]))
        if "**Cypher scans**" not in p.stdout:
            problems.append("no Cypher scans rows in the table")
        cl = res.get("cypher_lookup", {})
        for key in ("query", "sql"):
            if sorted(cl.get(key, {})) != ["c16_w1", "c1_w1"]:
                problems.append("cypher_lookup %s incomplete: %s" % (key, sorted(cl.get(key, {}))))
        for key in ("json", "dot"):
            if not res.get("export", {}).get(key, {}).get("bytes"):
                problems.append("export %s wrote nothing: %s" % (key, res.get("export")))
        if not res.get("export", {}).get("restore", {}).get("same_bytes"):   # run.py compared the two exports
            problems.append("restore of the JSON export: %s" % res.get("export", {}).get("restore"))
        rt = res.get("import_csv_in_place", {}).get("retract", {})   # run.py checked the graph is empty after it
        if [i["result"]["import"] for i in rt.get("imports", [])] != [2, 1]:
            problems.append("retract of the in-place imports: %s" % rt)
        if "| benchmark |" not in p.stdout:
            problems.append("no table printed")
        if problems:
            print(p.stdout[-4000:])
            print("FAIL bench_smoke: " + "; ".join(problems))
            return 1
    print("ok bench_smoke (10,000 models: load, lineage, query, Cypher scans, lookups, ping, start-up, seed load, imports, retract)")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
