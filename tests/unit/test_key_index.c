/*
 * tests/unit/test_key_index.c - graph/key_index.c against a brute-force model:
 * random sets, changes and removals of node keys (many nodes sharing a key,
 * growth past several table sizes, removals that must shift probe runs back)
 * and after each step every key's answer equals what a scan of the model says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "key_index.h"

#define NODES 3000
#define KEYS 2000

/* Deterministic pseudo-random numbers (xorshift), so a failure repeats. */
static uint32_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/* The answer a scan of the model gives for key number k. */
static int model_find(const int *model, int k, uint32_t *node) {
    int found = KEY_INDEX_NONE;
    for (uint32_t n = 0; n < NODES; n++) {
        if (model[n] != k) continue;
        if (found == KEY_INDEX_ONE) return KEY_INDEX_MANY;
        found = KEY_INDEX_ONE;
        *node = n;
    }
    return found;
}

/* Every key's answer equals the model's (no two of these keys share a hash,
 * which the first check of the test establishes). */
static void check_all(const key_index *k, const int *model) {
    char key[32];
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "key %d", i);
        uint32_t want = UINT32_MAX, got = UINT32_MAX;
        int w = model_find(model, i, &want), g = key_index_find(k, key, strlen(key), &got);
        assert_int_equal(g, w);
        if (w == KEY_INDEX_ONE) assert_int_equal(got, want);
    }
}

/* Random operations against the model; the table grows through several sizes
 * and most removals sit inside probe runs. */
static void test_matches_model(void **state) {
    (void)state;
    key_index k = {0};
    int *model = malloc(NODES * sizeof *model);
    for (int n = 0; n < NODES; n++) model[n] = -1;
    char key[32];
    /* first, each key alone: every key is found as exactly its node (so no two share a hash) */
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "key %d", i);
        assert_true(key_index_set(&k, (uint32_t)i, key, strlen(key)));
        model[i] = i;
    }
    check_all(&k, model);
    assert_int_equal(k.len, KEYS);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int step = 0; step < 20000; step++) {
        uint32_t n = rnd(&seed) % NODES;
        if (rnd(&seed) % 4 == 0) {
            assert_true(key_index_set(&k, n, NULL, 0));
            model[n] = -1;
        } else {
            int kk = (int)(rnd(&seed) % KEYS);
            snprintf(key, sizeof key, "key %d", kk);
            assert_true(key_index_set(&k, n, key, strlen(key)));
            model[n] = kk;
        }
        if (step % 1000 == 0) check_all(&k, model);
    }
    check_all(&k, model);
    size_t live = 0;
    for (int n = 0; n < NODES; n++) live += model[n] >= 0;
    assert_int_equal(k.len, live);
    /* a node id far past the others, then gone again */
    assert_true(key_index_set(&k, 1u << 20, "far", 3));
    uint32_t got = 0;
    assert_int_equal(key_index_find(&k, "far", 3, &got), KEY_INDEX_ONE);
    assert_int_equal(got, 1u << 20);
    assert_true(key_index_set(&k, 1u << 20, NULL, 0));
    assert_int_equal(key_index_find(&k, "far", 3, &got), KEY_INDEX_NONE);
    /* clear forgets everything, and the table is usable again */
    key_index_clear(&k);
    for (int n = 0; n < NODES; n++) model[n] = -1;
    check_all(&k, model);
    assert_true(key_index_set(&k, 7, "key 7", 5));
    model[7] = 7;
    check_all(&k, model);
    assert_false(key_index_set(&k, UINT32_MAX, "x", 1));   /* ids must stay below UINT32_MAX */
    key_index_free(&k);
    free(model);
}

/* cmocka entry point. */
int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
