/*
 * bench/gen_lib.c - builds and writes the synthetic model-lineage graph
 * (see gen_lib.h for the shape). Deterministic: one splitmix64 stream for the
 * structure, and per-model hashes for names and attributes.
 */
#include "gen_lib.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, and good enough for a synthetic graph. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct rng { uint64_t s; } rng;

/* Next 64 random bits of the structure stream. */
static uint64_t rng_next(rng *r) {
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

/* Uniform double in [0, 1). */
static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform integer in [0, n), n > 0. */
static uint32_t rng_below(rng *r, uint32_t n) { return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32); }

/* A per-model hash for attributes that must not depend on generation order. */
static uint64_t attr_hash(const gen_graph *g, uint32_t i, uint64_t salt) {
    return mix64(g->p.seed * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)i << 8) ^ salt);
}

/* The shape: 2% roots, 3% merges, largest tree 6%, depth 12. */
void gen_default_params(gen_params *p, uint32_t n, uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->seed = seed;
    p->n = n;
    p->root_frac = 0.02;
    p->merge_frac = 0.03;
    p->largest_share = 0.06;
    p->max_depth = 12;
}

/* Share of the first family under Zipf weights (k+1)^-s over r roots. */
static double zipf_share(uint32_t r, double s) {
    double sum = 0;
    for (uint32_t k = 0; k < r; k++)
        sum += pow((double)k + 1.0, -s);
    return 1.0 / sum;
}

/* The Zipf exponent whose first family gets `share` (bisection; share rises with s). */
static double solve_zipf(uint32_t r, double share) {
    if (r <= 1 || zipf_share(r, 0.0) >= share)
        return 0.0;
    double lo = 0.0, hi = 8.0;
    for (int it = 0; it < 50; it++) {
        double mid = (lo + hi) / 2;
        if (zipf_share(r, mid) < share) lo = mid; else hi = mid;
    }
    return (lo + hi) / 2;
}

typedef struct urn { int32_t *v; uint32_t len, cap; } urn;

/* Appends to a family's preferential-attachment urn. */
static int urn_push(urn *u, int32_t x) {
    if (u->len == u->cap) {
        uint32_t nc = u->cap ? u->cap * 2 : 4;
        int32_t *nv = realloc(u->v, nc * sizeof *nv);
        if (!nv) return -1;
        u->v = nv;
        u->cap = nc;
    }
    u->v[u->len++] = x;
    return 0;
}

/* Index of the first cumulative weight > x (binary search). */
static uint32_t pick_cum(const double *cum, uint32_t n, double x) {
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > x) hi = mid; else lo = mid + 1;
    }
    return lo;
}

/* Walks up first parents until a model may still take a child under max_depth. */
static int32_t below_cap(const gen_graph *g, int32_t a) {
    while (g->depth[a] >= g->p.max_depth && g->p1[a] >= 0)
        a = g->p1[a];
    return a;
}

/* Releases what gen_build allocated (safe on a zeroed graph). */
void gen_free(gen_graph *g) {
    free(g->p1); free(g->p2); free(g->depth); free(g->rel);
    free(g->family); free(g->day); free(g->secs);
    memset(g, 0, sizeof *g);
}

/* Draws the whole structure from one random stream: roots first, then each
 * model's family, parent(s), relation, depth and date. */
int gen_build(const gen_params *p, gen_graph *g) {
    memset(g, 0, sizeof *g);
    if (p->n < 1 || p->max_depth < 1 || p->max_depth > 255 || p->root_frac <= 0 || p->root_frac > 1 ||
        p->merge_frac < 0 || p->merge_frac > 0.5 || p->largest_share <= 0 || p->largest_share > 1)
        return -1;
    g->p = *p;
    uint32_t n = g->n = p->n;
    uint32_t r = (uint32_t)llround(n * p->root_frac);
    g->nroots = r = r < 1 ? 1 : r > n ? n : r;
    g->p1 = malloc(n * sizeof *g->p1); g->p2 = malloc(n * sizeof *g->p2);
    g->depth = calloc(n, 1); g->rel = calloc(n, 1);
    g->family = malloc(n * sizeof *g->family);
    g->day = malloc(n * sizeof *g->day); g->secs = malloc(n * sizeof *g->secs);
    double *cum = malloc(r * sizeof *cum);
    urn *urns = calloc(r, sizeof *urns);
    int32_t *newest = malloc(r * sizeof *newest);
    int rc = -1;
    if (!g->p1 || !g->p2 || !g->depth || !g->rel || !g->family || !g->day || !g->secs || !cum || !urns || !newest)
        goto out;
    rng st = {.s = mix64(p->seed ^ 0x6473677261706821ULL)};
    /* Family weights: the largest family (root 0) gets largest_share of all models. */
    double want = r < n ? p->largest_share * n / (double)(n - r) : 1.0;
    double s = solve_zipf(r, want > 1 ? 1 : want), acc = 0;
    for (uint32_t k = 0; k < r; k++)
        cum[k] = (acc += pow((double)k + 1.0, -s));
    for (uint32_t k = 0; k < r; k++) {
        g->p1[k] = g->p2[k] = -1;
        g->family[k] = k;
        g->day[k] = (uint32_t)((uint64_t)k * 900 / r);
        g->secs[k] = rng_below(&st, 86400);
        newest[k] = (int32_t)k;
        if (urn_push(&urns[k], (int32_t)k)) goto out;
    }
    double merge_p = r < n ? p->merge_frac * n / (double)(n - r) : 0;
    for (uint32_t i = r; i < n; i++) {
        uint32_t fam = pick_cum(cum, r, rng_unit(&st) * acc);
        int32_t a = rng_unit(&st) < 0.15 ? newest[fam] : urns[fam].v[rng_below(&st, urns[fam].len)];
        a = below_cap(g, a);
        int32_t b = -1;
        if (rng_unit(&st) < merge_p) {
            for (int tries = 0; tries < 8 && b < 0; tries++) {
                int32_t c = rng_unit(&st) < 0.5 ? urns[fam].v[rng_below(&st, urns[fam].len)]
                                                : (int32_t)rng_below(&st, i);
                c = below_cap(g, c);
                if (c != a) b = c;
            }
        }
        g->p1[i] = a;
        g->p2[i] = b;
        g->family[i] = fam;
        int d = g->depth[a];
        uint32_t day = g->day[a];
        if (b >= 0) {
            d = g->depth[b] > d ? g->depth[b] : d;
            day = g->day[b] > day ? g->day[b] : day;
            g->rel[i] = GEN_REL_MERGE;
            g->nmerges++;
        } else {
            double u = rng_unit(&st);
            g->rel[i] = u < 0.62 ? GEN_REL_FINETUNE : u < 0.82 ? GEN_REL_ADAPTER : GEN_REL_QUANTIZED;
        }
        g->depth[i] = (uint8_t)(d + 1);
        g->day[i] = day + 1 + rng_below(&st, 45);
        g->secs[i] = rng_below(&st, 86400);
        g->nedges += b >= 0 ? 2 : 1;
        newest[fam] = (int32_t)i;
        if (urn_push(&urns[fam], (int32_t)i) || urn_push(&urns[g->family[a]], a) ||
            (b >= 0 && urn_push(&urns[g->family[b]], b)))
            goto out;
    }
    rc = 0;
out:
    if (urns)
        for (uint32_t k = 0; k < r; k++) free(urns[k].v);
    free(urns); free(cum); free(newest);
    if (rc) gen_free(g);
    return rc;
}

static const char *const ORGS[] = {"meta-llama", "mistralai", "Qwen", "google", "microsoft", "tiiuae",
                                   "stabilityai", "EleutherAI", "bigscience", "deepseek-ai", "01-ai", "allenai",
                                   "nvidia", "ibm-granite", "HuggingFaceTB", "openai"};
static const char *const STEMS[] = {"Llama-3", "Mistral", "Qwen2.5", "gemma-2", "Phi-3", "falcon", "bert-base",
                                    "t5", "whisper", "stable-diffusion", "DeepSeek", "Yi", "OLMo", "Nemotron",
                                    "granite", "SmolLM", "pythia", "bloom"};
static const char *const SIZES[] = {"0.5B", "1.5B", "3B", "7B", "8B", "14B", "32B", "70B"};
static const char *const QUANTIZERS[] = {"TheBloke", "bartowski", "mradermacher", "unsloth", "QuantFactory"};
static const char *const SUFFIX[5][6] = {
    {"base", "base", "base", "base", "base", "base"},
    {"instruct", "chat", "sft", "dpo", "orpo", "code"},
    {"lora", "qlora", "peft", "lora", "adapter", "lora"},
    {"GGUF", "AWQ", "GPTQ", "4bit", "8bit", "exl2"},
    {"merge", "slerp", "ties", "dare", "merge", "passthrough"},
};
static const char *const PIPELINES[] = {"text-generation", "text-generation", "text-generation",
                                        "text2text-generation", "feature-extraction", "text-to-image",
                                        "automatic-speech-recognition", "image-text-to-text"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* HF-like owner: known orgs for some early roots, quantizer accounts, users. */
int gen_author(const gen_graph *g, uint32_t i, char *buf, size_t cap) {
    uint64_t h = attr_hash(g, i, 1);
    if (i < g->nroots)
        return i < NELEM(ORGS) * 4 && (h & 1) ? snprintf(buf, cap, "%s", ORGS[(h >> 8) % NELEM(ORGS)])
                                              : snprintf(buf, cap, "org%u", (unsigned)((h >> 8) % 5000));
    if (g->rel[i] == GEN_REL_QUANTIZED && (h & 3) != 0)
        return snprintf(buf, cap, "%s", QUANTIZERS[(h >> 8) % NELEM(QUANTIZERS)]);
    return snprintf(buf, cap, "user%u", (unsigned)((h >> 8) % 60000));
}

/* author/Stem-Size-suffix-INDEX: family stem, relation-flavoured suffix. */
int gen_name(const gen_graph *g, uint32_t i, char *buf, size_t cap) {
    char author[64];
    gen_author(g, i, author, sizeof author);
    uint64_t h = attr_hash(g, g->family[i], 2);
    const char *stem = STEMS[h % NELEM(STEMS)], *size = SIZES[(h >> 16) % NELEM(SIZES)];
    const char *suffix = SUFFIX[g->rel[i] % 5][attr_hash(g, i, 3) % 6];
    /* The index after the last '-' makes every name unique, also after case folding. */
    return snprintf(buf, cap, "%s/%s-%s-%s-%u", author, stem, size, suffix, (unsigned)i);
}

/* The relation property's text ("" for roots). */
const char *gen_relation_name(int rel) {
    static const char *const names[] = {"", "finetune", "adapter", "quantized", "merge"};
    return rel >= 0 && rel < 5 ? names[rel] : "";
}

/* One pipeline tag per family, as HF families share a task. */
const char *gen_pipeline_tag(const gen_graph *g, uint32_t i) {
    return PIPELINES[attr_hash(g, g->family[i], 4) % NELEM(PIPELINES)];
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

/* ISO-8601 UTC timestamp; children are always created after their parents. */
void gen_created_at(const gen_graph *g, uint32_t i, char *buf, size_t cap) {
    int y;
    unsigned m, d, s = g->secs[i];
    civil(18993 + (int64_t)g->day[i], &y, &m, &d);   /* 18993 = 2022-01-01 */
    snprintf(buf, cap, "%04d-%02u-%02uT%02u:%02u:%02u.000Z", y, m, d, s / 3600, s / 60 % 60, s % 60);
}

/* Children lists (CSR) over both parents: off[n+1], kids[edges]. */
static int build_children(const gen_graph *g, uint32_t **off_out, uint32_t **kids_out) {
    uint32_t n = g->n, *off = calloc((size_t)n + 1, sizeof *off), *kids = malloc((g->nedges + 1) * sizeof *kids);
    if (!off || !kids) { free(off); free(kids); return -1; }
    for (uint32_t i = 0; i < n; i++) {
        if (g->p1[i] >= 0) off[g->p1[i] + 1]++;
        if (g->p2[i] >= 0) off[g->p2[i] + 1]++;
    }
    for (uint32_t i = 0; i < n; i++) off[i + 1] += off[i];
    uint32_t *fill = malloc((size_t)n * sizeof *fill);
    if (!fill) { free(off); free(kids); return -1; }
    memcpy(fill, off, (size_t)n * sizeof *fill);
    for (uint32_t i = 0; i < n; i++) {
        if (g->p1[i] >= 0) kids[fill[g->p1[i]]++] = i;
        if (g->p2[i] >= 0) kids[fill[g->p2[i]]++] = i;
    }
    free(fill);
    *off_out = off;
    *kids_out = kids;
    return 0;
}

/* Distinct descendants of root by BFS; mark[] holds `stamp` for visited models. */
static uint32_t count_desc(const uint32_t *off, const uint32_t *kids, uint32_t *mark, uint32_t *queue,
                           uint32_t root, uint32_t stamp) {
    uint32_t head = 0, tail = 0;
    mark[root] = stamp;
    queue[tail++] = root;
    while (head < tail) {
        uint32_t x = queue[head++];
        for (uint32_t e = off[x]; e < off[x + 1]; e++)
            if (mark[kids[e]] != stamp) { mark[kids[e]] = stamp; queue[tail++] = kids[e]; }
    }
    return tail - 1;
}

/* Counts, the trees the benchmarks ask about, the deepest leaf: the expected
 * results every benchmark is checked against. */
int gen_summarize(const gen_graph *g, uint32_t mid_target, gen_summary *s) {
    memset(s, 0, sizeof *s);
    uint32_t *off, *kids, n = g->n;
    if (build_children(g, &off, &kids)) return -1;
    uint32_t *mark = calloc(n, sizeof *mark), *queue = malloc((size_t)n * sizeof *queue),
             *desc = malloc((size_t)g->nroots * sizeof *desc);
    if (!mark || !queue || !desc) { free(off); free(kids); free(mark); free(queue); free(desc); return -1; }
    s->models = n; s->roots = g->nroots; s->edges = g->nedges; s->merges = g->nmerges;
    for (uint32_t k = 0; k < g->nroots; k++) {
        desc[k] = count_desc(off, kids, mark, queue, k, k + 1);
        if (desc[k] > s->largest_desc) { s->largest_desc = desc[k]; s->largest_root = k; }
        if (desc[k] > 1000) s->roots_over_1000++;
    }
    if (!mid_target) {
        mid_target = s->largest_desc / 6;
        mid_target = mid_target > 1000 ? 1000 : mid_target < 10 ? 10 : mid_target;
    }
    s->mid_target = mid_target;
    s->mid_root = s->largest_root;
    s->mid_desc = s->largest_desc;
    uint32_t best = UINT32_MAX;
    for (uint32_t k = 0; k < g->nroots; k++) {
        uint32_t dist = desc[k] > mid_target ? desc[k] - mid_target : mid_target - desc[k];
        if (k != s->largest_root && dist < best) { best = dist; s->mid_root = k; s->mid_desc = desc[k]; }
    }
    /* Deepest leaf: max depth, no children; a non-merge one if any. */
    for (uint32_t i = 0; i < n; i++)
        if (g->depth[i] > s->max_depth) s->max_depth = g->depth[i];
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (uint32_t i = 0; i < n && !found; i++)
            if (g->depth[i] == s->max_depth && off[i] == off[i + 1] && (pass || g->p2[i] < 0)) {
                s->deep_leaf = i;
                found = true;
            }
    s->deep_leaf_depth = g->depth[s->deep_leaf];
    /* Its distinct ancestors (BFS up over both parents). */
    uint32_t head = 0, tail = 0, stamp = g->nroots + 1;
    mark[s->deep_leaf] = stamp;
    queue[tail++] = s->deep_leaf;
    while (head < tail) {
        uint32_t x = queue[head++];
        int32_t ps[2] = {g->p1[x], g->p2[x]};
        for (int j = 0; j < 2; j++)
            if (ps[j] >= 0 && mark[ps[j]] != stamp) { mark[ps[j]] = stamp; queue[tail++] = (uint32_t)ps[j]; }
    }
    s->deep_leaf_ancestors = tail - 1;
    free(off); free(kids); free(mark); free(queue); free(desc);
    return 0;
}

/* 0 if the stream has no error so far, else -1. */
static int fin(FILE *f) { return ferror(f) ? -1 : 0; }

/* nodes.csv in the neo4j-admin convention. */
int gen_write_nodes_csv(const gen_graph *g, FILE *f) {
    char name[160], author[64], at[32];
    fputs("name:ID,:LABEL,author,created_at,pipeline_tag,relation\n", f);
    for (uint32_t i = 0; i < g->n; i++) {
        gen_name(g, i, name, sizeof name);
        gen_author(g, i, author, sizeof author);
        gen_created_at(g, i, at, sizeof at);
        fprintf(f, "%s,Model,%s,%s,%s,%s\n", name, author, at, gen_pipeline_tag(g, i), gen_relation_name(g->rel[i]));
    }
    return fin(f);
}

/* rels.csv: child -[:BASED_ON {relation}]-> parent, one row per parent. */
int gen_write_rels_csv(const gen_graph *g, FILE *f) {
    char name[160], parent[160];
    fputs(":START_ID,:END_ID,:TYPE,relation\n", f);
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->p1[i] < 0) continue;
        gen_name(g, i, name, sizeof name);
        int32_t ps[2] = {g->p1[i], g->p2[i]};
        for (int j = 0; j < 2 && ps[j] >= 0; j++) {
            gen_name(g, (uint32_t)ps[j], parent, sizeof parent);
            fprintf(f, "%s,%s,BASED_ON,%s\n", name, parent, gen_relation_name(g->rel[i]));
        }
    }
    return fin(f);
}

/* HF model cards: cardData.base_model is a string, or a list for merges. */
int gen_write_hf_jsonl(const gen_graph *g, FILE *f) {
    static const char *const extra_tag[] = {"", "", "peft", "gguf", "mergekit"};
    char name[160], author[64], at[32], pa[160], pb[160];
    for (uint32_t i = 0; i < g->n; i++) {
        gen_name(g, i, name, sizeof name);
        gen_author(g, i, author, sizeof author);
        gen_created_at(g, i, at, sizeof at);
        const char *pipe = gen_pipeline_tag(g, i), *rel = gen_relation_name(g->rel[i]);
        fprintf(f, "{\"id\":\"%s\",\"author\":\"%s\",\"created_at\":\"%s\",\"pipeline_tag\":\"%s\","
                   "\"tags\":[\"transformers\",\"safetensors\",\"%s\"", name, author, at, pipe, pipe);
        if (*extra_tag[g->rel[i] % 5]) fprintf(f, ",\"%s\"", extra_tag[g->rel[i] % 5]);
        if (g->p1[i] >= 0) gen_name(g, (uint32_t)g->p1[i], pa, sizeof pa);
        if (g->p2[i] >= 0) gen_name(g, (uint32_t)g->p2[i], pb, sizeof pb);
        if (g->p1[i] >= 0) fprintf(f, ",\"base_model:%s:%s\"", rel, pa);
        if (g->p2[i] >= 0) fprintf(f, ",\"base_model:%s:%s\"", rel, pb);
        fputs("],\"cardData\":{\"license\":\"apache-2.0\"", f);
        if (g->p2[i] >= 0)
            fprintf(f, ",\"base_model\":[\"%s\",\"%s\"],\"base_model_relation\":\"%s\"", pa, pb, rel);
        else if (g->p1[i] >= 0)
            fprintf(f, ",\"base_model\":\"%s\",\"base_model_relation\":\"%s\"", pa, rel);
        fputs("}}\n", f);
    }
    return fin(f);
}

/* JSON-RPC batches for the socket load: all node.put lines, then rel.put. */
int gen_write_rpc_jsonl(const gen_graph *g, FILE *f, uint32_t batch) {
    char name[160], author[64], at[32], parent[160];
    uint64_t id = 0;
    uint32_t inline_ = 0;
    if (batch < 1) batch = 1;
    for (uint32_t i = 0; i < g->n; i++) {
        gen_name(g, i, name, sizeof name);
        gen_author(g, i, author, sizeof author);
        gen_created_at(g, i, at, sizeof at);
        fputc(inline_ ? ',' : '[', f);
        fprintf(f, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"node.put\",\"params\":{\"labels\":[\"Model\"],"
                   "\"name\":\"%s\",\"properties\":{\"author\":\"%s\",\"created_at\":\"%s\",\"pipeline_tag\":\"%s\"",
                (unsigned long long)++id, name, author, at, gen_pipeline_tag(g, i));
        if (g->rel[i]) fprintf(f, ",\"relation\":\"%s\"", gen_relation_name(g->rel[i]));
        fputs("}}}", f);
        if (++inline_ == batch || i + 1 == g->n) { fputs("]\n", f); inline_ = 0; }
    }
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->p1[i] < 0) continue;
        gen_name(g, i, name, sizeof name);
        int32_t ps[2] = {g->p1[i], g->p2[i]};
        for (int j = 0; j < 2 && ps[j] >= 0; j++) {
            gen_name(g, (uint32_t)ps[j], parent, sizeof parent);
            fputc(inline_ ? ',' : '[', f);
            fprintf(f, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"rel.put\",\"params\":{\"start\":{\"label\":"
                       "\"Model\",\"name\":\"%s\"},\"type\":\"BASED_ON\",\"end\":{\"label\":\"Model\",\"name\":"
                       "\"%s\"},\"properties\":{\"relation\":\"%s\"}}}",
                    (unsigned long long)++id, name, parent, gen_relation_name(g->rel[i]));
            if (++inline_ == batch) { fputs("]\n", f); inline_ = 0; }
        }
    }
    if (inline_) fputs("]\n", f);
    return fin(f);
}

/* Names for the point-lookup load test. */
int gen_write_names(const gen_graph *g, FILE *f) {
    char name[160];
    for (uint32_t i = 0; i < g->n; i++) {
        gen_name(g, i, name, sizeof name);
        fprintf(f, "%s\n", name);
    }
    return fin(f);
}

/* summary.json: what run.py checks results against. */
int gen_write_summary_json(const gen_graph *g, const gen_summary *s, FILE *f) {
    char big[160], mid[160], leaf[160];
    gen_name(g, s->largest_root, big, sizeof big);
    gen_name(g, s->mid_root, mid, sizeof mid);
    gen_name(g, s->deep_leaf, leaf, sizeof leaf);
    fprintf(f, "{\"seed\":%llu,\"models\":%u,\"roots\":%u,\"edges\":%llu,\"merges\":%llu,\"max_depth\":%d,"
               "\"roots_over_1000\":%u,\n \"largest_root\":{\"name\":\"%s\",\"descendants\":%u},\n"
               " \"mid_root\":{\"name\":\"%s\",\"descendants\":%u,\"target\":%u},\n"
               " \"deep_leaf\":{\"name\":\"%s\",\"depth\":%u,\"ancestors\":%u},\n"
               " \"params\":{\"root_frac\":%g,\"merge_frac\":%g,\"largest_share\":%g,\"max_depth\":%d}}\n",
            (unsigned long long)g->p.seed, s->models, s->roots, (unsigned long long)s->edges,
            (unsigned long long)s->merges, s->max_depth, s->roots_over_1000, big, s->largest_desc, mid, s->mid_desc,
            s->mid_target, leaf, s->deep_leaf_depth, s->deep_leaf_ancestors, g->p.root_frac, g->p.merge_frac,
            g->p.largest_share, g->p.max_depth);
    return fin(f);
}
