/* graph/cypher_parse_expr.c - recursive-descent parser for Cypher expressions
 * and patterns (openCypher 9 precedence). Depth is bounded by CY_MAX_DEPTH so a
 * deeply nested query is a clear error, not a stack overflow. */
#include "cypher_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CUR(p) (&(p)->t[(p)->i])
#define PEEK(p, k) (&(p)->t[(p)->i + (k) < (p)->n ? (p)->i + (k) : (p)->n - 1])

/* Syntax errors point at the current token. */
int cy_syntax(cy_parser *p, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const cy_tok *t = CUR(p);
    if (t->k == T_EOF)
        return cy_fail(p->q, t->pos, "SyntaxError", "UnexpectedEndOfInput", "%s (at end of input)", msg);
    return cy_fail(p->q, t->pos, "SyntaxError", "UnexpectedSyntax", "%s near '%.*s'", msg,
                   t->end - t->pos > 40 ? 40 : t->end - t->pos, p->q->text + t->pos);
}

/* Keywords are identifiers compared case-insensitively. */
bool cy_tok_is_kw(const cy_tok *t, const char *kw)
{
    return t->k == T_IDENT && strcasecmp(t->s, kw) == 0;
}

/* Consumes keyword kw if it is next. */
static bool accept_kw(cy_parser *p, const char *kw)
{
    if (cy_tok_is_kw(CUR(p), kw)) {
        p->i++;
        return true;
    }
    return false;
}

/* Consumes a token of kind k if it is next. */
static bool accept(cy_parser *p, cy_tok_kind k)
{
    if (CUR(p)->k == k) {
        p->i++;
        return true;
    }
    return false;
}

/* Like accept, but a syntax error when the token is missing. */
static int expect(cy_parser *p, cy_tok_kind k, const char *what)
{
    if (accept(p, k))
        return 0;
    return cy_syntax(p, "expected %s", what);
}

/* A zeroed expression node in the arena. */
cy_expr *cy_expr_new(cy_parser *p, cy_expr_kind k, int pos)
{
    cy_expr *e = cy_alloc(&p->q->arena, sizeof *e);
    e->k = k;
    e->pos = pos;
    e->end = pos;
    return e;
}

/* Closes an expression's source span at the last consumed token. */
static cy_expr *fin(cy_parser *p, cy_expr *e)
{
    if (e && p->i > 0)
        e->end = p->t[p->i - 1].end;
    return e;
}

/* Identifier (plain or quoted, keywords allowed) at the cursor, or NULL. */
const char *cy_parse_name(cy_parser *p)
{
    const cy_tok *t = CUR(p);
    if (t->k == T_IDENT || t->k == T_QIDENT) {
        p->i++;
        return t->s;
    }
    return NULL;
}

/* A binary operator node spanning both operands. */
static cy_expr *bin(cy_parser *p, int op, cy_expr *a, cy_expr *b)
{
    cy_expr *e = cy_expr_new(p, E_BIN, a->pos);
    e->op = op;
    e->a = a;
    e->b = b;
    e->end = b->end;
    return e;
}

/* A growable array of expression pointers in the arena. */
typedef struct { cy_expr **v; size_t n, cap; } elist;
/* Appends to an arena-backed list of expressions. */
static void elist_push(cy_parser *p, elist *l, cy_expr *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        cy_expr **nv = cy_alloc(&p->q->arena, cap * sizeof *nv);
        if (l->n)
            cy_memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = e;
}

/* {key: expr, ...} */
cy_expr *cy_parse_map_literal(cy_parser *p)
{
    cy_expr *e = cy_expr_new(p, E_MAP, CUR(p)->pos);
    if (expect(p, T_LBRACE, "'{'"))
        return NULL;
    elist vals = {0};
    const char **keys = NULL;
    size_t cap = 0;
    if (!accept(p, T_RBRACE)) {
        do {
            const char *k = cy_parse_name(p);
            if (!k) {
                cy_syntax(p, "expected a property key");
                return NULL;
            }
            if (expect(p, T_COLON, "':'"))
                return NULL;
            cy_expr *v = cy_parse_expr(p);
            if (!v)
                return NULL;
            if (vals.n == cap) {
                size_t nc = cap ? cap * 2 : 4;
                const char **nk = cy_alloc(&p->q->arena, nc * sizeof *nk);
                if (vals.n)
                    cy_memcpy(nk, keys, vals.n * sizeof *nk);
                keys = nk;
                cap = nc;
            }
            keys[vals.n] = k;
            elist_push(p, &vals, v);
        } while (accept(p, T_COMMA));
        if (expect(p, T_RBRACE, "'}'"))
            return NULL;
    }
    e->keys = keys;
    e->args = vals.v;
    e->nargs = e->nkeys = vals.n;
    return fin(p, e);
}

/* Speculatively parses a relationship pattern (a)-->(b); restores the cursor and
 * the error state when the text is not one. */
static cy_pattern_part *try_pattern(cy_parser *p, bool allow_pathvar)
{
    size_t save = p->i;
    graph_query_error saved = *p->q->err;
    cy_pattern_part *pp = cy_alloc(&p->q->arena, sizeof *pp);
    if (cy_parse_pattern_part(p, pp, allow_pathvar) == 0 && pp->nrels > 0)
        return pp;
    p->i = save;
    p->q->failed = false;
    *p->q->err = saved;
    return NULL;
}

static cy_expr *parse_or(cy_parser *p);

/* Is this single MATCH [RETURN] subquery the short form, answered by one
 * pattern match (EXISTS stops at its first hit)? Not when RETURN aggregates (one
 * row even with no match), limits its rows or drops duplicates (COUNT counts
 * them), nor for OPTIONAL MATCH, a path variable or several pattern parts. */
static bool exists_is_short(const cy_single *s)
{
    const cy_clause *m = &s->cl[0], *r = s->n == 2 ? &s->cl[1] : NULL;
    if (s->n > 2 || m->k != C_MATCH || m->optional || m->pat.n != 1 || m->pat.parts[0].pathvar)
        return false;
    if (!r)
        return true;
    if (r->k != C_RETURN || r->skip || r->limit || r->star || r->distinct)
        return false;
    for (size_t i = 0; i < r->nitems; i++)
        if (cy_expr_has_agg(r->items[i].e))
            return false;
    return true;
}

/* EXISTS { pattern [WHERE pred] }, true when the pattern has a match, under
 * the outer variables, for which pred holds; and EXISTS { clauses }, a read-only
 * subquery that sees the outer variables, true when it produces a row
 * (MATCH ... WITH n, count(*) AS c WHERE c = 3 RETURN true). A subquery of one
 * MATCH (and a RETURN that cannot change whether there is a row) is run as the
 * short form: e->pat and e->b are set besides e->sub. COUNT { ... } is the
 * same with the number of matches (rows) for its value. */
static cy_expr *parse_exists(cy_parser *p, bool count)
{
    cy_expr *e = cy_expr_new(p, E_EXISTS, CUR(p)->pos);
    e->op = count ? CY_SUB_COUNT : 0;
    p->i += 2; /* EXISTS { or COUNT { */
    if (CUR(p)->k == T_LPAREN) {
        e->pat = cy_alloc(&p->q->arena, sizeof *e->pat);
        if (cy_parse_pattern_part(p, e->pat, false))
            return NULL;
        if (accept_kw(p, "WHERE") && !(e->b = cy_parse_expr(p)))
            return NULL;
    } else {
        cy_single *s = cy_alloc(&p->q->arena, sizeof *s);
        if (cy_parse_subquery(p, s))
            return NULL;
        e->sub = s;   /* checked as a subquery either way */
        if (exists_is_short(s)) {
            e->pat = s->cl[0].pat.parts;
            e->b = s->cl[0].where;
        }
    }
    if (cy_refuse_update(p))   /* after the short form's pattern: `EXISTS { (n)-->() SET ... }` */
        return NULL;
    if (CUR(p)->k != T_RBRACE) {
        cy_syntax(p, "expected '}' closing %s { ... }", count ? "COUNT" : "EXISTS");
        return NULL;
    }
    p->i++;
    return fin(p, e);
}

/* x IN list WHERE pred | expr  (after '[' or 'ALL(') */
static cy_expr *parse_comprehension_body(cy_parser *p, cy_expr *e, bool allow_map)
{
    e->name = cy_parse_name(p);
    if (!e->name || !accept_kw(p, "IN")) {
        cy_syntax(p, "expected 'variable IN list'");
        return NULL;
    }
    if (!(e->a = cy_parse_expr(p)))
        return NULL;
    if (accept_kw(p, "WHERE") && !(e->b = cy_parse_expr(p)))
        return NULL;
    if (allow_map && accept(p, T_PIPE) && !(e->c = cy_parse_expr(p)))
        return NULL;
    return e;
}

/* [...]: list literal, list comprehension or pattern comprehension. */
static cy_expr *parse_list_atom(cy_parser *p)
{
    int pos = CUR(p)->pos;
    p->i++; /* '[' */
    if ((CUR(p)->k == T_IDENT || CUR(p)->k == T_QIDENT) && cy_tok_is_kw(PEEK(p, 1), "IN")) {
        cy_expr *e = cy_expr_new(p, E_LISTCOMP, pos);
        if (!parse_comprehension_body(p, e, true) || expect(p, T_RBRACK, "']'"))
            return NULL;
        return fin(p, e);
    }
    if (CUR(p)->k == T_LPAREN || PEEK(p, 1)->k == T_EQ) {
        cy_pattern_part *pp = try_pattern(p, true);
        if (pp) {
            cy_expr *e = cy_expr_new(p, E_PATCOMP, pos);
            e->pat = pp;
            if ((accept_kw(p, "WHERE") && !(e->b = cy_parse_expr(p))) || expect(p, T_PIPE, "'|'") ||
                !(e->c = cy_parse_expr(p)) || expect(p, T_RBRACK, "']'"))
                return NULL;
            return fin(p, e);
        }
    }
    cy_expr *e = cy_expr_new(p, E_LIST, pos);
    elist items = {0};
    if (!accept(p, T_RBRACK)) {
        do {
            cy_expr *x = cy_parse_expr(p);
            if (!x)
                return NULL;
            elist_push(p, &items, x);
        } while (accept(p, T_COMMA));
        if (expect(p, T_RBRACK, "']'"))
            return NULL;
    }
    e->args = items.v;
    e->nargs = items.n;
    return fin(p, e);
}

/* CASE [subject] WHEN ... THEN ... [ELSE ...] END */
static cy_expr *parse_case(cy_parser *p)
{
    cy_expr *e = cy_expr_new(p, E_CASE, CUR(p)->pos);
    p->i++;
    if (!cy_tok_is_kw(CUR(p), "WHEN") && !(e->a = cy_parse_expr(p)))
        return NULL;
    elist arms = {0};
    while (accept_kw(p, "WHEN")) {
        cy_expr *w = cy_parse_expr(p), *t = NULL;
        if (!w)
            return NULL;
        if (!accept_kw(p, "THEN")) {
            cy_syntax(p, "expected THEN");
            return NULL;
        }
        if (!(t = cy_parse_expr(p)))
            return NULL;
        elist_push(p, &arms, w);
        elist_push(p, &arms, t);
    }
    if (!arms.n) {
        cy_syntax(p, "expected WHEN");
        return NULL;
    }
    if (accept_kw(p, "ELSE") && !(e->c = cy_parse_expr(p)))
        return NULL;
    if (!accept_kw(p, "END")) {
        cy_syntax(p, "expected END");
        return NULL;
    }
    e->args = arms.v;
    e->nargs = arms.n;
    return fin(p, e);
}

/* name(args) with optional namespace (a.b.c) and DISTINCT. */
static cy_expr *parse_call(cy_parser *p, int pos)
{
    cy_buf b = {0};
    cy_buf_puts(&b, CUR(p)->s);
    p->i++;
    while (CUR(p)->k == T_DOT) {
        p->i++;
        const char *n = cy_parse_name(p);
        if (!n) {
            free(b.p);
            cy_syntax(p, "expected a function name");
            return NULL;
        }
        cy_buf_puts(&b, ".");
        cy_buf_puts(&b, n);
    }
    cy_expr *e = cy_expr_new(p, E_FUNC, pos);
    e->name = cy_strndup(&p->q->arena, b.p, b.len);
    free(b.p);
    p->i++; /* '(' */
    if (strcasecmp(e->name, "count") == 0 && CUR(p)->k == T_STAR && PEEK(p, 1)->k == T_RPAREN) {
        p->i += 2;
        e->k = E_COUNTSTAR;
        return fin(p, e);
    }
    e->distinct = accept_kw(p, "DISTINCT");
    elist args = {0};
    if (!accept(p, T_RPAREN)) {
        do {
            cy_expr *x = cy_parse_expr(p);
            if (!x)
                return NULL;
            elist_push(p, &args, x);
        } while (accept(p, T_COMMA));
        if (expect(p, T_RPAREN, "')'"))
            return NULL;
    }
    e->args = args.v;
    e->nargs = args.n;
    return fin(p, e);
}

/* reduce(acc = init, x IN list | expr) */
static cy_expr *parse_reduce(cy_parser *p)
{
    cy_expr *e = cy_expr_new(p, E_REDUCE, CUR(p)->pos);
    p->i += 2;
    e->name = cy_parse_name(p);
    if (!e->name || expect(p, T_EQ, "'='") || !(e->a = cy_parse_expr(p)) || expect(p, T_COMMA, "','"))
        return NULL;
    e->keys = cy_alloc(&p->q->arena, sizeof *e->keys);
    e->nkeys = 1;
    if (!(e->keys[0] = cy_parse_name(p)) || !accept_kw(p, "IN")) {
        cy_syntax(p, "expected 'variable IN list'");
        return NULL;
    }
    if (!(e->b = cy_parse_expr(p)) || expect(p, T_PIPE, "'|'") || !(e->c = cy_parse_expr(p)) ||
        expect(p, T_RPAREN, "')'"))
        return NULL;
    return fin(p, e);
}

/* Does a namespaced name a.b(...) start here? */
static bool at_call(cy_parser *p)
{
    size_t k = 1;
    while (PEEK(p, k)->k == T_DOT && PEEK(p, k + 1)->k == T_IDENT)
        k += 2;
    return PEEK(p, k)->k == T_LPAREN;
}

/* n {.key, key: expr, .*, var} */
static cy_expr *parse_map_projection(cy_parser *p, cy_expr *base)
{
    cy_expr *e = cy_expr_new(p, E_MAPPROJ, base->pos);
    e->a = base;
    p->i++;
    elist vals = {0};
    const char *keys[256];
    if (!accept(p, T_RBRACE)) {
        do {
            if (vals.n == 256) {
                cy_syntax(p, "map projection too long");
                return NULL;
            }
            int pos = CUR(p)->pos;
            if (accept(p, T_DOT)) {
                if (accept(p, T_STAR)) {
                    keys[vals.n] = "*";
                    elist_push(p, &vals, NULL);
                    continue;
                }
                const char *k = cy_parse_name(p);
                if (!k) {
                    cy_syntax(p, "expected a property key");
                    return NULL;
                }
                cy_expr *pe = cy_expr_new(p, E_PROP, pos);
                pe->a = base;
                pe->name = k;
                keys[vals.n] = k;
                elist_push(p, &vals, fin(p, pe));
            } else {
                const char *k = cy_parse_name(p);
                if (!k) {
                    cy_syntax(p, "expected a map projection item");
                    return NULL;
                }
                cy_expr *v;
                if (accept(p, T_COLON)) {
                    if (!(v = cy_parse_expr(p)))
                        return NULL;
                } else {
                    v = cy_expr_new(p, E_VAR, pos);
                    v->name = k;
                    fin(p, v);
                }
                keys[vals.n] = k;
                elist_push(p, &vals, v);
            }
        } while (accept(p, T_COMMA));
        if (expect(p, T_RBRACE, "'}'"))
            return NULL;
    }
    e->args = vals.v;
    e->nargs = e->nkeys = vals.n;
    e->keys = cy_alloc(&p->q->arena, (vals.n ? vals.n : 1) * sizeof *e->keys);
    cy_memcpy(e->keys, keys, vals.n * sizeof *keys);
    return fin(p, e);
}

/* Literals, parameters, CASE, lists, maps, patterns, calls, variables. */
static cy_expr *parse_atom(cy_parser *p)
{
    const cy_tok *t = CUR(p);
    int pos = t->pos;
    cy_expr *e;
    switch (t->k) {
    case T_INT:
        if (t->int_overflow || t->f == 1) {
            cy_fail(p->q, pos, "SyntaxError", "IntegerOverflow", "integer literal is too large");
            return NULL;
        }
        e = cy_expr_new(p, E_LIT, pos);
        e->lit = cy_int(t->i);
        p->i++;
        return fin(p, e);
    case T_FLOAT:
        e = cy_expr_new(p, E_LIT, pos);
        e->lit = cy_float(t->f);
        p->i++;
        return fin(p, e);
    case T_STRING:
        e = cy_expr_new(p, E_LIT, pos);
        e->lit = (cy_value){.t = CV_STR, .u.s = {t->s, t->slen}};
        p->i++;
        return fin(p, e);
    case T_PARAM:
        e = cy_expr_new(p, E_PARAM, pos);
        e->name = t->s;
        p->i++;
        return fin(p, e);
    case T_LBRACK: return parse_list_atom(p);
    case T_LBRACE: return cy_parse_map_literal(p);
    case T_LPAREN: {
        cy_pattern_part *pp = try_pattern(p, false);
        if (pp) {
            e = cy_expr_new(p, E_PATTERN, pos);
            e->pat = pp;
            return fin(p, e);
        }
        p->i++;
        e = cy_parse_expr(p);
        if (!e || expect(p, T_RPAREN, "')'"))
            return NULL;
        return e;
    }
    case T_IDENT:
        if (cy_tok_is_kw(t, "true") || cy_tok_is_kw(t, "false")) {
            e = cy_expr_new(p, E_LIT, pos);
            e->lit = cy_bool(cy_tok_is_kw(t, "true"));
            p->i++;
            return fin(p, e);
        }
        if (cy_tok_is_kw(t, "null")) {
            e = cy_expr_new(p, E_LIT, pos);
            p->i++;
            return fin(p, e);
        }
        if (cy_tok_is_kw(t, "CASE"))
            return parse_case(p);
        if ((cy_tok_is_kw(t, "all") || cy_tok_is_kw(t, "any") || cy_tok_is_kw(t, "none") ||
             cy_tok_is_kw(t, "single")) && PEEK(p, 1)->k == T_LPAREN &&
            (PEEK(p, 2)->k == T_IDENT || PEEK(p, 2)->k == T_QIDENT) && cy_tok_is_kw(PEEK(p, 3), "IN")) {
            e = cy_expr_new(p, E_QUANT, pos);
            e->op = cy_tok_is_kw(t, "all") ? Q_ALL : cy_tok_is_kw(t, "any") ? Q_ANY : cy_tok_is_kw(t, "none") ? Q_NONE : Q_SINGLE;
            p->i += 2;
            if (!parse_comprehension_body(p, e, false) || expect(p, T_RPAREN, "')'"))
                return NULL;
            if (!e->b) {
                cy_syntax(p, "expected WHERE in a list predicate");
                return NULL;
            }
            return fin(p, e);
        }
        if (cy_tok_is_kw(t, "reduce") && PEEK(p, 1)->k == T_LPAREN && PEEK(p, 3)->k == T_EQ)
            return parse_reduce(p);
        if ((cy_tok_is_kw(t, "exists") || cy_tok_is_kw(t, "count")) && PEEK(p, 1)->k == T_LBRACE)
            return parse_exists(p, cy_tok_is_kw(t, "count"));
        if (at_call(p))
            return parse_call(p, pos);
        /* fall through: a variable */
        /* FALLTHROUGH */
    case T_QIDENT:
        e = cy_expr_new(p, E_VAR, pos);
        e->name = t->s;
        p->i++;
        fin(p, e);
        if (CUR(p)->k == T_LBRACE && (PEEK(p, 1)->k == T_DOT || PEEK(p, 1)->k == T_RBRACE ||
                                      ((PEEK(p, 1)->k == T_IDENT || PEEK(p, 1)->k == T_QIDENT) &&
                                       (PEEK(p, 2)->k == T_COLON || PEEK(p, 2)->k == T_COMMA || PEEK(p, 2)->k == T_RBRACE))))
            return parse_map_projection(p, e);
        return e;
    default:
        cy_syntax(p, "expected an expression");
        return NULL;
    }
}

/* atom ([index] | [a..b] | .key)* (:Label)* */
static cy_expr *parse_postfix(cy_parser *p)
{
    cy_expr *e = parse_atom(p);
    while (e) {
        if (accept(p, T_DOT)) {
            cy_expr *x = cy_expr_new(p, E_PROP, e->pos);
            x->a = e;
            if (!(x->name = cy_parse_name(p))) {
                cy_syntax(p, "expected a property key");
                return NULL;
            }
            e = fin(p, x);
        } else if (accept(p, T_LBRACK)) {
            cy_expr *from = NULL, *to = NULL;
            if (CUR(p)->k != T_DOTDOT && !(from = cy_parse_expr(p)))
                return NULL;
            if (accept(p, T_DOTDOT)) {
                if (CUR(p)->k != T_RBRACK && !(to = cy_parse_expr(p)))
                    return NULL;
                cy_expr *x = cy_expr_new(p, E_SLICE, e->pos);
                x->a = e;
                x->b = from;
                x->c = to;
                e = x;
            } else {
                cy_expr *x = cy_expr_new(p, E_INDEX, e->pos);
                x->a = e;
                x->b = from;
                e = x;
            }
            if (expect(p, T_RBRACK, "']'"))
                return NULL;
            fin(p, e);
        } else if (CUR(p)->k == T_COLON && (PEEK(p, 1)->k == T_IDENT || PEEK(p, 1)->k == T_QIDENT)) {
            cy_expr *x = cy_expr_new(p, E_HASLABELS, e->pos);
            x->a = e;
            const char *labels[64];
            while (x->nkeys < 64 && accept(p, T_COLON)) {
                if (!(labels[x->nkeys++] = cy_parse_name(p))) {
                    cy_syntax(p, "expected a label name");
                    return NULL;
                }
            }
            x->keys = cy_alloc(&p->q->arena, x->nkeys * sizeof *x->keys);
            cy_memcpy(x->keys, labels, x->nkeys * sizeof *labels);
            e = fin(p, x);
        } else {
            break;
        }
    }
    return e;
}

/* Unary + and -; a minus before a number literal is folded into it. */
static cy_expr *parse_unary(cy_parser *p)
{
    if (++p->depth > CY_MAX_DEPTH) {
        cy_fail(p->q, CUR(p)->pos, "SyntaxError", "NestingTooDeep", "expression nested too deeply (limit %d)", CY_MAX_DEPTH);
        return NULL;
    }
    cy_expr *e;
    int pos = CUR(p)->pos;
    if (CUR(p)->k == T_MINUS || CUR(p)->k == T_PLUS) {
        bool neg = CUR(p)->k == T_MINUS;
        p->i++;
        const cy_tok *t = CUR(p);
        if (neg && t->k == T_INT && !t->int_overflow && PEEK(p, 1)->k != T_CARET && PEEK(p, 1)->k != T_DOT &&
            PEEK(p, 1)->k != T_LBRACK) {
            e = cy_expr_new(p, E_LIT, pos);
            e->lit = cy_int(t->f == 1 ? INT64_MIN : -t->i);
            p->i++;
            e = fin(p, e);
        } else if (neg && t->k == T_FLOAT && PEEK(p, 1)->k != T_CARET) {
            e = cy_expr_new(p, E_LIT, pos);
            e->lit = cy_float(-t->f);
            p->i++;
            e = fin(p, e);
        } else {
            cy_expr *x = parse_unary(p);
            if (!x)
                return NULL;
            e = cy_expr_new(p, neg ? E_NEG : E_POS, pos);
            e->a = x;
            e = fin(p, e);
        }
    } else {
        e = parse_postfix(p);
    }
    p->depth--;
    return e;
}

/* ^ (left-associative, as openCypher specifies). */
static cy_expr *parse_pow(cy_parser *p)
{
    cy_expr *e = parse_unary(p);
    while (e && accept(p, T_CARET)) {
        cy_expr *r = parse_unary(p);
        e = r ? bin(p, B_POW, e, r) : NULL;
    }
    return e;
}

/* * / % */
static cy_expr *parse_mul(cy_parser *p)
{
    cy_expr *e = parse_pow(p);
    while (e) {
        int op = CUR(p)->k == T_STAR ? B_MUL : CUR(p)->k == T_SLASH ? B_DIV : CUR(p)->k == T_PERCENT ? B_MOD : -1;
        if (op < 0)
            break;
        p->i++;
        cy_expr *r = parse_pow(p);
        e = r ? bin(p, op, e, r) : NULL;
    }
    return e;
}

/* + - */
static cy_expr *parse_add(cy_parser *p)
{
    cy_expr *e = parse_mul(p);
    while (e) {
        int op = CUR(p)->k == T_PLUS ? B_ADD : CUR(p)->k == T_MINUS ? B_SUB : -1;
        if (op < 0)
            break;
        p->i++;
        cy_expr *r = parse_mul(p);
        e = r ? bin(p, op, e, r) : NULL;
    }
    return e;
}

/* STARTS WITH / ENDS WITH / CONTAINS / =~ / IN / IS [NOT] NULL */
static cy_expr *parse_strlist(cy_parser *p)
{
    cy_expr *e = parse_add(p);
    while (e) {
        int op = -1;
        if (cy_tok_is_kw(CUR(p), "STARTS") && cy_tok_is_kw(PEEK(p, 1), "WITH")) {
            op = B_STARTS;
            p->i += 2;
        } else if (cy_tok_is_kw(CUR(p), "ENDS") && cy_tok_is_kw(PEEK(p, 1), "WITH")) {
            op = B_ENDS;
            p->i += 2;
        } else if (accept_kw(p, "CONTAINS")) {
            op = B_CONTAINS;
        } else if (accept(p, T_REGEX)) {
            op = B_REGEX;
        } else if (accept_kw(p, "IN")) {
            op = B_IN;
        } else if (cy_tok_is_kw(CUR(p), "IS")) {
            p->i++;
            bool neg = accept_kw(p, "NOT");
            if (!accept_kw(p, "NULL")) {
                cy_syntax(p, "expected NULL");
                return NULL;
            }
            cy_expr *x = cy_expr_new(p, neg ? E_ISNOTNULL : E_ISNULL, e->pos);
            x->a = e;
            e = fin(p, x);
            continue;
        } else {
            break;
        }
        cy_expr *r = parse_add(p);
        e = r ? bin(p, op, e, r) : NULL;
    }
    return e;
}

/* The comparison operator of a token, or -1. */
static int cmp_op(cy_tok_kind k)
{
    switch (k) {
    case T_EQ: return B_EQ;
    case T_NE: return B_NE;
    case T_LT: return B_LT;
    case T_GT: return B_GT;
    case T_LE: return B_LE;
    case T_GE: return B_GE;
    default: return -1;
    }
}

/* a < b < c means a < b AND b < c. */
static cy_expr *parse_cmp(cy_parser *p)
{
    cy_expr *e = parse_strlist(p), *prev = e, *res = NULL;
    while (e) {
        int op = cmp_op(CUR(p)->k);
        if (op < 0)
            break;
        p->i++;
        cy_expr *r = parse_strlist(p);
        if (!r)
            return NULL;
        cy_expr *c = bin(p, op, prev, r);
        res = res ? bin(p, B_AND, res, c) : c;
        prev = r;
    }
    return res ? res : e;
}

/* NOT (nesting bounded). */
static cy_expr *parse_not(cy_parser *p)
{
    if (cy_tok_is_kw(CUR(p), "NOT")) {
        int pos = CUR(p)->pos;
        p->i++;
        if (++p->depth > CY_MAX_DEPTH) {
            cy_fail(p->q, pos, "SyntaxError", "NestingTooDeep", "expression nested too deeply (limit %d)", CY_MAX_DEPTH);
            return NULL;
        }
        cy_expr *x = parse_not(p);
        p->depth--;
        if (!x)
            return NULL;
        cy_expr *e = cy_expr_new(p, E_NOT, pos);
        e->a = x;
        return fin(p, e);
    }
    return parse_cmp(p);
}

/* AND */
static cy_expr *parse_and(cy_parser *p)
{
    cy_expr *e = parse_not(p);
    while (e && accept_kw(p, "AND")) {
        cy_expr *r = parse_not(p);
        e = r ? bin(p, B_AND, e, r) : NULL;
    }
    return e;
}

/* XOR */
static cy_expr *parse_xor(cy_parser *p)
{
    cy_expr *e = parse_and(p);
    while (e && accept_kw(p, "XOR")) {
        cy_expr *r = parse_and(p);
        e = r ? bin(p, B_XOR, e, r) : NULL;
    }
    return e;
}

/* OR, the lowest precedence. */
static cy_expr *parse_or(cy_parser *p)
{
    cy_expr *e = parse_xor(p);
    while (e && accept_kw(p, "OR")) {
        cy_expr *r = parse_xor(p);
        e = r ? bin(p, B_OR, e, r) : NULL;
    }
    return e;
}

/* Entry point; bounded recursion (parenthesised and nested list expressions
 * come back here). */
cy_expr *cy_parse_expr(cy_parser *p)
{
    if (++p->depth > CY_MAX_DEPTH) {
        cy_fail(p->q, CUR(p)->pos, "SyntaxError", "NestingTooDeep", "expression nested too deeply (limit %d)", CY_MAX_DEPTH);
        return NULL;
    }
    cy_expr *e = parse_or(p);
    p->depth--;
    return e;
}
