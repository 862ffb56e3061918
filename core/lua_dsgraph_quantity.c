/*
 * core/lua_dsgraph_quantity.c - dsgraph.parse_quantity and dsgraph.quantities:
 * numbers with units as reports write them ("236B", "128K", "1.5万",
 * "约 278 万", "$5.576M", "557 万美元"). Digits are read with strtoll/strtod;
 * the scale is applied in integer arithmetic, so "1.5B" is exactly the integer
 * 1500000000 and "5.576M" is 5576000, never 5575999.999.
 */
#include "lua_dsgraph_internal.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct qty {
    int is_int;
    long long i;
    double d;
    int usd;
    size_t start;    /* byte offset where the quantity's text starts (after "约", "~") */
    size_t end;      /* byte offset just past its last token */
} qty;

/* One unit word and the factor it stands for (0 = the configurable "K"). */
typedef struct unit {
    const char *text;
    long long factor;
    int word;        /* ASCII word: must not be followed by a letter */
    int nocase;
} unit;

static const unit units[] = {
    {"万亿", 1000000000000LL, 0, 0}, {"百万", 1000000LL, 0, 0}, {"亿", 100000000LL, 0, 0},
    {"万", 10000LL, 0, 0},           {"千", 1000LL, 0, 0},
    {"thousand", 1000LL, 1, 1},      {"million", 1000000LL, 1, 1},
    {"billion", 1000000000LL, 1, 1}, {"trillion", 1000000000000LL, 1, 1},
    {"bn", 1000000000LL, 1, 0},      {"K", 0, 1, 0}, {"k", 0, 1, 0},
    {"M", 1000000LL, 1, 0},          {"B", 1000000000LL, 1, 0}, {"T", 1000000000000LL, 1, 0},
};

/* Length of prefix p at s (or 0), so the parser reads UTF-8 words without patterns. */
static size_t match(const char *s, size_t len, const char *p, int nocase) {
    size_t n = strlen(p);
    if (n > len) return 0;
    return (nocase ? strncasecmp(s, p, n) : strncmp(s, p, n)) == 0 ? n : 0;
}

/* Skips ASCII blanks and the ideographic space; returns the new offset. */
static size_t skip_space(const char *s, size_t len, size_t pos) {
    for (;;) {
        if (pos < len && (s[pos] == ' ' || s[pos] == '\t')) pos++;
        else if (match(s + pos, len - pos, "\xE3\x80\x80", 0)) pos += 3;
        else return pos;
    }
}

/* Parses one quantity starting at pos. strict: the whole rest must be the
 * quantity. Returns 0 and fills q, or -1 with a reason in err. */
static int parse_at(const char *s, size_t len, size_t pos, long long kfactor, int strict, qty *q,
                    char *err, size_t errlen) {
    static const char *approx[] = {"大约", "约", "~", "\xE2\x89\x88" /* ≈ */, "about ", "approx. ", "approximately "};
    memset(q, 0, sizeof *q);
    pos = skip_space(s, len, pos);
    for (size_t a = 0; a < sizeof approx / sizeof *approx; a++) {
        size_t n = match(s + pos, len - pos, approx[a], 1);
        if (n) {
            pos = skip_space(s, len, pos + n);
            break;
        }
    }
    q->start = pos;
    size_t n;
    if ((n = match(s + pos, len - pos, "US$", 0)) || (n = match(s + pos, len - pos, "$", 0))) {
        q->usd = 1;
        pos = skip_space(s, len, pos + n);
    }
    /* digits, optional thousands separators, optional fraction */
    char digits[40], text[48];
    size_t nd = 0, nt = 0, frac = 0;
    int seen_dot = 0;
    while (pos < len) {
        char c = s[pos];
        if (isdigit((unsigned char)c)) {
            if (nd >= 18) {
                snprintf(err, errlen, "too many digits");
                return -1;
            }
            digits[nd++] = c;
            text[nt++] = c;
            if (seen_dot) frac++;
            pos++;
        } else if (c == ',' && !seen_dot && nd > 0 && pos + 3 < len + 0 && isdigit((unsigned char)s[pos + 1]) &&
                   isdigit((unsigned char)s[pos + 2]) && isdigit((unsigned char)s[pos + 3])) {
            pos++; /* "1,234": a thousands separator, not a list comma */
        } else if (c == '.' && !seen_dot && nd > 0 && pos + 1 < len && isdigit((unsigned char)s[pos + 1])) {
            seen_dot = 1;
            text[nt++] = '.';
            pos++;
        } else {
            break;
        }
    }
    if (nd == 0) {
        snprintf(err, errlen, "no number");
        return -1;
    }
    digits[nd] = '\0';
    text[nt] = '\0';
    long long mant = strtoll(digits, NULL, 10);
    double d = strtod(text, NULL);
    q->end = pos;

    long long factor = 1;
    size_t p2 = skip_space(s, len, pos);
    for (size_t u = 0; u < sizeof units / sizeof *units; u++) {
        size_t un = match(s + p2, len - p2, units[u].text, units[u].nocase);
        if (!un) continue;
        if (units[u].word && p2 + un < len && isalpha((unsigned char)s[p2 + un])) continue;
        factor = units[u].factor ? units[u].factor : kfactor;
        pos = q->end = p2 + un;
        break;
    }
    p2 = skip_space(s, len, pos);
    if ((n = match(s + p2, len - p2, "美元", 0)) ||
        ((n = match(s + p2, len - p2, "USD", 0)) && !(p2 + n < len && isalpha((unsigned char)s[p2 + n])))) {
        q->usd = 1;
        pos = q->end = p2 + n;
    }
    if (strict) {
        pos = skip_space(s, len, pos);
        if (pos < len) {
            snprintf(err, errlen, "unexpected text at byte %zu", pos + 1);
            return -1;
        }
    }
    long long pow10 = 1;
    for (size_t f = 0; f < frac; f++) pow10 *= 10;
    if (factor == 1 && frac > 0) {
        q->d = d;
        return 0;
    }
    if (mant <= INT64_MAX / factor && (mant * factor) % pow10 == 0) {
        q->is_int = 1;
        q->i = mant * factor / pow10;
    } else {
        q->d = d * (double)factor;
    }
    return 0;
}

/* Reads opts ({k=1024}, {binary_k=true}, {kind="context"}) into the factor of "K". */
static long long kfactor_of(lua_State *L, int idx) {
    long long k = 1000;
    if (lua_isnoneornil(L, idx)) return k;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "k");
    if (!lua_isnil(L, -1)) {
        k = luaL_checkinteger(L, -1);
        if (k != 1000 && k != 1024) luaL_error(L, "opts.k must be 1000 or 1024");
    }
    lua_getfield(L, idx, "binary_k");
    if (lua_toboolean(L, -1)) k = 1024;
    lua_getfield(L, idx, "kind");
    if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "context") == 0) k = 1024;
    lua_pop(L, 3);
    return k;
}

/* Pushes a quantity's number (integer when exact). */
static void push_value(lua_State *L, const qty *q) {
    if (q->is_int) lua_pushinteger(L, q->i);
    else lua_pushnumber(L, q->d);
}

/* dsgraph.parse_quantity(s [, opts]) -> number, kind ("count" or "usd"), or nil + message. */
static int l_parse_quantity(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    long long k = kfactor_of(L, 2);
    qty q;
    char err[120];
    if (parse_at(s, len, 0, k, 1, &q, err, sizeof err) < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot parse quantity \"%s\": %s", s, err);
        return 2;
    }
    push_value(L, &q);
    lua_pushstring(L, q.usd ? "usd" : "count");
    return 2;
}

/* dsgraph.quantities(text [, opts]) -> list of {value=, kind=, text=, start=, stop=}
 * for every quantity in running text ("236B 参数总量，每个 Token 激活 21B 参数"); numbers
 * glued to a preceding letter or digit ("H800", "V3") are not quantities. */
static int l_quantities(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    long long k = kfactor_of(L, 2);
    lua_newtable(L);
    lua_dsgraph_marklist(L, -1);
    lua_Integer n = 0;
    size_t pos = 0;
    while (pos < len) {
        unsigned char c = (unsigned char)s[pos];
        int starts = isdigit(c) || c == '$';
        if (starts && pos > 0) {
            unsigned char prev = (unsigned char)s[pos - 1];
            if (isalnum(prev) || prev == '.' || prev == '_' || (c != '$' && prev == '$')) starts = 0;
        }
        qty q;
        char err[120];
        if (!starts || parse_at(s, len, pos, k, 0, &q, err, sizeof err) < 0) {
            /* skip the whole digit run so "2501" is not read again as "501" */
            pos++;
            while (isdigit(c) && pos < len && isdigit((unsigned char)s[pos])) pos++;
            continue;
        }
        lua_createtable(L, 0, 5);
        push_value(L, &q);
        lua_setfield(L, -2, "value");
        lua_pushstring(L, q.usd ? "usd" : "count");
        lua_setfield(L, -2, "kind");
        lua_pushlstring(L, s + q.start, q.end - q.start);
        lua_setfield(L, -2, "text");
        lua_pushinteger(L, (lua_Integer)q.start + 1);
        lua_setfield(L, -2, "start");
        lua_pushinteger(L, (lua_Integer)q.end);
        lua_setfield(L, -2, "stop");
        lua_rawseti(L, -2, ++n);
        pos = q.end > pos ? q.end : pos + 1;
    }
    return 1;
}

/* Sets dsgraph.parse_quantity and dsgraph.quantities in the table on top of the stack. */
void lua_dsgraph_quantity_open(lua_State *L) {
    lua_pushcfunction(L, l_parse_quantity);
    lua_setfield(L, -2, "parse_quantity");
    lua_pushcfunction(L, l_quantities);
    lua_setfield(L, -2, "quantities");
}
