/* graph/cypher_parse_pattern.c - node, relationship and path patterns:
 * (v:L1:L2 {k: v}), -[r:T1|T2*1..3 {k: v}]->, p = shortestPath(...). */
#include "cypher_int.h"

#include <string.h>

#define CUR(p) (&(p)->t[(p)->i])
#define PEEK(p, k) (&(p)->t[(p)->i + (k) < (p)->n ? (p)->i + (k) : (p)->n - 1])

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

/* Closes an expression's source span at the last consumed token. */
static cy_expr *fin(cy_parser *p, cy_expr *e)
{
    if (e && p->i > 0)
        e->end = p->t[p->i - 1].end;
    return e;
}

/* Properties of a node/relationship pattern: a map literal or a parameter. */
static int parse_pattern_props(cy_parser *p, cy_expr **out)
{
    *out = NULL;
    if (CUR(p)->k == T_LBRACE)
        return (*out = cy_parse_map_literal(p)) ? 0 : -1;
    if (CUR(p)->k == T_PARAM) {
        cy_expr *e = cy_expr_new(p, E_PARAM, CUR(p)->pos);
        e->name = CUR(p)->s;
        p->i++;
        *out = fin(p, e);
    }
    return 0;
}

/* (var:Label {props}) */
static int parse_node_pat(cy_parser *p, cy_node_pat *n)
{
    memset(n, 0, sizeof *n);
    n->pos = CUR(p)->pos;
    if (expect(p, T_LPAREN, "'('"))
        return -1;
    n->var = cy_parse_name(p);
    const char *labels[64];
    while (accept(p, T_COLON)) {
        const char *l = cy_parse_name(p);
        if (!l)
            return cy_syntax(p, "expected a label name");
        if (n->nlabels == 64)
            return cy_syntax(p, "too many labels");
        labels[n->nlabels++] = l;
    }
    if (n->nlabels) {
        n->labels = cy_alloc(&p->q->arena, n->nlabels * sizeof *n->labels);
        cy_memcpy(n->labels, labels, n->nlabels * sizeof *labels);
    }
    if (parse_pattern_props(p, &n->props))
        return -1;
    return expect(p, T_RPAREN, "')'");
}

/* Variable length: '*' [min] ['..' [max]]. */
static int parse_range(cy_parser *p, cy_rel_pat *r)
{
    r->varlen = true;
    r->min = 1;
    r->max = -1;
    if (CUR(p)->k == T_INT) {
        r->min = r->max = CUR(p)->i;
        p->i++;
    }
    if (accept(p, T_DOTDOT)) {
        if (CUR(p)->k == T_INT) {
            r->max = CUR(p)->i;
            p->i++;
        } else {
            r->max = -1;
        }
    }
    return 0;
}

/* -[var:T1|T2*range {props}]-> in any direction. */
static int parse_rel_pat(cy_parser *p, cy_rel_pat *r)
{
    memset(r, 0, sizeof *r);
    r->pos = CUR(p)->pos;
    bool left = false, right = false;
    if (CUR(p)->k == T_LT && PEEK(p, 1)->k == T_MINUS) {
        left = true;
        p->i += 2;
    } else if (!accept(p, T_MINUS)) {
        return cy_syntax(p, "expected a relationship pattern");
    }
    if (accept(p, T_LBRACK)) {
        r->var = cy_parse_name(p);
        const char *types[64];
        if (accept(p, T_COLON)) {
            do {
                accept(p, T_COLON);
                const char *t = cy_parse_name(p);
                if (!t)
                    return cy_syntax(p, "expected a relationship type");
                if (r->ntypes == 64)
                    return cy_syntax(p, "too many relationship types");
                types[r->ntypes++] = t;
            } while (accept(p, T_PIPE));
        }
        if (r->ntypes) {
            r->types = cy_alloc(&p->q->arena, r->ntypes * sizeof *r->types);
            cy_memcpy(r->types, types, r->ntypes * sizeof *types);
        }
        if (accept(p, T_STAR) && parse_range(p, r))
            return -1;
        /* `[:T..]` (no '*') and `[:T*-2]` (a negative bound) */
        if (CUR(p)->k == T_DOTDOT || (r->varlen && CUR(p)->k == T_MINUS && PEEK(p, 1)->k == T_INT))
            return cy_fail(p->q, CUR(p)->pos, "SyntaxError", "InvalidRelationshipPattern",
                           "a variable-length relationship is written [:T*], [:T*2], [:T*1..3] or [:T*..5], with bounds >= 0");
        if (parse_pattern_props(p, &r->props))
            return -1;
        if (expect(p, T_RBRACK, "']'"))
            return -1;
    }
    if (expect(p, T_MINUS, "'-'"))
        return -1;
    if (accept(p, T_GT))
        right = true;
    if (left && right)
        r->dir = DIR_BOTH;
    else
        r->dir = left ? DIR_IN : right ? DIR_OUT : DIR_BOTH;
    return 0;
}

/* Does a relationship pattern (- or <-) start here? */
static bool at_rel_start(cy_parser *p)
{
    return CUR(p)->k == T_MINUS || (CUR(p)->k == T_LT && PEEK(p, 1)->k == T_MINUS);
}

/* [var =] [shortestPath|allShortestPaths] ( node (rel node)* ) */
int cy_parse_pattern_part(cy_parser *p, cy_pattern_part *out, bool allow_pathvar)
{
    memset(out, 0, sizeof *out);
    out->pos = CUR(p)->pos;
    if (allow_pathvar && (CUR(p)->k == T_IDENT || CUR(p)->k == T_QIDENT) && PEEK(p, 1)->k == T_EQ) {
        out->pathvar = CUR(p)->s;
        p->i += 2;
    }
    bool wrapped = false;
    if ((cy_tok_is_kw(CUR(p), "shortestPath") || cy_tok_is_kw(CUR(p), "allShortestPaths")) &&
        PEEK(p, 1)->k == T_LPAREN) {
        out->shortest = cy_tok_is_kw(CUR(p), "shortestPath") ? 1 : 2;
        p->i += 2;
        wrapped = true;
    }
    cy_node_pat nodes[256];
    cy_rel_pat rels[256];
    size_t nr = 0;
    if (parse_node_pat(p, &nodes[0]))
        return -1;
    while (at_rel_start(p)) {
        if (nr == 255)
            return cy_syntax(p, "pattern too long");
        if (parse_rel_pat(p, &rels[nr]) || parse_node_pat(p, &nodes[nr + 1]))
            return -1;
        nr++;
    }
    if (wrapped && expect(p, T_RPAREN, "')'"))
        return -1;
    out->nrels = nr;
    out->nodes = cy_alloc(&p->q->arena, (nr + 1) * sizeof *out->nodes);
    cy_memcpy(out->nodes, nodes, (nr + 1) * sizeof *nodes);
    out->rels = cy_alloc(&p->q->arena, (nr ? nr : 1) * sizeof *out->rels);
    if (nr)
        cy_memcpy(out->rels, rels, nr * sizeof *rels);
    return 0;
}

