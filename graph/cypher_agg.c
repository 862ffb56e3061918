/* graph/cypher_agg.c - aggregate functions (count, sum, avg, min, max, collect,
 * percentileCont/Disc, stDev/stDevP, with DISTINCT) and the string-keyed hash
 * set that grouping and DISTINCT use. */
#include "cypher_agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* FNV-1a hash of a key. */
static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Returns the index of key, inserting it as count (the next index) if new; *fresh tells. */
size_t cy_hset_put(cy_q *q, cy_hset *h, const char *key, size_t len, bool *fresh)
{
    if ((h->count + 1) * 2 > h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        cy_hslot *ns = calloc(cap, sizeof *ns);
        if (!ns)
            abort();
        for (size_t i = 0; i < h->cap; i++)
            if (h->slots[i].key) {
                size_t j = (size_t)(h->slots[i].hash & (cap - 1));
                while (ns[j].key)
                    j = (j + 1) & (cap - 1);
                ns[j] = h->slots[i];
            }
        free(h->slots);
        h->slots = ns;
        h->cap = cap;
    }
    uint64_t hv = fnv(key, len);
    size_t j = (size_t)(hv & (h->cap - 1));
    while (h->slots[j].key) {
        if (h->slots[j].hash == hv && h->slots[j].len == len && memcmp(h->slots[j].key, key, len) == 0) {
            *fresh = false;
            return h->slots[j].index;
        }
        j = (j + 1) & (h->cap - 1);
    }
    h->slots[j].key = cy_strndup(&q->arena, key, len);
    h->slots[j].len = len;
    h->slots[j].hash = hv;
    h->slots[j].index = h->count++;
    *fresh = true;
    return h->slots[j].index;
}

/* See cypher_agg.h: the row's key is each value's cy_key() followed by '|'. */
bool cy_hset_row_fresh(cy_q *q, cy_hset *h, const cy_value *vals, size_t n)
{
    cy_buf key = {0};
    for (size_t i = 0; i < n; i++) {
        cy_key(&key, &vals[i]);
        cy_buf_add(&key, "|", 1);
    }
    bool fresh;
    cy_hset_put(q, h, key.p ? key.p : "", key.len, &fresh);
    free(key.p);
    return fresh;
}

/* Frees the slots (keys live in the arena). */
void cy_hset_free(cy_hset *h)
{
    free(h->slots);
    memset(h, 0, sizeof *h);
}

/* Is name an aggregate function? */
bool cy_is_aggregate_name(const char *name)
{
    static const char *const names[] = {"count", "sum", "avg", "min", "max", "collect", "percentileCont",
                                        "percentileDisc", "stDev", "stDevP"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(names[i], name) == 0)
            return true;
    return false;
}

/* Keeps a value for collect/percentiles/stDev. */
static void push_value(cy_q *q, cy_agg *a, const cy_value *v)
{
    if (a->nvals == a->capvals) {
        a->capvals = a->capvals ? a->capvals * 2 : 8;
        cy_value *nv = cy_alloc(&q->arena, a->capvals * sizeof *nv);
        if (a->nvals)
            cy_memcpy(nv, a->vals, a->nvals * sizeof *nv);
        a->vals = nv;
    }
    a->vals[a->nvals++] = *v;
}

/* Adds one row's argument values (args[0], and args[1] for percentiles). */
int cy_agg_step(cy_q *q, const cy_expr *e, cy_agg *a, const cy_value *args)
{
    if (e->k == E_COUNTSTAR) {
        a->count++;
        return 0;
    }
    const cy_value *v = &args[0];
    if (v->t == CV_NULL)
        return 0;
    if (e->distinct) {
        bool fresh;
        if (v->t == CV_NODE || v->t == CV_REL) {
            /* `count(DISTINCT d)` over a lineage: a fixed-width key, no formatting,
             * no allocation (upper-case tags and length 9 never equal a cy_key text) */
            char k[9];
            int64_t id = v->t == CV_NODE ? v->u.node : v->u.rel->id;
            k[0] = v->t == CV_NODE ? 'N' : 'R';
            memcpy(k + 1, &id, sizeof id);
            cy_hset_put(q, &a->seen, k, sizeof k, &fresh);
        } else {
            cy_buf b = {0};
            cy_key(&b, v);
            cy_hset_put(q, &a->seen, b.p, b.len, &fresh);
            free(b.p);
        }
        if (!fresh)
            return 0;
    }
    const char *f = e->name;
    a->count++;
    if (strcasecmp(f, "count") == 0)
        return 0;
    if (strcasecmp(f, "sum") == 0 || strcasecmp(f, "avg") == 0) {
        if (v->t != CV_INT && v->t != CV_FLOAT)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() expects numbers, got %s", f, cy_type_name(v));
        if (v->t == CV_FLOAT || a->is_float) {
            if (!a->is_float) {
                a->fsum = (double)a->isum;
                a->is_float = true;
            }
            a->fsum += v->t == CV_INT ? (double)v->u.i : v->u.f;
        } else if (__builtin_add_overflow(a->isum, v->u.i, &a->isum)) {
            return cy_rt(q, e->pos, "ArithmeticError", "IntegerOverflow", "integer overflow in %s()", f);
        }
        a->dsum += v->t == CV_INT ? (double)v->u.i : v->u.f;
        return 0;
    }
    if (strcasecmp(f, "min") == 0 || strcasecmp(f, "max") == 0) {
        bool mx = strcasecmp(f, "max") == 0;
        if (!a->has || (mx ? cy_order(v, &a->best) > 0 : cy_order(v, &a->best) < 0))
            a->best = *v;
        a->has = true;
        return 0;
    }
    if (strncasecmp(f, "percentile", 10) == 0 || strncasecmp(f, "stDev", 5) == 0) {
        if (v->t != CV_INT && v->t != CV_FLOAT)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() expects numbers, got %s", f, cy_type_name(v));
        if (strncasecmp(f, "percentile", 10) == 0) {
            const cy_value *p = &args[1];
            double pv = p->t == CV_INT ? (double)p->u.i : p->t == CV_FLOAT ? p->u.f : -1;
            if (p->t != CV_INT && p->t != CV_FLOAT)
                return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() percentile must be a number", f);
            if (pv < 0 || pv > 1)
                return cy_rt(q, e->pos, "ArgumentError", "NumberOutOfRange", "%s() percentile must be between 0.0 and 1.0", f);
            a->pct = pv;
        }
    }
    push_value(q, a, v);
    return 0;
}

/* qsort order of numbers for percentiles. */
static int num_cmp(const void *x, const void *y)
{
    const cy_value *a = x, *b = y;
    return cy_order(a, b);
}

static double num(const cy_value *v) { return v->t == CV_INT ? (double)v->u.i : v->u.f; }

/* The aggregate's value once every row of the group was stepped. */
cy_value cy_agg_result(cy_q *q, const cy_expr *e, cy_agg *a)
{
    if (e->k == E_COUNTSTAR)
        return cy_int(a->count);
    const char *f = e->name;
    if (strcasecmp(f, "count") == 0)
        return cy_int(a->count);
    if (strcasecmp(f, "sum") == 0)
        return a->is_float ? cy_float(a->fsum) : cy_int(a->isum);
    if (strcasecmp(f, "avg") == 0)
        return a->count ? cy_float(a->dsum / (double)a->count) : cy_null();
    if (strcasecmp(f, "min") == 0 || strcasecmp(f, "max") == 0)
        return a->has ? a->best : cy_null();
    if (strcasecmp(f, "collect") == 0) {
        cy_value l = cy_list_new(&q->arena, 0);
        l.u.l->v = a->vals ? a->vals : l.u.l->v;
        l.u.l->n = a->nvals;
        return l;
    }
    if (strncasecmp(f, "stDev", 5) == 0) {
        bool pop = strcasecmp(f, "stDevP") == 0;
        size_t n = a->nvals;
        if (n == 0 || (!pop && n == 1))
            return cy_float(0.0);
        double mean = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            mean += num(&a->vals[i]);
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (num(&a->vals[i]) - mean) * (num(&a->vals[i]) - mean);
        return cy_float(sqrt(ss / (double)(pop ? n : n - 1)));
    }
    /* percentiles */
    size_t n = a->nvals;
    if (n == 0)
        return cy_null();
    qsort(a->vals, n, sizeof *a->vals, num_cmp);
    if (strcasecmp(f, "percentileDisc") == 0) {
        double idx = ceil(a->pct * (double)n) - 1;
        size_t i = idx < 0 ? 0 : (size_t)idx;
        return a->vals[i < n ? i : n - 1];
    }
    double pos = a->pct * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
    double frac = pos - (double)lo;
    return cy_float(num(&a->vals[lo]) + (num(&a->vals[hi]) - num(&a->vals[lo])) * frac);
}

void cy_agg_free(cy_agg *a) { cy_hset_free(&a->seen); }
