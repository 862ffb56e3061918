/*
 * bench/gen_lib.h - the synthetic Hugging Face-shaped model-lineage graph of
 * the benchmark suite (issue 6), as a library so the unit tests can check its
 * shape without going through files.
 *
 * Shape: n models; ~root_frac of them are roots (base models, no parent).
 * Every other model belongs to one root's family, drawn with Zipf weights over
 * the roots whose exponent is solved so the largest family gets ~largest_share
 * of all models; inside a family the parent is drawn by preferential
 * attachment (a model with many children is more likely to get another), with
 * a pull towards the newest models so chains reach max_depth. ~merge_frac of
 * the models are merges with two parents (the second from the same family or
 * from anywhere). Depth is the longest path to a root, at most max_depth.
 * Everything is a pure function of the parameters and the seed.
 *
 * Relationship direction (as in dsgraph): child -[:BASED_ON {relation}]-> parent.
 */
#ifndef DSGRAPH_BENCH_GEN_LIB_H
#define DSGRAPH_BENCH_GEN_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { GEN_REL_NONE = 0, GEN_REL_FINETUNE, GEN_REL_ADAPTER, GEN_REL_QUANTIZED, GEN_REL_MERGE };

typedef struct gen_params {
    uint64_t seed;
    uint32_t n;              /* models */
    double root_frac;        /* default 0.02 */
    double merge_frac;       /* default 0.03 (of all models) */
    double largest_share;    /* default 0.06 */
    int max_depth;           /* default 12 */
} gen_params;

typedef struct gen_graph {
    gen_params p;
    uint32_t n, nroots;      /* roots are models 0 .. nroots-1 */
    int32_t *p1, *p2;        /* parents (-1: none); p2 >= 0 only for merges */
    uint8_t *depth;          /* longest path to a root */
    uint8_t *rel;            /* GEN_REL_* */
    uint32_t *family;        /* root index of the family the model was drawn into */
    uint32_t *day;           /* created_at as days after 2022-01-01 */
    uint32_t *secs;          /* seconds into that day */
    uint64_t nedges, nmerges;
} gen_graph;

typedef struct gen_summary {
    uint32_t models, roots;
    uint64_t edges, merges;
    int max_depth;
    uint32_t largest_root;       /* index */
    uint32_t largest_desc;       /* its distinct descendants (BFS over both parents) */
    uint32_t mid_root;           /* root whose descendant count is closest to mid_target */
    uint32_t mid_desc, mid_target;
    uint32_t deep_leaf;          /* a leaf at max_depth (lowest index, non-merge preferred) */
    uint32_t deep_leaf_depth, deep_leaf_ancestors;
    uint32_t roots_over_1000;    /* roots with more than 1000 descendants */
} gen_summary;

/* Fills p with the defaults of the issue for n models and this seed. */
void gen_default_params(gen_params *p, uint32_t n, uint64_t seed);
/* Builds the graph; 0 on success, -1 on bad parameters or out of memory. */
int gen_build(const gen_params *p, gen_graph *g);
void gen_free(gen_graph *g);
/* The model's HF-style id ("author/Stem-suffix-INDEX"): unique, ASCII, no
 * character that needs escaping in JSON or CSV. Returns its length. */
int gen_name(const gen_graph *g, uint32_t i, char *buf, size_t cap);
/* Author part of the name (the text before '/'). */
int gen_author(const gen_graph *g, uint32_t i, char *buf, size_t cap);
const char *gen_relation_name(int rel);
const char *gen_pipeline_tag(const gen_graph *g, uint32_t i);
/* "2023-04-05T06:07:08.000Z". */
void gen_created_at(const gen_graph *g, uint32_t i, char *buf, size_t cap);
/* Counts, roots, merges, the largest tree, a ~mid_target tree (0: 1000, or
 * less for small graphs), the deepest leaf. 0 on success, -1 out of memory. */
int gen_summarize(const gen_graph *g, uint32_t mid_target, gen_summary *s);

/* Writers; each returns 0 or -1 (errno set). */
int gen_write_nodes_csv(const gen_graph *g, FILE *f);   /* name:ID,:LABEL,... */
int gen_write_rels_csv(const gen_graph *g, FILE *f);    /* :START_ID,:END_ID,:TYPE,relation */
int gen_write_hf_jsonl(const gen_graph *g, FILE *f);    /* HF model-card JSON Lines */
/* JSON-RPC batches, `batch` requests per line: every node.put, then every rel.put. */
int gen_write_rpc_jsonl(const gen_graph *g, FILE *f, uint32_t batch);
int gen_write_names(const gen_graph *g, FILE *f);       /* one name per line */
int gen_write_summary_json(const gen_graph *g, const gen_summary *s, FILE *f);

#endif
