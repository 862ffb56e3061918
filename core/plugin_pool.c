/* core/plugin_pool.c - small-block pool behind a plugin's Lua state (see plugin_pool.h). */
#include "plugin_pool.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_SLAB_BYTES ((size_t)64 << 10)

struct plugin_pool_slab {
    plugin_pool_slab *next;
    _Alignas(16) char data[];   /* blocks: 16-byte aligned, as malloc's */
};

/* The class of a block of n bytes (1..PLUGIN_POOL_MAX) and its size. */
static size_t pool_class(size_t n) { return (n + PLUGIN_POOL_STEP - 1) / PLUGIN_POOL_STEP - 1; }
static size_t pool_size(size_t c) { return (c + 1) * PLUGIN_POOL_STEP; }

/* A block of class c: a freed one, else the newest slab's tail, else a new slab. */
static void *pool_get(plugin_pool *p, size_t c) {
    size_t sz = pool_size(c);
    void *b = p->free[c];
    if (b) {
        POOL_UNPOISON(b, sz);
        memcpy(&p->free[c], b, sizeof(void *));
        return b;
    }
    if ((size_t)(p->end - p->next) < sz) {
        plugin_pool_slab *s = (p->slab_malloc ? p->slab_malloc : malloc)(sizeof *s + POOL_SLAB_BYTES);
        if (!s) return NULL;
        s->next = p->slabs;
        p->slabs = s;
        p->next = s->data;
        p->end = s->data + POOL_SLAB_BYTES;
        POOL_POISON(p->next, POOL_SLAB_BYTES);
    }
    b = p->next;
    p->next += sz;
    POOL_UNPOISON(b, sz);
    return b;
}

/* Puts a block of class c on its free list. */
static void pool_put(plugin_pool *p, void *b, size_t c) {
    memcpy(b, &p->free[c], sizeof(void *));
    p->free[c] = b;
    POOL_POISON((char *)b + sizeof(void *), pool_size(c) - sizeof(void *));
}

/* See plugin_pool.h. */
void *plugin_pool_realloc(plugin_pool *p, void *ptr, size_t osize, size_t nsize) {
    bool old_pooled = ptr && osize <= PLUGIN_POOL_MAX, new_pooled = nsize <= PLUGIN_POOL_MAX;
    if (nsize == 0) {
        if (old_pooled) pool_put(p, ptr, pool_class(osize));
        else free(ptr);
        return NULL;
    }
    if (!ptr) return new_pooled ? pool_get(p, pool_class(nsize)) : malloc(nsize);
    if (!old_pooled && !new_pooled) return realloc(ptr, nsize);
    if (old_pooled && new_pooled && pool_class(osize) == pool_class(nsize)) return ptr;
    void *n = new_pooled ? pool_get(p, pool_class(nsize)) : malloc(nsize);
    if (!n && old_pooled && nsize < osize) return ptr;   /* a shrink in the pool: the larger block serves */
    if (!n) return NULL;
    memcpy(n, ptr, osize < nsize ? osize : nsize);
    if (old_pooled) pool_put(p, ptr, pool_class(osize));
    else free(ptr);
    return n;
}

/* See plugin_pool.h. */
void plugin_pool_release(plugin_pool *p) {
    while (p->slabs) {
        plugin_pool_slab *next = p->slabs->next;
        POOL_UNPOISON(p->slabs->data, POOL_SLAB_BYTES);
        free(p->slabs);
        p->slabs = next;
    }
    void *(*slab_malloc)(size_t) = p->slab_malloc;
    memset(p, 0, sizeof *p);
    p->slab_malloc = slab_malloc;
}
