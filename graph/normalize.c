/*
 * graph/normalize.c - the name key: how names and aliases are compared.
 *
 * name_key = NFKC + Unicode case folding, with surrounding white space
 * removed, so "DeepSeek-V3", "deepseek-v3" and "ＤｅｅｐＳｅｅｋ－Ｖ３" are one key.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* True for the ASCII white space left after NFKC (which maps most Unicode spaces to U+0020). */
static bool gs_is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The single definition of name identity, shared by lookups, merges and search. */
char *graph_name_key(const char *name, gs_error *err) {
    if (!name) {
        gs_fail(err, GS_INVALID, "name is missing");
        return NULL;
    }
    /* ASCII (most names): NFKC leaves it as it is and case folding is A-Z -> a-z, so the
     * key is the trimmed, lowered text without utf8proc's decompose/compose round
     * (tests/unit/test_store_nodes.c checks it against utf8proc for every ASCII byte). */
    size_t an = 0;
    while (name[an] && (unsigned char)name[an] < 0x80) an++;
    if (!name[an]) {
        size_t a = 0, z = an;
        while (a < z && gs_is_space((unsigned char)name[a])) a++;
        while (z > a && gs_is_space((unsigned char)name[z - 1])) z--;
        char *k = malloc(z - a + 1);
        if (!k) {
            gs_fail(err, GS_IO, "out of memory");
            return NULL;
        }
        for (size_t i = a; i < z; i++) k[i - a] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        k[z - a] = '\0';
        return k;
    }
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)name, 0, &out,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
    if (n < 0) {
        free(out);
        gs_fail(err, GS_INVALID, "name is not valid UTF-8: %s", utf8proc_errmsg(n));
        return NULL;
    }
    char *s = (char *)out;
    size_t len = (size_t)n;
    size_t start = 0;
    while (start < len && gs_is_space((unsigned char)s[start])) start++;
    while (len > start && gs_is_space((unsigned char)s[len - 1])) len--;
    if (start > 0) memmove(s, s + start, len - start);
    s[len - start] = '\0';
    return s;
}
