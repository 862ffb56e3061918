/* graph/cypher_query.c - graph_query(): lex, parse, check, run, encode; the
 * error plumbing (cy_fail/cy_rt), limits, EXPLAIN/PROFILE and the write detector. */
#include "cypher_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Fills the query error once (the first error wins) with its position. */
static int fail_v(cy_q *q, int pos, const char *phase, const char *type, const char *code, const char *fmt, va_list ap)
{
    if (q->failed)
        return -1;
    q->failed = true;
    graph_query_error *e = q->err;
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->phase, sizeof e->phase, "%s", phase);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    if (pos >= 0)
        cy_position(q->text, pos, &e->line, &e->column);
    else
        e->line = e->column = 0;
    e->status = strcmp(type, "LimitExceeded") == 0 ? GS_LIMIT : strcmp(type, "ReadOnly") == 0 ? GS_READONLY
                : strcmp(type, "InternalError") == 0 ? GS_IO : GS_INVALID;
    return -1;
}

/* A compile-phase error. */
int cy_fail(cy_q *q, int pos, const char *type, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(q, pos, "compile", type, code, fmt, ap);
    va_end(ap);
    return -1;
}

/* A runtime-phase error. */
int cy_rt(cy_q *q, int pos, const char *type, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(q, pos, "runtime", type, code, fmt, ap);
    va_end(ap);
    return -1;
}

/* Called from loops: the memory cap every time, the clock every 256 calls. */
int cy_check_time(cy_q *q)
{
    if (q->failed)
        return -1;
    if (q->arena.total > q->max_memory)
        return cy_rt(q, -1, "LimitExceeded", "MemoryLimit",
                     "the query needs more than %zu bytes of memory (query_memory_limit)", q->max_memory);
    if (q->timeout_ms <= 0 || (++q->tick & 255))
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (now.tv_sec - q->started.tv_sec) * 1000 + (now.tv_nsec - q->started.tv_nsec) / 1000000;
    if (ms > q->timeout_ms)
        return cy_rt(q, -1, "LimitExceeded", "Timeout", "the query ran longer than %lld ms (query_timeout_ms)",
                     (long long)q->timeout_ms);
    return 0;
}

/* Case-insensitive keyword comparison for the write detector. */
static bool is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* Conservative: any write keyword as a word outside strings, comments, quoted
 * names, property keys (after '.') and labels (after ':'). */
bool graph_query_writes(const char *text)
{
    const char *s = text;
    char prev = 0;
    while (*s) {
        if (*s == '\'' || *s == '"' || *s == '`') {
            char qc = *s++;
            while (*s && *s != qc) {
                if (*s == '\\' && qc != '`' && s[1])
                    s++;
                s++;
            }
            if (*s)
                s++;
            prev = 'x';
            continue;
        }
        if (s[0] == '/' && s[1] == '/') {
            while (*s && *s != '\n')
                s++;
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            s = e ? e + 2 : s + strlen(s);
            continue;
        }
        if (isalpha((unsigned char)*s) || *s == '_') {
            const char *b = s;
            while (isalnum((unsigned char)*s) || *s == '_')
                s++;
            size_t n = (size_t)(s - b);
            if (prev != '.' && prev != ':' && prev != '$' &&
                (is_word(b, n, "CREATE") || is_word(b, n, "MERGE") || is_word(b, n, "SET") || is_word(b, n, "DELETE") ||
                 is_word(b, n, "REMOVE") || is_word(b, n, "DETACH")))
                return true;
            prev = 'x';
            continue;
        }
        if (!isspace((unsigned char)*s))
            prev = *s;
        s++;
    }
    return false;
}

/* Does the parsed query contain a write clause? */
static bool query_writes(const cy_query *qu)
{
    for (size_t i = 0; i < qu->n; i++)
        if (cy_single_writes(&qu->parts[i]))
            return true;
    return false;
}

/* EXPLAIN: one row per clause with the access path the matcher will take. */
static void explain(cy_q *q, const cy_query *qu, cy_buf *b)
{
    static const char *names[] = CY_CLAUSE_NAMES;
    cy_buf_puts(b, "{\"columns\":[\"plan\"],\"rows\":[");
    bool first = true;
    for (size_t i = 0; i < qu->n; i++) {
        if (i) {
            cy_buf_puts(b, first ? "" : ",");
            cy_buf_puts(b, qu->union_all ? "[\"UnionAll\"]" : "[\"Union\"]");
            first = false;
        }
        for (size_t j = 0; j < qu->parts[i].n; j++) {
            const cy_clause *c = &qu->parts[i].cl[j];
            cy_buf line = {0};
            cy_buf_printf(&line, "%s%s", c->optional ? "Optional" : "", names[c->k]);
            if (c->k == C_MATCH || c->k == C_MERGE)
                for (size_t p = 0; p < c->pat.n; p++) {
                    const cy_node_pat *np = &c->pat.parts[p].nodes[0];
                    bool by_name = false;
                    if (np->props && np->props->k == E_MAP)
                        for (size_t k = 0; k < np->props->nkeys; k++)
                            by_name |= strcmp(np->props->keys[k], "name") == 0;
                    cy_buf_printf(&line, " | start %s: %s", np->var ? np->var : "(anon)",
                                  by_name ? "NodeByNameKey" : np->nlabels ? "NodeByLabelScan" : "AllNodesScan");
                    if (c->pat.parts[p].nrels)
                        cy_buf_printf(&line, ", Expand x%zu", c->pat.parts[p].nrels);
                }
            if (c->where)
                cy_buf_puts(&line, " | Filter");
            if (!first)
                cy_buf_puts(b, ",");
            first = false;
            cy_buf_puts(b, "[");
            cy_out_string(b, line.p, line.len);
            cy_buf_puts(b, "]");
            free(line.p);
        }
    }
    cy_buf_puts(b, "],");
    cy_stats_finish(q, b);
    cy_buf_puts(b, "}");
}

/* The result object: columns, rows, stats. */
static int encode(cy_q *q, const cy_rows *rows, cy_buf *b)
{
    cy_buf_puts(b, "{\"columns\":[");
    for (size_t i = 0; i < rows->ncols; i++) {
        if (i)
            cy_buf_puts(b, ",");
        cy_out_string(b, rows->names[i], strlen(rows->names[i]));
    }
    cy_buf_puts(b, "],\"rows\":[");
    for (size_t r = 0; r < rows->n; r++) {
        cy_buf_puts(b, r ? ",[" : "[");
        for (size_t i = 0; i < rows->ncols; i++) {
            if (i)
                cy_buf_puts(b, ",");
            if (cy_out_value(q, b, &rows->rows[r][i]))
                return -1;
        }
        cy_buf_puts(b, "]");
    }
    cy_buf_puts(b, "],");
    cy_stats_finish(q, b);
    cy_buf_puts(b, "}");
    return 0;
}

/* See cypher.h: lex, parse, check, run (in a transaction when it writes), encode. */
gs_status graph_query(graph_store *s, const char *text, json_t *params, const graph_query_limits *limits,
                      char **result_json, graph_query_error *err)
{
    cy_q q = {.store = s, .text = text, .params = params, .err = err, .max_memory = CY_MAX_MEMORY};
    memset(err, 0, sizeof *err);
    *result_json = NULL;
    clock_gettime(CLOCK_MONOTONIC, &q.started);
    if (limits) {
        q.timeout_ms = limits->timeout_ms;
        q.max_rows = limits->max_rows;
        if (limits->max_memory > 0)
            q.max_memory = (size_t)limits->max_memory;
    }
    bool own_tx = false;
    cy_buf out = {0};
    cy_tok *toks;
    size_t ntoks;
    cy_query *qu = NULL;
    int rc = -1;
    cy_store_cache *cache = cy_store_cache_of(s);
    bool cached = cy_store_cache_acquire(cache);
    q.st = cached ? cy_store_cache_stmts(cache) : q.st_own;
    if (params && !json_is_object(params)) {
        cy_fail(&q, -1, "ArgumentError", "InvalidParameters", "params must be a JSON object");
        goto done;
    }
    const cy_plan *plan = cached ? cy_plan_find(cache, text, params) : NULL;
    if (plan) {
        qu = cy_plan_query(plan);
        q.text = cy_plan_text(plan);
    } else {
        /* compile a private copy of the text: the plan may be kept (cypher_plan_cache.c) */
        char *copy = strdup(text);
        if (!copy) {
            cy_rt(&q, -1, "InternalError", "", "out of memory");
            goto done;
        }
        q.text = copy;
        if (cy_lex(&q, &toks, &ntoks) || cy_parse(&q, toks, ntoks, &qu) || cy_sema(&q, qu)) {
            q.text = text;
            free(copy);
            goto done;
        }
        if (!cached || !cy_plan_keep(cache, copy, &q.arena, qu, q.param_names, q.nparam_names))
            q.compiled_text = copy;    /* freed at the end of this query */
    }
    if (qu->explain == 1) {
        explain(&q, qu, &out);
        rc = 0;
        goto done;
    }
    if (query_writes(qu)) {
        if (s->readonly) {
            cy_rt(&q, qu->parts[0].cl[0].pos, "ReadOnly", "", "this query writes but the connection is read-only");
            goto done;
        }
        if (!s->in_tx) {
            gs_error gerr;
            if (graph_store_begin(s, &gerr) != GS_OK) {
                cy_rt(&q, -1, "InternalError", "", "%s", gerr.msg);
                goto done;
            }
            own_tx = true;
        }
        cy_stats_begin(&q);
    }
    cy_rows rows;
    cy_buf prof = {0};
    if (qu->explain == 2)
        q.prof = &prof;
    if (cy_run_query(&q, qu, &rows)) {
        free(prof.p);
        goto done;
    }
    if (qu->explain == 2) {
        /* one row per clause: its name, the rows it produced, its time */
        cy_buf_puts(&out, "{\"columns\":[\"step\",\"rows\",\"ms\"],\"rows\":[");
        cy_buf_add(&out, prof.p ? prof.p : "", prof.len);
        cy_buf_puts(&out, "],");
        free(prof.p);
        cy_stats_finish(&q, &out);
        cy_buf_puts(&out, "}");
    } else if (encode(&q, &rows, &out)) {
        goto done;
    }
    rc = 0;
done:
    if (own_tx) {
        gs_error gerr;
        if (rc == 0 && graph_store_commit(s, &gerr) != GS_OK) {
            cy_rt(&q, -1, "InternalError", "", "%s", gerr.msg);
            rc = -1;
        }
        if (rc != 0)
            graph_store_rollback(s);
    }
    cy_stats_free(&q);
    cy_store_finish(&q);
    if (cached)
        cy_store_cache_release(cache);
    cy_arena_free(&q.arena);
    free(q.compiled_text);
    if (rc != 0) {
        free(out.p);
        return err->status ? err->status : GS_INVALID;
    }
    *result_json = out.p;
    return GS_OK;
}
