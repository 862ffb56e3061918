/* graph/cypher_sema.c - compile-time checks: variable scoping (undefined,
 * already bound, type conflicts), aliases, aggregation placement, CREATE/MERGE
 * pattern rules, functions and UNION columns. Errors are SyntaxErrors with the
 * TCK's detail codes, as the TCK reports them at compile time. */
#include "cypher_int.h"

#include <string.h>
#include <strings.h>

/* K_RELS: a variable-length relationship's list; K_VALUE: a literal that is neither
 * an entity nor a map; K_MAPV: a map literal (both from WITH <literal> AS x) */
enum { K_ANY, K_NODE, K_REL, K_PATH, K_RELS, K_VALUE, K_MAPV };

typedef struct scope {
    const char **names;
    int *kinds;
    size_t n, cap;
} scope;

typedef struct sema {
    cy_q *q;
    scope sc;
    bool root_is_pred;        /* the expression being checked is a WHERE predicate */
} sema;

/* A compile-time SyntaxError naming a variable. */
static int err(sema *s, int pos, const char *code, const char *msg, const char *name)
{
    return cy_fail(s->q, pos, "SyntaxError", code, "%s%s%s%s", msg, name ? " `" : "", name ? name : "", name ? "`" : "");
}

/* Position of name in the scope, or -1. */
static int find(const scope *sc, const char *name)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Declares a variable in a scope (once). */
static void add(sema *s, scope *sc, const char *name, int kind)
{
    if (find(sc, name) >= 0)
        return;
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 16;
        const char **nn = cy_alloc(&s->q->arena, sc->cap * sizeof *nn);
        int *nk = cy_alloc(&s->q->arena, sc->cap * sizeof *nk);
        if (sc->n) {
            cy_memcpy(nn, sc->names, sc->n * sizeof *nn);
            cy_memcpy(nk, sc->kinds, sc->n * sizeof *nk);
        }
        sc->names = nn;
        sc->kinds = nk;
    }
    sc->names[sc->n] = name;
    sc->kinds[sc->n++] = kind;
}

/* Local variables of comprehensions: a small stack of names. */
typedef struct locals { const char *name; const struct locals *up; } locals;

/* Is name a comprehension/reduce variable in scope? */
static bool local_has(const locals *l, const char *name)
{
    for (; l; l = l->up)
        if (strcmp(l->name, name) == 0)
            return true;
    return false;
}

static int check_pattern_exprs(sema *s, const cy_pattern_part *pp, const locals *l, bool allow_agg, int depth);
static int check_subquery(sema *s, cy_single *sq, const locals *l);
static int check_foreach(sema *s, cy_clause *c);
static int check_call_subquery(sema *s, cy_clause *c, bool last);

/* A map literal (never null, never an entity). */
static bool known_map(const cy_expr *e)
{
    return e->k == E_MAP || (e->k == E_LIT && e->lit.t == CV_MAP);
}

/* A literal that is certainly not a node or relationship (null excluded): lets
 * `WITH 1 AS n MATCH (n)` fail at compile time as the TCK expects. */
static bool known_value(const cy_expr *e)
{
    return (e->k == E_LIT && e->lit.t != CV_NULL && e->lit.t != CV_MAP) || e->k == E_LIST || known_map(e);
}

/* The element type shared by every item of a list literal of non-null literals
 * (CV_STR, CV_BOOL, ...), or -1. */
static int literal_list_type(const cy_expr *e)
{
    if (!e || e->k != E_LIST || e->nargs == 0)
        return -1;
    int t = -1;
    for (size_t i = 0; i < e->nargs; i++) {
        const cy_expr *x = e->args[i];
        if (x->k != E_LIT || x->lit.t == CV_NULL || (t >= 0 && (int)x->lit.t != t))
            return -1;
        t = (int)x->lit.t;
    }
    return t;
}

/* Does e apply arithmetic other than + directly to the variable name? */
static bool arith_on_var(const cy_expr *e, const char *name)
{
    if (!e)
        return false;
    if (e->k == E_BIN && (e->op == B_SUB || e->op == B_MUL || e->op == B_DIV || e->op == B_MOD || e->op == B_POW))
        for (int side = 0; side < 2; side++) {
            const cy_expr *x = side ? e->b : e->a;
            if (x && x->k == E_VAR && strcmp(x->name, name) == 0)
                return true;
        }
    if ((e->k == E_LISTCOMP || e->k == E_QUANT || e->k == E_REDUCE) && e->name && strcmp(e->name, name) == 0)
        return arith_on_var(e->a, name);   /* the inner scope rebinds name */
    if (arith_on_var(e->a, name) || arith_on_var(e->b, name) || arith_on_var(e->c, name))
        return true;
    for (size_t i = 0; i < e->nargs; i++)
        if (arith_on_var(e->args[i], name))
            return true;
    return false;
}

/* labels()/type()/properties()/keys() applied to a literal or variable whose type
 * can never fit (`properties(1)`, `labels(p)` on a path): the TCK wants this caught
 * at compile time. */
static bool bad_graph_fn_arg(const sema *s, const cy_expr *e, const locals *l)
{
    if (e->nargs != 1 || !e->name)
        return false;
    bool labels = strcasecmp(e->name, "labels") == 0, type = strcasecmp(e->name, "type") == 0;
    bool props = strcasecmp(e->name, "properties") == 0 || strcasecmp(e->name, "keys") == 0;
    const cy_expr *x = e->args[0];
    bool length = strcasecmp(e->name, "length") == 0, size = strcasecmp(e->name, "size") == 0;
    if (length || size) {
        /* length() of a node or relationship, size() of a path, entity or pattern */
        if (x->k != E_VAR || local_has(l, x->name))
            return false;
        int at = find(&s->sc, x->name);
        int kind = at >= 0 ? s->sc.kinds[at] : K_ANY;
        return kind == K_NODE || kind == K_REL || (size && kind == K_PATH);
    }
    if (!labels && !type && !props)
        return false;
    if (known_value(x))
        return !(props && known_map(x));
    if (x->k != E_VAR || local_has(l, x->name))
        return false;
    int at = find(&s->sc, x->name);
    int kind = at >= 0 ? s->sc.kinds[at] : K_ANY;
    if (kind == K_ANY)
        return false;
    if (kind == K_VALUE || kind == K_PATH || kind == K_RELS)
        return true;
    if (kind == K_MAPV)
        return !props;
    return labels ? kind != K_NODE : type ? kind != K_REL : false;
}

/* A literal operand of AND/OR/XOR/NOT that can never be a boolean: the TCK
 * wants this caught at compile time (SyntaxError InvalidArgumentType). */
static bool non_boolean_literal(const cy_expr *e)
{
    return e && known_value(e) && !(e->k == E_LIT && e->lit.t == CV_BOOL);
}
/* Checks an expression: variables defined, functions known, aggregates allowed.
 * Marks aggregate calls (is_agg). */
static int check_expr(sema *s, cy_expr *e, const locals *l, bool allow_agg, int depth)
{
    if (!e)
        return 0;
    if (depth > CY_MAX_DEPTH)
        return cy_fail(s->q, e->pos, "SyntaxError", "NestingTooDeep", "expression nested too deeply");
    if (depth == 0 && !l) {
        const cy_expr *bad = cy_misplaced_pattern(e, s->root_is_pred);
        if (bad)
            return cy_fail(s->q, bad->pos, "SyntaxError", "UnexpectedSyntax",
                           "a pattern can only be used as a predicate (in WHERE or exists()), not as a value");
    }
    if ((e->k == E_NOT && non_boolean_literal(e->a)) ||
        (e->k == E_BIN && (e->op == B_AND || e->op == B_OR || e->op == B_XOR) &&
         (non_boolean_literal(e->a) || non_boolean_literal(e->b))))
        return cy_fail(s->q, e->pos, "SyntaxError", "InvalidArgumentType", "a boolean operator needs Boolean operands");
    if (e->k == E_BIN && e->op == B_IN && e->b && known_value(e->b) && e->b->k != E_LIST &&
        !(e->b->k == E_LIT && e->b->lit.t == CV_LIST))
        return cy_fail(s->q, e->b->pos, "SyntaxError", "InvalidArgumentType", "IN needs a List on its right");
    if (e->k == E_PROP && e->a && e->a->k == E_VAR && !local_has(l, e->a->name)) {
        int at = find(&s->sc, e->a->name);
        int kind = at >= 0 ? s->sc.kinds[at] : K_ANY;
        if (kind == K_RELS)
            return cy_fail(s->q, e->pos, "SyntaxError", "InvalidArgumentType",
                           "`%s` is a list of relationships, not one relationship", e->a->name);
        if (kind == K_PATH)
            return cy_fail(s->q, e->pos, "SyntaxError", "InvalidArgumentType",
                           "property access on `%s`, which is a path", e->a->name);
        if (kind == K_VALUE)
            return cy_fail(s->q, e->pos, "TypeError", "InvalidArgumentType",
                           "property access on `%s`, which is not a map, node or relationship", e->a->name);
    }
    switch (e->k) {
    case E_PARAM:
        /* the TCK expects a missing parameter to be reported before anything runs */
        cy_note_param(s->q, e->name);
        if (!s->q->params || !json_object_get(s->q->params, e->name))
            return cy_fail(s->q, e->pos, "ParameterMissing", "MissingParameter", "expected parameter $%s", e->name);
        return 0;
    case E_VAR:
        if (!local_has(l, e->name) && find(&s->sc, e->name) < 0)
            return err(s, e->pos, "UndefinedVariable", "variable not defined:", e->name);
        return 0;
    case E_COUNTSTAR:
        e->is_agg = true;
        if (!allow_agg)
            return err(s, e->pos, "InvalidAggregation", "aggregation is not allowed here", NULL);
        return 0;
    case E_FUNC: {
        if (bad_graph_fn_arg(s, e, l))
            return cy_fail(s->q, e->args[0]->pos, "SyntaxError", "InvalidArgumentType",
                           "%s() cannot take this argument", e->name);
        if (cy_is_aggregate_name(e->name)) {
            e->is_agg = true;
            if (!allow_agg)
                return err(s, e->pos, "InvalidAggregation", "aggregation is not allowed here", NULL);
            bool pct = strncasecmp(e->name, "percentile", 10) == 0;
            if (e->nargs != (pct ? 2u : 1u))
                return err(s, e->pos, "InvalidNumberOfArguments", "wrong number of arguments to", e->name);
            for (size_t i = 0; i < e->nargs; i++) {
                if (cy_expr_has_agg(e->args[i]))
                    return err(s, e->pos, "NestedAggregation", "aggregations cannot be nested", NULL);
                if (cy_calls_rand(e->args[i]))
                    return err(s, e->args[i]->pos, "NonConstantExpression", "rand() cannot be aggregated:", e->name);
                if (check_expr(s, e->args[i], l, false, depth + 1)) {
                    if (strcmp(s->q->err->code, "InvalidAggregation") == 0) {
                        s->q->failed = false;
                        return err(s, e->pos, "NestedAggregation", "aggregations cannot be nested", NULL);
                    }
                    return -1;
                }
            }
            return 0;
        }
        bool arity;
        if (!cy_function_known(e->name, e->nargs, &arity))
            return err(s, e->pos, "UnknownFunction", "unknown function", e->name);
        if (!arity)
            return err(s, e->pos, "InvalidNumberOfArguments", "wrong number of arguments to", e->name);
        if (e->distinct)
            return err(s, e->pos, "InvalidArgumentType", "DISTINCT is only allowed in aggregations:", e->name);
        break;
    }
    case E_LISTCOMP:
    case E_QUANT: {
        if (check_expr(s, e->a, l, allow_agg, depth + 1))
            return -1;
        /* `x IN ['a', 'b'] WHERE x % 2 = 0`: the element type is known, so the
         * TCK expects the mismatch at compile time */
        int et = literal_list_type(e->a);
        if ((et == CV_STR || et == CV_BOOL) && arith_on_var(e->b, e->name))
            return cy_fail(s->q, e->b->pos, "SyntaxError", "InvalidArgumentType",
                           "arithmetic on `%s`, whose values are %s", e->name, et == CV_STR ? "Strings" : "Booleans");
        locals in = {e->name, l};
        if (check_expr(s, e->b, &in, false, depth + 1) || check_expr(s, e->c, &in, false, depth + 1))
            return -1;
        return 0;
    }
    case E_REDUCE: {
        if (check_expr(s, e->a, l, allow_agg, depth + 1) || check_expr(s, e->b, l, allow_agg, depth + 1))
            return -1;
        locals acc = {e->name, l}, x = {e->keys[0], &acc};
        return check_expr(s, e->c, &x, false, depth + 1);
    }
    case E_PATTERN:
    case E_EXISTS:
    case E_PATCOMP: {
        if (e->sub)
            return check_subquery(s, e->sub, l);
        if (e->k == E_PATTERN) {
            /* a pattern predicate only tests variables bound already */
            const cy_pattern_part *pp = e->pat;
            for (size_t i = 0; i < 2 * pp->nrels + 1; i++) {
                const char *name = i % 2 == 0 ? pp->nodes[i / 2].var : pp->rels[i / 2].var;
                int pos = i % 2 == 0 ? pp->nodes[i / 2].pos : pp->rels[i / 2].pos;
                if (name && !local_has(l, name) && find(&s->sc, name) < 0)
                    return err(s, pos, "UndefinedVariable", "a pattern predicate cannot introduce a variable:", name);
            }
        }
        if (check_pattern_exprs(s, e->pat, l, false, depth + 1))
            return -1;
        if (e->k == E_PATCOMP || e->k == E_EXISTS) {
            /* the pattern's new variables are visible in WHERE and the projection */
            locals *chain = (locals *)l;
            const cy_pattern_part *pp = e->pat;
            for (size_t i = 0; i <= 2 * pp->nrels + 1; i++) {
                const char *name = i == 2 * pp->nrels + 1 ? pp->pathvar : (i % 2 == 0 ? pp->nodes[i / 2].var : pp->rels[i / 2].var);
                if (!name)
                    continue;
                locals *nl = cy_alloc(&s->q->arena, sizeof *nl);
                nl->name = name;
                nl->up = chain;
                chain = nl;
            }
            if (check_expr(s, e->b, chain, false, depth + 1) || check_expr(s, e->c, chain, false, depth + 1))
                return -1;
        }
        return 0;
    }
    default:
        break;
    }
    if (check_expr(s, e->a, l, allow_agg, depth + 1) || check_expr(s, e->b, l, allow_agg, depth + 1) ||
        check_expr(s, e->c, l, allow_agg, depth + 1))
        return -1;
    for (size_t i = 0; i < e->nargs; i++)
        if (check_expr(s, e->args[i], l, allow_agg, depth + 1))
            return -1;
    return 0;
}

/* Property expressions inside a pattern used as an expression. */
static int check_pattern_exprs(sema *s, const cy_pattern_part *pp, const locals *l, bool allow_agg, int depth)
{
    locals *chain = (locals *)l;
    for (size_t i = 0; i <= pp->nrels; i++) {
        if (pp->nodes[i].var) {
            locals *nl = cy_alloc(&s->q->arena, sizeof *nl);
            nl->name = pp->nodes[i].var;
            nl->up = chain;
            chain = nl;
        }
        if (i < pp->nrels && pp->rels[i].var) {
            locals *nl = cy_alloc(&s->q->arena, sizeof *nl);
            nl->name = pp->rels[i].var;
            nl->up = chain;
            chain = nl;
        }
    }
    for (size_t i = 0; i <= pp->nrels; i++) {
        if (check_expr(s, pp->nodes[i].props, chain, allow_agg, depth))
            return -1;
        if (i < pp->nrels && check_expr(s, pp->rels[i].props, chain, allow_agg, depth))
            return -1;
    }
    return 0;
}

/* Declares the variables of a MATCH/CREATE/MERGE pattern, checking conflicts. */
static int declare_pattern(sema *s, cy_pattern *pat, cy_clause_kind k)
{
    bool create = k == C_CREATE || k == C_MERGE;
    scope before = s->sc;
    for (size_t p = 0; p < pat->n; p++) {
        cy_pattern_part *pp = &pat->parts[p];
        if (pp->pathvar) {
            if (find(&s->sc, pp->pathvar) >= 0)
                return err(s, pp->pos, "VariableAlreadyBound", "variable already bound:", pp->pathvar);
        }
        for (size_t i = 0; i <= pp->nrels; i++) {
            cy_node_pat *np = &pp->nodes[i];
            /* openCypher allows `{...}` or `$map` properties only where entities are created */
            if (k != C_CREATE && ((np->props && np->props->k == E_PARAM) ||
                                  (i < pp->nrels && pp->rels[i].props && pp->rels[i].props->k == E_PARAM)))
                return err(s, np->props && np->props->k == E_PARAM ? np->props->pos : pp->rels[i].props->pos,
                           "InvalidParameterUse", "a parameter cannot be used as a property map in MATCH or MERGE", NULL);
            if (np->var) {
                int at = find(&s->sc, np->var);
                if (at >= 0 && s->sc.kinds[at] != K_NODE && s->sc.kinds[at] != K_ANY)
                    return err(s, np->pos, "VariableTypeConflict", "variable is not a node:", np->var);
                if (create && at >= 0 && (np->nlabels || np->props || (pp->nrels == 0 && find(&before, np->var) >= 0)))
                    return err(s, np->pos, "VariableAlreadyBound", "variable already bound:", np->var);
                add(s, &s->sc, np->var, K_NODE);
            }
            if (i == pp->nrels)
                break;
            cy_rel_pat *rp = &pp->rels[i];
            if (create && rp->var && find(&s->sc, rp->var) >= 0)
                return err(s, rp->pos, "VariableAlreadyBound", "variable already bound:", rp->var);
            if (create) {
                if (rp->ntypes != 1)
                    return err(s, rp->pos, "NoSingleRelationshipType", "a relationship to create needs exactly one type", NULL);
                if (rp->dir == DIR_BOTH && k == C_CREATE)
                    return err(s, rp->pos, "RequiresDirectedRelationship", "a relationship to create needs a direction", NULL);
                if (rp->varlen)
                    return err(s, rp->pos, "CreatingVarLength", "variable-length relationships cannot be created", NULL);
            }
            if (rp->var) {
                int at = find(&s->sc, rp->var);
                if (at >= 0 && (create || s->sc.kinds[at] == K_NODE || s->sc.kinds[at] == K_PATH ||
                                ((s->sc.kinds[at] == K_VALUE || s->sc.kinds[at] == K_MAPV) && !rp->varlen)))
                    return err(s, rp->pos, at >= 0 && !create ? "VariableTypeConflict" : "VariableAlreadyBound",
                               "variable already bound:", rp->var);
                if (at >= 0 && find(&before, rp->var) < 0)
                    return err(s, rp->pos, "RelationshipUniquenessViolation",
                               "relationship variable used twice in a pattern:", rp->var);
                add(s, &s->sc, rp->var, rp->varlen ? K_RELS : K_REL);
            }
        }
        if (pp->pathvar) {
            if (find(&s->sc, pp->pathvar) >= 0)   /* `p = (p)-->()` */
                return err(s, pp->pos, "VariableAlreadyBound", "variable already bound:", pp->pathvar);
            add(s, &s->sc, pp->pathvar, K_PATH);
        }
    }
    for (size_t p = 0; p < pat->n; p++)
        if (check_pattern_exprs(s, &pat->parts[p], NULL, false, 0))
            return -1;
    return 0;
}

/* SET/REMOVE items: their expressions must be defined. */
static int check_sets(sema *s, cy_set_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (check_expr(s, items[i].target, NULL, false, 0) || check_expr(s, items[i].value, NULL, false, 0))
            return -1;
    return 0;
}

/* Does the expression read any variable (SKIP/LIMIT must not)? */
static bool mentions_variable(const cy_expr *e)
{
    if (!e)
        return false;
    if (e->k == E_VAR || e->k == E_PATTERN || e->k == E_PATCOMP)
        return true;
    if (mentions_variable(e->a) || mentions_variable(e->b) || mentions_variable(e->c))
        return true;
    for (size_t i = 0; i < e->nargs; i++)
        if (mentions_variable(e->args[i]))
            return true;
    return false;
}

/* SKIP/LIMIT: constant; a literal must be a non-negative integer (checked here,
 * parameters at run time). */
static int check_count(sema *s, cy_expr *e, const char *what)
{
    if (!e)
        return 0;
    if (mentions_variable(e))
        return cy_fail(s->q, e->pos, "SyntaxError", "NonConstantExpression", "%s must be a constant expression", what);
    if (check_expr(s, e, NULL, false, 0))
        return -1;
    if (e->k == E_LIT && e->lit.t != CV_INT)
        return cy_fail(s->q, e->pos, "SyntaxError", "InvalidArgumentType", "%s must be an Integer", what);
    if (e->k == E_LIT && e->lit.u.i < 0)
        return cy_fail(s->q, e->pos, "SyntaxError", "NegativeIntegerArgument", "%s must not be negative", what);
    return 0;
}

/* Structural equality of two expressions (ORDER BY items written like projected ones). */
static bool expr_same(const cy_expr *a, const cy_expr *b)
{
    if (!a || !b)
        return a == b;
    if (a->k != b->k || a->op != b->op || a->nargs != b->nargs || a->nkeys != b->nkeys ||
        a->distinct != b->distinct || a->pat || b->pat)
        return false;
    if ((a->name || b->name) && (!a->name || !b->name || strcmp(a->name, b->name) != 0))
        return false;
    if (a->k == E_LIT && (a->lit.t != b->lit.t || (a->lit.t != CV_NULL && cy_equals(&a->lit, &b->lit) != 1)))
        return false;
    for (size_t i = 0; i < a->nkeys; i++)
        if (strcmp(a->keys[i], b->keys[i]) != 0)
            return false;
    for (size_t i = 0; i < a->nargs; i++)
        if (!expr_same(a->args[i], b->args[i]))
            return false;
    return expr_same(a->a, b->a) && expr_same(a->b, b->b) && expr_same(a->c, b->c);
}

/* After DISTINCT or aggregation ORDER BY sees only the projected columns: a part
 * written like a projected item (`RETURN n.x, count(*) ORDER BY n.x`) becomes that
 * column. Aggregate calls are left alone: their arguments read the input rows. */
static cy_expr *alias_projected(sema *s, cy_expr *e, const cy_clause *c)
{
    if (!e)
        return NULL;
    for (size_t i = 0; i < c->nitems; i++)
        if (expr_same(e, c->items[i].e)) {
            cy_expr *v = cy_alloc(&s->q->arena, sizeof *v);
            v->k = E_VAR;
            v->pos = e->pos;
            v->end = e->end;
            v->name = c->items[i].alias;
            return v;
        }
    if (e->k == E_COUNTSTAR || (e->k == E_FUNC && cy_is_aggregate_name(e->name)) || e->pat)
        return e;
    e->a = alias_projected(s, e->a, c);
    e->b = alias_projected(s, e->b, c);
    e->c = alias_projected(s, e->c, c);
    for (size_t i = 0; i < e->nargs; i++)
        e->args[i] = alias_projected(s, e->args[i], c);
    return e;
}

/* A WHERE predicate: patterns may stand in it; a bare entity cannot (`WHERE n`). */
static int check_where(sema *s, cy_expr *where)
{
    if (!where)
        return 0;
    if (where->k == E_VAR) {
        int at = find(&s->sc, where->name);
        int kind = at >= 0 ? s->sc.kinds[at] : K_ANY;
        if (kind == K_NODE || kind == K_REL || kind == K_PATH || kind == K_RELS)
            return cy_fail(s->q, where->pos, "SyntaxError", "InvalidArgumentType",
                           "WHERE needs a Boolean, and `%s` is a node, relationship or path", where->name);
    }
    s->root_is_pred = true;
    int rc = check_expr(s, where, NULL, false, 0);
    s->root_is_pred = false;
    return rc;
}

/* WITH / RETURN: aliases, duplicates, then the new scope. */
static int check_projection(sema *s, cy_clause *c)
{
    for (size_t i = 0; i < c->nitems; i++) {
        if (check_expr(s, c->items[i].e, NULL, true, 0))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->items[i].alias, c->items[j].alias) == 0)
                return err(s, c->items[i].e->pos, "ColumnNameConflict", "duplicate column name", c->items[i].alias);
    }
    if (c->star && s->sc.n == 0 && c->k == C_RETURN)
        return err(s, c->pos, "NoVariablesInScope", "RETURN * / WITH * with no variables in scope", NULL);
    scope next = {0};
    if (c->star)
        for (size_t i = 0; i < s->sc.n; i++)
            add(s, &next, s->sc.names[i], s->sc.kinds[i]);
    for (size_t i = 0; i < c->nitems; i++) {
        int kind = K_ANY;
        if (c->items[i].e->k == E_VAR) {
            int at = find(&s->sc, c->items[i].e->name);
            kind = at >= 0 ? s->sc.kinds[at] : K_ANY;
        } else if (known_value(c->items[i].e)) {
            kind = known_map(c->items[i].e) ? K_MAPV : K_VALUE;
        }
        add(s, &next, c->items[i].alias, kind);
    }
    /* ORDER BY and WHERE see the new names and (unless aggregating) the old ones */
    bool agg = false;
    for (size_t i = 0; i < c->nitems; i++)
        agg |= cy_expr_has_agg(c->items[i].e);
    for (size_t i = 0; agg && i < c->nitems + c->nsorts; i++) {
        const cy_expr *bad = cy_ambiguous_aggregation(i < c->nitems ? c->items[i].e : c->sorts[i - c->nitems].e,
                                                      c->items, c->nitems);
        if (!bad)
            continue;
        /* in ORDER BY, a variable no grouping key mentions is simply not in scope */
        const char *var = bad->k == E_VAR ? bad->name : bad->k == E_PROP && bad->a->k == E_VAR ? bad->a->name : NULL;
        if (i >= c->nitems && var && !cy_keys_mention(c->items, c->nitems, var))
            return err(s, bad->pos, "UndefinedVariable", "variable not defined:", var);
        return err(s, bad->pos, "AmbiguousAggregationExpression",
                   "an aggregating expression uses a value that is not a grouping key (project it, or a variable of it)", NULL);
    }
    for (size_t i = 0; c->k == C_WITH && i < c->nitems; i++)
        if (!c->items[i].aliased && c->items[i].e->k != E_VAR)
            return err(s, c->items[i].e->pos, "NoExpressionAlias", "expressions in WITH must be aliased (use AS)", NULL);
    scope both = next;
    if (!c->distinct && !agg) {
        both = (scope){0};
        for (size_t i = 0; i < next.n; i++)
            add(s, &both, next.names[i], next.kinds[i]);
        for (size_t i = 0; i < s->sc.n; i++)
            add(s, &both, s->sc.names[i], s->sc.kinds[i]);
    }
    scope old = s->sc;
    s->sc = both;
    if (c->distinct || agg)
        for (size_t i = 0; i < c->nsorts; i++)
            c->sorts[i].e = alias_projected(s, c->sorts[i].e, c);
    /* an aggregate in an aggregating ORDER BY that is not a projected one reads
     * the projected names only (`WITH ... min(x) AS m ORDER BY sum(x)`: x is gone) */
    for (size_t i = 0; i < c->nsorts; i++)
        if (check_expr(s, c->sorts[i].e, NULL, agg, 0)) {
            s->sc = old;
            return -1;
        }
    if (check_count(s, c->skip, "SKIP") || check_count(s, c->limit, "LIMIT"))
        return -1;
    /* WHERE, like ORDER BY, also sees the old names unless aggregating or DISTINCT
     * (`WITH types[i] AS lhs WHERE i <> j`, as the TCK expects) */
    scope where_scope = both;
    if (c->distinct && !agg) {   /* WITH DISTINCT a.x AS x WHERE a.y = 1 */
        where_scope = (scope){0};
        for (size_t i = 0; i < next.n; i++)
            add(s, &where_scope, next.names[i], next.kinds[i]);
        for (size_t i = 0; i < old.n; i++)
            add(s, &where_scope, old.names[i], old.kinds[i]);
    }
    s->sc = where_scope;
    if (check_where(s, c->where))
        return -1;
    s->sc = next;
    if (c->skip && cy_expr_has_agg(c->skip))
        return -1;
    return 0;
}

/* Checks one single query clause by clause, tracking the scope (subquery: an
 * EXISTS { } or COUNT { } one, which need not end with RETURN). */
static int check_clauses(sema *s, cy_single *sq, bool subquery, const char ***cols, size_t *ncols)
{
    *cols = NULL;
    *ncols = 0;
    for (size_t i = 0; i < sq->n; i++) {
        cy_clause *c = &sq->cl[i];
        if (c->k == C_RETURN && i + 1 < sq->n)
            return cy_fail(s->q, sq->cl[i + 1].pos, "SyntaxError", "InvalidClauseComposition", "RETURN must be the last clause");
        switch (c->k) {
        case C_MATCH:
            if (declare_pattern(s, &c->pat, C_MATCH) || check_where(s, c->where))
                return -1;
            break;
        case C_CALL:
            if (c->body) {
                if (check_call_subquery(s, c, i + 1 == sq->n))
                    return -1;
                break;
            }
            if (cy_call_check(s->q, c))
                return -1;
            for (size_t j = 0; j < c->nitems; j++) {
                if (find(&s->sc, c->items[j].alias) >= 0)
                    return err(s, c->items[j].e->pos, "VariableAlreadyBound", "variable already bound:", c->items[j].alias);
                add(s, &s->sc, c->items[j].alias, K_ANY);
            }
            if (check_where(s, c->where))
                return -1;
            if (i + 1 == sq->n) {   /* a CALL that ends the query returns what it yields */
                *ncols = c->nitems;
                *cols = cy_alloc(&s->q->arena, (c->nitems + 1) * sizeof **cols);
                for (size_t j = 0; j < c->nitems; j++)
                    (*cols)[j] = c->items[j].alias;
            }
            break;
        case C_FOREACH:
            if (check_expr(s, c->expr, NULL, false, 0) || check_foreach(s, c))
                return -1;
            break;
        case C_UNWIND:
            if (check_expr(s, c->expr, NULL, false, 0))
                return -1;
            if (find(&s->sc, c->var) >= 0)
                return err(s, c->pos, "VariableAlreadyBound", "variable already bound:", c->var);
            add(s, &s->sc, c->var, K_ANY);
            break;
        case C_WITH:
        case C_RETURN:
            if (check_projection(s, c))
                return -1;
            if (c->k == C_RETURN) {
                *ncols = c->nitems;
                *cols = cy_alloc(&s->q->arena, (c->nitems + 1) * sizeof **cols);
                for (size_t j = 0; j < c->nitems; j++)
                    (*cols)[j] = c->items[j].alias;
                if (c->star)
                    *ncols = (size_t)-1; /* unknown until run time */
            }
            break;
        case C_CREATE:
        case C_MERGE:
            if (declare_pattern(s, &c->pat, c->k) || check_sets(s, c->on_create, c->non_create) ||
                check_sets(s, c->on_match, c->non_match))
                return -1;
            break;
        case C_SET:
        case C_REMOVE:
            if (check_sets(s, c->sets, c->nsets))
                return -1;
            break;
        case C_DELETE:
            for (size_t j = 0; j < c->nexprs; j++) {
                if (c->exprs[j]->k == E_HASLABELS)
                    return cy_fail(s->q, c->exprs[j]->pos, "SyntaxError", "InvalidDelete",
                                   "DELETE removes entities; use REMOVE n:Label to remove a label");
                const cy_expr *x = c->exprs[j];
                if (known_value(x) || (x->k == E_BIN && x->op >= B_ADD && x->op <= B_POW) || x->k == E_NEG)
                    return cy_fail(s->q, x->pos, "SyntaxError", "InvalidArgumentType",
                                   "DELETE needs a node, relationship or path, not a computed value");
                if (check_expr(s, c->exprs[j], NULL, false, 0))
                    return -1;
            }
            break;
        }
    }
    cy_clause_kind last = sq->cl[sq->n - 1].k;
    if (!subquery && (last == C_MATCH || last == C_WITH || last == C_UNWIND))
        return cy_fail(s->q, sq->cl[sq->n - 1].pos, "SyntaxError", "InvalidClauseComposition",
                       "a query cannot end with %s (add RETURN)", last == C_MATCH ? "MATCH" : last == C_WITH ? "WITH" : "UNWIND");
    return 0;
}

/* Checks the clauses of one single query (a part of a UNION). */
static int check_single(sema *s, cy_single *sq, const char ***cols, size_t *ncols)
{
    s->sc = (scope){0};
    return check_clauses(s, sq, false, cols, ncols);
}

/* Checks an EXISTS { } / COUNT { } subquery: its clauses start with every
 * variable of the enclosing scope and comprehension bound (a comprehension's
 * variable hides an outer one of the same name, as when it runs:
 * cy_run_subquery); it need not RETURN, and what it binds stays inside. */
static int check_subquery(sema *s, cy_single *sq, const locals *l)
{
    sema in = {.q = s->q};
    for (; l; l = l->up)
        add(&in, &in.sc, l->name, K_ANY);
    for (size_t i = 0; i < s->sc.n; i++)
        add(&in, &in.sc, s->sc.names[i], s->sc.kinds[i]);
    const char **cols;
    size_t ncols;
    return check_clauses(&in, sq, true, &cols, &ncols);
}

/* Checks FOREACH's body: its clauses see the scope and the loop variable (which
 * must be new); what they bind stays inside. */
static int check_foreach(sema *s, cy_clause *c)
{
    if (find(&s->sc, c->var) >= 0)
        return err(s, c->pos, "VariableAlreadyBound", "variable already bound:", c->var);
    sema in = {.q = s->q};
    for (size_t i = 0; i < s->sc.n; i++)
        add(&in, &in.sc, s->sc.names[i], s->sc.kinds[i]);
    add(&in, &in.sc, c->var, K_ANY);
    const char **cols;
    size_t ncols;
    return check_clauses(&in, c->body, true, &cols, &ncols);
}

/* Checks CALL { body }: the body is a query of its own that sees the outer
 * variables only through a leading WITH (an importing WITH, as in Neo4j, or
 * the one CALL (a, b) stands for; any other start, and CALL (), sees none);
 * it ends with RETURN, whose columns join the outer
 * scope and must be new, or with an update (a unit subquery: the rows go on
 * unchanged). A returning CALL { } cannot end the query. */
static int check_call_subquery(sema *s, cy_clause *c, bool last)
{
    sema in = {.q = s->q};
    if (c->body->cl[0].k == C_WITH && !c->no_import)
        for (size_t i = 0; i < s->sc.n; i++)
            add(&in, &in.sc, s->sc.names[i], s->sc.kinds[i]);
    const char **cols;
    size_t ncols;
    if (check_clauses(&in, c->body, false, &cols, &ncols))
        return -1;
    const cy_clause *end = &c->body->cl[c->body->n - 1];
    if (end->k != C_RETURN)
        return 0;
    if (ncols == (size_t)-1)
        return cy_fail(s->q, end->pos, "SyntaxError", "InvalidClauseComposition",
                       "RETURN * cannot end a CALL { } subquery: name the columns");
    if (last)
        return cy_fail(s->q, c->pos, "SyntaxError", "InvalidClauseComposition",
                       "a query cannot end with CALL { ... RETURN ... } (add RETURN)");
    for (size_t j = 0; j < ncols; j++) {
        if (find(&s->sc, cols[j]) >= 0)
            return err(s, end->items[j].e->pos, "VariableAlreadyBound", "variable already bound:", cols[j]);
        add(s, &s->sc, cols[j], K_ANY);
    }
    return 0;
}

/* Checks every part of a UNION and that their columns agree. */
int cy_sema(cy_q *q, cy_query *qu)
{
    sema s = {.q = q};
    const char **first = NULL;
    size_t nfirst = 0;
    for (size_t i = 0; i < qu->n; i++) {
        const char **cols;
        size_t ncols;
        if (check_single(&s, &qu->parts[i], &cols, &ncols))
            return -1;
        if (i == 0) {
            first = cols;
            nfirst = ncols;
            continue;
        }
        bool same = ncols == nfirst && ncols != (size_t)-1;
        for (size_t j = 0; same && j < ncols; j++)
            same = strcmp(cols[j], first[j]) == 0;
        if (!same)
            return cy_fail(q, qu->parts[i].cl[0].pos, "SyntaxError", "DifferentColumnsInUnion",
                           "all sub queries in a UNION must have the same column names");
    }
    return 0;
}
