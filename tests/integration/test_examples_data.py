#!/usr/bin/env python3
"""Checks the bundled example graph, examples/deepseek.jsonl, without a daemon.

The daemon executes that file line by line (one transaction) when it creates a new
database, so every line must be a JSON-RPC 2.0 notification that docs/protocol.md
accepts, every relationship must name nodes put before it, and the data must keep the
project's vocabulary. It also checks that the facts of the seed report
(shared/seeds/000_81a8176beca22a22.txt) are all present and that the report's one known
error (it gives the DeepSeek-V3 technical report as arXiv:2501.12948, the R1 paper) was
not copied.

Environment: DSGRAPH_SOURCE_DIR is the source tree (default: the tree holding this file,
/work/main in the lead's checkout).
DSGRAPH_SEED_REPORT names the seed report; without it the test looks beside the source
tree, and skips the one check that needs the report if it is not found.
Plain python3 (stdlib only). Prints "ok NAME", "skip NAME: reason" or "FAIL NAME: reason"
per check, then "N passed, M failed" as the last line; exits 1 if any failed.
"""
import datetime
import json
import os
import re
import sys
import traceback
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DSGRAPH_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(SOURCE_DIR, "examples", "deepseek.jsonl")
SEED_NAME = "000_81a8176beca22a22.txt"

LABELS = {"Model", "Technique", "Impact", "Organization", "Paper", "Benchmark"}
TYPES = {"DEVELOPED_BY", "BASED_ON", "DISTILLED_FROM", "USES", "HAS_IMPACT", "DESCRIBED_IN",
         "EVALUATED_ON", "COMPARED_WITH"}
# Which labels each relationship type may connect: type -> set of (start label, end label).
ENDPOINTS = {
    "DEVELOPED_BY": {("Model", "Organization")},
    "BASED_ON": {("Model", "Model"), ("Technique", "Technique")},
    "DISTILLED_FROM": {("Model", "Model")},
    "USES": {("Model", "Technique")},
    "HAS_IMPACT": {("Model", "Impact")},
    "DESCRIBED_IN": {("Model", "Paper"), ("Technique", "Paper")},
    "EVALUATED_ON": {("Model", "Benchmark")},
    "COMPARED_WITH": {("Model", "Model")},
}
INT_PROPS = {"params_total", "params_active", "context_length", "training_gpu_hours",
             "training_cost_usd", "programming_languages", "training_tokens",
             "continued_pretraining_tokens"}
BOOL_PROPS = {"open_source", "open_weights"}
IMPACT_CATEGORIES = {"market", "open-source", "democratization"}
CJK = re.compile(r"[\u3400-\u9fff]")

B = 1_000_000_000
DISTILLS = {
    "DeepSeek-R1-Distill-Qwen-1.5B": (1_500_000_000, "Qwen2.5-Math-1.5B", "Alibaba"),
    "DeepSeek-R1-Distill-Qwen-7B": (7 * B, "Qwen2.5-Math-7B", "Alibaba"),
    "DeepSeek-R1-Distill-Qwen-14B": (14 * B, "Qwen2.5-14B", "Alibaba"),
    "DeepSeek-R1-Distill-Qwen-32B": (32 * B, "Qwen2.5-32B", "Alibaba"),
    "DeepSeek-R1-Distill-Llama-8B": (8 * B, "Llama-3.1-8B", "Meta"),
    "DeepSeek-R1-Distill-Llama-70B": (70 * B, "Llama-3.3-70B-Instruct", "Meta"),
}


def key(s):
    """The daemon's name key: NFKC, case folding, surrounding white space stripped."""
    return unicodedata.normalize("NFKC", s).casefold().strip()


# ------------------------------------------------------------------ loading

class Data:
    def __init__(self):
        self.errors = []     # format problems found while loading: (line number, message)
        self.nodes = []      # dicts: line, label, labels, name, props, aliases
        self.rels = []       # dicts: line, type, start, end (node dicts or None), props
        self.raw = None

    def find(self, label, name):
        """The node with this label whose name or alias matches name, or None."""
        k = key(name)
        for n in self.nodes:
            if n["label"] == label and (key(n["name"]) == k or k in {key(a) for a in n["aliases"]}):
                return n
        return None

    def rels_of(self, typ, start=None, end=None):
        return [r for r in self.rels
                if r["type"] == typ and r["start"] is not None and r["end"] is not None
                and (start is None or r["start"] is start) and (end is None or r["end"] is end)]


def _no_duplicate_keys(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise ValueError("duplicate key %r" % k)
        seen.add(k)
    return dict(pairs)


def _no_constants(name):
    raise ValueError("non-standard JSON constant %s" % name)


def load():
    d = Data()
    with open(DATA, "rb") as f:
        d.raw = f.read()
    try:
        text = d.raw.decode("utf-8")
    except UnicodeDecodeError as e:
        d.errors.append((0, "not UTF-8: %s" % e))
        text = d.raw.decode("utf-8", "replace")
    if not text.endswith("\n"):
        d.errors.append((0, "file does not end with a newline"))
    for no, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        if "\r" in line:
            d.errors.append((no, "carriage return in line"))
        if not line.strip():
            d.errors.append((no, "blank line"))
            continue
        if line.lstrip().startswith("//"):
            d.errors.append((no, "comment line (// is not JSON)"))
            continue
        try:
            msg = json.loads(line, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
        except ValueError as e:
            d.errors.append((no, "not JSON: %s" % e))
            continue
        if not isinstance(msg, dict):
            d.errors.append((no, "not a JSON object"))
            continue
        if set(msg) != {"jsonrpc", "method", "params"}:
            d.errors.append((no, "members must be exactly jsonrpc, method, params (a notification has no id); got %s"
                             % sorted(msg)))
        if msg.get("jsonrpc") != "2.0":
            d.errors.append((no, "jsonrpc is not \"2.0\""))
        params = msg.get("params")
        if not isinstance(params, dict):
            d.errors.append((no, "params is not an object"))
            continue
        method = msg.get("method")
        if method == "node.put":
            _load_node(d, no, params)
        elif method == "rel.put":
            _load_rel(d, no, params)
        else:
            d.errors.append((no, "method %r is not node.put or rel.put" % (method,)))
    return d


def _load_node(d, no, p):
    extra = set(p) - {"labels", "name", "properties", "aliases"}
    if extra:
        d.errors.append((no, "node.put: unknown params %s" % sorted(extra)))
    labels = p.get("labels")
    if not (isinstance(labels, list) and labels and all(isinstance(l, str) and l for l in labels)):
        d.errors.append((no, "node.put: labels must be a non-empty array of strings"))
        return
    props = p.get("properties", {})
    if not isinstance(props, dict):
        d.errors.append((no, "node.put: properties is not an object"))
        return
    name = p.get("name", props.get("name"))
    if not isinstance(name, str) or not name.strip():
        d.errors.append((no, "node.put: every example node needs a non-empty name"))
        return
    if "name" in p and "name" in props and props["name"] != p["name"]:
        d.errors.append((no, "node.put: params.name and properties.name differ"))
    aliases = p.get("aliases", [])
    if not (isinstance(aliases, list) and all(isinstance(a, str) and a.strip() for a in aliases)):
        d.errors.append((no, "node.put: aliases must be an array of non-empty strings"))
        aliases = []
    d.nodes.append({"line": no, "label": labels[0], "labels": labels, "name": name,
                    "props": props, "aliases": aliases})


def _load_rel(d, no, p):
    extra = set(p) - {"start", "type", "end", "properties"}
    if extra:
        d.errors.append((no, "rel.put: unknown params %s (create is not used in the examples)" % sorted(extra)))
    typ = p.get("type")
    if not isinstance(typ, str) or not typ:
        d.errors.append((no, "rel.put: type must be a non-empty string"))
        return
    props = p.get("properties", {})
    if not isinstance(props, dict):
        d.errors.append((no, "rel.put: properties is not an object"))
        props = {}
    ends = []
    for side in ("start", "end"):
        ref = p.get(side)
        if not (isinstance(ref, dict) and set(ref) == {"label", "name"}
                and isinstance(ref["label"], str) and isinstance(ref["name"], str)):
            d.errors.append((no, "rel.put: %s must be {\"label\":...,\"name\":...}" % side))
            ends.append(None)
            continue
        node = d.find(ref["label"], ref["name"])   # only nodes put on earlier lines exist yet
        if node is None:
            d.errors.append((no, "rel.put: %s %s %r was not put on an earlier line"
                             % (side, ref["label"], ref["name"])))
        ends.append(node)
    d.rels.append({"line": no, "type": typ, "start": ends[0], "end": ends[1], "props": props})


# ------------------------------------------------------------------ checks

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


class Skip(Exception):
    pass


def must_find(d, label, name):
    n = d.find(label, name)
    assert n is not None, "no %s named %r" % (label, name)
    return n


def assert_rel(d, sl, sn, typ, el, en):
    s, e = must_find(d, sl, sn), must_find(d, el, en)
    rs = d.rels_of(typ, s, e)
    assert rs, "missing (%s %s)-[:%s]->(%s %s)" % (sl, sn, typ, el, en)
    return rs[0]


@check
def every_line_is_a_json_rpc_notification(d):
    assert not d.errors, "; ".join("line %d: %s" % e for e in d.errors[:20])
    assert d.nodes and d.rels, "the file puts no nodes or no relationships"


@check
def labels_and_types_are_in_the_vocabulary(d):
    bad = ["line %d: label %r" % (n["line"], l) for n in d.nodes for l in n["labels"] if l not in LABELS]
    bad += ["line %d: type %r" % (r["line"], r["type"]) for r in d.rels if r["type"] not in TYPES]
    assert not bad, ", ".join(bad)


@check
def relationship_endpoints_have_the_right_labels(d):
    bad = []
    for r in d.rels:
        if r["start"] is None or r["end"] is None or r["type"] not in ENDPOINTS:
            continue
        if (r["start"]["label"], r["end"]["label"]) not in ENDPOINTS[r["type"]]:
            bad.append("line %d: %s -[:%s]-> %s" % (r["line"], r["start"]["label"], r["type"], r["end"]["label"]))
    assert not bad, ", ".join(bad)


@check
def node_names_and_aliases_are_unambiguous(d):
    # Within a label a name or alias must pick one node (else node.put would merge and
    # rel.put/node.get would be ambiguous); and every node must be put only once.
    owner = {}
    bad = []
    for i, n in enumerate(d.nodes):
        for s in [n["name"]] + n["aliases"]:
            k = (n["label"], key(s))
            if k in owner and owner[k] != i:
                bad.append("line %d: %s %r collides with the node on line %d"
                           % (n["line"], n["label"], s, d.nodes[owner[k]]["line"]))
            owner.setdefault(k, i)
    # A bare {"name":...} (dsctl show NAME) must resolve too: names unique across labels.
    names = {}
    for n in d.nodes:
        k = key(n["name"])
        if k in names:
            bad.append("line %d: name %r is also the name of a node on line %d" % (n["line"], n["name"], names[k]))
        names.setdefault(k, n["line"])
    assert not bad, "; ".join(bad)


@check
def relationships_are_not_repeated(d):
    seen = {}
    bad = []
    for r in d.rels:
        if r["start"] is None or r["end"] is None:
            continue
        k = (id(r["start"]), r["type"], id(r["end"]))
        if k in seen:
            bad.append("line %d repeats line %d (rel.put would merge them)" % (r["line"], seen[k]))
        seen.setdefault(k, r["line"])
    assert not bad, "; ".join(bad)


@check
def property_values_have_the_vocabulary_types(d):
    bad = []
    for n in d.nodes:
        where = "line %d (%s)" % (n["line"], n["name"])
        for k, v in n["props"].items():
            if k in INT_PROPS and not (type(v) is int and v > 0):
                bad.append("%s: %s must be a positive integer, got %r" % (where, k, v))
            if k in BOOL_PROPS and type(v) is not bool:
                bad.append("%s: %s must be a boolean, got %r" % (where, k, v))
            if k == "released":
                if not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", v)):
                    bad.append("%s: released must be YYYY-MM or YYYY-MM-DD, got %r" % (where, v))
                else:
                    try:
                        datetime.date.fromisoformat(v if len(v) == 10 else v + "-01")
                    except ValueError:
                        bad.append("%s: released %r is not a date" % (where, v))
        if n["label"] == "Model":
            for k in ("params_total", "released"):
                if k not in n["props"] and n["name"] in DISTILLS:
                    bad.append("%s: distilled model without %s" % (where, k))
        if n["label"] == "Impact":
            if n["props"].get("category") not in IMPACT_CATEGORIES:
                bad.append("%s: category must be one of %s" % (where, sorted(IMPACT_CATEGORIES)))
            if not (isinstance(n["props"].get("description"), str) and n["props"]["description"]):
                bad.append("%s: impact without a description" % where)
        if n["label"] == "Technique":
            if not any(CJK.search(a) for a in n["aliases"]):
                bad.append("%s: technique without a Chinese alias" % where)
            abbr = n["props"].get("abbr")
            if abbr is not None and key(abbr) not in {key(a) for a in n["aliases"]}:
                bad.append("%s: abbr %r is not also an alias" % (where, abbr))
        if n["label"] == "Paper":
            aid = n["props"].get("arxiv_id")
            if not (isinstance(aid, str) and re.fullmatch(r"\d{4}\.\d{4,5}", aid)):
                bad.append("%s: arxiv_id %r" % (where, aid))
            elif n["name"] != "arXiv:" + aid:
                bad.append("%s: a paper's name must be arXiv:<arxiv_id>" % where)
            if not isinstance(n["props"].get("title"), str):
                bad.append("%s: paper without a title" % where)
    for r in d.rels:
        s = r["props"].get("score")
        if s is not None and not (type(s) in (int, float) and 0 <= s <= 100):
            bad.append("line %d: score %r is not a percentage" % (r["line"], s))
    assert not bad, "; ".join(bad)


@check
def every_model_has_a_developer(d):
    bad = [n["name"] for n in d.nodes if n["label"] == "Model"
           and not d.rels_of("DEVELOPED_BY", start=n)]
    assert not bad, "models without DEVELOPED_BY: %s" % bad
    deepseek = must_find(d, "Organization", "DeepSeek")
    bad = [n["name"] for n in d.nodes if n["label"] == "Model" and n["name"].startswith("DeepSeek")
           and not d.rels_of("DEVELOPED_BY", n, deepseek)]
    assert not bad, "DeepSeek models not DEVELOPED_BY DeepSeek: %s" % bad


@check
def the_six_r1_distills(d):
    r1 = must_find(d, "Model", "DeepSeek-R1")
    for name, (params, base, org) in DISTILLS.items():
        m = must_find(d, "Model", name)
        assert m["props"].get("params_total") == params, "%s params_total %r" % (name, m["props"].get("params_total"))
        assert d.rels_of("DISTILLED_FROM", m, r1), "%s is not DISTILLED_FROM DeepSeek-R1" % name
        assert_rel(d, "Model", name, "BASED_ON", "Model", base)
        assert_rel(d, "Model", base, "DEVELOPED_BY", "Organization", org)
        assert m["props"].get("released", "").startswith("2025-01"), "%s released" % name
    distilled = {r["start"]["name"] for r in d.rels_of("DISTILLED_FROM", end=r1)}
    assert distilled == set(DISTILLS), "DISTILLED_FROM DeepSeek-R1: %s" % sorted(distilled)


@check
def lineage_of_the_deepseek_models(d):
    for child in ("DeepSeek-R1", "DeepSeek-R1-Zero", "DeepSeek-V3"):
        assert_rel(d, "Model", child, "BASED_ON", "Model", "DeepSeek-V3-Base")
    r = assert_rel(d, "Model", "DeepSeek-Coder-V2", "BASED_ON", "Model", "DeepSeek-V2")
    assert "continued pre-training" in r["props"].get("relation", ""), "Coder-V2 BASED_ON V2 relation %r" % r["props"]
    # BASED_ON + DISTILLED_FROM must not form a cycle (lineage would still work, but the data would be wrong).
    edges = {}
    for rr in d.rels_of("BASED_ON") + d.rels_of("DISTILLED_FROM"):
        edges.setdefault(id(rr["start"]), []).append(rr["end"])
    state = {}

    def visit(n, path):
        state[id(n)] = 1
        for m in edges.get(id(n), []):
            assert state.get(id(m)) != 1, "lineage cycle through %s" % " -> ".join(path + [m["name"]])
            if id(m) not in state:
                visit(m, path + [m["name"]])
        state[id(n)] = 2
    for n in d.nodes:
        if id(n) not in state:
            visit(n, [n["name"]])


@check
def papers_carry_the_correct_arxiv_ids(d):
    expected = {"DeepSeek-V2": "2405.04434", "DeepSeek-Coder-V2": "2406.11931",
                "DeepSeek-V3": "2412.19437", "DeepSeek-R1": "2501.12948"}
    for model, aid in expected.items():
        r = assert_rel(d, "Model", model, "DESCRIBED_IN", "Paper", "arXiv:" + aid)
        assert r["end"]["props"].get("arxiv_id") == aid
    assert "V3" in must_find(d, "Paper", "arXiv:2412.19437")["props"]["title"]
    r1_paper = must_find(d, "Paper", "arXiv:2501.12948")
    assert "R1" in r1_paper["props"]["title"] and "V3" not in r1_paper["props"]["title"], \
        "arXiv:2501.12948 is the DeepSeek-R1 paper: %r" % r1_paper["props"]["title"]
    # The seed report's error must not be repeated anywhere in the V3 family's data.
    for name in ("DeepSeek-V3", "DeepSeek-V3-Base"):
        m = must_find(d, "Model", name)
        assert not d.rels_of("DESCRIBED_IN", m, r1_paper), "%s DESCRIBED_IN arXiv:2501.12948" % name
        blob = json.dumps([m["props"]] + [r["props"] for r in d.rels if r["start"] is m], ensure_ascii=False)
        assert "2501.12948" not in blob, "%s's data mentions 2501.12948" % name


@check
def seed_report_model_facts(d):
    def props(name):
        return must_find(d, "Model", name)["props"]
    want = {
        "DeepSeek-V2": {"params_total": 236 * B, "params_active": 21 * B, "context_length": 131072,
                        "open_source": True},
        "DeepSeek Coder V2": {"params_total": 236 * B, "params_active": 21 * B, "context_length": 131072,
                              "programming_languages": 338, "open_source": True},
        "DeepSeek-V3": {"params_total": 671 * B, "params_active": 37 * B, "context_length": 131072,
                        "training_gpu_hours": 2788000, "training_cost_usd": 5576000, "open_source": True},
        "DeepSeek-R1": {"open_source": True},
    }
    months = {"DeepSeek-V2": "2024-05", "DeepSeek Coder V2": "2024-06", "DeepSeek-V3": "2024-12",
              "DeepSeek-R1": "2025-01"}
    for name, kv in want.items():
        p = props(name)
        for k, v in kv.items():
            assert p.get(k) == v and type(p.get(k)) is type(v), "%s.%s = %r, want %r" % (name, k, p.get(k), v)
        assert p.get("released", "").startswith(months[name]), "%s released %r" % (name, p.get("released"))
    assert props("DeepSeek-V3").get("training_gpu") == "H800"
    assert "推理" in props("DeepSeek-R1").get("model_type", "") or \
        "reasoning" in props("DeepSeek-R1").get("model_type", ""), "DeepSeek-R1 is a reasoning model"


@check
def seed_report_techniques(d):
    uses = {
        "DeepSeek-V2": ["MoE", "MLA"],
        "DeepSeek-V3": ["多头潜在注意力", "DeepSeekMoE", "无辅助损失的负载均衡", "FP8 混合精度训练", "MoE"],
        "DeepSeek-R1": ["强化学习", "冷启动与多阶段训练", "CoT"],
    }
    for model, techs in uses.items():
        for t in techs:
            assert_rel(d, "Model", model, "USES", "Technique", t)
    # Each technique is reachable by its abbreviation, English and Chinese names.
    for names in (["Multi-head Latent Attention", "MLA", "多头潜在注意力"],
                  ["Mixture-of-Experts", "MoE"], ["DeepSeekMoE"],
                  ["auxiliary-loss-free load balancing", "无辅助损失的负载均衡"],
                  ["FP8 mixed-precision training", "FP8 混合精度训练"],
                  ["reinforcement learning", "RL", "强化学习"],
                  ["cold start with multi-stage training", "冷启动与多阶段训练"],
                  ["distillation", "蒸馏"], ["long chain-of-thought reasoning", "CoT", "Chain-of-Thought"]):
        found = {id(must_find(d, "Technique", n)) for n in names}
        assert len(found) == 1, "%s name different techniques" % names
    for name in DISTILLS:
        assert_rel(d, "Model", name, "USES", "Technique", "蒸馏")


@check
def seed_report_benchmarks_and_comparisons(d):
    for model, bench in [("DeepSeek-Coder-V2", "HumanEval"), ("DeepSeek-Coder-V2", "MBPP"),
                         ("DeepSeek-V3", "MMLU"), ("DeepSeek-V3", "MMLU-Pro"),
                         ("DeepSeek-R1", "AIME 2024"), ("DeepSeek-R1", "MATH-500")]:
        r = assert_rel(d, "Model", model, "EVALUATED_ON", "Benchmark", bench)
        assert CJK.search(r["props"].get("claim", "")), "%s EVALUATED_ON %s has no claim from the seed" % (model, bench)
    targets = {"GPT-4": "OpenAI", "GPT-4 Turbo": "OpenAI", "Claude 3 Opus": "Anthropic",
               "Gemini 1.5 Pro": "Google", "OpenAI o1": "OpenAI"}
    for target, org in targets.items():
        assert_rel(d, "Model", target, "DEVELOPED_BY", "Organization", org)
        assert must_find(d, "Model", target)["props"].get("open_source") is False
    for model, target in [("DeepSeek-V2", "GPT-4"), ("DeepSeek-Coder-V2", "GPT-4 Turbo"),
                          ("DeepSeek-Coder-V2", "Claude 3 Opus"), ("DeepSeek-Coder-V2", "Gemini 1.5 Pro"),
                          ("DeepSeek-V3", "GPT-4"), ("DeepSeek-R1", "OpenAI o1")]:
        r = assert_rel(d, "Model", model, "COMPARED_WITH", "Model", target)
        claim = r["props"].get("claim", "")
        assert CJK.search(claim) and key(target) in key(claim), \
            "%s COMPARED_WITH %s: claim %r does not quote the seed" % (model, target, claim)
    bad = [r["line"] for r in d.rels_of("COMPARED_WITH") if not isinstance(r["props"].get("claim"), str)]
    assert not bad, "COMPARED_WITH without a claim on lines %s" % bad


@check
def seed_report_impacts(d):
    impacts = [n for n in d.nodes if n["label"] == "Impact"]
    cats = sorted(n["props"].get("category") for n in impacts)
    assert cats == sorted(IMPACT_CATEGORIES), "impact categories %s" % cats
    by_cat = {n["props"]["category"]: n for n in impacts}
    r1 = must_find(d, "Model", "DeepSeek-R1")
    assert d.rels_of("HAS_IMPACT", r1, by_cat["market"]), "DeepSeek-R1 lacks the market impact"
    assert "NVIDIA" in by_cat["market"]["props"]["description"]
    for m in ("DeepSeek-V2", "DeepSeek-Coder-V2", "DeepSeek-V3", "DeepSeek-R1"):
        assert d.rels_of("HAS_IMPACT", must_find(d, "Model", m), by_cat["open-source"]), "%s open-source impact" % m
    for n in impacts:
        assert d.rels_of("HAS_IMPACT", end=n), "impact %s is linked to no model" % n["name"]


def seed_report_path():
    env = os.environ.get("DSGRAPH_SEED_REPORT")
    if env:
        return env if os.path.isfile(env) else None
    here = os.path.abspath(SOURCE_DIR)
    for c in (os.path.join(here, "..", "shared", "seeds", SEED_NAME),
              os.path.join(here, "shared", "seeds", SEED_NAME),
              os.path.join("/work/shared/seeds", SEED_NAME)):
        if os.path.isfile(c):
            return c
    return None


@check
def claims_quote_the_seed_report_verbatim(d):
    path = seed_report_path()
    if path is None:
        raise Skip("seed report not found (set DSGRAPH_SEED_REPORT)")
    with open(path, encoding="utf-8") as f:
        seed = f.read()
    quotes = []
    for r in d.rels:
        if isinstance(r["props"].get("claim"), str):
            quotes.append((r["line"], r["props"]["claim"]))
    for n in d.nodes:
        if n["label"] == "Impact":
            quotes += [(n["line"], q) for q in n["props"]["description"].split("；")]
        for k in ("performance_claims", "findings"):
            quotes += [(n["line"], q) for q in n["props"].get(k, [])]
    bad = ["line %d: %r" % (no, q) for no, q in quotes if q not in seed]
    assert not bad, "not in the seed report: %s" % "; ".join(bad)
    assert len(quotes) >= 20, "only %d quotes checked" % len(quotes)


def main():
    try:
        d = load()
    except OSError as e:
        print("FAIL load: %s" % e)
        print("0 passed, 1 failed")
        return 1
    passed = failed = skipped = 0
    for fn in CHECKS:
        try:
            fn(d)
        except Skip as e:
            skipped += 1
            print("skip %s: %s" % (fn.__name__, e))
        except AssertionError as e:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e))
        except Exception:
            failed += 1
            print("FAIL %s: unexpected error\n%s" % (fn.__name__, traceback.format_exc()))
        else:
            passed += 1
            print("ok %s" % fn.__name__)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
