/* graph/cypher_value.c - the query arena and Cypher values: construction,
 * JSON conversion, equality, comparability, ORDER BY order, equivalence keys. */
#include "cypher_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cy_chunk {
    cy_chunk *next;
    size_t cap;
    max_align_t data[];
};

/* Bump allocation: a query's values die together, so nothing is freed one by one. */
void *cy_alloc(cy_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->used + n > a->cap) {
        size_t cap = n > 65536 ? n : 65536;
        cy_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            abort();
        c->next = a->head;
        c->cap = cap;
        a->total += cap;
        a->head = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = (char *)a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

/* Copies n bytes and NUL-terminates them. */
char *cy_strndup(cy_arena *a, const char *s, size_t n)
{
    char *p = cy_alloc(a, n + 1);
    if (n)
        cy_memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* See cypher_int.h. */
cy_arena_mark cy_arena_mark_now(const cy_arena *a)
{
    return (cy_arena_mark){a->head, a->used, a->cap, a->total};
}

/* See cypher_int.h. The chunk the mark was taken in stays, bumped back to where
 * it was; the chunks added since are freed. */
void cy_arena_release(cy_arena *a, cy_arena_mark m)
{
    while (a->head != m.head) {
        cy_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    a->used = m.used;
    a->cap = m.cap;
    a->total = m.total;
}

/* Frees every chunk of the arena at the end of a query. */
void cy_arena_free(cy_arena *a)
{
    cy_chunk *c = a->head;
    while (c) {
        cy_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = a->cap = a->total = 0;
}

/* ---- growable text ---- */

/* Appends bytes, growing the buffer (aborts on OOM, like xmalloc). */
void cy_buf_add(cy_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    if (n)
        cy_memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cy_buf_puts(cy_buf *b, const char *s) { cy_buf_add(b, s, strlen(s)); }

/* printf into the buffer. */
void cy_buf_printf(cy_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        cy_buf_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cy_buf_add(b, big, (size_t)n);
    free(big);
}

/* ---- constructors ---- */

cy_value cy_null(void) { return (cy_value){.t = CV_NULL}; }
cy_value cy_bool(bool b) { return (cy_value){.t = CV_BOOL, .u.b = b}; }
cy_value cy_int(int64_t i) { return (cy_value){.t = CV_INT, .u.i = i}; }
cy_value cy_float(double f) { return (cy_value){.t = CV_FLOAT, .u.f = f}; }
cy_value cy_node(int64_t id) { return (cy_value){.t = CV_NODE, .u.node = id}; }

/* A string value copied into the arena. */
cy_value cy_str(cy_arena *a, const char *s, size_t n)
{
    cy_value v = {.t = CV_STR};
    v.u.s.p = cy_strndup(a, s, n);
    v.u.s.len = n;
    return v;
}

cy_value cy_str0(cy_arena *a, const char *s) { return cy_str(a, s, strlen(s)); }

/* A list of n nulls, filled by the caller. */
cy_value cy_list_new(cy_arena *a, size_t n)
{
    cy_value v = {.t = CV_LIST};
    v.u.l = cy_alloc(a, sizeof *v.u.l);
    v.u.l->n = n;
    v.u.l->v = cy_alloc(a, (n ? n : 1) * sizeof(cy_value));
    return v;
}

/* A map of n entries, filled by the caller. */
cy_value cy_map_new(cy_arena *a, size_t n)
{
    cy_value v = {.t = CV_MAP};
    v.u.m = cy_alloc(a, sizeof *v.u.m);
    v.u.m->n = n;
    v.u.m->k = cy_alloc(a, (n ? n : 1) * sizeof(char *));
    v.u.m->v = cy_alloc(a, (n ? n : 1) * sizeof(cy_value));
    return v;
}

/* Names used in TypeError messages. */
const char *cy_type_name(const cy_value *v)
{
    static const char *names[] = {"Null", "Boolean", "Integer", "Float", "String", "List", "Map",
                                  "Node", "Relationship", "Path"};
    return v->t == CV_TEMPORAL ? cy_temporal_type_name(v->u.tm) : names[v->t];
}

/* Map lookup by key; NULL when absent. */
const cy_value *cy_map_get(const cy_map *m, const char *k)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->k[i], k) == 0)
            return &m->v[i];
    return NULL;
}

/* Parameters and stored properties arrive as JSON; a one-member object whose key is
 * a temporal tag ({"$date": "1985-05-06"}, cy_temporal_to_json) is that value. */
cy_value cy_from_json(cy_arena *a, const json_t *j)
{
    size_t i;
    switch (json_typeof(j)) {
    case JSON_TRUE: return cy_bool(true);
    case JSON_FALSE: return cy_bool(false);
    case JSON_INTEGER: return cy_int(json_integer_value(j));
    case JSON_REAL: return cy_float(json_real_value(j));
    case JSON_STRING: return cy_str(a, json_string_value(j), json_string_length(j));
    case JSON_ARRAY: {
        cy_value v = cy_list_new(a, json_array_size(j));
        for (i = 0; i < v.u.l->n; i++)
            v.u.l->v[i] = cy_from_json(a, json_array_get(j, i));
        return v;
    }
    case JSON_OBJECT: {
        if (json_object_size(j) == 1) {
            const char *tag = json_object_iter_key(json_object_iter((json_t *)j));
            const json_t *text = json_object_get(j, tag);
            cy_value t;
            if (tag[0] == '$' && json_is_string(text) &&
                cy_temporal_from_tag(a, tag, json_string_value(text), json_string_length(text), &t))
                return t;
        }
        cy_value v = cy_map_new(a, json_object_size(j));
        const char *k;
        json_t *x;
        i = 0;
        json_object_foreach((json_t *)j, k, x) {
            v.u.m->k[i] = cy_strndup(a, k, strlen(k));
            v.u.m->v[i] = cy_from_json(a, x);
            i++;
        }
        return v;
    }
    default: return cy_null();
    }
}

/* Property values: scalars, temporal values and lists of them (the store keeps any
 * JSON, but Cypher allows only these); NaN/Infinity cannot be stored as JSON. */
json_t *cy_to_json_prop(cy_q *q, const cy_value *v, int pos)
{
    switch (v->t) {
    case CV_NULL: return json_null();
    case CV_BOOL: return json_boolean(v->u.b);
    case CV_INT: return json_integer(v->u.i);
    case CV_FLOAT:
        if (!isfinite(v->u.f)) {
            cy_rt(q, pos, "ArgumentError", "InvalidPropertyType", "NaN and infinite floats cannot be stored as properties");
            return NULL;
        }
        return json_real(v->u.f);
    case CV_STR: return json_stringn(v->u.s.p, v->u.s.len);
    case CV_TEMPORAL: return cy_temporal_to_json(v->u.tm);
    case CV_LIST: {
        json_t *arr = json_array();
        for (size_t i = 0; i < v->u.l->n; i++) {
            const cy_value *x = &v->u.l->v[i];
            if (x->t == CV_LIST || x->t == CV_MAP || x->t == CV_NODE || x->t == CV_REL || x->t == CV_PATH) {
                json_decref(arr);
                cy_rt(q, pos, "TypeError", "InvalidPropertyType", "a property list may hold only scalar values, not %s",
                      cy_type_name(x));
                return NULL;
            }
            json_t *j = cy_to_json_prop(q, x, pos);
            if (!j) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, j);
        }
        return arr;
    }
    default:
        cy_rt(q, pos, "TypeError", "InvalidPropertyType", "a %s cannot be stored as a property", cy_type_name(v));
        return NULL;
    }
}

/* ---- equality and comparison ---- */

static bool cy_is_num(const cy_value *v) { return v->t == CV_INT || v->t == CV_FLOAT; }

/* Integer vs float compared exactly (no rounding of large integers). */
static int cy_num_cmp(const cy_value *a, const cy_value *b, bool *nan)
{
    *nan = false;
    if (a->t == CV_INT && b->t == CV_INT)
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    double x = a->t == CV_INT ? (double)a->u.i : a->u.f, y = b->t == CV_INT ? (double)b->u.i : b->u.f;
    if (isnan(x) || isnan(y)) {
        *nan = true;
        return 0;
    }
    if (x != y)
        return (x > y) - (x < y);
    if (a->t == CV_INT && b->t == CV_FLOAT && fabs(y) < 9.2e18) {
        int64_t yi = (int64_t)y;
        return (a->u.i > yi) - (a->u.i < yi);
    }
    if (a->t == CV_FLOAT && b->t == CV_INT && fabs(x) < 9.2e18) {
        int64_t xi = (int64_t)x;
        return (xi > b->u.i) - (xi < b->u.i);
    }
    return 0;
}

/* Byte order of UTF-8 strings (= code point order). */
static int cy_str_cmp(const cy_value *a, const cy_value *b)
{
    size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
    int c = memcmp(a->u.s.p, b->u.s.p, n);
    if (c)
        return c < 0 ? -1 : 1;
    return (a->u.s.len > b->u.s.len) - (a->u.s.len < b->u.s.len);
}

/* Equality with null propagation: lists/maps compare element-wise; any null
 * inside that decides the result makes it null. */
int cy_equals(const cy_value *a, const cy_value *b)
{
    if (a->t == CV_NULL || b->t == CV_NULL)
        return -1;
    if (cy_is_num(a) && cy_is_num(b)) {
        bool nan;
        int c = cy_num_cmp(a, b, &nan);
        return nan ? 0 : c == 0;
    }
    if (a->t != b->t)
        return 0;
    switch (a->t) {
    case CV_BOOL: return a->u.b == b->u.b;
    case CV_STR: return cy_str_cmp(a, b) == 0;
    case CV_TEMPORAL: return cy_temporal_equals(a->u.tm, b->u.tm);
    case CV_NODE: return a->u.node == b->u.node;
    case CV_REL: return a->u.rel->id == b->u.rel->id;
    case CV_PATH: {
        if (a->u.path->nrels != b->u.path->nrels)
            return 0;
        for (size_t i = 0; i <= a->u.path->nrels; i++)
            if (a->u.path->nodes[i] != b->u.path->nodes[i])
                return 0;
        for (size_t i = 0; i < a->u.path->nrels; i++)
            if (a->u.path->rels[i].id != b->u.path->rels[i].id)
                return 0;
        return 1;
    }
    case CV_LIST: {
        if (a->u.l->n != b->u.l->n)
            return 0;
        int res = 1;
        for (size_t i = 0; i < a->u.l->n; i++) {
            int e = cy_equals(&a->u.l->v[i], &b->u.l->v[i]);
            if (e == 0)
                return 0;
            if (e < 0)
                res = -1;
        }
        return res;
    }
    case CV_MAP: {
        if (a->u.m->n != b->u.m->n)
            return 0;
        int res = 1;
        for (size_t i = 0; i < a->u.m->n; i++) {
            const cy_value *o = cy_map_get(b->u.m, a->u.m->k[i]);
            if (!o)
                return 0;
            int e = cy_equals(&a->u.m->v[i], o);
            if (e == 0)
                return 0;
            if (e < 0)
                res = -1;
        }
        return res;
    }
    default: return 0;
    }
}

/* <, <=, >, >= : numbers with numbers, strings with strings, booleans, lists
 * lexicographically; anything else (and NaN) is incomparable → null. */
bool cy_compare(const cy_value *a, const cy_value *b, int *cmp)
{
    if (a->t == CV_NULL || b->t == CV_NULL)
        return false;
    if (cy_is_num(a) && cy_is_num(b)) {
        bool nan;
        *cmp = cy_num_cmp(a, b, &nan);
        return !nan;
    }
    if (a->t != b->t)
        return false;
    switch (a->t) {
    case CV_STR: *cmp = cy_str_cmp(a, b); return true;
    case CV_BOOL: *cmp = (int)a->u.b - (int)b->u.b; return true;
    case CV_TEMPORAL: return cy_temporal_compare(a->u.tm, b->u.tm, cmp);
    case CV_LIST: {
        size_t n = a->u.l->n < b->u.l->n ? a->u.l->n : b->u.l->n;
        for (size_t i = 0; i < n; i++) {
            int c;
            if (!cy_compare(&a->u.l->v[i], &b->u.l->v[i], &c))
                return false;
            if (c) {
                *cmp = c;
                return true;
            }
        }
        *cmp = (a->u.l->n > b->u.l->n) - (a->u.l->n < b->u.l->n);
        return true;
    }
    default: return false;
    }
}

/* Rank of a type in the global sort order (openCypher: map < node < rel < list
 * < path < temporal values (datetime ... duration, cy_temporal_rank) < string
 * < boolean < number < null when ascending). */
static int cy_type_rank(const cy_value *v)
{
    switch (v->t) {
    case CV_MAP: return 0;
    case CV_NODE: return 1;
    case CV_REL: return 2;
    case CV_LIST: return 3;
    case CV_PATH: return 4;
    case CV_TEMPORAL: return 5 + cy_temporal_rank(v->u.tm);
    case CV_STR: return 11;
    case CV_BOOL: return 12;
    case CV_INT:
    case CV_FLOAT: return 13;
    default: return 14;
    }
}

/* Total order used by ORDER BY, min and max: by type rank, then within the type. */
int cy_order(const cy_value *a, const cy_value *b)
{
    int ra = cy_type_rank(a), rb = cy_type_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (a->t) {
    case CV_INT:
    case CV_FLOAT: {
        bool an = a->t == CV_FLOAT && isnan(a->u.f), bn = b->t == CV_FLOAT && isnan(b->u.f), nan;
        if (an || bn)
            return an == bn ? 0 : an ? 1 : -1;   /* NaN sorts after every number */
        return cy_num_cmp(a, b, &nan);
    }
    case CV_STR: return cy_str_cmp(a, b);
    case CV_BOOL: return (int)a->u.b - (int)b->u.b;
    case CV_TEMPORAL: return cy_temporal_order(a->u.tm, b->u.tm);
    case CV_NODE: return (a->u.node > b->u.node) - (a->u.node < b->u.node);
    case CV_REL: return (a->u.rel->id > b->u.rel->id) - (a->u.rel->id < b->u.rel->id);
    case CV_LIST: {
        size_t n = a->u.l->n < b->u.l->n ? a->u.l->n : b->u.l->n;
        for (size_t i = 0; i < n; i++) {
            int c = cy_order(&a->u.l->v[i], &b->u.l->v[i]);
            if (c)
                return c;
        }
        return (a->u.l->n > b->u.l->n) - (a->u.l->n < b->u.l->n);
    }
    case CV_PATH: {
        size_t na = a->u.path->nrels, nb = b->u.path->nrels;
        for (size_t i = 0; i <= na && i <= nb; i++)
            if (a->u.path->nodes[i] != b->u.path->nodes[i])
                return a->u.path->nodes[i] < b->u.path->nodes[i] ? -1 : 1;
        return (na > nb) - (na < nb);
    }
    case CV_MAP: {
        size_t n = a->u.m->n < b->u.m->n ? a->u.m->n : b->u.m->n;
        for (size_t i = 0; i < n; i++) {
            int c = strcmp(a->u.m->k[i], b->u.m->k[i]);
            if (c)
                return c < 0 ? -1 : 1;
            c = cy_order(&a->u.m->v[i], &b->u.m->v[i]);
            if (c)
                return c;
        }
        return (a->u.m->n > b->u.m->n) - (a->u.m->n < b->u.m->n);
    }
    default: return 0;
    }
}

/* Equivalence key: equal keys <=> equivalent values (grouping, DISTINCT).
 * Integral floats share the integer's key; maps are keyed in sorted key order. */
void cy_key(cy_buf *b, const cy_value *v)
{
    switch (v->t) {
    case CV_NULL: cy_buf_puts(b, "N"); break;
    case CV_BOOL: cy_buf_puts(b, v->u.b ? "T" : "F"); break;
    case CV_INT: cy_buf_printf(b, "i%lld;", (long long)v->u.i); break;
    case CV_FLOAT:
        if (v->u.f == floor(v->u.f) && fabs(v->u.f) < 9.2e18)
            cy_buf_printf(b, "i%lld;", (long long)v->u.f);
        else if (isnan(v->u.f))
            cy_buf_puts(b, "fnan;");
        else
            cy_buf_printf(b, "f%.17g;", v->u.f);
        break;
    case CV_STR:
        cy_buf_printf(b, "s%zu:", v->u.s.len);
        cy_buf_add(b, v->u.s.p, v->u.s.len);
        break;
    case CV_NODE: cy_buf_printf(b, "n%lld;", (long long)v->u.node); break;
    case CV_TEMPORAL: cy_temporal_key(b, v->u.tm); break;
    case CV_REL: cy_buf_printf(b, "r%lld;", (long long)v->u.rel->id); break;
    case CV_PATH:
        cy_buf_printf(b, "p%zu:", v->u.path->nrels);
        for (size_t i = 0; i <= v->u.path->nrels; i++)
            cy_buf_printf(b, "%lld,", (long long)v->u.path->nodes[i]);
        for (size_t i = 0; i < v->u.path->nrels; i++)
            cy_buf_printf(b, "%lld,", (long long)v->u.path->rels[i].id);
        break;
    case CV_LIST:
        cy_buf_printf(b, "l%zu[", v->u.l->n);
        for (size_t i = 0; i < v->u.l->n; i++)
            cy_key(b, &v->u.l->v[i]);
        cy_buf_puts(b, "]");
        break;
    case CV_MAP: {
        size_t n = v->u.m->n;
        size_t *ord = malloc((n ? n : 1) * sizeof *ord);
        if (!ord)
            abort();
        for (size_t i = 0; i < n; i++)
            ord[i] = i;
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(v->u.m->k[ord[j - 1]], v->u.m->k[ord[j]]) > 0; j--) {
                size_t t = ord[j];
                ord[j] = ord[j - 1];
                ord[j - 1] = t;
            }
        cy_buf_printf(b, "m%zu{", n);
        for (size_t i = 0; i < n; i++) {
            cy_buf_printf(b, "%zu:", strlen(v->u.m->k[ord[i]]));
            cy_buf_puts(b, v->u.m->k[ord[i]]);
            cy_key(b, &v->u.m->v[ord[i]]);
        }
        cy_buf_puts(b, "}");
        free(ord);
        break;
    }
    }
}
