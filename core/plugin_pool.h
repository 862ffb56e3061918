/*
 * core/plugin_pool.h - small-block pool behind a plugin's Lua state (used by
 * plugin_sandbox.c's allocator only).
 *
 * Why: a plugin's Lua state allocates and frees a few small blocks per value
 * it touches (strings, tables, their parts): an HF import made ~20 of them per
 * JSON record, and through glibc each free filled the fastbins that the next
 * large allocation of SQLite's (a page split) then had to consolidate. The
 * pool hands out blocks of up to PLUGIN_POOL_MAX bytes in 16-byte size classes
 * from 64 KiB slabs and keeps freed ones on a list per class; the slabs go back
 * to libc when the state closes (a state lives for one plugin run). Byte
 * accounting for the plugin memory limit stays in plugin_sandbox.c, by the
 * sizes Lua asks for. Under AddressSanitizer a pooled block is poisoned while
 * it is free, so a use after free is still reported.
 */
#ifndef DSGRAPH_CORE_PLUGIN_POOL_H
#define DSGRAPH_CORE_PLUGIN_POOL_H

#include <stddef.h>

#define PLUGIN_POOL_MAX 256     /* larger blocks are plain malloc/realloc/free */
#define PLUGIN_POOL_STEP 16
#define PLUGIN_POOL_CLASSES (PLUGIN_POOL_MAX / PLUGIN_POOL_STEP)

typedef struct plugin_pool_slab plugin_pool_slab;

typedef struct plugin_pool {
    void *free[PLUGIN_POOL_CLASSES];   /* freed blocks per class, linked through their first word */
    plugin_pool_slab *slabs;           /* every slab, released by plugin_pool_release */
    char *next, *end;                  /* the unused tail of the newest slab */
    void *(*slab_malloc)(size_t);      /* NULL: malloc (tests make it fail) */
} plugin_pool;

/* The lua_Alloc contract on a pool: ptr/osize the old block (ptr NULL: none),
 * nsize the new size (0: free). Returns the block, or NULL (nsize 0, or out of
 * memory: the old block is then untouched). A shrink within the pool never
 * fails (without memory for a smaller block, the old one is kept and counts as
 * the smaller class from then on), nor one within libc; a shrink from a libc
 * block into a pool class needs a pool
 * block and fails (NULL) only if a new 64 KiB slab cannot be had, which Lua 5.4
 * handles as it handles any failed allocation (an emergency collection, then a
 * memory error). */
void *plugin_pool_realloc(plugin_pool *p, void *ptr, size_t osize, size_t nsize);
/* Frees every slab; blocks handed out are gone with them. p is empty after. */
void plugin_pool_release(plugin_pool *p);

#endif
