/*
 * graph/props.c - property objects: validation, merge, canonical text.
 *
 * Properties are stored as the canonical JSON text of an object: compact,
 * keys sorted, integers as integers, reals with 17 significant digits and
 * always a '.' or an exponent, so 1 and 1.0 stay different and every double
 * round-trips exactly. SQL users read them with json_extract().
 */
#include "store_internal.h"

#include <string.h>
#include <utf8proc.h>

/* Labels, types, aliases and keys must be real text: non-empty, valid UTF-8. */
bool gs_utf8_ok(const char *s) {
    if (!s || !*s) return false;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t len = strlen(s);
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
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
