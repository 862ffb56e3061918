/*
 * tests/unit/store_fixture.h - the cmocka fixture the store tests share: a new
 * database in a fresh temporary directory per test, removed afterwards with
 * its WAL and SHM files; sql_int, one integer read on a store's own
 * connection; and tables_dump, the rows of some tables as one sorted text.
 */
#ifndef DSGRAPH_TEST_STORE_FIXTURE_H
#define DSGRAPH_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

/* The first column of the first row of sql, run on the store's own connection
 * (inside its open transaction, if any); fails the test if there is no row. */
static inline int64_t sql_int(graph_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Orders text lines for qsort (tables_dump). */
static inline int fixture_line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of the given tables (or subqueries), one sorted line per row
 * ("table:col|col|..."), as one text to compare two runs by; the caller frees it. */
static inline char *tables_dump(graph_store *s, const char *const *tables, size_t ntables)
{
    size_t n = 0, cap = 1024, len = 1;
    char **lines = malloc(cap * sizeof *lines);
    for (size_t t = 0; t < ntables; t++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", tables[t]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(graph_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char line[1024];
            int used = snprintf(line, sizeof line, "%s:", tables[t]);
            for (int c = 0; c < sqlite3_column_count(st) && used < (int)sizeof line; c++)
                used += snprintf(line + used, sizeof line - (size_t)used, "%s|",
                                 sqlite3_column_text(st, c) ? (const char *)sqlite3_column_text(st, c) : "NULL");
            if (n == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
            lines[n++] = strdup(line);
            len += strlen(line) + 1;
        }
        sqlite3_finalize(st);
    }
    qsort(lines, n, sizeof *lines, fixture_line_cmp);
    char *out = malloc(len), *o = out;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(lines[i]);
        memcpy(o, lines[i], k);
        o[k] = '\n';
        o += k + 1;
        free(lines[i]);
    }
    *o = '\0';
    free(lines);
    return out;
}

typedef struct fixture {
    char dir[64];
    char path[128];
    graph_store *s;
} fixture;

/* Opens a new store under a fresh /tmp directory; opts may be NULL. */
static inline int fixture_open(void **state, const graph_store_options *opts)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/dsgraph-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/g.db", f->dir);
    gs_error err = {{0}};
    if (graph_store_open(f->path, GS_OPEN_CREATE, opts, &f->s, &err) != GS_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* Closes the store and removes the database, its companions and the directory. */
static inline int fixture_close(void **state)
{
    fixture *f = *state;
    char p[160];
    graph_store_close(f->s);
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Makes path a new database at the older schema version `version` (1 to
 * GRAPH_SCHEMA_VERSION - 1) holding what store s holds, stored as that version
 * stored it: entities (not their search rows); from version 2 imports and
 * every claim as a row (version 4 kept props_implicit; versions 2 and 3 had
 * no implicit claims, so s must have none then). For migration tests:
 * opening path must give back what s shows. */
static inline void fixture_copy_to_old(graph_store *s, const char *path, int version)
{
    gs_error err = {{0}};
    assert_int_equal(graph_store_create_at(path, version, &err), GS_OK);
    const char *claims =
        version >= 4 ? "INSERT INTO old.node_claims SELECT node_id, import_id, created, props_implicit FROM node_claims;"
                       "INSERT INTO old.rel_claims SELECT rel_id, import_id, created, props_implicit FROM rel_claims;"
                       "INSERT INTO old.prop_claim_rows SELECT * FROM prop_claim_rows;"
                     : "INSERT INTO old.node_claims SELECT node_id, import_id, created FROM node_claims;"
                       "INSERT INTO old.rel_claims SELECT rel_id, import_id, created FROM rel_claims;"
                       "INSERT INTO old.prop_claims SELECT * FROM prop_claim_rows;";
    char sql[2048];
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS old;"
             "INSERT INTO old.nodes SELECT * FROM nodes;"
             "INSERT INTO old.node_labels SELECT * FROM node_labels;"
             "INSERT INTO old.aliases(rowid, node_id, alias, alias_key) SELECT rowid, node_id, alias, alias_key FROM aliases;"
             "INSERT INTO old.rels SELECT * FROM rels;"
             "%s%s%s"
             "DETACH old;",
             path, version >= 2 ? "INSERT INTO old.imports SELECT * FROM imports;" : "",
             version >= 2 ? "INSERT INTO old.alias_claims SELECT * FROM alias_claims;" : "", version >= 2 ? claims : "");
    char *msg = NULL;
    int rc = sqlite3_exec(graph_store_db(s), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "fixture_copy_to_old: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

#endif
