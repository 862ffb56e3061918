/*
 * tests/unit/test_bench_gen.c - the benchmark generator (bench/gen_lib.c) has
 * the shape issue 6 asks for: counts, ~2% roots, ~3% merges, depth <= 12, a
 * dominant largest tree, a ~mid-size tree, a deepest leaf with its ancestors,
 * unique names, and determinism (same seed -> byte-identical files; another
 * seed -> different files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gen_lib.h"

#define N 10000

/* Builds the N-model graph for a seed, failing the test if it cannot. */
static void build(gen_graph *g, uint64_t seed) {
    gen_params p;
    gen_default_params(&p, N, seed);
    assert_int_equal(gen_build(&p, g), 0);
}

/* Every writer's output concatenated into one memory buffer (free() it). */
static char *render(const gen_graph *g, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    gen_summary s;
    assert_int_equal(gen_summarize(g, 0, &s), 0);
    assert_int_equal(gen_write_nodes_csv(g, f), 0);
    assert_int_equal(gen_write_rels_csv(g, f), 0);
    assert_int_equal(gen_write_hf_jsonl(g, f), 0);
    assert_int_equal(gen_write_rpc_jsonl(g, f, 100), 0);
    assert_int_equal(gen_write_names(g, f), 0);
    assert_int_equal(gen_write_summary_json(g, &s, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Roots, merges, edges and depth are in the ranges of the issue. */
static void test_shape(void **state) {
    (void)state;
    gen_graph g;
    build(&g, 42);
    assert_int_equal(g.n, N);
    assert_int_equal(g.nroots, N / 50);                 /* 2% */
    assert_true(g.nmerges >= N * 2 / 100 && g.nmerges <= N * 4 / 100);   /* ~3% */
    assert_int_equal(g.nedges, (uint64_t)(N - g.nroots) + g.nmerges);
    uint32_t rels[5] = {0};
    for (uint32_t i = 0; i < g.n; i++) {
        bool root = i < g.nroots;
        assert_int_equal(g.p1[i] < 0, root);
        if (g.p1[i] >= 0) assert_true((uint32_t)g.p1[i] < i);   /* parents come first: no cycles */
        if (g.p2[i] >= 0) {
            assert_true((uint32_t)g.p2[i] < i);
            assert_int_not_equal(g.p2[i], g.p1[i]);
            assert_int_equal(g.rel[i], GEN_REL_MERGE);
        }
        assert_true(g.depth[i] <= 12);
        if (!root) {
            int d = g.depth[g.p1[i]];
            if (g.p2[i] >= 0 && g.depth[g.p2[i]] > d) d = g.depth[g.p2[i]];
            assert_int_equal(g.depth[i], d + 1);
        }
        rels[g.rel[i]]++;
    }
    assert_int_equal(rels[GEN_REL_NONE], g.nroots);
    assert_true(rels[GEN_REL_FINETUNE] > rels[GEN_REL_ADAPTER] && rels[GEN_REL_ADAPTER] > 0 &&
                rels[GEN_REL_QUANTIZED] > 0);
    gen_free(&g);
}

/* The summary: a dominant largest tree, a mid tree near its target, a deepest leaf. */
static void test_summary(void **state) {
    (void)state;
    gen_graph g;
    build(&g, 42);
    gen_summary s;
    assert_int_equal(gen_summarize(&g, 0, &s), 0);
    assert_int_equal(s.models, N);
    assert_int_equal(s.max_depth, 12);
    assert_true(s.largest_desc >= N * 3 / 100 && s.largest_desc <= N * 12 / 100);   /* ~6% */
    assert_int_not_equal(s.mid_root, s.largest_root);
    assert_true(s.mid_root < g.nroots && s.largest_root < g.nroots);
    assert_true(s.mid_desc >= s.mid_target / 2 && s.mid_desc <= s.mid_target * 2);
    assert_int_equal(s.deep_leaf_depth, 12);
    assert_true(s.deep_leaf_ancestors >= 12);
    /* A fixed target is honoured too. */
    assert_int_equal(gen_summarize(&g, 50, &s), 0);
    assert_int_equal(s.mid_target, 50);
    assert_true(s.mid_desc >= 25 && s.mid_desc <= 100);
    gen_free(&g);
}

/* Names are printable ASCII that needs no escaping in JSON or CSV. */
static void test_names(void **state) {
    (void)state;
    gen_graph g;
    build(&g, 7);
    char **names = calloc(N, sizeof *names);
    assert_non_null(names);
    char buf[200];
    for (uint32_t i = 0; i < N; i++) {
        int n = gen_name(&g, i, buf, sizeof buf);
        assert_true(n > 3 && n < (int)sizeof buf);
        for (char *p = buf; *p; p++) {
            assert_true(*p > ' ' && *p < 127 && *p != '"' && *p != '\\' && *p != ',');
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        }
        names[i] = strdup(buf);
    }
    gen_free(&g);
    for (uint32_t i = 0; i < N; i++) free(names[i]);
    free(names);
}

/* strcmp through pointers, for qsort of char*. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The sorted folded names have no neighbours that are equal. */
static void test_names_unique(void **state) {
    (void)state;
    gen_graph g;
    build(&g, 7);
    char **names = calloc(N, sizeof *names), buf[200];
    assert_non_null(names);
    for (uint32_t i = 0; i < N; i++) {
        gen_name(&g, i, buf, sizeof buf);
        for (char *p = buf; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        names[i] = strdup(buf);
    }
    qsort(names, N, sizeof *names, cmp_str);
    for (uint32_t i = 1; i < N; i++) assert_true(strcmp(names[i - 1], names[i]) != 0);
    for (uint32_t i = 0; i < N; i++) free(names[i]);
    free(names);
    gen_free(&g);
}

/* Same seed: byte-identical output; another seed: different output. */
static void test_determinism(void **state) {
    (void)state;
    gen_graph a, b, c;
    build(&a, 42);
    build(&b, 42);
    build(&c, 43);
    size_t la, lb, lc;
    char *ta = render(&a, &la), *tb = render(&b, &lb), *tc = render(&c, &lc);
    assert_true(la > 1000000);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    assert_true(la != lc || memcmp(ta, tc, la) != 0);
    free(ta); free(tb); free(tc);
    gen_free(&a); gen_free(&b); gen_free(&c);
}

/* Bad parameters are refused, not crashed on. */
static void test_bad_params(void **state) {
    (void)state;
    gen_params p;
    gen_graph g;
    gen_default_params(&p, 0, 1);
    assert_int_equal(gen_build(&p, &g), -1);
    gen_default_params(&p, 10, 1);
    p.max_depth = 0;
    assert_int_equal(gen_build(&p, &g), -1);
    gen_default_params(&p, 1, 1);   /* one model: one root, no edges */
    assert_int_equal(gen_build(&p, &g), 0);
    assert_int_equal(g.nroots, 1);
    assert_int_equal(g.nedges, 0);
    gen_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),        cmocka_unit_test(test_summary),     cmocka_unit_test(test_names),
        cmocka_unit_test(test_names_unique), cmocka_unit_test(test_determinism), cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
