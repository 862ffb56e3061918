/*
 * core/lua_json.c - dsgraph.json.decode / dsgraph.json.encode, backed by
 * jansson (the daemon's JSON library), so plugins read and write exactly the
 * JSON the daemon does: integers stay integers, 1.0 stays a real, null is
 * dsgraph.null, an empty array stays an array (see lua_dsgraph.h).
 */
#include "lua_dsgraph.h"
#include "lua_dsgraph_internal.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* Nesting depth of v, stopping early past the cap (jansson itself caps decoding at 2048). */
static int json_depth(json_t *v, int depth) {
    int max = depth;
    if (depth > LUA_DSGRAPH_MAX_DEPTH) return depth;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            int d = json_depth(e, depth + 1);
            if (d > max) max = d;
            if (max > LUA_DSGRAPH_MAX_DEPTH) break;
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            int d = json_depth(e, depth + 1);
            if (d > max) max = d;
            if (max > LUA_DSGRAPH_MAX_DEPTH) break;
        }
    }
    return max;
}

/* dsgraph.json.decode(text): value, or nil + "line L, column C: reason".
 * Any JSON value is accepted at the top; nesting is capped (jansson's own
 * limit and LUA_DSGRAPH_MAX_DEPTH), so hostile input is an error, not a crash. */
static int l_decode(lua_State *L) {
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) {
        lua_pushnil(L);
        lua_pushfstring(L, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return 2;
    }
    /* Checked here so that pushing (which raises when too deep) cannot leak v. */
    if (json_depth(v, 0) > LUA_DSGRAPH_MAX_DEPTH) {
        json_decref(v);
        lua_pushnil(L);
        lua_pushfstring(L, "JSON nested deeper than %d levels", LUA_DSGRAPH_MAX_DEPTH);
        return 2;
    }
    lua_dsgraph_pushjson(L, v);
    json_decref(v);
    return 1;
}

/* dsgraph.json.encode(value [, {indent=n, sort_keys=bool}]): compact JSON text.
 * Values without a JSON form raise an error naming where they are ("value.tags[2]"). */
static int l_encode(lua_State *L) {
    size_t flags = JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "indent");
        if (!lua_isnil(L, -1)) {
            lua_Integer n = luaL_checkinteger(L, -1);
            if (n < 0 || n > 31) return luaL_error(L, "dsgraph.json.encode: indent must be 0..31");
            flags = (flags & ~(size_t)JSON_COMPACT) | JSON_INDENT((size_t)n);
        }
        lua_getfield(L, 2, "sort_keys");
        if (lua_toboolean(L, -1)) flags |= JSON_SORT_KEYS;
        lua_pop(L, 2);
    }
    lua_settop(L, 1);
    char err[300];
    json_t *v = lua_dsgraph_tojson(L, 1, "value", err, sizeof err);
    if (!v) return luaL_error(L, "dsgraph.json.encode: %s", err);
    char *s = json_dumps(v, flags);
    json_decref(v);
    if (!s) return luaL_error(L, "dsgraph.json.encode: out of memory");
    lua_pushstring(L, s);
    free(s);
    return 1;
}

/* Sets dsgraph.json in the table on top of the stack. */
void lua_json_open(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"decode", l_decode},
        {"encode", l_encode},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "json");
}
