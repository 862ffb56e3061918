/* graph/cypher_sema_rules.c - compile-time rules of cypher_sema.c that look at
 * the shape of expressions rather than at the variables in scope:
 *
 * - where a pattern may stand as an expression: only as a predicate (in WHERE,
 *   under NOT/AND/OR/XOR, in exists(), in a comprehension's WHERE), never as a
 *   value (`RETURN (n)-->()`, `size(()--())`): SyntaxError UnexpectedSyntax;
 * - which non-aggregated parts an aggregating projection item may use:
 *   literals, parameters, grouping keys that are variables or properties of
 *   variables, and anything built from those (`me.age + count(*)` needs `me` or
 *   `me.age` to be a grouping key): SyntaxError AmbiguousAggregationExpression;
 * - rand() inside an aggregate: SyntaxError NonConstantExpression;
 * and cy_expr_has_agg(), which the executor uses as well. */
#include "cypher_int.h"

#include <string.h>
#include <strings.h>

/* A pattern used as a value below e (pred: e itself stands where a predicate is
 * expected), or NULL. */
const cy_expr *cy_misplaced_pattern(const cy_expr *e, bool pred)
{
    if (!e)
        return NULL;
    const cy_expr *bad = NULL;
    switch (e->k) {
    case E_PATTERN:
        return pred ? NULL : e;
    case E_NOT:
        return cy_misplaced_pattern(e->a, pred);
    case E_BIN:
        if (e->op == B_AND || e->op == B_OR || e->op == B_XOR)
            return (bad = cy_misplaced_pattern(e->a, pred)) ? bad : cy_misplaced_pattern(e->b, pred);
        break;
    case E_FUNC:
        if (e->name && strcasecmp(e->name, "exists") == 0 && e->nargs == 1)
            return cy_misplaced_pattern(e->args[0], true);
        break;
    case E_LISTCOMP:
    case E_QUANT:
    case E_EXISTS:
    case E_PATCOMP:
        /* the list / pattern, the WHERE predicate, the projection */
        if ((bad = cy_misplaced_pattern(e->a, false)) || (bad = cy_misplaced_pattern(e->b, true)))
            return bad;
        return cy_misplaced_pattern(e->c, false);
    default:
        break;
    }
    if ((bad = cy_misplaced_pattern(e->a, false)) || (bad = cy_misplaced_pattern(e->b, false)) ||
        (bad = cy_misplaced_pattern(e->c, false)))
        return bad;
    for (size_t i = 0; i < e->nargs; i++)
        if ((bad = cy_misplaced_pattern(e->args[i], false)))
            return bad;
    return NULL;
}

/* Does e or any expression below it (not into patterns) satisfy pred? */
static bool expr_any(const cy_expr *e, bool (*pred)(const cy_expr *, const void *), const void *arg)
{
    if (!e)
        return false;
    if (pred(e, arg))
        return true;
    if (expr_any(e->a, pred, arg) || expr_any(e->b, pred, arg) || expr_any(e->c, pred, arg))
        return true;
    for (size_t i = 0; i < e->nargs; i++)
        if (expr_any(e->args[i], pred, arg))
            return true;
    return false;
}

/* Is e an aggregate call? By its name, so that it holds before check_expr has
 * marked is_agg (ORDER BY keys are checked here first, nested aggregates too). */
static bool is_agg_call(const cy_expr *e, const void *unused)
{
    (void)unused;
    return e->is_agg || e->k == E_COUNTSTAR || (e->k == E_FUNC && e->name && cy_is_aggregate_name(e->name));
}

/* Does an expression contain an aggregate call? */
bool cy_expr_has_agg(const cy_expr *e)
{
    return expr_any(e, is_agg_call, NULL);
}

/* Is e the variable named *name? */
static bool is_var_named(const cy_expr *e, const void *name)
{
    return e->k == E_VAR && strcmp(e->name, name) == 0;
}

/* Is e a call of rand()? */
static bool is_rand_call(const cy_expr *e, const void *unused)
{
    (void)unused;
    return e->k == E_FUNC && e->name && strcasecmp(e->name, "rand") == 0;
}

/* Comprehension variables in scope while walking an item. */
typedef struct bound { const char *name; const struct bound *up; } bound;

static bool is_bound(const bound *b, const char *name)
{
    for (; b; b = b->up)
        if (strcmp(b->name, name) == 0)
            return true;
    return false;
}

/* Is e a grouping key of the projection: a non-aggregating item that is a
 * variable or a property of a variable, written the same way? */
static bool is_key(const cy_expr *e, const cy_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cy_expr *k = items[i].e;
        if (cy_expr_has_agg(k))
            continue;
        if (e->k == E_VAR && k->k == E_VAR && strcmp(e->name, k->name) == 0)
            return true;
        if (e->k == E_VAR && items[i].alias && strcmp(e->name, items[i].alias) == 0)
            return true;   /* ORDER BY naming a grouping key by its alias */
        if (e->k == E_PROP && k->k == E_PROP && e->a->k == E_VAR && k->a->k == E_VAR &&
            strcmp(e->name, k->name) == 0 && strcmp(e->a->name, k->a->name) == 0)
            return true;
    }
    return false;
}

/* The first part of an aggregating expression that reads the input rows outside
 * an aggregate without being a grouping key, or NULL. */
static const cy_expr *ambiguous(const cy_expr *e, const cy_item *items, size_t n, const bound *b)
{
    if (!e || is_agg_call(e, NULL) || e->k == E_LIT || e->k == E_PARAM)
        return NULL;
    if (e->k == E_VAR)
        return is_bound(b, e->name) || is_key(e, items, n) ? NULL : e;
    if (e->k == E_PROP && e->a && e->a->k == E_VAR && !is_bound(b, e->a->name))
        return is_key(e, items, n) || is_key(e->a, items, n) ? NULL : e;
    if (e->k == E_PATTERN || e->k == E_PATCOMP)
        return NULL;
    const cy_expr *bad;
    bound in = {e->name, b}, elem = {e->k == E_REDUCE && e->nkeys ? e->keys[0] : "", &in};
    const bound *inner = e->k == E_REDUCE ? &elem : (e->k == E_LISTCOMP || e->k == E_QUANT) && e->name ? &in : b;
    if (e->k == E_REDUCE)   /* reduce(acc = a, x IN b | c): only c sees acc and x */
        return (bad = ambiguous(e->a, items, n, b)) || (bad = ambiguous(e->b, items, n, b)) ? bad
                                                                                              : ambiguous(e->c, items, n, inner);
    if ((bad = ambiguous(e->a, items, n, b)) || (bad = ambiguous(e->b, items, n, inner)) ||
        (bad = ambiguous(e->c, items, n, inner)))
        return bad;
    for (size_t i = 0; i < e->nargs; i++)
        if ((bad = ambiguous(e->args[i], items, n, b)))
            return bad;
    return NULL;
}

/* See the file comment: e is an item or ORDER BY key of an aggregating
 * projection with these items. */
const cy_expr *cy_ambiguous_aggregation(const cy_expr *e, const cy_item *items, size_t n)
{
    return cy_expr_has_agg(e) ? ambiguous(e, items, n, NULL) : NULL;
}

/* Does e call rand() (an aggregate over it has no stable meaning)? */
bool cy_calls_rand(const cy_expr *e)
{
    return expr_any(e, is_rand_call, NULL);
}

/* Does any grouping key (non-aggregating item) of the projection read variable
 * name? Tells "not a grouping key" from "not in scope" in ORDER BY. */
bool cy_keys_mention(const cy_item *items, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!cy_expr_has_agg(items[i].e) && expr_any(items[i].e, is_var_named, name))
            return true;
    return false;
}
