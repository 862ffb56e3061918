/*
 * core/rpc_chunk.c - parsing the lines of an upload without running a
 * megabyte of base64 through jansson's lexer.
 *
 * An import.chunk line is almost all one string: params.data, up to ~1 MiB of
 * base64 (docs/protocol.md, "Imports"). jansson reads strings a character at a
 * time through its stream layer and UTF-8 checks; that was two thirds of the
 * daemon's CPU during an upload (about 35 MB/s). rpc_parse_large() finds that
 * string with a structural scan (memchr over the quotes), checks its bytes are
 * printable ASCII with no escapes (so it means exactly its bytes), lets
 * jansson parse the line without it, and puts it back as a string made with
 * json_stringn_nocheck (a memcpy). Anything unusual - another shape, a short
 * string, an escape, a byte outside printable ASCII, a line the reduced parse
 * rejects - takes the general path (json_loadb of the whole line), so replies
 * and errors are always the ones the general path gives.
 */
#include "rpc.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN_STRING 4096 /* shorter strings: the general parse is cheap enough */
#define CHUNK_MAX_DEPTH 32    /* deeper lines take the general path */

/* End of the string whose opening quote is at p (the closing quote), or NULL. */
static const char *chunk_string_end(const char *p, const char *end)
{
    const char *q = p + 1;
    for (;;) {
        q = memchr(q, '"', (size_t)(end - q));
        if (!q)
            return NULL;
        const char *bs = q;
        while (bs > p + 1 && bs[-1] == '\\')
            bs--;
        if ((q - bs) % 2 == 0)
            return q;
        q++;
    }
}

/* True when the n bytes at s are printable ASCII other than '"' and '\\':
 * a JSON string of them means exactly those bytes. */
static bool chunk_plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* Finds the content [*start, *end) of the one long string at params.data of a
 * line that is one object. False when there is none (or more than one). */
static bool chunk_find_data(const char *line, size_t len, size_t *start, size_t *end)
{
    const char *p = line, *stop = line + len;
    bool in_object[CHUNK_MAX_DEPTH + 1];
    const char *key[3] = {NULL, NULL, NULL};   /* the current member's key at depths 1 and 2 */
    size_t key_len[3] = {0, 0, 0};
    int depth = 0;
    bool expect_key = false, found = false;
    while (p < stop && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p == stop || *p != '{')
        return false;   /* a batch or a scalar: the general path */
    for (; p < stop; p++) {
        char c = *p;
        if (c == '"') {
            const char *q = chunk_string_end(p, stop);
            if (!q)
                return false;
            size_t n = (size_t)(q - p - 1);
            if (expect_key) {
                if (depth <= 2) {
                    key[depth] = p + 1;
                    key_len[depth] = n;
                }
                expect_key = false;
            } else if (depth == 2 && n >= CHUNK_MIN_STRING && key_len[1] == 6 && memcmp(key[1], "params", 6) == 0 &&
                       key_len[2] == 4 && memcmp(key[2], "data", 4) == 0) {
                if (found)
                    return false;
                found = true;
                *start = (size_t)(p + 1 - line);
                *end = (size_t)(q - line);
            }
            p = q;
        } else if (c == '{' || c == '[') {
            if (++depth > CHUNK_MAX_DEPTH)
                return false;
            in_object[depth] = c == '{';
            expect_key = c == '{';
            if (depth <= 2)
                key_len[depth] = 0;
        } else if (c == '}' || c == ']') {
            if (--depth < 0)
                return false;
            expect_key = false;
        } else if (c == ',') {
            expect_key = depth > 0 && in_object[depth];
        }
    }
    return found && chunk_plain(line + *start, *end - *start);
}

/* See rpc.h. */
json_t *rpc_parse_large(const char *line, size_t len, json_error_t *jerr)
{
    const int flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    size_t start = 0, end = 0;
    if (len >= CHUNK_MIN_STRING && chunk_find_data(line, len, &start, &end)) {
        size_t rest = len - (end - start);
        char *reduced = malloc(rest);
        if (reduced) {
            memcpy(reduced, line, start);
            memcpy(reduced + start, line + end, len - end);
            json_t *doc = json_loadb(reduced, rest, flags, NULL);
            free(reduced);
            json_t *params = json_object_get(doc, "params"), *data = json_object_get(params, "data");
            if (json_is_string(data) && json_string_length(data) == 0 &&
                json_object_set_new(params, "data", json_stringn_nocheck(line + start, end - start)) == 0)
                return doc;
            json_decref(doc);
        }
    }
    return json_loadb(line, len, flags, jerr);
}
