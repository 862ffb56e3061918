/* graph/cypher_func.c - the scalar functions (id, labels, size, toString,
 * substring, abs, ...). Names are case-insensitive; strings are handled by
 * code point, case mapping is Unicode-aware (utf8proc). */
#include "cypher_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

typedef int (*cy_fn)(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out);

#define ARGTYPE(i, what)                                                                                         \
    cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "%s() expects %s as argument %zu, got %s", e->name, what, \
          (size_t)(i) + 1, cy_type_name(&a[i]))

/* Conversion functions and labels()/type() given a value of the wrong type: the
 * TCK's TypeError InvalidArgumentValue (unlike other functions' InvalidArgumentType). */
#define CONVTYPE(i, what)                                                                                        \
    cy_rt(q, e->pos, "TypeError", "InvalidArgumentValue", "%s() cannot take %s (it takes %s)", e->name,          \
          cy_type_name(&a[i]), what)

/* Number of code points of a UTF-8 string. */
static size_t u8len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* Byte offset of code point k (clamped to n). */
static size_t u8off(const char *s, size_t n, size_t k)
{
    size_t i = 0;
    while (i < n && k > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        k--;
    }
    return i;
}

/* id(node|rel) */
static int f_id(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t == CV_NODE)
        *out = cy_int(a[0].u.node);
    else if (a[0].t == CV_REL)
        *out = cy_int(a[0].u.rel->id);
    else
        return ARGTYPE(0, "a Node or Relationship");
    return 0;
}

/* labels(node) */
static int f_labels(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_NODE)
        return CONVTYPE(0, "a Node");
    if (cy_check_alive(q, &a[0], e->pos))
        return -1;
    return cy_node_labels(q, a[0].u.node, out);
}

/* type(rel) */
static int f_type(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_REL)
        return CONVTYPE(0, "a Relationship");
    *out = cy_str0(&q->arena, a[0].u.rel->type);
    return 0;
}

/* properties(node|rel|map) */
static int f_properties(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (cy_check_alive(q, &a[0], e->pos))
        return -1;
    if (a[0].t == CV_NODE)
        return cy_node_props(q, a[0].u.node, out);
    if (a[0].t == CV_REL)
        return cy_rel_props(q, a[0].u.rel->id, out);
    if (a[0].t == CV_MAP) {
        *out = a[0];
        return 0;
    }
    return ARGTYPE(0, "a Node, Relationship or Map");
}

/* keys(node|rel|map) */
static int f_keys(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    cy_value m;
    if (f_properties(q, e, a, n, &m))
        return -1;
    size_t k = 0;
    *out = cy_list_new(&q->arena, m.u.m->n);
    for (size_t i = 0; i < m.u.m->n; i++)
        if (a[0].t != CV_MAP || m.u.m->v[i].t != CV_NULL || 1)
            out->u.l->v[k++] = cy_str0(&q->arena, m.u.m->k[i]);
    out->u.l->n = k;
    return 0;
}

/* size(list|string): strings count code points. */
static int f_size(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t == CV_LIST)
        *out = cy_int((int64_t)a[0].u.l->n);
    else if (a[0].t == CV_STR)
        *out = cy_int((int64_t)u8len(a[0].u.s.p, a[0].u.s.len));
    else if (a[0].t == CV_MAP)
        *out = cy_int((int64_t)a[0].u.m->n);
    else
        return ARGTYPE(0, "a List or String");
    return 0;
}

/* length(path); also lists/strings for compatibility. */
static int f_length(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t == CV_PATH)
        *out = cy_int((int64_t)a[0].u.path->nrels);
    else if (a[0].t == CV_STR || a[0].t == CV_LIST)
        return f_size(q, e, a, n, out);
    else
        return ARGTYPE(0, "a Path");
    return 0;
}

/* nodes(path) and relationships(path). */
static int f_nodes(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_PATH)
        return ARGTYPE(0, "a Path");
    cy_path *p = a[0].u.path;
    bool rels = strcasecmp(e->name, "relationships") == 0;
    size_t k = rels ? p->nrels : p->nrels + 1;
    *out = cy_list_new(&q->arena, k);
    for (size_t i = 0; i < k; i++)
        out->u.l->v[i] = rels ? (cy_value){.t = CV_REL, .u.rel = &p->rels[i]} : cy_node(p->nodes[i]);
    return 0;
}

/* startNode(rel) and endNode(rel). */
static int f_endpoint(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_REL)
        return ARGTYPE(0, "a Relationship");
    *out = cy_node(strcasecmp(e->name, "startNode") == 0 ? a[0].u.rel->start : a[0].u.rel->end);
    return 0;
}

/* exists(prop) is "not null"; exists(pattern) its truth. */
static int f_exists(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    *out = cy_bool(a[0].t != CV_NULL && !(a[0].t == CV_BOOL && !a[0].u.b && e->args[0]->k == E_PATTERN));
    return 0;
}

/* The first non-null argument. */
static int f_coalesce(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    *out = cy_null();
    for (size_t i = 0; i < n; i++)
        if (a[i].t != CV_NULL) {
            *out = a[i];
            break;
        }
    return 0;
}

/* head(list) and last(list); null for an empty list. */
static int f_headlast(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_LIST)
        return ARGTYPE(0, "a List");
    size_t len = a[0].u.l->n;
    bool last = strcasecmp(e->name, "last") == 0;
    *out = len ? a[0].u.l->v[last ? len - 1 : 0] : cy_null();
    return 0;
}

/* tail(list): all but the first element. */
static int f_tail(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_LIST)
        return ARGTYPE(0, "a List");
    size_t len = a[0].u.l->n;
    *out = cy_list_new(&q->arena, len ? len - 1 : 0);
    if (len > 1)
        cy_memcpy(out->u.l->v, a[0].u.l->v + 1, (len - 1) * sizeof(cy_value));
    return 0;
}

/* range(from, to[, step]), bounded to 10M elements. */
static int f_range(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].t != CV_INT)   /* the TCK classes this one as an ArgumentError */
            return cy_rt(q, e->pos, "ArgumentError", "InvalidArgumentType", "range() expects an Integer as argument %zu, got %s",
                         i + 1, cy_type_name(&a[i]));
    int64_t from = a[0].u.i, to = a[1].u.i, step = n > 2 ? a[2].u.i : 1;
    if (step == 0)
        return cy_rt(q, e->pos, "ArgumentError", "NumberOutOfRange", "range() step must not be zero");
    double cnt = floor(((double)to - (double)from) / (double)step) + 1;
    if (cnt < 0)
        cnt = 0;
    if (cnt > 10000000)
        return cy_rt(q, e->pos, "ArgumentError", "NumberOutOfRange", "range() too large");
    *out = cy_list_new(&q->arena, (size_t)cnt);
    for (size_t i = 0; i < (size_t)cnt; i++)
        out->u.l->v[i] = cy_int(from + (int64_t)i * step);
    return 0;
}

/* reverse(list|string), strings by code point. */
static int f_reverse(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t == CV_LIST) {
        size_t len = a[0].u.l->n;
        *out = cy_list_new(&q->arena, len);
        for (size_t i = 0; i < len; i++)
            out->u.l->v[i] = a[0].u.l->v[len - 1 - i];
        return 0;
    }
    if (a[0].t != CV_STR)
        return ARGTYPE(0, "a String or List");
    const char *s = a[0].u.s.p;
    size_t len = a[0].u.s.len, w = len;
    char *r = cy_alloc(&q->arena, len + 1);
    for (size_t i = 0; i < len;) {
        size_t j = i + 1;
        while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80)
            j++;
        w -= j - i;
        cy_memcpy(r + w, s + i, j - i);
        i = j;
    }
    *out = (cy_value){.t = CV_STR, .u.s = {r, len}};
    return 0;
}

/* A float as the shortest text that reads back as the same double (2.3, not
 * 2.2999999999999998), with ".0" when it would look like an integer: what
 * toString() gives in openCypher. NaN and infinities as in the output. */
static void float_text(cy_buf *b, double f)
{
    if (isnan(f) || isinf(f)) {
        cy_out_float(b, f);
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    cy_buf_puts(b, tmp);
    if (!strpbrk(tmp, ".eEn"))
        cy_buf_puts(b, ".0");
}

/* toString of scalars; floats by float_text. */
static int f_tostring(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    cy_buf b = {0};
    switch (a[0].t) {
    case CV_STR: *out = a[0]; return 0;
    case CV_INT: cy_buf_printf(&b, "%lld", (long long)a[0].u.i); break;
    case CV_FLOAT: float_text(&b, a[0].u.f); break;
    case CV_BOOL: cy_buf_puts(&b, a[0].u.b ? "true" : "false"); break;
    case CV_TEMPORAL: cy_temporal_text(&b, a[0].u.tm); break;
    default: return CONVTYPE(0, "a String, Integer, Float, Boolean or temporal value");
    }
    *out = cy_str(&q->arena, b.p, b.len);
    free(b.p);
    return 0;
}

/* toInteger: floats truncate, unparsable strings give null. */
static int f_tointeger(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    switch (a[0].t) {
    case CV_INT: *out = a[0]; return 0;
    case CV_FLOAT:
        if (isnan(a[0].u.f) || fabs(a[0].u.f) >= 9.2233720368547758e18)
            *out = cy_null();
        else
            *out = cy_int((int64_t)a[0].u.f);
        return 0;
    case CV_STR: {
        char *end;
        const char *s = a[0].u.s.p;
        long long v = strtoll(s, &end, 10);
        while (*end == ' ')
            end++;
        if (end != s && !*end) {
            *out = cy_int(v);
            return 0;
        }
        double d = strtod(s, &end);
        *out = (end != s && !*end && isfinite(d) && fabs(d) < 9.2e18) ? cy_int((int64_t)d) : cy_null();
        return 0;
    }
    case CV_BOOL: *out = cy_int(a[0].u.b); return 0;
    default: return CONVTYPE(0, "a String, Integer, Float or Boolean");
    }
}

/* toFloat: unparsable strings give null. */
static int f_tofloat(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    switch (a[0].t) {
    case CV_FLOAT: *out = a[0]; return 0;
    case CV_INT: *out = cy_float((double)a[0].u.i); return 0;
    case CV_STR: {
        char *end;
        double d = strtod(a[0].u.s.p, &end);
        *out = (end != a[0].u.s.p && !*end) ? cy_float(d) : cy_null();
        return 0;
    }
    default: return CONVTYPE(0, "a String, Integer or Float");
    }
}

/* toBoolean: "true"/"false" (any case), else null. */
static int f_toboolean(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    switch (a[0].t) {
    case CV_BOOL: *out = a[0]; return 0;
    case CV_STR: {
        const char *s = a[0].u.s.p;
        while (*s == ' ')
            s++;
        size_t l = strlen(s);
        while (l && s[l - 1] == ' ')
            l--;
        *out = (l == 4 && strncasecmp(s, "true", 4) == 0) ? cy_bool(true)
               : (l == 5 && strncasecmp(s, "false", 5) == 0) ? cy_bool(false) : cy_null();
        return 0;
    }
    case CV_INT: *out = cy_bool(a[0].u.i != 0); return 0;
    default: return CONVTYPE(0, "a String, Integer or Boolean");
    }
}

/* toUpper/toLower over code points. */
static int f_case(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_STR)
        return ARGTYPE(0, "a String");
    bool up = strcasecmp(e->name, "toUpper") == 0;
    cy_buf b = {0};
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)a[0].u.s.p;
    utf8proc_ssize_t len = (utf8proc_ssize_t)a[0].u.s.len, i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, len - i, &cp);
        if (k <= 0) {
            cy_buf_add(&b, (const char *)s + i, 1);
            i++;
            continue;
        }
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t m = utf8proc_encode_char(up ? utf8proc_toupper(cp) : utf8proc_tolower(cp), enc);
        cy_buf_add(&b, (const char *)enc, (size_t)m);
        i += k;
    }
    *out = cy_str(&q->arena, b.p ? b.p : "", b.len);
    free(b.p);
    return 0;
}

/* trim, ltrim, rtrim (ASCII white space). */
static int f_trim(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_STR)
        return ARGTYPE(0, "a String");
    const char *s = a[0].u.s.p;
    size_t lo = 0, hi = a[0].u.s.len;
    bool l = strcasecmp(e->name, "rtrim") != 0, r = strcasecmp(e->name, "ltrim") != 0;
    while (l && lo < hi && (s[lo] == ' ' || s[lo] == '\t' || s[lo] == '\n' || s[lo] == '\r'))
        lo++;
    while (r && hi > lo && (s[hi - 1] == ' ' || s[hi - 1] == '\t' || s[hi - 1] == '\n' || s[hi - 1] == '\r'))
        hi--;
    *out = cy_str(&q->arena, s + lo, hi - lo);
    return 0;
}

/* substring(s, start[, length]) by code point. */
static int f_substring(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_STR)
        return ARGTYPE(0, "a String");
    if (a[1].t != CV_INT)
        return ARGTYPE(1, "an Integer");
    if (n > 2 && a[2].t != CV_INT)
        return ARGTYPE(2, "an Integer");
    if (a[1].u.i < 0 || (n > 2 && a[2].u.i < 0))
        return cy_rt(q, e->pos, "ArgumentError", "NumberOutOfRange", "substring() start and length must not be negative");
    const char *s = a[0].u.s.p;
    size_t len = a[0].u.s.len;
    size_t from = u8off(s, len, (size_t)a[1].u.i);
    size_t to = n > 2 ? from + u8off(s + from, len - from, (size_t)a[2].u.i) : len;
    *out = cy_str(&q->arena, s + from, to - from);
    return 0;
}

/* left(s, n) and right(s, n) by code point. */
static int f_leftright(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_STR)
        return ARGTYPE(0, "a String");
    if (a[1].t != CV_INT)
        return ARGTYPE(1, "an Integer");
    if (a[1].u.i < 0)
        return cy_rt(q, e->pos, "ArgumentError", "NumberOutOfRange", "%s() length must not be negative", e->name);
    const char *s = a[0].u.s.p;
    size_t len = a[0].u.s.len, cps = u8len(s, len), k = (size_t)a[1].u.i;
    if (strcasecmp(e->name, "left") == 0)
        *out = cy_str(&q->arena, s, u8off(s, len, k));
    else {
        size_t from = k >= cps ? 0 : u8off(s, len, cps - k);
        *out = cy_str(&q->arena, s + from, len - from);
    }
    return 0;
}

/* replace(s, search, replacement), every occurrence. */
static int f_replace(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    for (size_t i = 0; i < 3; i++)
        if (a[i].t != CV_STR)
            return ARGTYPE(i, "a String");
    cy_buf b = {0};
    const char *s = a[0].u.s.p, *end = s + a[0].u.s.len;
    size_t fl = a[1].u.s.len;
    if (fl == 0) {
        *out = a[0];
        return 0;
    }
    for (;;) {
        const char *hit = memmem(s, (size_t)(end - s), a[1].u.s.p, fl);
        if (!hit) {
            cy_buf_add(&b, s, (size_t)(end - s));
            break;
        }
        cy_buf_add(&b, s, (size_t)(hit - s));
        cy_buf_add(&b, a[2].u.s.p, a[2].u.s.len);
        s = hit + fl;
    }
    *out = cy_str(&q->arena, b.p ? b.p : "", b.len);
    free(b.p);
    return 0;
}

/* split(s, delimiter) */
static int f_split(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    for (size_t i = 0; i < 2; i++)
        if (a[i].t != CV_STR)
            return ARGTYPE(i, "a String");
    const char *s = a[0].u.s.p, *end = s + a[0].u.s.len;
    size_t dl = a[1].u.s.len, cnt = 0, cap = 8;
    cy_value *items = cy_alloc(&q->arena, cap * sizeof *items);
    for (;;) {
        const char *hit = dl ? memmem(s, (size_t)(end - s), a[1].u.s.p, dl) : (s < end ? s + 1 : NULL);
        if (cnt == cap) {
            cy_value *nv = cy_alloc(&q->arena, cap * 2 * sizeof *nv);
            cy_memcpy(nv, items, cap * sizeof *nv);
            items = nv;
            cap *= 2;
        }
        if (!hit || (!dl && hit >= end)) {
            items[cnt++] = cy_str(&q->arena, s, (size_t)(end - s));
            break;
        }
        items[cnt++] = cy_str(&q->arena, s, (size_t)(hit - s));
        s = hit + dl;
    }
    *out = cy_list_new(&q->arena, 0);
    out->u.l->v = items;
    out->u.l->n = cnt;
    return 0;
}

/* One-argument math functions. */
static int f_math1(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (a[0].t != CV_INT && a[0].t != CV_FLOAT)
        return ARGTYPE(0, "a number");
    const char *f = e->name;
    if (strcasecmp(f, "abs") == 0) {
        if (a[0].t == CV_INT) {
            if (a[0].u.i == INT64_MIN)
                return cy_rt(q, e->pos, "ArithmeticError", "IntegerOverflow", "integer overflow");
            *out = cy_int(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i);
        } else
            *out = cy_float(fabs(a[0].u.f));
        return 0;
    }
    if (strcasecmp(f, "sign") == 0) {
        double x = a[0].t == CV_INT ? (double)a[0].u.i : a[0].u.f;
        *out = cy_int(x > 0 ? 1 : x < 0 ? -1 : 0);
        return 0;
    }
    double x = a[0].t == CV_INT ? (double)a[0].u.i : a[0].u.f, r;
    if (strcasecmp(f, "ceil") == 0) r = ceil(x);
    else if (strcasecmp(f, "floor") == 0) r = floor(x);
    else if (strcasecmp(f, "round") == 0) r = floor(x + 0.5);
    else if (strcasecmp(f, "sqrt") == 0) r = sqrt(x);
    else if (strcasecmp(f, "exp") == 0) r = exp(x);
    else if (strcasecmp(f, "log") == 0) r = log(x);
    else if (strcasecmp(f, "log10") == 0) r = log10(x);
    else if (strcasecmp(f, "sin") == 0) r = sin(x);
    else if (strcasecmp(f, "cos") == 0) r = cos(x);
    else if (strcasecmp(f, "tan") == 0) r = tan(x);
    else if (strcasecmp(f, "asin") == 0) r = asin(x);
    else if (strcasecmp(f, "acos") == 0) r = acos(x);
    else if (strcasecmp(f, "atan") == 0) r = atan(x);
    else if (strcasecmp(f, "degrees") == 0) r = x * 180.0 / M_PI;
    else if (strcasecmp(f, "radians") == 0) r = x * M_PI / 180.0;
    else r = NAN;
    *out = cy_float(r);
    return 0;
}

/* atan2(y, x) */
static int f_atan2(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    for (size_t i = 0; i < 2; i++)
        if (a[i].t != CV_INT && a[i].t != CV_FLOAT)
            return ARGTYPE(i, "a number");
    double y = a[0].t == CV_INT ? (double)a[0].u.i : a[0].u.f, x = a[1].t == CV_INT ? (double)a[1].u.i : a[1].u.f;
    *out = cy_float(atan2(y, x));
    return 0;
}

/* rand(), pi(), e() */
static int f_const(cy_q *q, const cy_expr *e, cy_value *a, size_t n, cy_value *out)
{
    if (strcasecmp(e->name, "rand") == 0)
        *out = cy_float((double)arc4random() / 4294967296.0);
    else
        *out = cy_float(strcasecmp(e->name, "pi") == 0 ? M_PI : M_E);
    return 0;
}

typedef struct cy_fdef {
    const char *name;
    unsigned char min, max;
    bool null_in_null_out;  /* a null first argument gives null without calling */
    cy_fn fn;
} cy_fdef;

static const cy_fdef cy_functions[] = {
    {"id", 1, 1, true, f_id}, {"labels", 1, 1, true, f_labels}, {"type", 1, 1, true, f_type},
    {"properties", 1, 1, true, f_properties}, {"keys", 1, 1, true, f_keys}, {"size", 1, 1, true, f_size},
    {"length", 1, 1, true, f_length}, {"nodes", 1, 1, true, f_nodes}, {"relationships", 1, 1, true, f_nodes},
    {"startNode", 1, 1, true, f_endpoint}, {"endNode", 1, 1, true, f_endpoint}, {"exists", 1, 1, false, f_exists},
    {"coalesce", 1, 8, false, f_coalesce}, {"head", 1, 1, true, f_headlast}, {"last", 1, 1, true, f_headlast},
    {"tail", 1, 1, true, f_tail}, {"range", 2, 3, false, f_range}, {"reverse", 1, 1, true, f_reverse},
    {"toString", 1, 1, true, f_tostring}, {"toInteger", 1, 1, true, f_tointeger}, {"toFloat", 1, 1, true, f_tofloat},
    {"toBoolean", 1, 1, true, f_toboolean}, {"toLower", 1, 1, true, f_case}, {"toUpper", 1, 1, true, f_case},
    {"trim", 1, 1, true, f_trim}, {"ltrim", 1, 1, true, f_trim}, {"rtrim", 1, 1, true, f_trim},
    {"substring", 2, 3, true, f_substring}, {"replace", 3, 3, true, f_replace}, {"split", 2, 2, true, f_split},
    {"left", 2, 2, true, f_leftright}, {"right", 2, 2, true, f_leftright}, {"abs", 1, 1, true, f_math1},
    {"ceil", 1, 1, true, f_math1}, {"floor", 1, 1, true, f_math1}, {"round", 1, 1, true, f_math1},
    {"sign", 1, 1, true, f_math1}, {"sqrt", 1, 1, true, f_math1}, {"exp", 1, 1, true, f_math1},
    {"log", 1, 1, true, f_math1}, {"log10", 1, 1, true, f_math1}, {"sin", 1, 1, true, f_math1},
    {"cos", 1, 1, true, f_math1}, {"tan", 1, 1, true, f_math1}, {"asin", 1, 1, true, f_math1},
    {"acos", 1, 1, true, f_math1}, {"atan", 1, 1, true, f_math1}, {"degrees", 1, 1, true, f_math1},
    {"radians", 1, 1, true, f_math1}, {"atan2", 2, 2, true, f_atan2}, {"rand", 0, 0, false, f_const},
    {"pi", 0, 0, false, f_const}, {"e", 0, 0, false, f_const},
    {"date", 0, 1, true, cy_temporal_function}, {"localtime", 0, 1, true, cy_temporal_function},
    {"time", 0, 1, true, cy_temporal_function}, {"localdatetime", 0, 1, true, cy_temporal_function},
    {"datetime", 0, 1, true, cy_temporal_function}, {"duration", 1, 1, true, cy_temporal_function},
    {"date.truncate", 2, 3, true, cy_temporal_ops_function},
    {"date.transaction", 0, 1, true, cy_temporal_ops_function}, {"date.statement", 0, 1, true, cy_temporal_ops_function},
    {"date.realtime", 0, 1, true, cy_temporal_ops_function},
    {"localtime.truncate", 2, 3, true, cy_temporal_ops_function},
    {"localtime.transaction", 0, 1, true, cy_temporal_ops_function}, {"localtime.statement", 0, 1, true, cy_temporal_ops_function},
    {"localtime.realtime", 0, 1, true, cy_temporal_ops_function},
    {"time.truncate", 2, 3, true, cy_temporal_ops_function},
    {"time.transaction", 0, 1, true, cy_temporal_ops_function}, {"time.statement", 0, 1, true, cy_temporal_ops_function},
    {"time.realtime", 0, 1, true, cy_temporal_ops_function},
    {"localdatetime.truncate", 2, 3, true, cy_temporal_ops_function},
    {"localdatetime.transaction", 0, 1, true, cy_temporal_ops_function}, {"localdatetime.statement", 0, 1, true, cy_temporal_ops_function},
    {"localdatetime.realtime", 0, 1, true, cy_temporal_ops_function},
    {"datetime.truncate", 2, 3, true, cy_temporal_ops_function},
    {"datetime.transaction", 0, 1, true, cy_temporal_ops_function}, {"datetime.statement", 0, 1, true, cy_temporal_ops_function},
    {"datetime.realtime", 0, 1, true, cy_temporal_ops_function},
    {"duration.between", 2, 2, true, cy_temporal_ops_function}, {"duration.inMonths", 2, 2, true, cy_temporal_ops_function},
    {"duration.inDays", 2, 2, true, cy_temporal_ops_function}, {"duration.inSeconds", 2, 2, true, cy_temporal_ops_function},
    {"datetime.fromepoch", 2, 2, true, cy_temporal_ops_function},
    {"datetime.fromepochmillis", 1, 1, true, cy_temporal_ops_function},
};

/* The function definition of name (case-insensitive). */
static const cy_fdef *lookup(const char *name)
{
    for (size_t i = 0; i < sizeof cy_functions / sizeof cy_functions[0]; i++)
        if (strcasecmp(cy_functions[i].name, name) == 0)
            return &cy_functions[i];
    return NULL;
}

/* For the semantic check: is name a scalar function, and does nargs fit? */
bool cy_function_known(const char *name, size_t nargs, bool *arity_ok)
{
    const cy_fdef *f = lookup(name);
    if (!f)
        return false;
    *arity_ok = nargs >= f->min && nargs <= f->max;
    return true;
}

/* Calls a scalar function after arity and null checks. */
int cy_call_function(cy_q *q, const cy_expr *e, cy_value *args, size_t nargs, cy_value *out)
{
    const cy_fdef *f = lookup(e->name);
    if (!f)
        return cy_rt(q, e->pos, "SemanticError", "UnknownFunction", "unknown function '%s'", e->name);
    if (nargs < f->min || nargs > f->max)
        return cy_rt(q, e->pos, "SemanticError", "InvalidNumberOfArguments", "wrong number of arguments to %s()", e->name);
    if (f->null_in_null_out)
        for (size_t i = 0; i < nargs; i++)
            if (args[i].t == CV_NULL) {
                *out = cy_null();
                return 0;
            }
    return f->fn(q, e, args, nargs, out);
}
