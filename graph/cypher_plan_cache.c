/* graph/cypher_plan_cache.c - what a graph_store keeps between Cypher queries:
 * the compiled plans of recent query texts and the query engine's prepared
 * statements.
 *
 * A repeated query (typically the same text with other $parameters) skips
 * lexing, parsing and the semantic checks, and reuses its prepared SQLite
 * statements instead of preparing them again.
 *
 * Invariants:
 * - A plan is the tokens and the checked AST of one text, in an arena of its own
 *   that nothing but the plan owns. Compilation runs on a private copy of the text
 *   (the AST may point into it), so a plan never refers to caller memory.
 * - Executing a plan does not change it: execution allocates in the query's own
 *   arena; the one field it writes (cy_expr.agg_slot) gets the same value on
 *   every run.
 * - The semantic checks read one thing from outside the text: whether each
 *   $parameter is given. A plan lists its parameter names; when one is missing
 *   the plan is not used and the query compiles again (and fails as it must).
 * - The cache belongs to one store, i.e. one connection used by one thread at a
 *   time. `busy` marks a query in progress; a query started while another runs on
 *   the same store (a plugin's ctx:query inside a query, were it ever possible)
 *   uses statements and a compilation of its own.
 * - Statements are reset (never left stepping) when a query ends, so no read
 *   snapshot outlives its query. */
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>

struct cy_plan {
    char *text;                /* NULL: the slot is free */
    uint64_t hash;
    cy_arena arena;
    cy_query *qu;
    const char **params;       /* in arena */
    size_t nparams;
    uint64_t last_used;
};

struct cy_store_cache {
    sqlite3_stmt *st[CY_ST_SLOTS];
    bool busy;
    uint64_t clock;
    uint64_t hits, misses;
    struct cy_plan plans[CY_PLAN_CACHE_ENTRIES];
};

/* FNV-1a: cheap, and only used to skip most string comparisons. */
static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The store's cache, made on first use; NULL when memory is short (queries then
 * simply run uncached). */
cy_store_cache *cy_store_cache_of(graph_store *s)
{
    if (!s->cy_cache)
        s->cy_cache = calloc(1, sizeof *s->cy_cache);
    return s->cy_cache;
}

/* Frees one plan slot. */
static void plan_clear(struct cy_plan *p)
{
    free(p->text);
    cy_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}

/* Called by graph_store_close: statements must be finalized before the
 * connection can close. */
void cy_store_cache_free(graph_store *s)
{
    cy_store_cache *c = s->cy_cache;
    if (!c)
        return;
    for (size_t i = 0; i < CY_ST_SLOTS; i++)
        sqlite3_finalize(c->st[i]);
    for (size_t i = 0; i < CY_PLAN_CACHE_ENTRIES; i++)
        plan_clear(&c->plans[i]);
    free(c);
    s->cy_cache = NULL;
}

/* Claims the cache for one query: its statement slots, and plans. false when
 * another query on this store holds it. */
bool cy_store_cache_acquire(cy_store_cache *c)
{
    if (!c || c->busy)
        return false;
    c->busy = true;
    return true;
}

/* Ends a query's use of the cache: every statement reset and unbound. */
void cy_store_cache_release(cy_store_cache *c)
{
    for (size_t i = 0; i < CY_ST_SLOTS; i++)
        if (c->st[i]) {
            sqlite3_reset(c->st[i]);
            sqlite3_clear_bindings(c->st[i]);
        }
    c->busy = false;
}

/* The statement slots queries use while they hold the cache. */
sqlite3_stmt **cy_store_cache_stmts(cy_store_cache *c)
{
    return c->st;
}

/* The plan compiled from exactly this text, usable with these params; NULL if none. */
const cy_plan *cy_plan_find(cy_store_cache *c, const char *text, json_t *params)
{
    uint64_t h = text_hash(text);
    for (size_t i = 0; i < CY_PLAN_CACHE_ENTRIES; i++) {
        struct cy_plan *p = &c->plans[i];
        if (!p->text || p->hash != h || strcmp(p->text, text) != 0)
            continue;
        for (size_t k = 0; k < p->nparams; k++)
            if (!params || !json_object_get(params, p->params[k])) {
                c->misses++;
                return NULL;
            }
        p->last_used = ++c->clock;
        c->hits++;
        return p;
    }
    c->misses++;
    return NULL;
}

/* Keeps a successful compilation: takes over the arena (left empty) and the
 * text copy, evicting the least recently used plan when the cache is full.
 * A compilation bigger than CY_PLAN_MAX_BYTES is not kept (returns false and
 * leaves ownership with the caller). */
bool cy_plan_keep(cy_store_cache *c, char *text_copy, cy_arena *arena, cy_query *qu, const char **params,
                  size_t nparams)
{
    if (arena->total > CY_PLAN_MAX_BYTES)
        return false;
    struct cy_plan *victim = &c->plans[0];
    for (size_t i = 0; i < CY_PLAN_CACHE_ENTRIES; i++) {
        struct cy_plan *p = &c->plans[i];
        if (!p->text) {
            victim = p;
            break;
        }
        if (p->last_used < victim->last_used)
            victim = p;
    }
    plan_clear(victim);
    victim->text = text_copy;
    victim->hash = text_hash(text_copy);
    victim->arena = *arena;
    memset(arena, 0, sizeof *arena);
    victim->qu = qu;
    victim->params = params;
    victim->nparams = nparams;
    victim->last_used = ++c->clock;
    return true;
}

/* The plan's parts, for graph_query. */
cy_query *cy_plan_query(const cy_plan *p) { return p->qu; }
const char *cy_plan_text(const cy_plan *p) { return p->text; }

/* See cypher.h. */
void graph_query_cache_counts(graph_store *s, uint64_t *hits, uint64_t *misses)
{
    cy_store_cache *c = s->cy_cache;
    *hits = c ? c->hits : 0;
    *misses = c ? c->misses : 0;
}

/* Records a $parameter the semantic checks looked up (see the invariants). */
void cy_note_param(cy_q *q, const char *name)
{
    for (size_t i = 0; i < q->nparam_names; i++)
        if (strcmp(q->param_names[i], name) == 0)
            return;
    if (q->nparam_names == q->param_cap) {
        size_t cap = q->param_cap ? q->param_cap * 2 : 8;
        const char **nv = cy_alloc(&q->arena, cap * sizeof *nv);
        if (q->nparam_names)
            memcpy(nv, q->param_names, q->nparam_names * sizeof *nv);
        q->param_names = nv;
        q->param_cap = cap;
    }
    q->param_names[q->nparam_names++] = name;
}
