/*
 * bench/gen_lineage.c - writes the synthetic model-lineage graph of the
 * benchmark suite into a directory:
 *   nodes.csv, rels.csv   neo4j-admin import convention
 *   models.jsonl          Hugging Face-style model cards (cardData.base_model)
 *   rpc.jsonl             JSON-RPC batches (node.put, then rel.put) to load through the socket
 *   names.txt             one model name per line (for point-lookup load tests)
 *   summary.json          counts and the models the benchmarks ask about (also printed)
 * Same --seed and --models: byte-identical files.
 */
#include "gen_lib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Prints the usage text. */
static void usage(FILE *out) {
    fprintf(out, "usage: gen_lineage [--models N] [--seed S] [--out DIR] [--batch B] [--mid-target T]\n"
                 "  --models N      models (default 1000000)\n"
                 "  --seed S        random seed (default 42)\n"
                 "  --out DIR       output directory (default .), created if missing\n"
                 "  --batch B       requests per JSON-RPC batch line in rpc.jsonl (default 500)\n"
                 "  --mid-target T  descendant count of the 'mid' root to pick (default 1000, less for small N)\n");
}

/* Parses an unsigned integer option value or exits with a usage error. */
static unsigned long long num_arg(const char *opt, const char *v) {
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || errno || *end || !*v) {
        fprintf(stderr, "gen_lineage: %s needs a non-negative integer\n", opt);
        exit(2);
    }
    return x;
}

typedef int (*writer_fn)(const gen_graph *, FILE *);

/* Opens DIR/name, runs the writer with a large buffer, closes; exits on error. */
static void write_file(const char *dir, const char *name, writer_fn fn, const gen_graph *g) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen_lineage: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    int rc = fn(g, f);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "gen_lineage: writing %s failed: %s\n", path, strerror(errno));
        exit(1);
    }
}

static uint32_t g_batch = 500;
/* rpc.jsonl writer with the batch size from the command line. */
static int write_rpc(const gen_graph *g, FILE *f) { return gen_write_rpc_jsonl(g, f, g_batch); }

/* Parses options, builds the graph, writes every file, prints the summary. */
int main(int argc, char **argv) {
    unsigned long long models = 1000000, seed = 42, mid = 0;
    const char *out = ".";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--models")) models = num_arg(a, v), i++;
        else if (!strcmp(a, "--seed")) seed = num_arg(a, v), i++;
        else if (!strcmp(a, "--batch")) g_batch = (uint32_t)num_arg(a, v), i++;
        else if (!strcmp(a, "--mid-target")) mid = num_arg(a, v), i++;
        else if (!strcmp(a, "--out") && v) out = v, i++;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (models < 1 || models > 100000000 || g_batch < 1 || mid > 100000000) {
        fprintf(stderr, "gen_lineage: --models must be 1..1e8 and --batch >= 1\n");
        return 2;
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_lineage: %s: %s\n", out, strerror(errno));
        return 1;
    }
    gen_params p;
    gen_default_params(&p, (uint32_t)models, seed);
    gen_graph g;
    gen_summary s;
    if (gen_build(&p, &g) != 0 || gen_summarize(&g, (uint32_t)mid, &s) != 0) {
        fprintf(stderr, "gen_lineage: out of memory\n");
        return 1;
    }
    write_file(out, "nodes.csv", gen_write_nodes_csv, &g);
    write_file(out, "rels.csv", gen_write_rels_csv, &g);
    write_file(out, "models.jsonl", gen_write_hf_jsonl, &g);
    write_file(out, "rpc.jsonl", write_rpc, &g);
    write_file(out, "names.txt", gen_write_names, &g);
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", out);
    FILE *f = fopen(path, "w");
    if (!f || gen_write_summary_json(&g, &s, f) != 0 || fclose(f) != 0) {
        fprintf(stderr, "gen_lineage: %s: %s\n", path, strerror(errno));
        return 1;
    }
    gen_write_summary_json(&g, &s, stdout);
    gen_free(&g);
    return 0;
}
