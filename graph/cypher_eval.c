/* graph/cypher_eval.c - expression evaluation with Cypher's null semantics
 * and three-valued logic. Recursion is bounded by CY_MAX_DEPTH. */
#include "cypher_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Variable lookup through the chain of environments (innermost first). */
const cy_value *cy_env_get(const cy_env *env, const char *name)
{
    for (; env; env = env->up)
        for (size_t i = env->n; i-- > 0;)
            if (strcmp(env->names[i], name) == 0)
                return &env->vals[i];
    return NULL;
}

/* Truth of a value: true/false/null, anything else is a TypeError. -2 = error. */
static int truth(cy_q *q, const cy_value *v, int pos)
{
    if (v->t == CV_NULL)
        return -1;
    if (v->t == CV_BOOL)
        return v->u.b ? 1 : 0;
    cy_rt(q, pos, "TypeError", "InvalidArgumentType", "expected a Boolean but got %s", cy_type_name(v));
    return -2;
}

static cy_value tv(int t) { return t < 0 ? cy_null() : cy_bool(t == 1); }

/* A predicate's three-valued truth. */
int cy_eval_pred(cy_q *q, const cy_expr *e, const cy_env *env)
{
    cy_value v;
    if (cy_eval(q, e, env, &v))
        return -2;
    return truth(q, &v, e->pos);
}

/* Arithmetic on two values (+ - * / % ^), checking integer overflow. */
int cy_arith(cy_q *q, int op, const cy_value *a, const cy_value *b, int pos, cy_value *out)
{
    if (a->t == CV_NULL || b->t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    if ((a->t == CV_TEMPORAL || b->t == CV_TEMPORAL) && a->t != CV_LIST && b->t != CV_LIST && a->t != CV_STR &&
        b->t != CV_STR)
        return cy_temporal_arith(q, op, a, b, pos, out);
    if (op == B_ADD) {
        if (a->t == CV_LIST || b->t == CV_LIST) {
            size_t na = a->t == CV_LIST ? a->u.l->n : 1, nb = b->t == CV_LIST ? b->u.l->n : 1;
            *out = cy_list_new(&q->arena, na + nb);
            if (a->t == CV_LIST)
                cy_memcpy(out->u.l->v, a->u.l->v, na * sizeof(cy_value));
            else
                out->u.l->v[0] = *a;
            if (b->t == CV_LIST)
                cy_memcpy(out->u.l->v + na, b->u.l->v, nb * sizeof(cy_value));
            else
                out->u.l->v[na] = *b;
            return 0;
        }
        if (a->t == CV_STR || b->t == CV_STR) {
            cy_buf s = {0};
            const cy_value *xs[2] = {a, b};
            for (int k = 0; k < 2; k++) {
                const cy_value *x = xs[k];
                if (x->t == CV_STR)
                    cy_buf_add(&s, x->u.s.p, x->u.s.len);
                else if (x->t == CV_INT)
                    cy_buf_printf(&s, "%lld", (long long)x->u.i);
                else if (x->t == CV_FLOAT)
                    cy_out_float(&s, x->u.f);
                else {
                    free(s.p);
                    return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "cannot add %s and %s",
                                 cy_type_name(a), cy_type_name(b));
                }
            }
            *out = cy_str(&q->arena, s.p ? s.p : "", s.len);
            free(s.p);
            return 0;
        }
    }
    bool an = a->t == CV_INT || a->t == CV_FLOAT, bn = b->t == CV_INT || b->t == CV_FLOAT;
    if (!an || !bn) {
        static const char *opn[] = {[B_ADD] = "+", [B_SUB] = "-", [B_MUL] = "*", [B_DIV] = "/", [B_MOD] = "%", [B_POW] = "^"};
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "cannot apply %s to %s and %s", opn[op],
                     cy_type_name(a), cy_type_name(b));
    }
    if (a->t == CV_INT && b->t == CV_INT && op != B_POW) {
        int64_t x = a->u.i, y = b->u.i, r = 0;
        bool ovf = false;
        switch (op) {
        case B_ADD: ovf = __builtin_add_overflow(x, y, &r); break;
        case B_SUB: ovf = __builtin_sub_overflow(x, y, &r); break;
        case B_MUL: ovf = __builtin_mul_overflow(x, y, &r); break;
        case B_DIV:
        case B_MOD:
            if (y == 0)
                return cy_rt(q, pos, "ArithmeticError", "DivisionByZero", "division by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == B_MOD) {
                    r = 0;
                    break;
                }
                ovf = true;
                break;
            }
            r = op == B_DIV ? x / y : x % y;
            break;
        }
        if (ovf)
            return cy_rt(q, pos, "ArithmeticError", "IntegerOverflow", "integer overflow");
        *out = cy_int(r);
        return 0;
    }
    double x = a->t == CV_INT ? (double)a->u.i : a->u.f, y = b->t == CV_INT ? (double)b->u.i : b->u.f, r = 0;
    switch (op) {
    case B_ADD: r = x + y; break;
    case B_SUB: r = x - y; break;
    case B_MUL: r = x * y; break;
    case B_DIV: r = x / y; break;
    case B_MOD: r = fmod(x, y); break;
    case B_POW: r = pow(x, y); break;
    }
    *out = cy_float(r);
    return 0;
}

/* Full-string match of s against pattern re (PCRE2, UTF). -1 error, 0/1 result. */
static int regex_match(cy_q *q, const cy_value *s, const cy_value *re, int pos)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re->u.s.p, re->u.s.len,
                                     PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return cy_rt(q, pos, "ArgumentError", "InvalidArgumentValue", "invalid regular expression: %s", (char *)msg);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = pcre2_match(code, (PCRE2_SPTR)s->u.s.p, s->u.s.len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return rc >= 0 ? 1 : 0;
}

/* Binary operators, with null propagation and 3-valued logic. */
static int eval_bin(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value a, b;
    if (e->op == B_AND || e->op == B_OR || e->op == B_XOR) {
        int x = cy_eval_pred(q, e->a, env);
        if (x == -2)
            return -1;
        int y = cy_eval_pred(q, e->b, env);
        if (y == -2)
            return -1;
        if (e->op == B_AND)
            *out = (x == 0 || y == 0) ? cy_bool(false) : (x < 0 || y < 0) ? cy_null() : cy_bool(true);
        else if (e->op == B_OR)
            *out = (x == 1 || y == 1) ? cy_bool(true) : (x < 0 || y < 0) ? cy_null() : cy_bool(false);
        else
            *out = (x < 0 || y < 0) ? cy_null() : cy_bool(x != y);
        return 0;
    }
    if (cy_eval(q, e->a, env, &a) || cy_eval(q, e->b, env, &b))
        return -1;
    int c;
    switch (e->op) {
    case B_EQ: *out = tv(cy_equals(&a, &b)); return 0;
    case B_NE: {
        int r = cy_equals(&a, &b);
        *out = r < 0 ? cy_null() : cy_bool(!r);
        return 0;
    }
    case B_LT: case B_GT: case B_LE: case B_GE:
        if (!cy_compare(&a, &b, &c)) {
            /* NaN is a number that is not ordered against any number: false, not null */
            bool nums = (a.t == CV_INT || a.t == CV_FLOAT) && (b.t == CV_INT || b.t == CV_FLOAT);
            *out = nums ? cy_bool(false) : cy_null();
            return 0;
        }
        *out = cy_bool(e->op == B_LT ? c < 0 : e->op == B_GT ? c > 0 : e->op == B_LE ? c <= 0 : c >= 0);
        return 0;
    case B_ADD: case B_SUB: case B_MUL: case B_DIV: case B_MOD: case B_POW:
        return cy_arith(q, e->op, &a, &b, e->pos, out);
    case B_IN: {
        if (b.t == CV_NULL) {
            *out = cy_null();
            return 0;
        }
        if (b.t != CV_LIST)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "IN expects a List but got %s", cy_type_name(&b));
        bool unknown = false;
        for (size_t i = 0; i < b.u.l->n; i++) {
            int r = cy_equals(&a, &b.u.l->v[i]);
            if (r == 1) {
                *out = cy_bool(true);
                return 0;
            }
            if (r < 0)
                unknown = true;
        }
        *out = unknown ? cy_null() : cy_bool(false);
        return 0;
    }
    case B_STARTS: case B_ENDS: case B_CONTAINS: case B_REGEX: {
        if (a.t != CV_STR || b.t != CV_STR) {
            *out = cy_null();
            return 0;
        }
        size_t la = a.u.s.len, lb = b.u.s.len;
        bool r;
        if (e->op == B_STARTS)
            r = lb <= la && memcmp(a.u.s.p, b.u.s.p, lb) == 0;
        else if (e->op == B_ENDS)
            r = lb <= la && memcmp(a.u.s.p + la - lb, b.u.s.p, lb) == 0;
        else if (e->op == B_CONTAINS)
            r = lb == 0 || memmem(a.u.s.p, la, b.u.s.p, lb) != NULL;
        else {
            int m = regex_match(q, &a, &b, e->pos);
            if (m < 0)
                return -1;
            r = m == 1;
        }
        *out = cy_bool(r);
        return 0;
    }
    }
    return cy_rt(q, e->pos, "InternalError", "", "unknown operator");
}

/* Property of a node, relationship or map, or a field of a temporal value; null for null. */
static int property(cy_q *q, const cy_value *base, const char *key, int pos, cy_value *out)
{
    const cy_value *v;
    switch (base->t) {
    case CV_NULL: *out = cy_null(); return 0;
    case CV_MAP:
        v = cy_map_get(base->u.m, key);
        *out = v ? *v : cy_null();
        return 0;
    case CV_NODE:
    case CV_REL:
        if (cy_check_alive(q, base, pos))
            return -1;
        return base->t == CV_NODE ? cy_node_prop(q, base->u.node, key, out) : cy_rel_prop(q, base->u.rel->id, key, out);
    case CV_TEMPORAL: return cy_temporal_property(q, base->u.tm, key, pos, out);
    default:
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "cannot read property '%s' of %s", key, cy_type_name(base));
    }
}

/* Index of a list (negative from the end) or key of a map/entity. */
static int eval_index(cy_q *q, const cy_expr *e, const cy_value *base, const cy_value *idx, cy_value *out)
{
    if (base->t == CV_NULL || idx->t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    if (base->t == CV_LIST) {
        if (idx->t != CV_INT)
            return cy_rt(q, e->pos, "TypeError", "ListElementAccessByNonInteger", "list index must be an Integer, not %s",
                         cy_type_name(idx));
        int64_t n = (int64_t)base->u.l->n, i = idx->u.i;
        if (i < 0)
            i += n;
        *out = (i < 0 || i >= n) ? cy_null() : base->u.l->v[i];
        return 0;
    }
    if (base->t == CV_MAP || base->t == CV_NODE || base->t == CV_REL) {
        if (idx->t != CV_STR)
            return cy_rt(q, e->pos, "TypeError", "MapElementAccessByNonString", "map key must be a String, not %s",
                         cy_type_name(idx));
        return property(q, base, idx->u.s.p, e->pos, out);
    }
    return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "cannot index %s", cy_type_name(base));
}

/* list[from..to], negative bounds from the end. */
static int eval_slice(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value base, from = cy_int(0), to;
    if (cy_eval(q, e->a, env, &base) || (e->b && cy_eval(q, e->b, env, &from)))
        return -1;
    if (base.t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    if (base.t != CV_LIST)
        return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "cannot slice %s", cy_type_name(&base));
    int64_t n = (int64_t)base.u.l->n;
    to = cy_int(n);
    if (e->c && cy_eval(q, e->c, env, &to))
        return -1;
    if (from.t == CV_NULL || to.t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    if (from.t != CV_INT || to.t != CV_INT)
        return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "slice bounds must be Integers");
    int64_t f = from.u.i, t = to.u.i;
    if (f < 0)
        f += n;
    if (t < 0)
        t += n;
    f = f < 0 ? 0 : f > n ? n : f;
    t = t < 0 ? 0 : t > n ? n : t;
    size_t len = t > f ? (size_t)(t - f) : 0;
    *out = cy_list_new(&q->arena, len);
    if (len)
        cy_memcpy(out->u.l->v, base.u.l->v + f, len * sizeof(cy_value));
    return 0;
}

/* [x IN list WHERE p | e] and all/any/none/single(x IN list WHERE p). */
static int eval_iter(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value list;
    if (cy_eval(q, e->a, env, &list))
        return -1;
    if (list.t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    if (list.t != CV_LIST)
        return cy_rt(q, e->a->pos, "TypeError", "InvalidArgumentType", "expected a List but got %s", cy_type_name(&list));
    cy_value x;
    const char *names[1] = {e->name};
    cy_env sub = {.names = names, .vals = &x, .n = 1, .up = env};
    size_t n = list.u.l->n, kept = 0, trues = 0, nulls = 0;
    cy_value *res = e->k == E_LISTCOMP ? cy_list_new(&q->arena, n).u.l->v : NULL;
    for (size_t i = 0; i < n; i++) {
        if (cy_check_time(q))
            return -1;
        x = list.u.l->v[i];
        int t = 1;
        if (e->b && (t = cy_eval_pred(q, e->b, &sub)) == -2)
            return -1;
        if (e->k == E_LISTCOMP) {
            if (t != 1)
                continue;
            if (e->c) {
                if (cy_eval(q, e->c, &sub, &res[kept]))
                    return -1;
            } else {
                res[kept] = x;
            }
            kept++;
        } else if (t == 1) {
            trues++;
        } else if (t < 0) {
            nulls++;
        }
    }
    if (e->k == E_LISTCOMP) {
        *out = cy_list_new(&q->arena, 0);
        out->u.l->v = res;
        out->u.l->n = kept;
        return 0;
    }
    size_t nfalse = n - trues - nulls;
    switch (e->op) {
    case Q_ALL: *out = nfalse ? cy_bool(false) : nulls ? cy_null() : cy_bool(true); break;
    case Q_ANY: *out = trues ? cy_bool(true) : nulls ? cy_null() : cy_bool(false); break;
    case Q_NONE: *out = trues ? cy_bool(false) : nulls ? cy_null() : cy_bool(true); break;
    case Q_SINGLE: *out = trues > 1 ? cy_bool(false) : nulls ? cy_null() : cy_bool(trues == 1); break;
    }
    return 0;
}

/* Simple CASE compares with =; generic CASE takes the first true WHEN. */
static int eval_case(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value subject;
    if (e->a && cy_eval(q, e->a, env, &subject))
        return -1;
    for (size_t i = 0; i + 1 < e->nargs; i += 2) {
        bool hit;
        if (e->a) {
            cy_value w;
            if (cy_eval(q, e->args[i], env, &w))
                return -1;
            hit = cy_equals(&subject, &w) == 1;
        } else {
            cy_value w;
            if (cy_eval(q, e->args[i], env, &w))
                return -1;
            hit = w.t == CV_BOOL && w.u.b;
        }
        if (hit)
            return cy_eval(q, e->args[i + 1], env, out);
    }
    if (e->c)
        return cy_eval(q, e->c, env, out);
    *out = cy_null();
    return 0;
}

/* Pattern predicates and comprehensions collect through this callback. */
typedef struct patcomp { const cy_expr *e; cy_value *items; size_t n, cap; bool any; } patcomp;
/* One match of a pattern predicate/comprehension. */
static int patcomp_cb(cy_q *q, void *arg, const cy_env *env)
{
    patcomp *pc = arg;
    if (pc->e->k == E_PATTERN) {
        pc->any = true;
        return 1; /* stop */
    }
    if (pc->e->b) {
        int t = cy_eval_pred(q, pc->e->b, env);
        if (t == -2)
            return -1;
        if (t != 1)
            return 0;
    }
    if (pc->e->k == E_EXISTS) {
        pc->any = true;
        if (pc->e->op != CY_SUB_COUNT)
            return 1;   /* EXISTS: the first match answers */
        pc->n++;
        return cy_check_time(q) ? -1 : 0;
    }
    if (pc->n == pc->cap) {
        pc->cap = pc->cap ? pc->cap * 2 : 8;
        cy_value *nv = cy_alloc(&q->arena, pc->cap * sizeof *nv);
        if (pc->n)
            cy_memcpy(nv, pc->items, pc->n * sizeof *nv);
        pc->items = nv;
    }
    return cy_eval(q, pc->e->c, env, &pc->items[pc->n++]);
}

/* A pattern predicate (any match), EXISTS { } (any match passing its WHERE, or
 * any row of its subquery), COUNT { } (how many) or comprehension (list of
 * values). A predicate's or count's working values are released once it has
 * its answer, which holds no pointer into the arena: `MATCH (n) WHERE
 * EXISTS { ... }` over a million nodes keeps one row's worth, not a million.
 * (The props cache holds its own documents, not arena memory: it stays valid.) */
static int eval_pattern(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    bool count = e->k == E_EXISTS && e->op == CY_SUB_COUNT;
    cy_arena_mark mark = cy_arena_mark_now(&q->arena);
    if (e->k == E_PATTERN || e->k == E_EXISTS) {
        int64_t rows = 0;
        int rc;
        if (!e->pat) {   /* an EXISTS / COUNT subquery that is not the short form */
            rc = cy_run_subquery(q, e->sub, env, &rows);
        } else {
            cy_pattern pat = {1, e->pat};
            patcomp pc = {.e = e};
            rc = cy_match(q, &pat, env, patcomp_cb, &pc) < 0 ? -1 : 0;
            rows = count ? (int64_t)pc.n : pc.any;
        }
        cy_arena_release(&q->arena, mark);
        if (rc)
            return -1;
        *out = count ? cy_int(rows) : cy_bool(rows > 0);
        return 0;
    }
    cy_pattern pat = {1, e->pat};
    patcomp pc = {.e = e};
    if (cy_match(q, &pat, env, patcomp_cb, &pc) < 0)
        return -1;
    *out = cy_list_new(&q->arena, 0);
    out->u.l->v = pc.items ? pc.items : out->u.l->v;
    out->u.l->n = pc.n;
    return 0;
}

/* n {.a, b: expr, .*} */
static int eval_mapproj(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value base;
    if (cy_eval(q, e->a, env, &base))
        return -1;
    if (base.t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    cy_value all = cy_map_new(&q->arena, 0);
    for (size_t i = 0; i < e->nargs; i++)
        if (!e->args[i]) {
            if (base.t == CV_NODE ? cy_node_props(q, base.u.node, &all)
                : base.t == CV_REL ? cy_rel_props(q, base.u.rel->id, &all) : (all = base, 0))
                return -1;
        }
    *out = cy_map_new(&q->arena, all.t == CV_MAP ? all.u.m->n + e->nargs : e->nargs);
    size_t n = 0;
    if (all.t == CV_MAP)
        for (size_t i = 0; i < all.u.m->n; i++) {
            out->u.m->k[n] = all.u.m->k[i];
            out->u.m->v[n++] = all.u.m->v[i];
        }
    for (size_t i = 0; i < e->nargs; i++) {
        if (!e->args[i])
            continue;
        cy_value v;
        if (cy_eval(q, e->args[i], env, &v))
            return -1;
        size_t j;
        for (j = 0; j < n && strcmp(out->u.m->k[j], e->keys[i]) != 0; j++)
            ;
        out->u.m->k[j] = e->keys[i];
        out->u.m->v[j] = v;
        if (j == n)
            n++;
    }
    out->u.m->n = n;
    return 0;
}

/* reduce(acc = init, x IN list | expr) */
static int eval_reduce(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value list, vals[2];
    if (cy_eval(q, e->a, env, &vals[0]) || cy_eval(q, e->b, env, &list))
        return -1;
    if (list.t == CV_NULL) {
        *out = cy_null();
        return 0;
    }
    if (list.t != CV_LIST)
        return cy_rt(q, e->b->pos, "TypeError", "InvalidArgumentType", "reduce() expects a List, got %s", cy_type_name(&list));
    const char *names[2] = {e->name, e->keys[0]};
    cy_env sub = {.names = names, .vals = vals, .n = 2, .up = env};
    for (size_t i = 0; i < list.u.l->n; i++) {
        vals[1] = list.u.l->v[i];
        cy_value next;
        if (cy_check_time(q) || cy_eval(q, e->c, &sub, &next))
            return -1;
        vals[0] = next;
    }
    *out = vals[0];
    return 0;
}

/* Dispatch on the expression kind. */
static int eval_inner(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    cy_value a, b;
    const cy_value *v;
    switch (e->k) {
    case E_LIT: *out = e->lit; return 0;
    case E_PARAM: {
        json_t *j = q->params ? json_object_get(q->params, e->name) : NULL;
        if (!j)
            return cy_rt(q, e->pos, "ParameterMissing", "MissingParameter", "expected parameter $%s", e->name);
        *out = cy_from_json(&q->arena, j);
        return 0;
    }
    case E_VAR:
        if (!(v = cy_env_get(env, e->name)))
            return cy_rt(q, e->pos, "SemanticError", "UndefinedVariable", "variable `%s` not defined", e->name);
        *out = *v;
        return 0;
    case E_PROP:
        if (cy_eval(q, e->a, env, &a))
            return -1;
        return property(q, &a, e->name, e->pos, out);
    case E_HASLABELS:
        if (cy_eval(q, e->a, env, &a))
            return -1;
        if (a.t == CV_NULL) {
            *out = cy_null();
            return 0;
        }
        if (a.t == CV_REL) {
            /* `r:T`: a relationship "has" its one type; `r:A:B` needs both to be it */
            bool all = true;
            for (size_t i = 0; i < e->nkeys; i++)
                all = all && strcmp(a.u.rel->type, e->keys[i]) == 0;
            *out = cy_bool(all);
            return 0;
        }
        if (a.t != CV_NODE)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "labels can be tested on nodes and relationships only, not %s", cy_type_name(&a));
        for (size_t i = 0; i < e->nkeys; i++) {
            bool yes;
            if (cy_node_has_label(q, a.u.node, e->keys[i], &yes))
                return -1;
            if (!yes) {
                *out = cy_bool(false);
                return 0;
            }
        }
        *out = cy_bool(true);
        return 0;
    case E_INDEX:
        if (cy_eval(q, e->a, env, &a) || cy_eval(q, e->b, env, &b))
            return -1;
        return eval_index(q, e, &a, &b, out);
    case E_SLICE: return eval_slice(q, e, env, out);
    case E_LIST:
        *out = cy_list_new(&q->arena, e->nargs);
        for (size_t i = 0; i < e->nargs; i++)
            if (cy_eval(q, e->args[i], env, &out->u.l->v[i]))
                return -1;
        return 0;
    case E_MAP: {
        /* a key written twice keeps its last value ({a: 1, a: 2} is {a: 2}) */
        *out = cy_map_new(&q->arena, e->nargs);
        size_t n = 0;
        for (size_t i = 0; i < e->nargs; i++) {
            size_t at = n;
            for (size_t j = 0; j < n; j++)
                if (strcmp(out->u.m->k[j], e->keys[i]) == 0)
                    at = j;
            out->u.m->k[at] = e->keys[i];
            if (cy_eval(q, e->args[i], env, &out->u.m->v[at]))
                return -1;
            n += at == n;
        }
        out->u.m->n = n;
        return 0;
    }
    case E_NOT: {
        int t = cy_eval_pred(q, e->a, env);
        if (t == -2)
            return -1;
        *out = t < 0 ? cy_null() : cy_bool(!t);
        return 0;
    }
    case E_NEG:
    case E_POS:
        if (cy_eval(q, e->a, env, &a))
            return -1;
        if (a.t == CV_NULL) {
            *out = a;
            return 0;
        }
        if (a.t != CV_INT && a.t != CV_FLOAT)
            return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "cannot negate %s", cy_type_name(&a));
        if (e->k == E_POS) {
            *out = a;
            return 0;
        }
        b = cy_int(0);
        return cy_arith(q, B_SUB, &b, &a, e->pos, out);
    case E_BIN: return eval_bin(q, e, env, out);
    case E_ISNULL:
    case E_ISNOTNULL:
        if (cy_eval(q, e->a, env, &a))
            return -1;
        *out = cy_bool((a.t == CV_NULL) == (e->k == E_ISNULL));
        return 0;
    case E_COUNTSTAR:
    case E_FUNC:
        if (e->is_agg) {
            if (!q->agg_results)
                return cy_rt(q, e->pos, "SemanticError", "InvalidAggregation", "aggregation is not allowed here");
            *out = q->agg_results[e->agg_slot];
            return 0;
        } else {
            cy_value args[8];
            if (e->nargs > 8)
                return cy_rt(q, e->pos, "SemanticError", "InvalidNumberOfArguments", "too many arguments");
            for (size_t i = 0; i < e->nargs; i++)
                if (cy_eval(q, e->args[i], env, &args[i]))
                    return -1;
            return cy_call_function(q, e, args, e->nargs, out);
        }
    case E_CASE: return eval_case(q, e, env, out);
    case E_LISTCOMP:
    case E_QUANT: return eval_iter(q, e, env, out);
    case E_PATTERN:
    case E_EXISTS:
    case E_PATCOMP: return eval_pattern(q, e, env, out);
    case E_MAPPROJ: return eval_mapproj(q, e, env, out);
    case E_REDUCE: return eval_reduce(q, e, env, out);
    }
    return cy_rt(q, e->pos, "InternalError", "", "unknown expression");
}

/* Evaluates e in env; depth-bounded. */
int cy_eval(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    if (++q->depth > CY_MAX_DEPTH) {
        q->depth--;
        return cy_rt(q, e->pos, "SemanticError", "NestingTooDeep", "expression evaluation nested too deeply");
    }
    int rc = eval_inner(q, e, env, out);
    q->depth--;
    return rc;
}
