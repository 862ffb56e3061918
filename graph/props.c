/*
 * graph/props.c - property objects: validation, merge, canonical text.
 *
 * Properties are stored as the canonical JSON text of an object: compact,
 * keys sorted, integers as integers, reals with 17 significant digits and
 * always a '.' or an exponent, so 1 and 1.0 stay different and every double
 * round-trips exactly. SQL users read them with json_extract().
 */
#include "store_internal.h"
#include "bulk_load.h"

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

/* SQL dsg_prop_value(props, key): the value text of top-level key in a stored
 * props text, exactly as a stored property claim holds it (the canonical text
 * is what gs_prov_value_text writes for the value), or NULL. Why: implicit
 * property claims (schema version 4, graph/store.c) read their values out of
 * the entity's props, in the prop_claims view and in the triggers that write
 * them out as rows. */
static void gs_sql_prop_value(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    const char *key = (const char *)sqlite3_value_text(argv[1]);
    if (!text || !key) return;   /* NULL */
    size_t len = (size_t)sqlite3_value_bytes(argv[0]), klen = (size_t)sqlite3_value_bytes(argv[1]);
    char small[256], *jkey = 6 * klen + 3 <= sizeof small ? small : malloc(6 * klen + 3);
    if (!jkey) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    size_t jklen = graph_bulk_quote(jkey, key, klen);
    const char *vend = NULL, *v = len > 1 && text[0] == '{' ? gs_json_find_key(text, len, jkey, jklen, &vend) : NULL;
    if (v) sqlite3_result_text(ctx, v, (int)(vend - v), SQLITE_TRANSIENT);
    if (jkey != small) free(jkey);
}

/* Registers the SQL functions the schema's views and triggers call; every
 * connection to a dsgraph database needs them (graph_store_open). */
int gs_props_register_sql(sqlite3 *db) {
    return sqlite3_create_function(db, "dsg_prop_value", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                   NULL, gs_sql_prop_value, NULL, NULL);
}
