/*
 * tests/unit/test_plugin_pool.c - core/plugin_pool.c, the small-block pool
 * behind plugin Lua states: lua_Alloc's contract (contents kept across every
 * kind of resize, freed blocks reused per size class, 16-byte alignment),
 * many slabs, poisoning of free blocks under AddressSanitizer, and a sandbox
 * whose byte count returns to where it was once its garbage is collected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <lua.h>

#include "plugin_pool.h"
#include "plugin_sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

/* Fills n bytes with a pattern derived from seed. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed * 31u + i);
}

/* True if n bytes still hold fill's pattern for seed. */
static bool holds(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed * 31u + i)) return false;
    return true;
}

/* Blocks are aligned like malloc's; a freed block is the next one of its class. */
static void reuse_per_class(void **state)
{
    (void)state;
    plugin_pool p = {0};
    void *a = plugin_pool_realloc(&p, NULL, 0, 24);
    void *b = plugin_pool_realloc(&p, NULL, 0, 100);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal((uintptr_t)a % 16, 0);
    assert_int_equal((uintptr_t)b % 16, 0);
    assert_null(plugin_pool_realloc(&p, a, 24, 0));
    assert_ptr_equal(plugin_pool_realloc(&p, NULL, 0, 32), a);    /* same class (17..32) */
    assert_ptr_not_equal(plugin_pool_realloc(&p, NULL, 0, 24), a); /* the list is empty again */
    plugin_pool_release(&p);
    assert_null(p.slabs);
}

/* Contents survive a resize within a class, across classes, out of the pool and back in. */
static void resizes_keep_contents(void **state)
{
    (void)state;
    plugin_pool p = {0};
    unsigned char *a = plugin_pool_realloc(&p, NULL, 0, 20);
    fill(a, 20, 1);
    assert_ptr_equal(plugin_pool_realloc(&p, a, 20, 30), a);   /* same class: in place */
    unsigned char *b = plugin_pool_realloc(&p, a, 30, 200);     /* bigger class */
    assert_true(holds(b, 20, 1));
    fill(b, 200, 2);
    unsigned char *c = plugin_pool_realloc(&p, b, 200, 5000);   /* out of the pool */
    assert_true(holds(c, 200, 2));
    fill(c, 5000, 3);
    unsigned char *d = plugin_pool_realloc(&p, c, 5000, 9000);  /* libc realloc */
    assert_true(holds(d, 5000, 3));
    unsigned char *e = plugin_pool_realloc(&p, d, 9000, 40);    /* back into the pool */
    assert_true(holds(e, 40, 3));
    unsigned char *f = plugin_pool_realloc(&p, e, 40, 8);       /* smaller class */
    assert_true(holds(f, 8, 3));
    assert_null(plugin_pool_realloc(&p, f, 8, 0));
    plugin_pool_release(&p);
}

static void *no_memory(size_t n)
{
    (void)n;
    return NULL;
}

/* Without memory for a new slab: a shrink inside the pool keeps the old block
 * (contents and all, reused later as the smaller class), a new block or a shrink
 * out of libc fails with NULL and leaves the old block as it was. */
static void shrinks_without_memory(void **state)
{
    (void)state;
    plugin_pool p = {0};
    unsigned char *a = plugin_pool_realloc(&p, NULL, 0, 200);
    fill(a, 200, 5);
    unsigned char *big = plugin_pool_realloc(&p, NULL, 0, 5000);
    fill(big, 5000, 6);
    p.next = p.end;   /* the slab is used up */
    p.slab_malloc = no_memory;
    assert_ptr_equal(plugin_pool_realloc(&p, a, 200, 20), a);
    assert_true(holds(a, 200, 5));
    assert_null(plugin_pool_realloc(&p, NULL, 0, 20));
    assert_null(plugin_pool_realloc(&p, big, 5000, 20));
    assert_true(holds(big, 5000, 6));
    assert_null(plugin_pool_realloc(&p, a, 20, 0));
    assert_ptr_equal(plugin_pool_realloc(&p, NULL, 0, 17), a);   /* now a block of the 17..32 class */
    assert_null(plugin_pool_realloc(&p, big, 5000, 0));
    plugin_pool_release(&p);
}

/* Thousands of live blocks over many slabs stay distinct and intact. */
static void many_slabs(void **state)
{
    (void)state;
    enum { N = 5000 };
    static unsigned char *v[N];
    plugin_pool p = {0};
    for (unsigned i = 0; i < N; i++) {
        size_t n = 1 + i % PLUGIN_POOL_MAX;
        v[i] = plugin_pool_realloc(&p, NULL, 0, n);
        assert_non_null(v[i]);
        fill(v[i], n, i);
    }
    for (unsigned i = 0; i < N; i += 2) assert_null(plugin_pool_realloc(&p, v[i], 1 + i % PLUGIN_POOL_MAX, 0));
    for (unsigned i = 0; i < N; i += 2) {   /* the freed blocks come back, the others untouched */
        size_t n = 1 + i % PLUGIN_POOL_MAX;
        v[i] = plugin_pool_realloc(&p, NULL, 0, n);
        fill(v[i], n, i + 7);
    }
    for (unsigned i = 0; i < N; i++) assert_true(holds(v[i], 1 + i % PLUGIN_POOL_MAX, i % 2 ? i : i + 7));
    plugin_pool_release(&p);
}

/* Under AddressSanitizer a free pooled block is poisoned (past the list link), a handed-out one is not. */
static void free_blocks_are_poisoned(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    plugin_pool p = {0};
    char *a = plugin_pool_realloc(&p, NULL, 0, 64);
    char *b = plugin_pool_realloc(&p, NULL, 0, 64);
    assert_false(__asan_address_is_poisoned(a + 40));
    assert_true(__asan_address_is_poisoned(b + 64));   /* the slab's unused tail */
    plugin_pool_realloc(&p, a, 64, 0);
    assert_true(__asan_address_is_poisoned(a + 40));
    assert_ptr_equal(plugin_pool_realloc(&p, NULL, 0, 64), a);
    assert_false(__asan_address_is_poisoned(a + 40));
    plugin_pool_release(&p);
#else
    skip();
#endif
}

/* Through a sandbox: a chunk that makes and drops many small values leaves the
 * byte count where a full collection brings it back to, and the state works. */
static void sandbox_counts_return(void **state)
{
    (void)state;
    plugin_sandbox sb;
    char err[256];
    assert_int_equal(plugin_sandbox_open(&sb, 64u << 20, 100000000, "pool-test"), 0);
    const char *warm = "return 1";
    int rc = plugin_sandbox_dochunk(&sb, warm, strlen(warm), "=warm", err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    lua_pop(sb.L, 1);
    lua_gc(sb.L, LUA_GCCOLLECT);
    size_t before = sb.mem_used;
    const char *churn = "local n = 0\n"
                        "for i = 1, 20000 do local t = {i, tostring(i), {x = i}} n = n + #t[2] end\n"
                        "return n";
    assert_int_equal(plugin_sandbox_dochunk(&sb, churn, strlen(churn), "=churn", err, sizeof err), 0);
    assert_int_equal(lua_tointeger(sb.L, -1), 88894);   /* digits of 1..20000 */
    lua_pop(sb.L, 1);
    lua_gc(sb.L, LUA_GCCOLLECT);
    assert_true(sb.mem_used < before + 16384);   /* the churn's blocks were all given back */
    assert_non_null(sb.pool.slabs);
    plugin_sandbox_close(&sb);
    assert_null(sb.pool.slabs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reuse_per_class),
        cmocka_unit_test(resizes_keep_contents),
        cmocka_unit_test(shrinks_without_memory),
        cmocka_unit_test(many_slabs),
        cmocka_unit_test(free_blocks_are_poisoned),
        cmocka_unit_test(sandbox_counts_return),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
