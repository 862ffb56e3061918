/*
 * graph/props.c - property objects: validation, merge, canonical text.
 *
 * Properties are stored as the canonical JSON text of an object: compact,
 * keys sorted, integers as integers, reals with 17 significant digits and
 * always a '.' or an exponent, so 1 and 1.0 stay different and every double
 * round-trips exactly. SQL users read them with json_extract().
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Labels, types, aliases and keys must be real text: non-empty, valid UTF-8. */
bool gs_utf8_ok(const char *s) { return s && *s && graph_utf8_valid(s, strlen(s)); }

/* See store.h: an ASCII run is skipped without decoding. */
bool graph_utf8_valid(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80) i++;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) return false;
        i += (size_t)k;
    }
    return true;
}

/* Rejects what cannot be stored as a property object before anything is written. */
gs_status gs_props_check(const json_t *v, const char *what, gs_error *err) {
    if (!v) return GS_OK;
    if (!json_is_object(v)) return gs_fail(err, GS_INVALID, "%s must be an object", what);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        if (!*key) return gs_fail(err, GS_INVALID, "%s: a key is empty", what);
        if (!gs_utf8_ok(key)) return gs_fail(err, GS_INVALID, "%s: a key is not valid UTF-8", what);
    }
    return GS_OK;
}

/* The merge rule of node.put and rel.put: later value wins, null removes. */
void gs_props_merge(json_t *dst, const json_t *src, const char *skip_key) {
    if (!src) return;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)src, key, val) {
        if (skip_key && strcmp(key, skip_key) == 0) continue;
        if (json_is_null(val)) json_object_del(dst, key);
        else json_object_set(dst, key, val);
    }
}

/* One spelling per value, so stored text can be compared and indexed. */
char *gs_props_dump(const json_t *obj) {
    return json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
}

/* Reads back what gs_props_dump() wrote; anything else means a damaged database. */
json_t *gs_props_load(const char *text, size_t len, gs_error *err) {
    json_error_t jerr;
    json_t *v = json_loadb(text ? text : "{}", text ? len : 2, JSON_ALLOW_NUL, &jerr);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        gs_fail(err, GS_IO, "stored properties are not a JSON object (%s)", v ? "wrong type" : jerr.text);
        return NULL;
    }
    return v;
}

/* End of the JSON value starting at p in stored canonical text (compact, valid):
 * lets readers pick one property out of a props text without parsing all of it. */
const char *gs_json_value_end(const char *p, const char *end) {
    int depth = 0;
    do {
        if (p >= end) return end;
        char c = *p;
        if (c == '"') {   /* to the closing quote: memchr, then rule out an escaped quote */
            const char *q = p + 1;
            for (;;) {
                q = memchr(q, '"', (size_t)(end - q));
                if (!q) return end;
                const char *bs = q;
                while (bs > p + 1 && bs[-1] == '\\') bs--;
                if ((q - bs) % 2 == 0) break;
                q++;
            }
            p = q + 1;
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            depth--;
            p++;
        } else if (depth > 0) {
            p++;   /* ',' ':' and scalar characters inside a container */
        } else {
            while (p < end && *p != ',' && *p != '}' && *p != ']') p++;
        }
    } while (depth > 0);
    return p;
}

/* The value text of top-level key jkey (given as a JSON string, quotes
 * included) in a canonical props object text, or NULL. */
const char *gs_json_find_key(const char *text, size_t len, const char *jkey, size_t jklen, const char **vend) {
    const char *end = text + len, *p = text + 1;   /* after '{' */
    while (p < end && *p == '"') {
        const char *ke = gs_json_value_end(p, end);
        const char *val = ke + 1, *ve = gs_json_value_end(val, end);   /* skip ':' */
        if ((size_t)(ke - p) == jklen && memcmp(p, jkey, jklen) == 0) {
            *vend = ve;
            return val;
        }
        p = ve < end && *ve == ',' ? ve + 1 : end;
    }
    return NULL;
}

/* ---- SQL dsg_props(props): the members of a stored props text ----
 *
 * A table-valued function: one row (key, value) per top-level member of a
 * canonical props text, value as the member's canonical JSON text, exactly as
 * a stored property claim holds it (gs_prov_value_text writes the same
 * spelling). Why: implicit property claims (schema version 4, graph/schema.c)
 * are read out of the entities' props, by the prop_claims view and by the
 * triggers that write them out as rows; json_each would build a JSON tree of
 * every props text and give values that have to be re-spelled. Keys are
 * decoded (jansson) only when they hold an escape. */

typedef struct gs_props_cursor {
    sqlite3_vtab_cursor base;
    char *text;                 /* a copy of the props text */
    size_t len, pos;            /* pos: where the next member starts */
    const char *key, *val;      /* the current member: key token (quotes included), value text */
    size_t key_len, val_len;
    char *key_decoded;          /* the key with escapes decoded, when it has any */
    sqlite3_int64 row;
    bool eof;
} gs_props_cursor;

enum { GS_PROPS_KEY, GS_PROPS_VALUE, GS_PROPS_ARG };

static int gs_props_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                            char **err) {
    (void)aux;
    (void)argc;
    (void)argv;
    (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(key TEXT, value TEXT, props HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    *out = sqlite3_malloc(sizeof **out);
    if (!*out) return SQLITE_NOMEM;
    memset(*out, 0, sizeof **out);
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    return SQLITE_OK;
}

static int gs_props_disconnect(sqlite3_vtab *vt) {
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* The props argument is required: dsg_props(text). */
static int gs_props_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    (void)vt;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn != GS_PROPS_ARG || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        if (!c->usable) return SQLITE_CONSTRAINT;
        info->aConstraintUsage[i].argvIndex = 1;
        info->aConstraintUsage[i].omit = 1;
        info->estimatedCost = 10;
        info->estimatedRows = 8;
        return SQLITE_OK;
    }
    return SQLITE_CONSTRAINT;
}

static int gs_props_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    (void)vt;
    gs_props_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static void gs_props_reset(gs_props_cursor *c) {
    free(c->text);
    free(c->key_decoded);
    c->text = c->key_decoded = NULL;
    c->len = c->pos = 0;
    c->eof = true;
}

static int gs_props_close(sqlite3_vtab_cursor *cur) {
    gs_props_reset((gs_props_cursor *)cur);
    sqlite3_free(cur);
    return SQLITE_OK;
}

/* Steps to the next member; eof after the last (or on text that is not a
 * canonical object: nothing more is read from it). */
static int gs_props_next(sqlite3_vtab_cursor *cur) {
    gs_props_cursor *c = (gs_props_cursor *)cur;
    free(c->key_decoded);
    c->key_decoded = NULL;
    const char *end = c->text + c->len, *p = c->text + c->pos;
    if (p >= end || *p != '"') {
        c->eof = true;
        return SQLITE_OK;
    }
    const char *ke = gs_json_value_end(p, end);
    if (ke >= end || *ke != ':') {
        c->eof = true;
        return SQLITE_OK;
    }
    const char *ve = gs_json_value_end(ke + 1, end);
    c->key = p;
    c->key_len = (size_t)(ke - p);
    c->val = ke + 1;
    c->val_len = (size_t)(ve - c->val);
    c->pos = (size_t)(ve - c->text) + (ve < end && *ve == ',' ? 1 : 0);
    c->row++;
    return SQLITE_OK;
}

static int gs_props_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc, sqlite3_value **argv) {
    (void)idx;
    (void)idx_str;
    gs_props_cursor *c = (gs_props_cursor *)cur;
    gs_props_reset(c);
    c->row = 0;
    const char *text = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    size_t len = text ? (size_t)sqlite3_value_bytes(argv[0]) : 0;
    if (len < 2 || text[0] != '{') return SQLITE_OK;   /* NULL or not an object: no rows */
    if (!(c->text = malloc(len + 1))) return SQLITE_NOMEM;
    memcpy(c->text, text, len + 1);
    c->len = len;
    c->pos = 1;
    c->eof = false;
    return gs_props_next(cur);
}

static int gs_props_eof(sqlite3_vtab_cursor *cur) { return ((gs_props_cursor *)cur)->eof; }

static int gs_props_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    gs_props_cursor *c = (gs_props_cursor *)cur;
    if (col == GS_PROPS_VALUE) {
        sqlite3_result_text(ctx, c->val, (int)c->val_len, SQLITE_TRANSIENT);
    } else if (col == GS_PROPS_KEY) {
        if (!memchr(c->key, '\\', c->key_len)) {
            sqlite3_result_text(ctx, c->key + 1, (int)c->key_len - 2, SQLITE_TRANSIENT);
        } else {
            if (!c->key_decoded) {
                json_t *k = json_loadb(c->key, c->key_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                c->key_decoded = json_is_string(k) ? strdup(json_string_value(k)) : NULL;
                json_decref(k);
                if (!c->key_decoded) return SQLITE_NOMEM;
            }
            sqlite3_result_text(ctx, c->key_decoded, -1, SQLITE_TRANSIENT);
        }
    }
    return SQLITE_OK;
}

static int gs_props_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *row) {
    *row = ((gs_props_cursor *)cur)->row;
    return SQLITE_OK;
}

static const sqlite3_module gs_props_module = {
    .iVersion = 0,
    .xConnect = gs_props_connect,
    .xBestIndex = gs_props_best_index,
    .xDisconnect = gs_props_disconnect,
    .xOpen = gs_props_open,
    .xClose = gs_props_close,
    .xFilter = gs_props_filter,
    .xNext = gs_props_next,
    .xEof = gs_props_eof,
    .xColumn = gs_props_column,
    .xRowid = gs_props_rowid,
};

/* Registers the SQL the schema's views and triggers call; every connection
 * to a dsgraph database needs it (graph_store_open). */
int gs_props_register_sql(sqlite3 *db) {
    return sqlite3_create_module(db, "dsg_props", &gs_props_module, NULL);
}
