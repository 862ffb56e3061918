/*
 * graph/sqlro.c - the `sql` method: one read-only statement over the schema.
 *
 * Three locks, any one of which would refuse a write:
 *   1. an authorizer, active from prepare to the last step, that allows only
 *      reading (SELECT, READ, FUNCTION, RECURSIVE) and a list of PRAGMAs that
 *      only read (introspection ones may take an argument: table_info(nodes)).
 *      It is installed when the connection opens and passes everything while
 *      no graph_sql runs (s->sql_auth NULL): sqlite3_set_authorizer expires
 *      every prepared statement of the connection, so installing it per call
 *      made the store's cached statements re-prepare after each `sql` call
 *      (and after each page of an export, whose ids came through here);
 *   2. sqlite3_stmt_readonly() on the prepared statement (catches VACUUM and
 *      other statements that reach no authorizer check);
 *   3. PRAGMA query_only while the statement runs.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gs_auth {
    char reason[200];   /* first denial, for the error message */
} gs_auth;

/* PRAGMAs that may be used with an argument because the argument only selects what to read. */
static const char *const gs_pragma_arg_ok[] = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", NULL,
};
/* PRAGMAs that may be used without an argument (they then only report a value).
 * Table-valued forms (SELECT * FROM pragma_journal_mode) run these internally. */
static const char *const gs_pragma_read_ok[] = {
    "application_id", "auto_vacuum", "busy_timeout", "cache_size", "collation_list",
    "compile_options", "data_version", "database_list", "encoding", "foreign_key_check",
    "foreign_keys", "freelist_count", "function_list", "integrity_check", "journal_mode",
    "max_page_count", "module_list", "page_count", "page_size", "pragma_list", "query_only",
    "quick_check", "schema_version", "synchronous", "table_list", "temp_store", "user_version",
    NULL,
};

/* Case-insensitive membership in a NULL-terminated list. */
static bool gs_in_list(const char *const *list, const char *name) {
    for (; *list; list++)
        if (name && strcasecmp(*list, name) == 0) return true;
    return false;
}

/* Remembers why the first denial happened. */
static int gs_deny(gs_auth *a, const char *fmt, const char *what) {
    if (!a->reason[0]) snprintf(a->reason, sizeof a->reason, fmt, what ? what : "");
    return SQLITE_DENY;
}

/* The authorizer: everything that is not plainly a read is refused. */
static int gs_authorize(void *ud, int action, const char *a1, const char *a2, const char *a3, const char *a4) {
    (void)a3;
    (void)a4;
    gs_auth *a = ud;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_PRAGMA:
        if (a2 ? gs_in_list(gs_pragma_arg_ok, a1) : gs_in_list(gs_pragma_read_ok, a1)) return SQLITE_OK;
        return gs_deny(a, a2 ? "PRAGMA %s with a value could change the database" : "PRAGMA %s is not allowed", a1);
    case SQLITE_ATTACH: return gs_deny(a, "ATTACH is not allowed%s", "");
    case SQLITE_DETACH: return gs_deny(a, "DETACH is not allowed%s", "");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT: return gs_deny(a, "transaction control (%s) is not allowed", a1);
    case SQLITE_INSERT:
    case SQLITE_DELETE:
        if (a1 && (strcmp(a1, "sqlite_master") == 0 || strcmp(a1, "sqlite_temp_master") == 0))
            return gs_deny(a, "schema changes (CREATE, DROP, ALTER%s) are not allowed", "");
        return gs_deny(a, action == SQLITE_INSERT ? "INSERT into %s is not allowed" : "DELETE from %s is not allowed",
                       a1);
    case SQLITE_UPDATE:
        /* SQLite asks this while it resolves table-valued PRAGMA functions
         * (pragma_table_info, ...). A real UPDATE of the schema table is impossible
         * without PRAGMA writable_schema (denied above) and is caught by
         * sqlite3_stmt_readonly() anyway. */
        if (a1 && (strcmp(a1, "sqlite_master") == 0 || strcmp(a1, "sqlite_temp_master") == 0)) return SQLITE_OK;
        return gs_deny(a, "UPDATE of %s is not allowed", a1);
    default: return gs_deny(a, "the statement could change the database (%s)", "schema change or maintenance");
    }
}

/* The connection's authorizer: the `sql` rules while graph_sql runs, else
 * everything (the store's own statements, prepared or re-prepared outside it). */
static int gs_authorize_gate(void *ud, int action, const char *a1, const char *a2, const char *a3, const char *a4) {
    graph_store *s = ud;
    return s->sql_auth ? gs_authorize(s->sql_auth, action, a1, a2, a3, a4) : SQLITE_OK;
}

/* See store_internal.h. */
void gs_sql_gate_install(graph_store *s) {
    sqlite3_set_authorizer(s->db, gs_authorize_gate, s);
}

/* Binds params[i] to ?i+1: scalars only (and {"$blob":"hex"}). */
static gs_status gs_bind_params(sqlite3_stmt *st, json_t *params, gs_error *err) {
    if (!params || json_is_null(params)) return GS_OK;
    if (!json_is_array(params)) return gs_fail(err, GS_INVALID, "params must be an array");
    int want = sqlite3_bind_parameter_count(st);
    if (json_array_size(params) > (size_t)want)
        return gs_fail(err, GS_INVALID, "params has %zu values but the statement has %d parameters",
                       json_array_size(params), want);
    size_t i;
    json_t *v;
    json_array_foreach(params, i, v) {
        int idx = (int)i + 1, rc;
        switch (json_typeof(v)) {
        case JSON_NULL: rc = sqlite3_bind_null(st, idx); break;
        case JSON_TRUE: rc = sqlite3_bind_int(st, idx, 1); break;
        case JSON_FALSE: rc = sqlite3_bind_int(st, idx, 0); break;
        case JSON_INTEGER: rc = sqlite3_bind_int64(st, idx, json_integer_value(v)); break;
        case JSON_REAL: rc = sqlite3_bind_double(st, idx, json_real_value(v)); break;
        case JSON_STRING:
            rc = sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT);
            break;
        default:
            return gs_fail(err, GS_INVALID, "params[%zu] must be a JSON scalar (null, boolean, number or string)", i);
        }
        if (rc != SQLITE_OK) return gs_fail(err, GS_INVALID, "params[%zu]: %s", i, sqlite3_errstr(rc));
    }
    return GS_OK;
}

/* {"$blob":"<hex>"} for bytes that are not text. */
static json_t *gs_blob_json(const unsigned char *p, int n) {
    static const char hex[] = "0123456789abcdef";
    char *h = malloc((size_t)n * 2 + 1);
    if (!h) return NULL;
    for (int i = 0; i < n; i++) {
        h[2 * i] = hex[p[i] >> 4];
        h[2 * i + 1] = hex[p[i] & 15];
    }
    h[2 * n] = '\0';
    json_t *v = json_pack("{s:s}", "$blob", h);
    free(h);
    return v;
}

/* One result cell, keeping SQLite's storage class as the JSON type. */
static json_t *gs_cell(sqlite3_stmt *st, int col) {
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT: {
        json_t *v = json_real(sqlite3_column_double(st, col));
        return v ? v : json_null();   /* NaN/Inf have no JSON form */
    }
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        json_t *v = json_stringn(t, (size_t)n);   /* NULL if not valid UTF-8 */
        return v ? v : gs_blob_json((const unsigned char *)t, n);
    }
    case SQLITE_BLOB: return gs_blob_json(sqlite3_column_blob(st, col), sqlite3_column_bytes(st, col));
    default: return json_null();
    }
}

/* True if only white space, ';' and comments follow the first statement. */
static gs_status gs_check_tail(graph_store *s, const char *tail, gs_error *err) {
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        int rc = sqlite3_prepare_v2(s->db, tail, -1, &st, &next);
        sqlite3_finalize(st);
        if (rc != SQLITE_OK || st) return gs_fail(err, GS_INVALID, "only one statement is allowed");
        if (next == tail) break;
        tail = next;
    }
    return GS_OK;
}

/* Prepares and checks the statement under the authorizer. */
static gs_status gs_sql_prepare(graph_store *s, const char *sql, gs_auth *auth, sqlite3_stmt **out, gs_error *err) {
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, out, &tail);
    if (rc != SQLITE_OK) {
        if (auth->reason[0] || (rc & 0xff) == SQLITE_AUTH)
            return gs_fail(err, GS_READONLY, "read-only: %s", auth->reason[0] ? auth->reason : "not authorized");
        return gs_fail(err, GS_INVALID, "%s", sqlite3_errmsg(s->db));
    }
    if (!*out) return gs_fail(err, GS_INVALID, "no statement");
    gs_status r = gs_check_tail(s, tail, err);
    if (r == GS_OK && !sqlite3_stmt_readonly(*out))
        r = gs_fail(err, GS_READONLY, "read-only: the statement could change the database");
    if (r != GS_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
    }
    return r;
}

/* Runs the statement into {"columns":[...],"rows":[[...],...]}, enforcing sql_max_rows. */
static gs_status gs_sql_run(graph_store *s, sqlite3_stmt *st, json_t **out, gs_error *err) {
    int ncol = sqlite3_column_count(st);
    json_t *cols = json_array(), *rows = json_array();
    for (int c = 0; c < ncol; c++) {
        const char *name = sqlite3_column_name(st, c);
        json_array_append_new(cols, json_string(name ? name : ""));
    }
    gs_status r = GS_OK;
    int64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++n > s->sql_max_rows) {
            r = gs_fail(err, GS_LIMIT, "the result has more than %" PRId64 " rows (sql_max_rows)", s->sql_max_rows);
            break;
        }
        json_t *row = json_array();
        for (int c = 0; c < ncol; c++) json_array_append_new(row, gs_cell(st, c));
        json_array_append_new(rows, row);
    }
    if (r == GS_OK && rc != SQLITE_DONE) {
        int ec = sqlite3_errcode(s->db);
        r = gs_fail(err, ec == SQLITE_AUTH || ec == SQLITE_READONLY ? GS_READONLY : gs_status_of_rc(ec) == GS_BUSY ? GS_BUSY : GS_INVALID,
                    "%s", sqlite3_errmsg(s->db));
    }
    if (r != GS_OK) {
        json_decref(cols);
        json_decref(rows);
        return r;
    }
    *out = json_pack("{s:o,s:o}", "columns", cols, "rows", rows);
    return *out ? GS_OK : gs_fail(err, GS_IO, "out of memory");
}

/* sql: the whole method, leaving the connection as it found it. */
gs_status graph_sql(graph_store *s, const char *sql, json_t *params, json_t **out, gs_error *err) {
    *out = NULL;
    if (!sql) return gs_fail(err, GS_INVALID, "missing statement");
    gs_auth auth = {{0}};
    gs_status r = s->readonly ? GS_OK : gs_exec(s, "PRAGMA query_only = ON", err);
    if (r != GS_OK) return r;
    s->sql_auth = &auth;
    sqlite3_stmt *st = NULL;
    r = gs_sql_prepare(s, sql, &auth, &st, err);
    if (r == GS_OK) r = gs_bind_params(st, params, err);
    if (r == GS_OK) r = gs_sql_run(s, st, out, err);
    sqlite3_finalize(st);
    s->sql_auth = NULL;
    if (!s->readonly) gs_exec(s, "PRAGMA query_only = OFF", NULL);
    return r;
}
