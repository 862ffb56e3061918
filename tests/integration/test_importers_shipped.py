#!/usr/bin/env python3
"""The shipped importers (plugins/) and the tutorial's example (examples/plugins/) through
the real daemon: the seed report's facts in the store, its merge with the curated data,
idempotent re-imports, errors that name plugin, input and line with nothing written,
CSV / JSON / JSON Lines / Hugging Face inputs, and `dsctl import` choosing the plugin."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import DSCTL, SOURCE_DIR, Daemon, Skip, check, eq, expect_error, run_all, test  # noqa: E402
from plugtest import SHIPPED_PLUGINS, count_nodes, upload  # noqa: E402

EXAMPLE_PLUGINS = os.path.join(SOURCE_DIR, "examples", "plugins")
SEED = os.environ.get("DSGRAPH_SEED_REPORT") or os.path.join(
    SOURCE_DIR, "..", "shared", "seeds", "000_81a8176beca22a22.txt")
CURATED = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")


def daemon(seed=None):
    d = Daemon(config={})
    d.set_config({"plugin_dirs": [SHIPPED_PLUGINS, EXAMPLE_PLUGINS], "plugin_memory_limit": 64 << 20,
                  "plugin_instruction_limit": 1000000000})
    d.start(seed=seed)
    return d


def seed_bytes():
    if not os.path.exists(SEED):
        raise Skip("no seed report at %s" % SEED)
    with open(SEED, "rb") as f:
        return f.read()


def node(c, label, name):
    """The node's properties and its relationships as (type, other node's name, props, outgoing)."""
    res = c.ok("node.get", {"label": label, "name": name, "relationships": True})
    n = res["$node"]
    rels = []
    for r in res["relationships"]:
        r = r["$rel"]
        out = r["start"] == n["id"]
        other = c.ok("node.get", {"id": r["end"] if out else r["start"]})["$node"]
        rels.append((r["type"], other["properties"].get("name"), r["properties"], out))
    return n["properties"], rels


def out_rel(rels, type_, name):
    for t, other, props, out in rels:
        if out and t == type_ and other == name:
            return props
    raise AssertionError("no relationship -[%s]-> %s among %r" % (type_, name, [(t, o) for t, o, _, x in rels if x]))


def imported(c, name, data, plugin=None):
    res, err = upload(c, name, data, plugin=plugin)
    check(err is None, "import of %s failed: %s" % (name, err))
    return res


@test
def seed_report_facts_in_the_store():
    data = seed_bytes()
    d = daemon()
    with d.client() as c:
        res = imported(c, "000_81a8176beca22a22.txt", data, plugin="deepseek_report")
        eq(res["warnings"], [], "warnings on the seed report")
        p, rels = node(c, "Model", "DeepSeek-V2")
        eq((p["released"], p["params_total"], p["params_active"], p["context_length"], p["open_source"]),
           ("2024-05", 236000000000, 21000000000, 131072, True), "DeepSeek-V2")
        eq(out_rel(rels, "COMPARED_WITH", "GPT-4")["claim"], "在多项基准测试中达到 GPT-4 级别性能", "V2 vs GPT-4")
        p, rels = node(c, "Model", "DeepSeek Coder V2")
        eq((p["name"], p["programming_languages"], p["released"]), ("DeepSeek-Coder-V2", 338, "2024-06"), "Coder V2")
        for target in ("GPT-4 Turbo", "Claude 3 Opus", "Gemini 1.5 Pro"):
            out_rel(rels, "COMPARED_WITH", target)
        p, rels = node(c, "Model", "DeepSeek-V3")
        eq((p["params_total"], p["params_active"], p["training_gpu_hours"], p["training_cost_usd"]),
           (671000000000, 37000000000, 2780000, 5570000), "DeepSeek-V3 figures")
        out_rel(rels, "DESCRIBED_IN", "arXiv:2501.12948")
        for t in ("Multi-head Latent Attention", "DeepSeekMoE", "Auxiliary-loss-free load balancing",
                  "FP8 mixed-precision training"):
            out_rel(rels, "USES", t)
        p, rels = node(c, "Model", "DeepSeek-R1")
        out_rel(rels, "BASED_ON", "DeepSeek-V3-Base")
        out_rel(rels, "COMPARED_WITH", "OpenAI o1")
        out_rel(rels, "HAS_IMPACT", "Market shock")
        for size, n in (("Qwen-1.5B", 1500000000), ("Qwen-7B", 7000000000), ("Qwen-14B", 14000000000),
                        ("Qwen-32B", 32000000000), ("Llama-8B", 8000000000), ("Llama-70B", 70000000000)):
            p, rels = node(c, "Model", "DeepSeek-R1-Distill-" + size)
            eq(p["params_total"], n, size)
            out_rel(rels, "DISTILLED_FROM", "DeepSeek-R1")
        for name, cat in (("市场震动", "market"), ("开源生态贡献", "open-source"), ("技术民主化", "democratization")):
            eq(node(c, "Impact", name)[0]["category"], cat, name)
        eq(node(c, "Technique", "多头潜在注意力")[0]["name"], "Multi-head Latent Attention", "alias")


@test
def seed_report_merges_with_curated_data_and_reimports_unchanged():
    data = seed_bytes()
    d = daemon(seed=CURATED)
    with d.client() as c:
        before = count_nodes(c)
        res = imported(c, "report.md", data)   # chosen by extension + detect
        eq(res["plugin"], "deepseek_report", "plugin chosen for a .md report")
        eq(res["nodes_created"], 0, "nodes the report adds to the curated graph (all merge)")
        eq(count_nodes(c), before, "nodes after the import")
        again = imported(c, "report.md", data)
        eq(again["unchanged"], True, "re-import")
        eq(count_nodes(c), before, "nodes after the re-import")


@test
def report_with_a_missing_section_writes_nothing():
    data = seed_bytes().decode("utf-8").replace("## 一、核心模型发布时间线", "## 一、模型列表")
    d = daemon()
    with d.client() as c:
        _, err = upload(c, "broken.md", data.encode(), plugin="deepseek_report")
        expect_error(err, -32602, "report without a timeline")
        check(err["message"].startswith('deepseek_report: broken.md: no section "核心模型发布时间线"'), err["message"])
        bad = "# DeepSeek\n\n## 一、核心模型发布时间线\n\n#### 1. DeepSeek-V2（2024年5月）\n- **发布时间**：".encode() + b"\xff\n"
        _, err = upload(c, "bad.md", bad, plugin="deepseek_report")
        eq(err["message"], "deepseek_report: bad.md:6: not valid UTF-8", "invalid UTF-8")
        eq(count_nodes(c), 0, "nodes after failed imports")


NODES = ("name:ID(Model),:LABEL,params_total:long,open_source:boolean,tags:string[],note\n"
         'DeepSeek-V3,Model,671000000000,true,moe;mla,"quoted, with\na line break"\n'
         "DeepSeek-V3-Base,Model,671000000000,,,\n")
RELS = ":START_ID(Model),:END_ID(Model),:TYPE,relation\nDeepSeek-V3,DeepSeek-V3-Base,BASED_ON,finetune\n"


@test
def csv_files():
    d = daemon()
    with d.client() as c:
        eq(imported(c, "nodes.csv", NODES.encode())["plugin"], "csv", "plugin for .csv")
        imported(c, "rels.csv", RELS.encode())
        p, rels = node(c, "Model", "DeepSeek-V3")
        eq((p["params_total"], p["open_source"], p["tags"], p["note"]),
           (671000000000, True, ["moe", "mla"], "quoted, with\na line break"), "typed columns")
        eq(out_rel(rels, "BASED_ON", "DeepSeek-V3-Base"), {"relation": "finetune"}, "relationship file")
        _, err = upload(c, "badq.csv", (NODES + 'X,Model,1,true,,"bad "quote"\n').encode())
        check(err and err["message"].startswith("csv: badq.csv:5: csv: line 5"), "bad quoting: %r" % err)
        _, err = upload(c, "badt.csv", NODES.replace("params_total:long", "params_total:bignum").encode())
        eq(err["message"], 'csv: badt.csv:1: column 3 "params_total:bignum": unknown type "bignum"', "unknown type")
        eq(count_nodes(c), 2, "nodes after the failed imports")


@test
def json_graph_and_json_lines():
    graph = ('{"nodes":[{"id":1,"labels":["Model"],"properties":{"name":"A","x":1.0,"l":[]}},'
             '{"id":2,"labels":["Model"],"properties":{"name":"B"}}],'
             '"relationships":[{"id":1,"type":"BASED_ON","start":1,"end":2,"properties":{}}]}')
    lines = ('{"type":"node","id":"c","labels":["Model"],"properties":{"name":"C"}}\n'
             '{"type":"relationship","label":"BASED_ON","start":"c","end":{"label":"Model","name":"A"}}\n')
    d = daemon()
    with d.client() as c:
        imported(c, "g.json", graph.encode())
        imported(c, "g.jsonl", lines.encode(), plugin="json_graph")
        p, rels = node(c, "Model", "A")
        check(getattr(p["x"], "text", None) == "1.0" and p["l"] == [], "typed values kept: %r" % p)
        out_rel(rels, "BASED_ON", "B")
        _, err = upload(c, "t.jsonl", lines.encode()[:90], plugin="json_graph")
        check(err and err["message"].startswith("json_graph: t.jsonl:2: invalid JSON"), "truncated: %r" % err)
        _, err = upload(c, "deep.json", b'{"nodes":' + b"[" * 100000)
        check(err and "invalid JSON" in err["message"], "deep nesting: %r" % err)
        eq(count_nodes(c), 3, "nodes after the failed imports")


@test
def hugging_face_sample():
    with open(os.path.join(SOURCE_DIR, "examples", "hf_sample.jsonl"), "rb") as f:
        data = f.read()
    d = daemon()
    with d.client() as c:
        res = imported(c, "hf_sample.jsonl", data)
        eq(res["plugin"], "hf_models", "plugin chosen by detect for .jsonl")
        eq(res["warnings"], [], "warnings")
        p, rels = node(c, "Model", "example-org/DeepSeek-R1-Distill-Qwen-7B-GGUF")
        eq(out_rel(rels, "BASED_ON", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")["relation"], "quantized", "relation")
        tree = c.ok("lineage", {"node": {"label": "Model", "name": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"},
                                "direction": "down"})
        check(len(tree["nodes"]) >= 4, "descendants of the 7B distill: %d" % len(tree["nodes"]))


@test
def dsctl_imports_the_tutorial_cards():
    d = daemon()
    env = dict(os.environ, DSGRAPH_SOCKET=d.socket)
    path = os.path.join(EXAMPLE_PLUGINS, "deepseek.cards")
    p = subprocess.run([DSCTL, "import", path], capture_output=True, text=True, env=env, timeout=120)
    eq(p.returncode, 0, "dsctl import exit status (stderr %r)" % p.stderr)
    with d.client() as c:
        props, rels = node(c, "Model", "DeepSeek-R1")
        eq((props["params_total"], props["context_length"]), (671000000000, 131072), "card figures")
        out_rel(rels, "BASED_ON", "DeepSeek-V3-Base")


if __name__ == "__main__":
    run_all()
