/*
 * graph/cypher_int.h - what the cypher_*.c files share: the arena, values,
 * tokens, the AST, and the per-query context.
 *
 * Memory: everything a query allocates (tokens, AST, values, rows) comes from
 * one arena freed when the query ends, so values are immutable and copied by
 * pointer. Errors: functions return 0 / -1; on -1 q->err is filled (the first
 * error wins).
 */
#ifndef DSGRAPH_GRAPH_CYPHER_INT_H
#define DSGRAPH_GRAPH_CYPHER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cypher.h"
#include "store_internal.h"

#include <string.h>

#define CY_MAX_DEPTH 500   /* nesting of expressions/patterns (parser, checks, evaluator) */
#define CY_MAX_PATH 10000  /* relationships in one variable-length path (DFS recursion) */

/* memcpy that accepts (NULL, 0): empty rows and name lists have NULL arrays. */
static inline void cy_memcpy(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}        /* nesting of expressions/patterns (parser and evaluator) */

/* ---- arena (cypher_value.c) ---- */
typedef struct cy_chunk cy_chunk;
typedef struct cy_arena {
    cy_chunk *head;
    size_t used, cap;
    size_t total;             /* bytes of every chunk: the query's memory (see CY_MAX_MEMORY) */
} cy_arena;
#define CY_MAX_MEMORY ((size_t)1 << 30)   /* a query using more fails with LimitExceeded, unless
                                            * graph_query_limits.max_memory says otherwise */
void *cy_alloc(cy_arena *a, size_t n);  /* zeroed; aborts on OOM like xmalloc */
char *cy_strndup(cy_arena *a, const char *s, size_t n);
void cy_arena_free(cy_arena *a);
/* A point in the arena's life: cy_arena_release frees everything allocated
 * since (marks nest like a stack). For an evaluation whose result holds no
 * pointer into the arena (a predicate's boolean, a count), so that a query
 * testing a pattern per row does not keep every row's intermediate values. */
typedef struct cy_arena_mark { cy_chunk *head; size_t used, cap, total; } cy_arena_mark;
cy_arena_mark cy_arena_mark_now(const cy_arena *a);
void cy_arena_release(cy_arena *a, cy_arena_mark m);

/* ---- values ---- */
typedef enum { CV_NULL, CV_BOOL, CV_INT, CV_FLOAT, CV_STR, CV_LIST, CV_MAP, CV_NODE, CV_REL, CV_PATH,
               CV_TEMPORAL } cv_type;

typedef struct cy_value cy_value;
typedef struct cy_list { size_t n; cy_value *v; } cy_list;
typedef struct cy_map { size_t n; const char **k; cy_value *v; } cy_map;
typedef struct cy_rel { int64_t id, start, end; const char *type; } cy_rel;
/* A path: nodes[0], rels[0], nodes[1], ..., nodes[nrels]. */
typedef struct cy_path { size_t nrels; int64_t *nodes; cy_rel *rels; } cy_path;
/* A temporal value (cypher_temporal.c states the invariants of the fields). */
typedef enum { TK_DATE, TK_LOCALTIME, TK_TIME, TK_LOCALDATETIME, TK_DATETIME, TK_DURATION } cy_tkind;
struct tzdb_zone;
typedef struct cy_temporal {
    cy_tkind kind;
    int32_t offset;           /* TIME, DATETIME: seconds east of UTC */
    const struct tzdb_zone *zone; /* DATETIME: the named zone (graph/tzdb.h) or NULL for an offset alone */
    int64_t days;             /* date part: days from 1970-01-01; DURATION: days */
    int64_t nanos;            /* time of day in ns; DURATION: ns of the second, 0 <= nanos < 1e9 */
    int64_t secs, months;     /* DURATION only */
} cy_temporal;
#define CY_NS_PER_SEC INT64_C(1000000000)
#define CY_NS_PER_DAY INT64_C(86400000000000)

struct cy_value {
    cv_type t;
    union {
        bool b;
        int64_t i;
        double f;
        struct { const char *p; size_t len; } s;   /* NUL-terminated too */
        cy_list *l;
        cy_map *m;
        int64_t node;
        cy_rel *rel;
        cy_path *path;
        const cy_temporal *tm;
    } u;
};

/* ---- errors and the query context ---- */
typedef struct cy_stmts cy_stmts;
typedef struct cy_stats cy_stats;

#define CY_ST_SLOTS 40
#define CY_PLAN_CACHE_ENTRIES 32                 /* compiled plans kept per connection */
#define CY_PLAN_MAX_BYTES ((size_t)256 << 10)    /* a bigger compilation is not kept */

/* The scan page the matcher is on (cypher_prefetch.c): a label (NULL: all nodes),
 * the page's last id and the node of it being matched now (the matcher sets cur
 * before each). Plain data: a nested scan saves and restores it. */
typedef struct cy_scan_page { const char *label; int64_t hi, cur; unsigned fetches; bool set; } cy_scan_page;
struct cy_prefetch;

typedef struct cy_query_ctx {
    cy_arena arena;
    graph_store *store;
    const char *text;          /* the text compiled (a plan's own copy) */
    char *compiled_text;       /* a copy this query owns, when its plan was not kept */
    json_t *params;
    graph_query_error *err;
    bool failed;
    int depth;                 /* evaluator recursion */
    struct timespec started;
    int64_t timeout_ms, max_rows;
    size_t max_memory;         /* the arena's limit (query_memory_limit; CY_MAX_MEMORY by default) */
    unsigned tick;
    sqlite3_stmt **st;         /* CY_ST_SLOTS statements prepared lazily (cypher_store.c, cypher_write.c,
                                * cypher_stats.c): the store cache's, or st_own when it is busy */
    sqlite3_stmt *st_own[CY_ST_SLOTS];
    const char **param_names;  /* $parameters the semantic checks required (cy_note_param) */
    size_t nparam_names, param_cap;
    cy_stats *stats;           /* NULL for read-only queries */
    const cy_value *agg_results; /* aggregate values while projecting a group */
    /* Props of recently read entities (direct-mapped by id): the stored JSON
     * text, and its jansson document once a whole map was asked for, both owned
     * by the cache (freed when replaced and by cy_store_finish), so a property
     * read converts only the value it asks for into the arena. Invariant: an
     * entry is valid only while its gen equals q->gen + 1; every write bumps q->gen. */
    struct { int64_t id; unsigned gen; bool rel; char *text; size_t len; json_t *doc; } pcache[64];
    unsigned gen;
    cy_scan_page scan;         /* the current scan page, and the properties read for it */
    struct cy_prefetch *pf;    /* (cypher_prefetch.c; freed by cy_store_finish) */
    bool profile;
    bool deleted_any;          /* a DELETE ran: reads of entities check they still exist */
    struct cy_buf *prof;       /* PROFILE: JSON rows ["step", rows, ms] appended per clause */
    struct timespec clock;     /* date(), datetime(), ...: read once per query (clock_read) */
    bool clock_read;
} cy_q;

/* Fills q->err (first error wins) and returns -1. pos is a byte offset in the text or -1. */
int cy_fail(cy_q *q, int pos, const char *type, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Runtime-phase error shorthand. */
int cy_rt(cy_q *q, int pos, const char *type, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Checks time limit every so often; -1 when exceeded. */
int cy_check_time(cy_q *q);

/* ---- value helpers (cypher_value.c) ---- */
cy_value cy_null(void);
cy_value cy_bool(bool b);
cy_value cy_int(int64_t i);
cy_value cy_float(double f);
cy_value cy_str(cy_arena *a, const char *s, size_t n);
cy_value cy_str0(cy_arena *a, const char *s);
cy_value cy_list_new(cy_arena *a, size_t n);   /* n null items */
cy_value cy_map_new(cy_arena *a, size_t n);
cy_value cy_node(int64_t id);
const char *cy_type_name(const cy_value *v);
/* Value from JSON (properties, parameters); nested {"$node":..} are plain maps. */
cy_value cy_from_json(cy_arena *a, const json_t *j);
/* JSON for a storable property value; NULL + error for entities, NaN, nested maps. */
json_t *cy_to_json_prop(cy_q *q, const cy_value *v, int pos);
/* Cypher equality: 1 = true, 0 = false, -1 = null (unknown). */
int cy_equals(const cy_value *a, const cy_value *b);
/* Comparison for <, >: sets *cmp; returns false if incomparable (result null). */
bool cy_compare(const cy_value *a, const cy_value *b, int *cmp);
/* Total order of ORDER BY (nulls last ascending). */
int cy_order(const cy_value *a, const cy_value *b);
/* Equivalence key (DISTINCT, grouping): 1 and 1.0 equal, null = null. Appends to buf. */
typedef struct cy_buf { char *p; size_t len, cap; } cy_buf;
void cy_buf_add(cy_buf *b, const char *s, size_t n);
void cy_buf_puts(cy_buf *b, const char *s);
void cy_buf_printf(cy_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cy_key(cy_buf *b, const cy_value *v);
/* Map lookup; NULL if absent. */
const cy_value *cy_map_get(const cy_map *m, const char *k);

/* ---- temporal values (cypher_temporal.c, _text.c, _fn.c, _ops.c; calendar.h) ---- */
static inline bool cy_tk_has_date(cy_tkind k) { return k == TK_DATE || k == TK_LOCALDATETIME || k == TK_DATETIME; }
static inline bool cy_tk_has_time(cy_tkind k) { return k != TK_DATE && k != TK_DURATION; }
static inline bool cy_tk_has_offset(cy_tkind k) { return k == TK_TIME || k == TK_DATETIME; }
cy_value cy_temporal_value(cy_arena *a, const cy_temporal *t);
const char *cy_temporal_type_name(const cy_temporal *t);
const char *cy_temporal_kind_function(cy_tkind k);   /* "date", ..., "duration" */
cy_tkind cy_temporal_kind_named(const char *name);     /* by function name, up to a '.' */
void cy_temporal_text(struct cy_buf *b, const cy_temporal *t);   /* ISO 8601 */
/* Stored form {"$date": "1985-05-06"} and back (false: not a temporal tag or text). */
json_t *cy_temporal_to_json(const cy_temporal *t);
bool cy_temporal_from_tag(cy_arena *a, const char *key, const char *text, size_t len, cy_value *out);
int cy_temporal_parse(cy_arena *a, cy_tkind kind, const char *text, size_t len, cy_value *out);
bool cy_temporal_parse_offset(const char *s, size_t n, int32_t *off);   /* '+01:00', 'Z', ... */
/* A DATETIME in a named zone: its offset for its wall-clock time (prefer: the one to
 * keep in an overlap; a time in a gap moves later by the gap), as zoned values do. */
void cy_temporal_resolve(cy_temporal *t, const int32_t *prefer);
int cy_temporal_equals(const cy_temporal *a, const cy_temporal *b);
bool cy_temporal_compare(const cy_temporal *a, const cy_temporal *b, int *cmp);
int cy_temporal_rank(const cy_temporal *t);     /* 0..5 among the temporal kinds */
int cy_temporal_order(const cy_temporal *a, const cy_temporal *b);
void cy_temporal_key(struct cy_buf *b, const cy_temporal *t);
int cy_temporal_arith(cy_q *q, int op, const cy_value *a, const cy_value *b, int pos, cy_value *out);
bool cy_duration_build(double months, double days, double secs, double nanos, cy_temporal *out);
int cy_duration_approx(cy_q *q, int pos, double months, double days, double secs, double nanos, cy_value *out);
int cy_temporal_property(cy_q *q, const cy_temporal *t, const char *key, int pos, cy_value *out);

/* ---- output (cypher_out.c) ---- */
/* Appends the JSON text of v; entities are read from the store. */
int cy_out_value(cy_q *q, cy_buf *b, const cy_value *v);
void cy_out_string(cy_buf *b, const char *s, size_t n);
/* Stored props text of an entity, with temporal values as their ISO text. */
int cy_out_props_text(cy_q *q, cy_buf *b, const char *text, size_t len);
void cy_out_float(cy_buf *b, double f);

/* ---- tokens (cypher_lex.c) ---- */
typedef enum {
    T_EOF, T_IDENT, T_QIDENT /* `quoted` */, T_INT, T_FLOAT, T_STRING, T_PARAM,
    T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE, T_COMMA, T_DOT, T_DOTDOT,
    T_COLON, T_PIPE, T_SEMI, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_CARET,
    T_EQ, T_NE, T_LT, T_GT, T_LE, T_GE, T_REGEX, T_PLUSEQ, T_DOLLAR
} cy_tok_kind;

typedef struct cy_tok {
    cy_tok_kind k;
    int pos, end;           /* byte offsets in the text */
    const char *s;          /* identifier/string/param text (unescaped), arena */
    size_t slen;
    int64_t i;
    double f;
    bool int_overflow;
} cy_tok;

/* Lexes the whole text; -1 with a SyntaxError. */
int cy_lex(cy_q *q, cy_tok **toks, size_t *ntoks);
/* Line/column (1-based, columns in characters) of a byte offset. */
void cy_position(const char *text, int pos, int *line, int *col);

/* ---- AST (cypher_parse*.c) ---- */
typedef enum {
    E_LIT, E_PARAM, E_VAR, E_PROP, E_HASLABELS, E_INDEX, E_SLICE, E_LIST, E_MAP,
    E_NOT, E_NEG, E_POS, E_BIN, E_ISNULL, E_ISNOTNULL, E_FUNC, E_COUNTSTAR, E_CASE,
    E_LISTCOMP, E_QUANT, E_PATTERN, E_PATCOMP, E_MAPPROJ,
    E_REDUCE,                 /* reduce(name = a, keys[0] IN b | c) */
    E_EXISTS                  /* EXISTS { [MATCH] pat [WHERE b] [RETURN ...] }, or EXISTS { sub };
                               * op CY_SUB_COUNT: COUNT { ... }, the number of matches / rows */
} cy_expr_kind;

typedef enum {
    B_OR, B_XOR, B_AND, B_EQ, B_NE, B_LT, B_GT, B_LE, B_GE, B_ADD, B_SUB, B_MUL, B_DIV, B_MOD, B_POW,
    B_IN, B_STARTS, B_ENDS, B_CONTAINS, B_REGEX
} cy_binop;

typedef enum { Q_ALL, Q_ANY, Q_NONE, Q_SINGLE } cy_quant;

typedef struct cy_expr cy_expr;
#define CY_SUB_COUNT 1            /* E_EXISTS's op for COUNT { } */
typedef struct cy_pattern_part cy_pattern_part;

struct cy_expr {
    cy_expr_kind k;
    int pos, end;             /* source span (column names are the text) */
    int op;                   /* cy_binop / cy_quant */
    const char *name;         /* variable, property key, function name, param name */
    cy_value lit;
    cy_expr *a, *b, *c;       /* operands; CASE: a = subject (may be NULL), c = ELSE */
    cy_expr **args;           /* function args, list items, map values, CASE when/then pairs */
    const char **keys;        /* map keys, labels */
    size_t nargs, nkeys;
    bool distinct;            /* aggregate DISTINCT */
    bool is_agg;              /* E_FUNC that is an aggregate */
    int agg_slot;             /* index into q->agg_results while projecting */
    cy_pattern_part *pat;     /* E_PATTERN / E_PATCOMP; E_EXISTS's pattern in the short form */
    struct cy_single *sub;    /* E_EXISTS: the clauses, when written with them (pat, b: the short form, if it is one) */
};

typedef struct cy_node_pat {
    const char *var;
    const char **labels;
    size_t nlabels;
    cy_expr *props;           /* map literal or parameter, may be NULL */
    int pos;
} cy_node_pat;

typedef enum { DIR_BOTH = 0, DIR_OUT = 1, DIR_IN = 2 } cy_dir;

typedef struct cy_rel_pat {
    const char *var;
    const char **types;
    size_t ntypes;
    cy_dir dir;
    bool varlen;
    int64_t min, max;         /* varlen: max < 0 means unbounded */
    cy_expr *props;
    int pos;
} cy_rel_pat;

struct cy_pattern_part {
    const char *pathvar;
    int shortest;             /* 0, 1 shortestPath, 2 allShortestPaths */
    size_t nrels;
    cy_node_pat *nodes;       /* nrels + 1 */
    cy_rel_pat *rels;
    int pos;
};

typedef struct cy_pattern { size_t n; cy_pattern_part *parts; } cy_pattern;

/* Clauses from C_CREATE on write (graph_query's write detection relies on the order). */
typedef enum {
    C_MATCH, C_UNWIND, C_WITH, C_RETURN, C_CALL, C_CREATE, C_MERGE, C_SET, C_REMOVE, C_DELETE, C_FOREACH
} cy_clause_kind;
#define CY_CLAUSE_NAMES \
    {"Match", "Unwind", "With", "Return", "Call", "Create", "Merge", "Set", "Remove", "Delete", "Foreach"}

typedef struct cy_item { cy_expr *e; const char *alias; bool aliased; } cy_item;
typedef struct cy_sort { cy_expr *e; bool desc; } cy_sort;

typedef enum { SI_PROP, SI_REPLACE, SI_MERGE, SI_LABELS, RI_PROP, RI_LABELS } cy_set_kind;
typedef struct cy_set_item {
    cy_set_kind k;
    cy_expr *target;          /* SI_PROP/RI_PROP: the E_PROP; others: expression of the entity */
    cy_expr *value;
    const char **labels;
    size_t nlabels;
    int pos;
} cy_set_item;

typedef struct cy_clause {
    cy_clause_kind k;
    int pos;
    bool optional, distinct, star, detach;
    cy_pattern pat;
    cy_expr *where, *expr, *skip, *limit;
    const char *var;
    cy_item *items;
    size_t nitems;
    cy_sort *sorts;
    size_t nsorts;
    cy_set_item *sets, *on_create, *on_match;
    size_t nsets, non_create, non_match;
    cy_expr **exprs;          /* DELETE; CALL: the arguments */
    size_t nexprs;
    struct cy_single *body;   /* FOREACH (var IN expr | body): its updating clauses;
                               * CALL { body }: the subquery (then var is NULL) */
    bool no_import;           /* CALL () { }: the body sees no outer variable, even through a first WITH */
} cy_clause;

typedef struct cy_single { cy_clause *cl; size_t n; } cy_single;
typedef struct cy_query {
    cy_single *parts;
    size_t n;
    bool union_all;           /* all UNIONs must agree (checked by the parser) */
    int explain;              /* 1 EXPLAIN, 2 PROFILE */
} cy_query;

int cy_parse(cy_q *q, const cy_tok *toks, size_t ntoks, cy_query **out);
/* Expression parser entry used by the clause parser (cypher_parse_expr.c). */
typedef struct cy_parser {
    cy_q *q;
    const cy_tok *t;
    size_t n, i;
    int depth;
} cy_parser;
cy_expr *cy_parse_expr(cy_parser *p);
cy_expr *cy_parse_map_literal(cy_parser *p);
int cy_parse_pattern_part(cy_parser *p, cy_pattern_part *out, bool allow_pathvar);
bool cy_tok_is_kw(const cy_tok *t, const char *kw);
int cy_syntax(cy_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
cy_expr *cy_expr_new(cy_parser *p, cy_expr_kind k, int pos);
/* Identifier (plain or quoted, keywords allowed) at the cursor, or NULL. */
const char *cy_parse_name(cy_parser *p);

/* ---- semantic checks (cypher_sema.c) ---- */
int cy_sema(cy_q *q, cy_query *qu);

/* ---- shape rules of the semantic checks (cypher_sema_rules.c) ---- */
const cy_expr *cy_misplaced_pattern(const cy_expr *e, bool pred);
const cy_expr *cy_ambiguous_aggregation(const cy_expr *e, const cy_item *items, size_t n);
bool cy_calls_rand(const cy_expr *e);
bool cy_keys_mention(const cy_item *items, size_t n, const char *name);

/* ---- built-in procedures (cypher_call.c) ---- */
/* CALL name(args) [YIELD field [AS var], ... [WHERE ...]]: c->var is the name, c->exprs
 * the arguments, c->items the yielded fields (e: E_VAR naming the field, alias: the
 * variable); without YIELD every output field is yielded under its own name. */
int cy_parse_call(cy_parser *p, cy_clause *c);
/* Does a single query contain a write clause (inside CALL { } too)? */
bool cy_single_writes(const cy_single *s);
/* -1 and InvalidClauseComposition when the current token starts an updating
 * clause (what EXISTS { } and COUNT { } may not hold, as the TCK expects), else 0. */
int cy_refuse_update(cy_parser *p);
/* The clauses of an EXISTS { } subquery, up to its '}' (not consumed); none may update. */
int cy_parse_subquery(cy_parser *p, cy_single *s);
/* Checks the procedure, arguments and YIELD; fills in the implicit YIELD. */
int cy_call_check(cy_q *q, cy_clause *c);

/* ---- plans and statements kept per store (cypher_plan_cache.c) ---- */
typedef struct cy_store_cache cy_store_cache;
typedef struct cy_plan cy_plan;
cy_store_cache *cy_store_cache_of(graph_store *s);
bool cy_store_cache_acquire(cy_store_cache *c);
void cy_store_cache_release(cy_store_cache *c);
sqlite3_stmt **cy_store_cache_stmts(cy_store_cache *c);
const cy_plan *cy_plan_find(cy_store_cache *c, const char *text, json_t *params);
bool cy_plan_keep(cy_store_cache *c, char *text_copy, cy_arena *arena, cy_query *qu, const char **params,
                  size_t nparams);
cy_query *cy_plan_query(const cy_plan *p);
const char *cy_plan_text(const cy_plan *p);
void cy_note_param(cy_q *q, const char *name);
bool cy_is_aggregate_name(const char *name);
bool cy_expr_has_agg(const cy_expr *e);

/* ---- evaluation (cypher_eval.c, cypher_func.c) ---- */
typedef struct cy_env {
    const char **names;
    cy_value *vals;
    size_t n;
    const struct cy_env *up;
} cy_env;
int cy_eval(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out);
/* Three-valued truth of a predicate: 1, 0, -1 null; -2 on error. */
int cy_eval_pred(cy_q *q, const cy_expr *e, const cy_env *env);
const cy_value *cy_env_get(const cy_env *env, const char *name);
int cy_call_function(cy_q *q, const cy_expr *e, cy_value *args, size_t nargs, cy_value *out);
/* date({...}) and the others; base: truncate's truncated value (cypher_temporal_fn.c). */
int cy_temporal_from_map(cy_q *q, const cy_expr *e, cy_tkind kind, const cy_map *map, const cy_temporal *base,
                         cy_value *out);
/* date(), time(), ..., duration() (cypher_temporal_fn.c); date.truncate(), duration.between(),
 * datetime.fromepoch(), date.statement(), ... (cypher_temporal_ops.c). */
int cy_temporal_ops_function(cy_q *q, const cy_expr *e, cy_value *args, size_t nargs, cy_value *out);
int cy_temporal_function(cy_q *q, const cy_expr *e, cy_value *args, size_t nargs, cy_value *out);
bool cy_function_known(const char *name, size_t nargs, bool *arity_ok);
int cy_arith(cy_q *q, int op, const cy_value *a, const cy_value *b, int pos, cy_value *out);

/* ---- store access (cypher_store.c) ---- */
int cy_node_props(cy_q *q, int64_t id, cy_value *out);          /* CV_MAP; {} if gone */
int cy_rel_props(cy_q *q, int64_t id, cy_value *out);
/* One property (null when absent or the entity is gone): only that value is
 * converted into the arena, so `count(m.name)` over a million nodes does not
 * keep a million property maps. */
int cy_node_prop(cy_q *q, int64_t id, const char *key, cy_value *out);
int cy_rel_prop(cy_q *q, int64_t id, const char *key, cy_value *out);
int cy_node_labels(cy_q *q, int64_t id, cy_value *out);         /* CV_LIST of strings */
/* EntityNotFound/DeletedEntityAccess when a node/rel value was deleted earlier in the query. */
int cy_check_alive(cy_q *q, const cy_value *ent, int pos);
int cy_node_has_label(cy_q *q, int64_t id, const char *label, bool *yes);
bool cy_node_exists(cy_q *q, int64_t id);
bool cy_rel_exists(cy_q *q, int64_t id);
/* Node ids: all (label NULL) or by label, a page of at most `page` ids greater
 * than `after` in id order; by exact name via the name_key index. The array is
 * malloc'd (NULL when empty or on error), freed by the caller: a scan per row
 * (`UNWIND ... MATCH (n:L {k: x})`) must not keep a copy of the label's ids in
 * the arena for every row. Pages let a match that stops early (a full LIMIT,
 * EXISTS) read only the start of a big label. */
int cy_scan_nodes(cy_q *q, const char *label, int64_t after, size_t page, int64_t **ids, size_t *n);
int cy_scan_name(cy_q *q, const char *name, int64_t **ids, size_t *n);
/* Relationships touching node (dir from its point of view), optional type. */
int cy_expand(cy_q *q, int64_t node, cy_dir dir, const char *type, cy_rel **rels, size_t *n);
/* How many relationships cy_expand would give (type NULL: any), counting no
 * further than cap (per direction): the matcher's choice of a part's end. */
int cy_degree(cy_q *q, int64_t node, cy_dir dir, const char *type, int64_t cap, int64_t *out);
int cy_scan_rels(cy_q *q, cy_rel **rels, size_t *n);
int cy_rel_load(cy_q *q, int64_t id, cy_rel *out);
void cy_store_finish(cy_q *q);
#define CY_ST_FIRST_FREE 19   /* slots below are cypher_store.c's */
int cy_out_node_body(cy_q *q, int64_t id, cy_buf *b);
int cy_out_rel_props(cy_q *q, int64_t id, cy_buf *b);
sqlite3_stmt *cy_stmt_sql(cy_q *q, int slot, const char *sql);
/* A JSON value's text (one member of a props text) as a value in the arena. */
int cy_value_from_json_text(cy_q *q, const char *t, size_t n, cy_value *out);

/* ---- a scan page's properties (cypher_prefetch.c) ---- */
/* The matcher moved to a new scan page, whose last id is `last`. */
void cy_scan_page_set(cy_q *q, const char *label, int64_t last);
/* Node id's property key (`path`: its SQLite JSON path) from the scan page's
 * column of key: 0 with *out set, 1 when it must be read the ordinary way. */
int cy_prefetch_prop(cy_q *q, int64_t id, const char *key, const char *path, int pathlen, cy_value *out);
/* The same for relationship id, from a column read ahead while the reads come
 * in ascending id order. */
int cy_prefetch_rel_prop(cy_q *q, int64_t id, const char *key, const char *path, int pathlen, cy_value *out);
void cy_prefetch_free(cy_q *q);

/* ---- reachability over the adjacency index (cypher_reach.c) ---- */
/* Open-addressing set of node ids (a breadth-first search's visited set); zero
 * it to start, free(v) to end. */
typedef struct cy_idset { int64_t *v; size_t cap, n; } cy_idset;
bool cy_idset_add(cy_idset *s, int64_t id);   /* false: id was there already */
/* The end nodes a reachability step rp reaches from start, each once, in
 * breadth-first order, walked in the in-memory adjacency index instead of one
 * SQLite statement per node: *emit malloc'd. Usable only when the index is
 * exactly this read's snapshot (graph_adj_begin), the step names its types (the
 * index cannot list "every type") and has no property map; the caller also
 * keeps it for matches that use no relationship yet. *labels_done: the end
 * pattern's labels were checked too (emit holds only nodes that have them).
 * 1: not usable (walk SQLite); 0; -1 on error (a timeout). */
int cy_reach_index(cy_q *q, const cy_rel_pat *rp, const cy_node_pat *end, int64_t start, int64_t **emit, size_t *nemit,
                   bool *labels_done);

/* ---- pattern matching (cypher_match.c) ---- */
typedef int (*cy_match_cb)(cy_q *q, void *arg, const cy_env *env);
/* Calls cb for every match of pat over env's bindings; new variables are bound in
 * the env passed to cb (names listed by cy_pattern_vars). */
int cy_match(cy_q *q, const cy_pattern *pat, const cy_env *env, cy_match_cb cb, void *arg);
int cy_match_ex(cy_q *q, const cy_pattern *pat, const cy_env *env, bool reach, cy_match_cb cb, void *arg);
bool cy_match_reach_ok(const cy_pattern *pat);
/* Which end a part starts from (cypher_match_order.c): the part written the
 * other way round (relationships reversed, directions flipped; one malloc'd
 * block, free() it) when its last node is bound or found by name and its first
 * only by a scan, or, when both are, a one-relationship part whose last node
 * has fewer candidate relationships; else NULL. The matcher answers: */
typedef struct cy_part_probe {
    bool (*bound)(void *arg, const char *var);   /* is var bound when the part starts? */
    /* Candidate relationships of the node np finds (bound or by name) for rp
     * taken in direction dir, counted up to cap; -1: unknown (error, or more
     * than one node has the name). */
    int64_t (*degree)(void *arg, const cy_node_pat *np, const cy_rel_pat *rp, cy_dir dir, int64_t cap);
    void *arg;
} cy_part_probe;
cy_pattern_part *cy_part_reversed(const cy_pattern_part *pp, const cy_part_probe *probe);
/* Variables the pattern binds that env does not hold yet, in order. */
size_t cy_pattern_vars(cy_arena *a, const cy_pattern *pat, const cy_env *env, const char ***out);

/* ---- execution (cypher_exec.c, cypher_project.c, cypher_write.c) ---- */
typedef struct cy_rows {
    const char **names;
    size_t ncols;
    cy_value **rows;
    size_t n, cap;
} cy_rows;
/* Output columns: the input's plus extra names / plus a pattern's new variables (cypher_exec.c). */
void cy_rows_extend(cy_q *q, const cy_rows *in, const char *const *extra, size_t nextra, cy_rows *out);
void cy_rows_extend_pattern(cy_q *q, const cy_rows *in, const cy_pattern *pat, cy_rows *out);
/* Runs a CALL clause (cypher_call.c). */
int cy_run_call(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out);
int cy_rows_add(cy_q *q, cy_rows *r, cy_value *row);
int cy_run_query(cy_q *q, cy_query *qu, cy_rows *out);
/* Runs an EXISTS / COUNT subquery under env's variables; *rows: how many it produced. */
int cy_run_subquery(cy_q *q, const cy_single *s, const cy_env *env, int64_t *rows);
int cy_project(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out);
/* Incremental projection: an aggregating WITH/RETURN, or a windowed one,
 * consumes the rows of the clause before it as they are produced, without
 * materialising them. */
typedef struct cy_proj cy_proj;
cy_proj *cy_proj_begin(cy_q *q, const cy_clause *c, const char **names, size_t ncols);
bool cy_proj_aggregates(const cy_proj *st);
/* True for a WITH/RETURN with SKIP or LIMIT and no aggregate (and, with ORDER
 * BY, a LIMIT and no DISTINCT): without ORDER BY it keeps the first rows (the
 * first new rows, with DISTINCT) it is given, so cy_proj_row projects only what
 * it needs and says when it has all it will keep; with ORDER BY it keeps the
 * SKIP + LIMIT best rows seen so far (a top-k). */
bool cy_proj_windowed(const cy_clause *c);
/* True when cy_proj_row copies the input rows it keeps (so the producer may
 * pass scratch memory): an aggregation, a top-k or a DISTINCT window. */
bool cy_proj_copies_rows(const cy_proj *st);
/* True when duplicate input rows cannot change the result (every aggregate is
 * DISTINCT, min or max), so a MATCH may drop them. */
bool cy_proj_duplicate_free(const cy_proj *st);
/* 0, -1 on error, or 1 when the projection is a full window (or a LIMIT 0
 * top-k): the producer may stop (the row given was kept if it fitted). */
int cy_proj_row(cy_q *q, cy_proj *st, cy_value *row);
int cy_proj_end(cy_q *q, cy_proj *st, cy_rows *out);   /* frees st */
void cy_proj_abort(cy_proj *st);
int cy_write_clause(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out);

/* ---- stats (cypher_stats.c) ---- */
int cy_stats_begin(cy_q *q);
int cy_touch_node(cy_q *q, int64_t id, bool created);
int cy_touch_rel(cy_q *q, int64_t id, bool created);
int cy_touch_label(cy_q *q, const char *label);
int cy_stats_finish(cy_q *q, cy_buf *b);
void cy_stats_free(cy_q *q);

#endif
