#!/usr/bin/env python3
"""Check plugins (docs/plugins.md, "Check plugins"; docs/protocol.md, "Checks") through
the real daemon and dsctl: on the bundled data plus the seed report the shipped checks
surface where the two sources disagree (the V3 paper, the V3 figures and dates, both
imports named); a synthetic graph for each rule gives exactly the expected finding;
`dsctl check` exits 1 with an error finding and 0 without; --json prints the result
object; bad requests and broken check plugins give clear errors."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, SOURCE_DIR, Daemon, Skip, check, eq, run_all, test  # noqa: E402
from plugtest import upload, write  # noqa: E402

SHIPPED = os.path.join(SOURCE_DIR, "plugins")
CURATED = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")
SEED_NAME = "000_81a8176beca22a22.txt"
SEED_REPORT = os.path.join(SOURCE_DIR, "..", "shared", "seeds", SEED_NAME)
CHECKS = ["check_based_on_cycle", "check_conflicting_claims", "check_distill_larger", "check_missing_released",
          "check_paper_two_models", "check_released_before_base"]


def daemon(seed=None, extra_dirs=()):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [SHIPPED] + list(extra_dirs), "plugin_memory_limit": 64 << 20,
                  "plugin_instruction_limit": 500000000})
    d.start(seed=seed)
    return d


def dsctl(d, *args):
    return subprocess.run([DSCTL, "--socket", d.socket] + list(args), capture_output=True, timeout=120)


def imported(c, path, name, plugin):
    with open(path, "rb") as f:
        res, err = upload(c, name, f.read(), plugin=plugin)
    check(err is None, "import of %s failed: %s" % (name, err))
    return res


def both_sources():
    """A daemon holding the curated data (import by dsgraph_requests) and the seed report."""
    if not os.path.exists(SEED_REPORT):
        raise Skip("the seed report %s is absent" % SEED_REPORT)
    d = daemon()
    with d.client() as c:
        imported(c, CURATED, "deepseek.jsonl", "dsgraph_requests")
        imported(c, SEED_REPORT, SEED_NAME, "deepseek_report")
    return d


def node_names(f):
    return [n["name"] for n in f["nodes"]]


def import_inputs(f):
    return sorted((m["plugin"], m["input"]) for m in f["imports"])


SOURCES = [("deepseek_report", SEED_NAME), ("dsgraph_requests", "deepseek.jsonl")]


def conflict(findings, model, key):
    hits = [f for f in findings if f["check"] == "check_conflicting_claims" and node_names(f) == [model]
            and f["message"].startswith("%s.%s:" % (model, key))]
    eq(len(hits), 1, "conflicting-claims findings on %s.%s" % (model, key))
    return hits[0]


@test(timeout=300)
def seed_and_curated_disagreements():
    d = both_sources()
    with d.client() as c:
        res = c.ok("check", {"plugins": None}, timeout=120)
    eq(sorted(res), ["checks_run", "failed", "findings"], "result members")
    eq(res["checks_run"], len(CHECKS), "checks_run")
    eq(res["failed"], [], "failed checks")
    fs = res["findings"]
    # the seed cites the R1 paper (arXiv:2501.12948) for V3: the paper now describes both
    papers = [f for f in fs if f["check"] == "check_paper_two_models" and "arXiv:2501.12948" in node_names(f)]
    eq(len(papers), 1, "paper findings on arXiv:2501.12948")
    f = papers[0]
    eq(f["severity"], "warning", "severity of the paper finding")
    for m in ("DeepSeek-V3", "DeepSeek-R1"):
        check(m in node_names(f) and m in f["message"], "%s named in %s" % (m, f))
    eq(import_inputs(f), SOURCES, "imports behind the paper links")
    # conflicting values, both sources named with their values
    for key, a, b, sev in (("released", '"2024-12"', '"2024-12-26"', "warning"),
                           ("training_gpu_hours", "2780000", "2788000", "error"),
                           ("training_cost_usd", "5570000", "5576000", "error")):
        f = conflict(fs, "DeepSeek-V3", key)
        eq(f["severity"], sev, "severity of the %s conflict" % key)
        check(a in f["message"] and b in f["message"], "both values in %r" % f["message"])
        check(SEED_NAME in f["message"] and "deepseek.jsonl" in f["message"], "both inputs in %r" % f["message"])
        eq(import_inputs(f), SOURCES, "imports behind the %s conflict" % key)
        eq(sorted(f["nodes"][0]), ["id", "labels", "name"], "node reference members")
        eq(f["nodes"][0]["labels"], ["Model"], "labels of the node")
        for m in f["imports"]:
            eq(sorted(m), ["id", "input", "plugin"], "import reference members")
    # dsctl: the readable list, exit 1 (there are error findings)
    r = dsctl(d, "check")
    eq(r.returncode, 1, "dsctl check exit status with error findings (stderr %r)" % r.stderr)
    out = r.stdout.decode()
    for s in ("error", "check_conflicting_claims", "DeepSeek-V3.training_gpu_hours", "import  #", SEED_NAME,
              "deepseek.jsonl", "arXiv:2501.12948"):
        check(s in out, "%r in dsctl check's output:\n%s" % (s, out[:3000]))
    # --json: the result object on one line, same exit status
    r = dsctl(d, "--json", "check")
    eq(r.returncode, 1, "dsctl --json check exit status")
    got = json.loads(r.stdout.decode())
    eq(got["checks_run"], res["checks_run"], "--json checks_run")
    eq(len(got["findings"]), len(fs), "--json findings")
    # --plugin selects; a warning-only check exits 0
    r = dsctl(d, "check", "--plugin", "check_paper_two_models", "--json")
    eq(r.returncode, 0, "exit status with only warnings")
    got = json.loads(r.stdout.decode())
    eq(got["checks_run"], 1, "one check run")
    check(got["findings"] and all(f["check"] == "check_paper_two_models" for f in got["findings"]), "selected check")


@test(timeout=200)
def curated_data_alone_has_no_errors():
    d = daemon(seed=CURATED)
    r = dsctl(d, "check")
    eq(r.returncode, 0, "dsctl check on the curated data (stdout %r)" % r.stdout[-2000:])
    check(b" 0 errors" in r.stdout or b"(0 errors" in r.stdout, "no errors: %r" % r.stdout[-300:])
    with d.client() as c:
        res = c.ok("check")
    check(not [f for f in res["findings"] if f["check"] == "check_conflicting_claims"],
          "a direct write claims no property values, so no conflicts")


def model(c, name, **props):
    return c.ok("node.put", {"labels": ["Model"], "name": name, "properties": props})


def link(c, a, typ, b):
    c.ok("rel.put", {"start": {"label": "Model", "name": a}, "type": typ, "end": {"label": "Model", "name": b},
                     "properties": {}})


def only_finding(d, name):
    """Runs every check; exactly one finding, from check name."""
    with d.client() as c:
        res = c.ok("check", {})
    eq(res["failed"], [], "failed checks")
    eq([f["check"] for f in res["findings"]], [name], "the checks that found something")
    return res["findings"][0]


@test
def rule_based_on_cycle():
    d = daemon()
    with d.client() as c:
        for n in ("A", "B", "C", "D"):
            model(c, n, released="2024-01")
        link(c, "A", "BASED_ON", "B")
        link(c, "B", "BASED_ON", "C")
        link(c, "C", "BASED_ON", "A")
        link(c, "D", "BASED_ON", "A")
    f = only_finding(d, "check_based_on_cycle")
    eq((f["severity"], f["message"]), ("error", "BASED_ON cycle: A -> B -> C -> A"), "the cycle")
    eq(node_names(f), ["A", "B", "C"], "nodes of the cycle")
    eq(f["imports"], [{"id": 0, "plugin": "direct", "input": None}], "direct writes")
    eq(dsctl(d, "check").returncode, 1, "exit status with an error finding")


@test
def rule_conflicting_claims_on_a_relationship():
    """Two imports give one relationship different props; a third agrees with the first. The
    finding names the relationship by its ends' names and both sources."""
    d = daemon()
    rel = lambda relation: json.dumps({"jsonrpc": "2.0", "method": "rel.put", "params": {
        "start": {"label": "Model", "name": "Child"}, "type": "BASED_ON",
        "end": {"label": "Model", "name": "Parent"}, "properties": {"relation": relation}}}) + "\n"
    nodes = "".join(json.dumps({"jsonrpc": "2.0", "method": "node.put", "params": {
        "labels": ["Model"], "name": n, "properties": {"released": "2024-01"}}}) + "\n" for n in ("Child", "Parent"))
    with d.client() as c:
        for name, relation in (("a.jsonl", "finetune"), ("b.jsonl", "merge"), ("c.jsonl", "finetune")):
            text = nodes + rel(relation) + ("\n" if name == "c.jsonl" else "")   # not a re-import of a.jsonl
            res, err = upload(c, name, text.encode(), plugin="dsgraph_requests")
            check(err is None, "import of %s failed: %s" % (name, err))
    f = only_finding(d, "check_conflicting_claims")
    eq(f["severity"], "error", "severity")
    check(f["message"].startswith("(Child)-[BASED_ON]->(Parent).relation: sources disagree: "), f["message"])
    check('"finetune"' in f["message"] and '"merge"' in f["message"], f["message"])
    eq(sorted(node_names(f)), ["Child", "Parent"], "the relationship's ends")
    eq(import_inputs(f), [("dsgraph_requests", "a.jsonl"), ("dsgraph_requests", "b.jsonl"),
                          ("dsgraph_requests", "c.jsonl")], "all three sources")


@test
def rule_released_before_base():
    d = daemon()
    with d.client() as c:
        model(c, "Base", released="2024-05-10")
        model(c, "Early", released="2024-03")
        model(c, "SameMonth", released="2024-05")
        link(c, "Early", "BASED_ON", "Base")
        link(c, "SameMonth", "DISTILLED_FROM", "Base")
    f = only_finding(d, "check_released_before_base")
    eq(f["severity"], "error", "severity")
    eq(node_names(f), ["Early", "Base"], "nodes")
    check("2024-03" in f["message"] and "2024-05-10" in f["message"], f["message"])
    eq(dsctl(d, "check").returncode, 1, "exit status with an error finding")


@test
def rule_distill_larger():
    d = daemon()
    with d.client() as c:
        model(c, "Teacher", released="2024-01", params_total=7000000000)
        model(c, "Big", released="2024-02", params_total=70000000000)
        model(c, "Small", released="2024-02", params_total=1500000000)
        link(c, "Big", "DISTILLED_FROM", "Teacher")
        link(c, "Small", "DISTILLED_FROM", "Teacher")
    f = only_finding(d, "check_distill_larger")
    eq(f["severity"], "error", "severity")
    eq(node_names(f), ["Big", "Teacher"], "nodes")


@test
def rule_missing_released():
    d = daemon()
    with d.client() as c:
        model(c, "Dated", released="2024-01")
        model(c, "Undated")
        c.ok("node.put", {"labels": ["Paper"], "name": "arXiv:1", "properties": {}})
    f = only_finding(d, "check_missing_released")
    eq((f["severity"], node_names(f)), ("warning", ["Undated"]), "the undated model")
    r = dsctl(d, "check")
    eq(r.returncode, 0, "exit status with only a warning")
    check(b"warning" in r.stdout and b"Undated" in r.stdout, r.stdout)
    # past opts.max_listed the rest are one summary finding, not one each
    with d.client() as c:
        for i in range(5):
            model(c, "Undated%d" % i)
        res = c.ok("check", {"plugins": ["check_missing_released"], "opts": {"max_listed": 2}})
        eq(res["failed"], [], "failed")
        eq([node_names(f) for f in res["findings"]], [["Undated"], ["Undated0"], []], "two listed, then the summary")
        check(res["findings"][2]["message"].startswith("4 more models have no released date"),
              res["findings"][2]["message"])
        eq(len(c.ok("check", {"plugins": ["check_missing_released"]})["findings"]), 6, "the default lists all six")
        res = c.ok("check", {"plugins": ["check_missing_released"], "opts": {"max_listed": -1}})
        check(res["failed"] and "max_listed" in res["failed"][0]["error"], "a negative max_listed: %s" % res)
    r = dsctl(d, "--json", "check", "--plugin", "check_missing_released", "--opt", "max_listed=1")
    eq(r.returncode, 0, "dsctl check --opt (stderr %r)" % r.stderr)
    got = json.loads(r.stdout)["findings"]
    eq((len(got), got[1]["message"][:2]), (2, "5 "), "--opt reaches the check as a string it converts")
    r = dsctl(d, "check", "--opt", "max_listed=lots")
    check(r.returncode == 1 and b"max_listed must be an integer" in r.stdout + r.stderr, "a bad --opt value: %r" % (r,))
    eq(dsctl(d, "check", "--opt", "max_listed").returncode, 2, "--opt without '=' is a usage error")


@test
def empty_graph_and_errors():
    d = daemon()
    with d.client() as c:
        res = c.ok("check", {"plugins": None})
        eq((res["findings"], res["checks_run"], res["failed"]), ([], len(CHECKS), []), "empty graph")
        _, err = c.call("check", {"plugins": ["nope"]})
        check(err and "no plugin named \"nope\"" in err["message"], "unknown plugin: %s" % err)
        _, err = c.call("check", {"plugins": ["json_export"]})
        check(err and "has no check" in err["message"], "plugin without a check: %s" % err)
        _, err = c.call("check", {"plugins": "check_distill_larger"})
        check(err and err["code"] == -32602, "plugins not a list: %s" % err)
        plugins = {p["name"]: p for p in c.ok("plugins.list")["plugins"]}
        eq(plugins["check_based_on_cycle"]["check"]["severity"], "error", "plugins.list shows the check")
    eq(dsctl(d, "check").returncode, 0, "exit status on an empty graph")
    eq(dsctl(d, "check", "stray").returncode, 2, "usage error")


@test
def broken_and_custom_checks():
    d0 = Daemon(config={})
    pdir = os.path.join(d0.dir, "checks")
    os.mkdir(pdir)
    write(os.path.join(pdir, "boom.lua"),
          'return {name="boom", check={run=function(ctx) error("kaput") end}}\n')
    write(os.path.join(pdir, "badsev.lua"),
          'return {name="badsev", check={run=function(ctx) ctx:finding{message="x", severity="fatal"} end}}\n')
    write(os.path.join(pdir, "badload.lua"), 'return {name="badload", check={severity="bad", run=function() end}}\n')
    write(os.path.join(pdir, "mine.lua"), '''return {name="mine", check={severity="error", run=function(ctx)
  local n = 0
  for _, m in ipairs(ctx:imports()) do n = n + 1 end
  for node in ctx:nodes("Model") do
    local props, ent = ctx:claims("node", node.id)
    ctx:finding{message=node.props.name .. " " .. #props .. " " .. #ent .. " " .. n, nodes={node.id},
                imports={ent[1].import}, severity="warning"}
  end
end}}
''')
    d0.set_config({"plugin_dirs": [pdir], "plugin_memory_limit": 32 << 20, "plugin_instruction_limit": 10000000})
    d0.start()
    with d0.client() as c:
        model(c, "M", released="2024-01")
        st = {p["name"]: p for p in c.ok("plugins.list")["plugins"]}
        eq(st["badload"]["status"], "error", "a bad severity is a load error")
        check("check.severity" in st["badload"]["error"], st["badload"]["error"])
        res = c.ok("check", {"plugins": None})
        eq(res["checks_run"], 3, "loaded checks run")
        failed = {f["check"]: f["error"] for f in res["failed"]}
        eq(sorted(failed), ["badsev", "boom"], "failed checks")
        check("boom.lua:1:" in failed["boom"] and "kaput" in failed["boom"], failed["boom"])
        check("severity must be" in failed["badsev"], failed["badsev"])
        eq([(f["check"], f["severity"], f["message"]) for f in res["findings"]], [("mine", "warning", "M 0 1 0")],
           "the custom check's finding (direct writes claim no values)")
    eq(dsctl(d0, "check").returncode, 1, "exit status when a check failed")


if __name__ == "__main__":
    run_all()
