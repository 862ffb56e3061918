#!/usr/bin/env python3
"""Generates large synthetic Hugging Face-style model records (JSON Lines) for
plugins/hf_models.lua: a model tree grown by preferential attachment, where a
new model picks its base with probability proportional to (descendants so far
+ 1), so a few bases get thousands of descendants, like the real Hub.

Every record is invented ("synthetic": true, authors "synth-org-N"); only the
roots are real repo ids (the deepseek-ai models). Same --seed, same output.

  scripts/gen_hf_models.py --count 100000 --seed 1 > /tmp/hf.jsonl
"""
import argparse
import json
import random
import sys

ROOTS = [
    "deepseek-ai/DeepSeek-V3",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
]
# relation -> (weight, tags, library, name suffix)
RELATIONS = {
    "finetune": (0.45, ["sft"], "transformers", "sft"),
    "quantized": (0.35, ["gguf"], "gguf", "GGUF"),
    "adapter": (0.15, ["peft", "lora"], "peft", "lora"),
    "merge": (0.05, ["mergekit", "merge"], "transformers", "merge"),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000, help="records to write (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--orgs", type=int, default=500, help="number of synthetic authors (default 500)")
    ap.add_argument("--omit-relation", type=float, default=0.1,
                    help="share of records without base_model_relation, to exercise inference (default 0.1)")
    ap.add_argument("--out", default="-", help="output file (default stdout)")
    args = ap.parse_args(argv)
    if args.count < 0 or args.orgs < 1:
        ap.error("--count must be >= 0 and --orgs >= 1")

    rng = random.Random(args.seed)
    names = list(ROOTS)
    # weight list: each model appears once, plus once per descendant (preferential attachment)
    urn = list(range(len(names)))
    ancestors = {i: [] for i in range(len(names))}
    kinds = list(RELATIONS)
    weights = [RELATIONS[k][0] for k in kinds]
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    try:
        for n in range(args.count):
            relation = rng.choices(kinds, weights)[0]
            parent = urn[rng.randrange(len(urn))]
            bases = [parent]
            if relation == "merge":
                other = urn[rng.randrange(len(urn))]
                if other != parent:
                    bases.append(other)
            _, tags, library, suffix = RELATIONS[relation]
            org = "synth-org-%d" % rng.randrange(args.orgs)
            short = names[parent].split("/", 1)[1][:40]
            name = "%s/%s-%s-%d" % (org, short, suffix, n)
            idx = len(names)
            names.append(name)
            ancestors[idx] = [parent] + ancestors[parent]
            urn.append(idx)
            for a in ancestors[idx]:
                urn.append(a)  # every ancestor gains a descendant
            day = 1 + n * 400 // max(args.count, 1)
            card = {"base_model": [names[b] for b in bases] if len(bases) > 1 else names[bases[0]]}
            if rng.random() >= args.omit_relation:
                card["base_model_relation"] = relation
            rec = {
                "id": name,
                "author": org,
                "created_at": "2025-%02d-%02dT00:00:00.000Z" % (1 + (day // 28) % 12, 1 + day % 28),
                "pipeline_tag": "text-generation",
                "library_name": library,
                "tags": tags,
                "downloads": int(rng.paretovariate(1.2) * 10),
                "likes": int(rng.paretovariate(1.5)),
                "cardData": card,
                "synthetic": True,
            }
            out.write(json.dumps(rec, separators=(",", ":")) + "\n")
            if len(ancestors[idx]) > 8:
                ancestors[idx] = ancestors[idx][:8]  # bound memory on deep chains
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
        sys.exit(0)
