/* tests/unit/test_graph_cypher_cases.c - the data-driven Cypher cases: every
 * tests/cypher/NAME.txt file holds cases run against a fresh store each.
 *
 * Case format (one directive per line; '#' lines are comments):
 *   == name                 starts a case
 *   setup: CYPHER           run before the query (repeatable)
 *   param: NAME=JSON        a query parameter (repeatable)
 *   query: CYPHER           the query; following lines starting with "| " continue it
 *   columns: [...]          expected column names
 *   rows: [[...],...]       expected rows, in any order
 *   ordered: [[...],...]    expected rows, in this order
 *   text: [[...]]           expected rows as exact text (for NaN/Infinity)
 *   stats: {...}            expected stats (unlisted counters must be 0)
 *   error: TYPE [CODE]      expected error class and detail code
 * CYPHER_CASE=substring runs only matching cases; failures are listed. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cypher.h"
#include "store.h"
#include "adjacency.h"

typedef struct tcase {
    char name[200], file[128];
    int line;
    char *setup[32];
    int nsetup;
    json_t *params;
    char *query;
    json_t *columns, *rows, *stats;
    bool ordered;
    char *text;
    char err_type[64], err_code[64];
} tcase;

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

static void case_free(tcase *c)
{
    for (int i = 0; i < c->nsetup; i++)
        free(c->setup[i]);
    json_decref(c->params);
    free(c->query);
    json_decref(c->columns);
    json_decref(c->rows);
    json_decref(c->stats);
    free(c->text);
    memset(c, 0, sizeof *c);
}

/* Multiset comparison of rows (json_equal keeps 1 and 1.0 apart). */
static bool rows_match(json_t *want, json_t *got, bool ordered)
{
    if (json_array_size(want) != json_array_size(got))
        return false;
    size_t n = json_array_size(want);
    if (ordered) {
        for (size_t i = 0; i < n; i++)
            if (!json_equal(json_array_get(want, i), json_array_get(got, i)))
                return false;
        return true;
    }
    bool *used = calloc(n + 1, 1);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        size_t j;
        for (j = 0; j < n; j++)
            if (!used[j] && json_equal(json_array_get(want, i), json_array_get(got, j)))
                break;
        if (j == n)
            ok = false;
        else
            used[j] = true;
    }
    free(used);
    return ok;
}

static int failures;

static void report(const tcase *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d %s: ", c->file, c->line, c->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n    query: %s\n", c->query ? c->query : "(none)");
    failures++;
}

/* Compares one run's outcome (status, error, result text) with the case's expectations. */
static bool check_result(tcase *c, gs_status st, const graph_query_error *qe_in, const char *res)
{
    const graph_query_error qe = *qe_in;
    bool ok = true;
    if (c->err_type[0]) {
        if (st == GS_OK) {
            report(c, "expected %s %s, got a result: %s", c->err_type, c->err_code, res);
            ok = false;
        } else if (strcmp(qe.type, c->err_type) != 0 || (c->err_code[0] && strcmp(qe.code, c->err_code) != 0)) {
            report(c, "expected %s %s, got %s %s: %s", c->err_type, c->err_code, qe.type, qe.code, qe.message);
            ok = false;
        }
    } else if (st != GS_OK) {
        report(c, "error %s %s at %d:%d: %s", qe.type, qe.code, qe.line, qe.column, qe.message);
        ok = false;
    } else {
        json_error_t jerr;
        json_t *doc = json_loads(res, 0, &jerr);
        if (c->text) {
            const char *r = strstr(res, "\"rows\":");
            size_t tl = strlen(c->text);
            if (!r || strncmp(r + 7, c->text, tl) != 0 || strncmp(r + 7 + tl, ",\"stats\"", 8) != 0) {
                report(c, "rows text differ: got %s", res);
                ok = false;
            }
        } else if (!doc) {
            report(c, "result is not JSON (%s): %s", jerr.text, res);
            ok = false;
        }
        if (ok && doc && c->columns && !json_equal(c->columns, json_object_get(doc, "columns"))) {
            report(c, "columns differ: got %s", res);
            ok = false;
        }
        if (ok && doc && c->rows && !rows_match(c->rows, json_object_get(doc, "rows"), c->ordered)) {
            report(c, "rows differ: got %s", res);
            ok = false;
        }
        if (ok && doc && c->stats) {
            json_t *got = json_object_get(doc, "stats");
            const char *k;
            json_t *v;
            json_object_foreach(got, k, v) {
                json_t *w = json_object_get(c->stats, k);
                if (json_integer_value(v) != (w ? json_integer_value(w) : 0)) {
                    report(c, "stats differ: got %s", res);
                    ok = false;
                    break;
                }
            }
        }
        json_decref(doc);
    }
    return ok;
}

/* A read-only query runs a second time the way the daemon runs it: on a
 * read-only connection inside a read snapshot, with the adjacency index
 * attached, so the index paths of the matcher (variable-length steps) are
 * checked against the same expectations as the SQLite paths. */
static bool run_with_index(tcase *c, graph_store *s, const char *path, const graph_query_limits *lim)
{
    if (graph_query_writes(c->query))
        return true;
    gs_error gerr;
    graph_adj *adj = graph_adj_new();
    graph_store *r = NULL;
    if (!adj || graph_adj_attach_writer(adj, s, &gerr) != GS_OK ||
        graph_store_open(path, GS_OPEN_READONLY, NULL, &r, &gerr) != GS_OK) {
        report(c, "adjacency setup: %s", gerr.msg);
        graph_adj_detach(s);
        graph_adj_free(adj);
        return false;
    }
    graph_adj_attach_reader(adj, r);
    graph_query_error qe;
    char *res = NULL;
    gs_status st = graph_store_read_begin(r, &gerr);
    if (st == GS_OK)
        st = graph_query(r, c->query, c->params, lim, &res, &qe);
    else
        report(c, "read begin: %s", gerr.msg);
    graph_store_read_end(r);
    char name[sizeof c->name];
    memcpy(name, c->name, sizeof name);
    snprintf(c->name, sizeof c->name, "%.160s [reader with adjacency index]", name);
    bool ok = check_result(c, st, &qe, res);
    free(res);
    res = NULL;
    /* the same text again on the same connection runs from the plan cache */
    uint64_t hits0, hits1, misses;
    graph_query_cache_counts(r, &hits0, &misses);
    if (ok && graph_store_read_begin(r, &gerr) == GS_OK) {
        st = graph_query(r, c->query, c->params, lim, &res, &qe);
        graph_store_read_end(r);
        graph_query_cache_counts(r, &hits1, &misses);
        snprintf(c->name, sizeof c->name, "%.160s [cached plan]", name);
        ok = check_result(c, st, &qe, res);
        /* a compile error is never cached; everything else must have been */
        if (ok && strcmp(qe.phase, "compile") != 0 && hits1 != hits0 + 1) {
            report(c, "the second run did not use the cached plan (hits %llu -> %llu)",
                   (unsigned long long)hits0, (unsigned long long)hits1);
            ok = false;
        }
        free(res);
    }
    memcpy(c->name, name, sizeof name);
    graph_store_close(r);
    graph_adj_detach(s);
    graph_adj_free(adj);
    return ok;
}

/* A write query runs a second time from the plan cache: the graph is emptied,
 * the setup queries run again, and the query must give the same outcome
 * (stats included) with its plan found in the connection's cache. */
static bool rerun_write_cached(tcase *c, graph_store *s, const graph_query_limits *lim)
{
    graph_query_error qe;
    char *res = NULL;
    if (graph_query(s, "MATCH (n) DETACH DELETE n", NULL, NULL, &res, &qe) != GS_OK) {
        report(c, "emptying the graph: %s", qe.message);
        return false;
    }
    free(res);
    for (int i = 0; i < c->nsetup; i++) {
        if (graph_query(s, c->setup[i], NULL, NULL, &res, &qe) != GS_OK) {
            report(c, "setup %d failed on the rerun: %s", i + 1, qe.message);
            return false;
        }
        free(res);
    }
    uint64_t hits0, hits1, misses;
    graph_query_cache_counts(s, &hits0, &misses);
    gs_status st = graph_query(s, c->query, c->params, lim, &res, &qe);
    graph_query_cache_counts(s, &hits1, &misses);
    char name[sizeof c->name];
    memcpy(name, c->name, sizeof name);
    snprintf(c->name, sizeof c->name, "%.160s [cached write plan]", name);
    bool ok = check_result(c, st, &qe, res);
    if (ok && strcmp(qe.phase, "compile") != 0 && hits1 != hits0 + 1) {
        report(c, "the rerun did not use the cached plan");
        ok = false;
    }
    memcpy(c->name, name, sizeof name);
    free(res);
    return ok;
}

static void run_case(tcase *c, const char *dir, int *passed)
{
    char path[256];
    snprintf(path, sizeof path, "%s/case.db", dir);
    unlink(path);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    graph_store *s;
    gs_error gerr;
    if (graph_store_open(path, GS_OPEN_CREATE, NULL, &s, &gerr) != GS_OK) {
        report(c, "open: %s", gerr.msg);
        return;
    }
    graph_query_error qe;
    char *res = NULL;
    for (int i = 0; i < c->nsetup; i++) {
        if (graph_query(s, c->setup[i], NULL, NULL, &res, &qe) != GS_OK) {
            report(c, "setup %d failed: %s %s: %s", i + 1, qe.type, qe.code, qe.message);
            graph_store_close(s);
            return;
        }
        free(res);
    }
    graph_query_limits lim = {.timeout_ms = 20000, .max_rows = 1000000};
    gs_status st = graph_query(s, c->query, c->params, &lim, &res, &qe);
    bool ok = check_result(c, st, &qe, res);
    free(res);
    res = NULL;
    if (ok)
        ok = run_with_index(c, s, path, &lim);
    if (ok && graph_query_writes(c->query))
        ok = rerun_write_cached(c, s, &lim);
    graph_store_close(s);
    if (ok)
        (*passed)++;
}

static json_t *load_json(tcase *c, const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        report(c, "bad JSON in case file (%s): %s", jerr.text, text);
    return j;
}

/* Reads one file, running each case as soon as it is complete. */
static void run_file(const char *path, const char *fname, const char *dir, int *passed, int *total)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    const char *only = getenv("CYPHER_CASE");
    tcase c = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    bool have = false;
    for (;;) {
        len = getline(&line, &cap, f);
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = 0;
        if (len < 0 || strncmp(line, "== ", 3) == 0) {
            if (have && (!only || strstr(c.name, only))) {
                (*total)++;
                if (!c.query)
                    report(&c, "no query");
                else
                    run_case(&c, dir, passed);
            }
            case_free(&c);
            have = false;
            if (len < 0)
                break;
            have = true;
            snprintf(c.name, sizeof c.name, "%s", line + 3);
            snprintf(c.file, sizeof c.file, "%s", fname);
            c.line = lineno;
            continue;
        }
        if (!have || len == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "setup: ", 7) == 0 && c.nsetup < 32)
            c.setup[c.nsetup++] = xstrdup(line + 7);
        else if (strncmp(line, "query: ", 7) == 0)
            c.query = xstrdup(line + 7);
        else if (strncmp(line, "| ", 2) == 0 && c.query) {
            size_t n = strlen(c.query) + strlen(line) + 2;
            char *q = malloc(n);
            snprintf(q, n, "%s\n%s", c.query, line + 2);
            free(c.query);
            c.query = q;
        } else if (strncmp(line, "param: ", 7) == 0) {
            char *eq = strchr(line + 7, '=');
            if (!eq)
                continue;
            *eq = 0;
            if (!c.params)
                c.params = json_object();
            json_t *v = load_json(&c, eq + 1);
            if (v)
                json_object_set_new(c.params, line + 7, v);
        } else if (strncmp(line, "columns: ", 9) == 0)
            c.columns = load_json(&c, line + 9);
        else if (strncmp(line, "rows: ", 6) == 0)
            c.rows = load_json(&c, line + 6);
        else if (strncmp(line, "ordered: ", 9) == 0) {
            c.rows = load_json(&c, line + 9);
            c.ordered = true;
        } else if (strncmp(line, "text: ", 6) == 0)
            c.text = xstrdup(line + 6);
        else if (strncmp(line, "stats: ", 7) == 0)
            c.stats = load_json(&c, line + 7);
        else if (strncmp(line, "error: ", 7) == 0)
            sscanf(line + 7, "%63s %63s", c.err_type, c.err_code);
        else
            report(&c, "unknown directive line %d: %s", lineno, line);
    }
    free(line);
    fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static void test_cases(void **state)
{
    (void)state;
    char dir[] = "/tmp/cypher-cases-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cdir[512];
    snprintf(cdir, sizeof cdir, "%s/tests/cypher", SOURCE_DIR);
    struct dirent **ents;
    int n = scandir(cdir, &ents, NULL, by_name);
    assert_true(n > 0);
    int passed = 0, total = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        size_t l = strlen(nm);
        if (l > 4 && strcmp(nm + l - 4, ".txt") == 0) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", cdir, nm);
            run_file(path, nm, dir, &passed, &total);
        }
        free(ents[i]);
    }
    free(ents);
    char p[600];
    snprintf(p, sizeof p, "%s/case.db", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/case.db-wal", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/case.db-shm", dir);
    unlink(p);
    rmdir(dir);
    fprintf(stderr, "cypher cases: %d of %d passed\n", passed, total);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
