/*
 * core/lua_dsgraph.c - the `dsgraph` library every plugin sees: its table,
 * the typed-value markers (null, list, map), the Lua <-> JSON value
 * conversion the host uses for properties, and dsgraph.normalize.
 * The parsers live in lua_json.c, lua_csv.c, lua_markdown.c and
 * lua_dsgraph_quantity.c; the rules are in lua_dsgraph.h.
 */
#include "lua_dsgraph.h"
#include "lua_dsgraph_internal.h"
#include "store.h"

#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- typed-value markers ---- */

/* Pushes the one dsgraph.null value (a userdata, so it is never nil and never a table). */
void lua_dsgraph_pushnull(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_DSGRAPH_NULL_KEY);
}

/* Lets C code tell dsgraph.null from any other value. */
int lua_dsgraph_isnull(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TUSERDATA) return 0;
    idx = lua_absindex(L, idx);
    lua_dsgraph_pushnull(L);
    int same = lua_rawequal(L, idx, -1);
    lua_pop(L, 1);
    return same;
}

/* Marks a table made in C as an array, so an empty one stays an array in JSON. */
void lua_dsgraph_marklist(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    luaL_getmetatable(L, LUA_DSGRAPH_LIST_MT);
    lua_setmetatable(L, idx);
}

/* null's tostring, so printing a decoded document shows "null" rather than an address. */
static int null_tostring(lua_State *L) {
    lua_pushliteral(L, "dsgraph.null");
    return 1;
}

/* dsgraph.list(t) / dsgraph.map(t): the shared body; t defaults to a new table. */
static int mark_table(lua_State *L, const char *mt, const char *fname) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else if (!lua_istable(L, 1)) {
        return luaL_error(L, "dsgraph.%s: expected a table, got %s", fname, luaL_typename(L, 1));
    }
    lua_settop(L, 1);
    luaL_getmetatable(L, mt);
    lua_setmetatable(L, 1);
    return 1;
}

/* dsgraph.list(t): forces t to be a JSON array (needed for an empty one). */
static int l_list(lua_State *L) { return mark_table(L, LUA_DSGRAPH_LIST_MT, "list"); }

/* dsgraph.map(t): forces t to be a JSON object. */
static int l_map(lua_State *L) { return mark_table(L, LUA_DSGRAPH_MAP_MT, "map"); }

/* dsgraph.is_list(t): lets plugins see whether a decoded table was a JSON array. */
static int l_is_list(lua_State *L) {
    int yes = 0;
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, LUA_DSGRAPH_LIST_MT);
        yes = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_pushboolean(L, yes);
    return 1;
}

/* ---- Lua -> JSON ---- */

/* One step of the path to the value being converted: a key, or an index when key is NULL. */
typedef struct conv_step {
    const char *key;   /* still on the Lua stack (lua_next's key) while the step is */
    lua_Integer index;
} conv_step;

typedef struct conv {
    lua_State *L;
    const char *what;  /* the root's name in messages ("props") */
    const void *list_mt, *map_mt;   /* the marker metatables, fetched once per conversion */
    /* The path is kept as steps and only turned into text ("props.tags[3]") when a
     * conversion fails: formatting it for every value was a tenth of an encode. */
    conv_step steps[LUA_DSGRAPH_MAX_DEPTH + 2];
    int nsteps;
    /* The tables being converted, outermost first (a table met again among them is a cycle). */
    const void *open[LUA_DSGRAPH_MAX_DEPTH + 2];
    int nopen;
    char *err;
    size_t errlen;
} conv;

/* Writes the error naming the current path; always returns NULL. */
static json_t *conv_fail(conv *c, const char *fmt, ...) {
    char msg[200], path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->err || !c->errlen) return NULL;
    size_t n = (size_t)snprintf(path, sizeof path, "%s", c->what);
    for (int i = 0; i < c->nsteps && n < sizeof path - 1; i++) {
        const conv_step *st = &c->steps[i];
        int k = st->key ? snprintf(path + n, sizeof path - n, ".%s", st->key)
                        : snprintf(path + n, sizeof path - n, "[%lld]", (long long)st->index);
        n = k < 0 ? sizeof path : n + (size_t)k;
    }
    snprintf(c->err, c->errlen, "%s: %s", path, msg);
    return NULL;
}

static json_t *to_json(conv *c, int idx, int depth);

/* Classifies the table at idx: 1 array of n elements, 0 object, -1 error (message set). */
static int table_kind(conv *c, int idx, lua_Integer *n_out) {
    lua_State *L = c->L;
    int forced_list = 0, forced_map = 0;
    if (lua_getmetatable(L, idx)) {
        const void *mt = lua_topointer(L, -1);
        forced_list = mt == c->list_mt;
        forced_map = mt == c->map_mt;
        lua_pop(L, 1);
    }
    lua_Integer count = 0, maxkey = 0;
    int ints = 0, strs = 0, others = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        int kt = lua_type(L, -1);
        if (kt == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            ints++;
            if (lua_tointeger(L, -1) > maxkey) maxkey = lua_tointeger(L, -1);
        } else if (kt == LUA_TSTRING) {
            strs++;
        } else {
            others++;
        }
    }
    if (others) {
        conv_fail(c, "table keys must be strings (object) or 1..n (array)");
        return -1;
    }
    if (forced_list) {
        if (strs || maxkey != count) {
            conv_fail(c, "a dsgraph.list must have keys 1..n only");
            return -1;
        }
        *n_out = count;
        return 1;
    }
    if (count > 0 && strs == 0 && !forced_map) {
        if (maxkey != count) {
            conv_fail(c, "array has holes (keys must be exactly 1..%lld)", (long long)maxkey);
            return -1;
        }
        *n_out = count;
        return 1;
    }
    if (ints) {
        conv_fail(c, "table mixes array and object keys");
        return -1;
    }
    return 0;
}

/* Sets out[k] = v (v's reference is taken, also on failure); NULL with the message set on a bad key. */
static json_t *object_set(conv *c, json_t *out, const char *k, size_t klen, json_t *v) {
    if (!memchr(k, '\0', klen)) {
        if (json_object_setn_new(out, k, klen, v) == 0) return out;   /* checks UTF-8 */
        json_decref(out);
        return conv_fail(c, "key is not valid UTF-8");
    }
    json_decref(v);
    json_decref(out);
    json_t *key = json_stringn(k, klen);   /* which message: UTF-8 is checked first */
    if (!key) return conv_fail(c, "key is not valid UTF-8");
    json_decref(key);
    return conv_fail(c, "key contains a NUL byte");
}

/* Converts a table (array or object), guarding against cycles. */
static json_t *table_to_json(conv *c, int idx, int depth) {
    lua_State *L = c->L;
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < c->nopen; i++)
        if (c->open[i] == self) return conv_fail(c, "cycle: a table contains itself");
    lua_Integer n = 0;
    int kind = table_kind(c, idx, &n);
    if (kind < 0) return NULL;
    json_t *out = kind ? json_array() : json_object();
    if (!out) return conv_fail(c, "out of memory");
    c->open[c->nopen++] = self;
    conv_step *step = &c->steps[c->nsteps++];
    if (kind == 1) {
        for (lua_Integer i = 1; i <= n && out; i++) {
            *step = (conv_step){.index = i};
            lua_rawgeti(L, idx, i);
            json_t *v = to_json(c, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
            if (!v || json_array_append_new(out, v)) {
                json_decref(out);
                out = NULL;
            }
        }
    } else {
        lua_pushnil(L);
        while (out && lua_next(L, idx)) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen); /* keys are strings here */
            *step = (conv_step){.key = k};
            json_t *v = to_json(c, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
            if (!v) {
                json_decref(out);
                out = NULL;
            } else {
                out = object_set(c, out, k, klen, v);
            }
            if (!out) lua_pop(L, 1);   /* the key lua_next left */
        }
    }
    c->nsteps--;
    c->nopen--;
    return out;
}

/* Converts any Lua value; the single place that decides each type's JSON form. */
static json_t *to_json(conv *c, int idx, int depth) {
    lua_State *L = c->L;
    if (depth > LUA_DSGRAPH_MAX_DEPTH) return conv_fail(c, "nested deeper than %d", LUA_DSGRAPH_MAX_DEPTH);
    if (!lua_checkstack(L, 8)) return conv_fail(c, "Lua stack exhausted");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
        else {
            double d = lua_tonumber(L, idx);
            if (!isfinite(d)) return conv_fail(c, "number %g has no JSON form", d);
            return json_real(d);
        }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        json_t *v = json_stringn(s, len);
        return v ? v : conv_fail(c, "string is not valid UTF-8");
    }
    case LUA_TTABLE:
        return table_to_json(c, idx, depth);
    case LUA_TUSERDATA:
        if (lua_dsgraph_isnull(L, idx)) return json_null();
        /* fall through */
    default:
        return conv_fail(c, "a %s has no JSON form", luaL_typename(L, idx));
    }
}

/* See lua_dsgraph.h: the host's way to turn props (and anything else) into JSON. */
json_t *lua_dsgraph_tojson(lua_State *L, int idx, const char *what, char *err, size_t errlen) {
    conv cv, *c = &cv;   /* ~12 KiB of C stack, less than the recursion it bounds */
    c->L = L;
    c->what = what ? what : "value";
    c->nsteps = c->nopen = 0;
    c->err = err;
    c->errlen = errlen;
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 8)) {
        if (err && errlen) snprintf(err, errlen, "%s: Lua stack exhausted", what ? what : "value");
        return NULL;
    }
    luaL_getmetatable(L, LUA_DSGRAPH_LIST_MT);
    luaL_getmetatable(L, LUA_DSGRAPH_MAP_MT);
    c->list_mt = lua_topointer(L, -2);   /* NULL if not registered (then nothing is marked) */
    c->map_mt = lua_topointer(L, -1);
    lua_pop(L, 2);
    return to_json(c, idx, 0);
}

/* ---- JSON -> Lua ---- */

/* Pushes v; arrays get the list marker; too deep a value raises a Lua error. */
static void push_json(lua_State *L, json_t *v, int depth) {
    if (depth > LUA_DSGRAPH_MAX_DEPTH) luaL_error(L, "JSON value nested deeper than %d", LUA_DSGRAPH_MAX_DEPTH);
    luaL_checkstack(L, 4, "JSON value too deep");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            push_json(L, e, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, n > 1000000 ? 1000000 : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            push_json(L, json_array_get(v, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_dsgraph_marklist(L, -1);
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
    default:
        lua_dsgraph_pushnull(L);
        break;
    }
}

/* See lua_dsgraph.h. A NULL v pushes dsgraph.null. */
void lua_dsgraph_pushjson(lua_State *L, json_t *v) {
    if (!v) {
        lua_dsgraph_pushnull(L);
        return;
    }
    push_json(L, v, 0);
}

/* ---- dsgraph.normalize ---- */

/* dsgraph.normalize(name): the store's name key, so plugins compare names as the store does.
 * Returns nil + message for invalid UTF-8. */
static int l_normalize(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (memchr(s, '\0', len)) {
        lua_pushnil(L);
        lua_pushliteral(L, "dsgraph.normalize: name contains a NUL byte");
        return 2;
    }
    gs_error err;
    char *key = graph_name_key(s, &err);
    if (!key) {
        lua_pushnil(L);
        lua_pushfstring(L, "dsgraph.normalize: %s", err.msg);
        return 2;
    }
    lua_pushstring(L, key);
    free(key);
    return 1;
}

/* dsgraph.utf8_valid(s): lets importers reject bad input with a line number before the store does. */
static int l_utf8_valid(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    json_t *v = json_stringn(s, len);
    lua_pushboolean(L, v != NULL);
    json_decref(v);
    return 1;
}

/* See lua_dsgraph.h: builds the `dsgraph` global. */
void lua_dsgraph_open(lua_State *L) {
    luaL_checkstack(L, 8, "lua_dsgraph_open");
    /* Markers first: the parsers use them. */
    if (luaL_newmetatable(L, LUA_DSGRAPH_LIST_MT)) {
        lua_pushliteral(L, LUA_DSGRAPH_LIST_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, LUA_DSGRAPH_MAP_MT)) {
        lua_pushliteral(L, LUA_DSGRAPH_MAP_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_DSGRAPH_NULL_KEY);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newuserdatauv(L, 0, 0);
        lua_newtable(L);
        lua_pushcfunction(L, null_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "dsgraph.null");
        lua_setfield(L, -2, "__name");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable"); /* plugins can't change it */
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, LUA_DSGRAPH_NULL_KEY);
    }
    lua_pop(L, 1);

    static const luaL_Reg fns[] = {
        {"list", l_list},
        {"map", l_map},
        {"is_list", l_is_list},
        {"normalize", l_normalize},
        {"utf8_valid", l_utf8_valid},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_dsgraph_pushnull(L);
    lua_setfield(L, -2, "null");
    lua_pushliteral(L, DSGRAPH_VERSION);
    lua_setfield(L, -2, "version");
    lua_json_open(L);
    lua_csv_open(L);
    lua_md_open(L);
    lua_dsgraph_quantity_open(L);
    lua_setglobal(L, "dsgraph");
}
