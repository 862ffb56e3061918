/*
 * tests/unit/test_store_open.c - graph/ opening: schema creation, re-open,
 * newer schema refused without touching the file, read-only stores, foreign
 * databases, connection settings, checkpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

/* Builds "<db path><suffix>". */
static void companion(const fixture *f, const char *suffix, char *out, size_t n) {
    snprintf(out, n, "%s%s", f->path, suffix);
}

static bool exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dsgraph-test-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/g.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char p[160];
    unlink(f->path);
    companion(f, "-wal", p, sizeof p);
    unlink(p);
    companion(f, "-shm", p, sizeof p);
    unlink(p);
    companion(f, "-journal", p, sizeof p);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Whole file into memory, for byte-exact comparisons. */
static char *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* A database made by plain SQLite (rollback journal), with a given user_version. */
static void make_foreign_db(const char *path, int version) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[200];
    snprintf(sql, sizeof sql,
             "CREATE TABLE future(x); INSERT INTO future VALUES (1), (2); PRAGMA user_version = %d;", version);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t sql_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* graph_store_open turns SQLite's memory statistics off (a global mutex per
 * allocation otherwise). Runs first: only the process's first SQLite use can. */
static void test_memory_statistics_off(void **state) {
    fixture *f = *state;
    graph_store *s = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_store_open(f->path, GS_OPEN_CREATE, NULL, &s, &err), GS_OK);
    const char *labels[] = {"Model"};
    int64_t id = 0;
    assert_int_equal(graph_node_put(s, labels, 1, "Counted", NULL, NULL, &id, NULL, &err), GS_OK);
    assert_int_equal(sql_int(graph_store_db(s), "SELECT count(*) FROM nodes"), 1);
    sqlite3_int64 used = -1, peak = -1;
    assert_int_equal(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &peak, 0), SQLITE_OK);
    assert_int_equal(used, 0);   /* with statistics on, SQLite holds well over 0 bytes here */
    assert_int_equal(peak, 0);
    graph_store_close(s);
}

static void test_newer_schema_refused_untouched(void **state) {
    fixture *f = *state;
    make_foreign_db(f->path, GRAPH_SCHEMA_VERSION + 1);
    struct stat before, after;
    assert_int_equal(stat(f->path, &before), 0);
    size_t n0 = 0, n1 = 0;
    char *bytes0 = slurp(f->path, &n0);
    sleep(1);   /* make an mtime change visible even on coarse clocks */

    const int modes[] = {GS_OPEN_CREATE, 0, GS_OPEN_READONLY};
    for (size_t i = 0; i < 3; i++) {
        graph_store *s = (graph_store *)1;
        gs_error err = {{0}};
        assert_int_equal(graph_store_open(f->path, modes[i], NULL, &s, &err), GS_SCHEMA_NEWER);
        assert_null(s);
        char want[300];
        snprintf(want, sizeof want,
                 "database %s was written by dsgraph schema version %d; this dsgraphd understands up to %d; "
                 "it was not modified", f->path, GRAPH_SCHEMA_VERSION + 1, GRAPH_SCHEMA_VERSION);
        assert_string_equal(err.msg, want);
    }
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    char *bytes1 = slurp(f->path, &n1);
    assert_int_equal(n1, n0);
    assert_memory_equal(bytes0, bytes1, n0);
    char p[160];
    companion(f, "-wal", p, sizeof p);
    assert_false(exists(p));
    companion(f, "-shm", p, sizeof p);
    assert_false(exists(p));
    free(bytes0);
    free(bytes1);
}

static void test_create_then_reopen(void **state) {
    fixture *f = *state;
    graph_store *s = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_store_open(f->path, GS_OPEN_CREATE, NULL, &s, &err), GS_OK);
    assert_true(graph_store_was_created(s));
    sqlite3 *db = graph_store_db(s);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), GRAPH_SCHEMA_VERSION);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                 "('nodes','node_labels','aliases','rels','node_fts')"), 5);
    assert_int_equal(sql_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(sql_int(db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    assert_int_equal(sql_int(db, "PRAGMA synchronous"), 1);   /* NORMAL */
    const char *labels[] = {"Model"};
    int64_t id = 0;
    assert_int_equal(graph_node_put(s, labels, 1, "Kept", NULL, NULL, &id, NULL, &err), GS_OK);
    graph_store_close(s);

    for (int round = 0; round < 2; round++) {
        assert_int_equal(graph_store_open(f->path, round ? 0 : GS_OPEN_CREATE, NULL, &s, &err), GS_OK);
        assert_false(graph_store_was_created(s));
        int64_t found = 0;
        assert_int_equal(graph_node_find(s, "Model", "kept", &found, &err), GS_OK);   /* not re-created */
        assert_int_equal(found, id);
        assert_int_equal(sql_int(graph_store_db(s), "SELECT count(*) FROM nodes"), 1);
        graph_store_close(s);
    }
}

static void test_readonly(void **state) {
    fixture *f = *state;
    graph_store *s = (graph_store *)1;
    gs_error err = {{0}};
    /* a missing file: clear failure, nothing created */
    gs_status st = graph_store_open(f->path, GS_OPEN_READONLY, NULL, &s, &err);
    assert_int_not_equal(st, GS_OK);
    assert_null(s);
    assert_non_null(strstr(err.msg, f->path));
    assert_non_null(strstr(err.msg, "read-only"));
    assert_false(exists(f->path));
    /* writable without CREATE does not create either */
    assert_int_not_equal(graph_store_open(f->path, 0, NULL, &s, &err), GS_OK);
    assert_false(exists(f->path));

    assert_int_equal(graph_store_open(f->path, GS_OPEN_CREATE, NULL, &s, &err), GS_OK);
    const char *labels[] = {"Model"};
    int64_t id = 0;
    assert_int_equal(graph_node_put(s, labels, 1, "Shared", NULL, NULL, &id, NULL, &err), GS_OK);
    graph_store *ro = NULL;
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, NULL, &ro, &err), GS_OK);
    assert_false(graph_store_was_created(ro));
    int64_t found = 0;
    assert_int_equal(graph_node_find(ro, NULL, "shared", &found, &err), GS_OK);
    assert_int_equal(found, id);
    assert_int_equal(graph_node_put(ro, labels, 1, "Nope", NULL, NULL, &id, NULL, &err), GS_READONLY);
    assert_int_equal(graph_node_delete(ro, found, true, NULL, &err), GS_READONLY);
    assert_int_equal(graph_store_begin(ro, &err), GS_READONLY);
    /* the reader sees the writer's later commits */
    assert_int_equal(graph_node_put(s, labels, 1, "Later", NULL, NULL, &id, NULL, &err), GS_OK);
    assert_int_equal(graph_node_find(ro, NULL, "later", &found, &err), GS_OK);
    json_t *res = NULL;
    assert_int_equal(graph_sql(ro, "SELECT count(*) FROM nodes", NULL, &res, &err), GS_OK);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(res, "rows"), 0), 0)), 2);
    json_decref(res);
    /* readers map nothing unless asked (read_mmap_bytes): mapped pages count in the RSS */
    assert_int_equal(sql_int(graph_store_db(ro), "PRAGMA mmap_size"), 0);
    /* and keep SQLite's default page cache unless asked (read_cache_bytes) */
    assert_int_equal(sql_int(graph_store_db(ro), "PRAGMA cache_size"), -2000);
    graph_store_close(ro);
    graph_store_options cached = {.cache_bytes = 16 << 20};
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, &cached, &ro, &err), GS_OK);
    assert_int_equal(sql_int(graph_store_db(ro), "PRAGMA cache_size"), -16384);
    graph_store_close(ro);
    graph_store_options mapped = {.mmap_bytes = 1 << 20};
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, &mapped, &ro, &err), GS_OK);
    assert_int_equal(sql_int(graph_store_db(ro), "PRAGMA mmap_size"), 1 << 20);
    graph_store_close(ro);
    assert_int_equal(graph_store_checkpoint(s, &err), GS_OK);
    graph_store_close(s);
}

static void test_foreign_database_refused(void **state) {
    fixture *f = *state;
    make_foreign_db(f->path, 0);
    size_t n0 = 0, n1 = 0;
    char *b0 = slurp(f->path, &n0);
    graph_store *s = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_store_open(f->path, GS_OPEN_CREATE, NULL, &s, &err), GS_INVALID);
    assert_non_null(strstr(err.msg, "not a dsgraph database"));
    assert_int_equal(graph_store_open(f->path, GS_OPEN_READONLY, NULL, &s, &err), GS_INVALID);
    assert_non_null(strstr(err.msg, "no dsgraph schema"));
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), 0);
    sqlite3_close(db);
    char *b1 = slurp(f->path, &n1);
    assert_int_equal(n1, n0);
    assert_memory_equal(b0, b1, n0);
    char p[160];
    companion(f, "-wal", p, sizeof p);
    assert_false(exists(p));
    free(b0);
    free(b1);
}

static void test_bad_arguments_and_names(void **state) {
    fixture *f = *state;
    graph_store *s = NULL;
    gs_error err = {{0}};
    assert_int_equal(graph_store_open("", GS_OPEN_CREATE, NULL, &s, &err), GS_INVALID);
    assert_int_equal(graph_store_open(NULL, GS_OPEN_CREATE, NULL, &s, &err), GS_INVALID);
    char bad[200];
    snprintf(bad, sizeof bad, "%s/no/such/dir/g.db", f->dir);
    assert_int_equal(graph_store_open(bad, GS_OPEN_CREATE, NULL, &s, &err), GS_IO);
    assert_non_null(strstr(err.msg, bad));
    assert_string_equal(gs_status_name(GS_NOT_FOUND), "not found");
    assert_string_equal(gs_status_name(GS_SCHEMA_NEWER), "schema newer");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_statistics_off, setup, teardown),   /* first */
        cmocka_unit_test_setup_teardown(test_newer_schema_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_then_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_database_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments_and_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
