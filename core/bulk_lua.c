/*
 * core/bulk_lua.c - ctx:bulk() (see bulk_lua.h): a loader object whose
 * bulk:node / bulk:rel take ctx:node / ctx:rel's arguments and write through
 * graph/bulk_load.h. A row is converted once: the node table by the reader
 * ctx:node uses (lua_node_args_read), each property value to its canonical
 * JSON text (gs_props_dump's flags), sorted by key. Plain values (strings,
 * integers, booleans, lists of them) go straight from Lua to text
 * (props_from_lua); any other row through lua_dsgraph_tojson and jansson,
 * which gives the same text or ctx:node's error.
 * Rows the fast paths cannot express (no name, a "name" or null property, an
 * empty key or alias, an unknown relationship end) take the store's general
 * merge (graph_bulk_node_put / graph_bulk_rel_put: graph_node_put and
 * graph_rel_put with their checks and messages), so every row ends exactly
 * as ctx:node / ctx:rel would end it.
 */
#include "bulk_lua.h"
#include "bulk_load.h"
#include "log.h"
#include "lua_dsgraph.h"
#include "lua_dsgraph_internal.h"

#include <lauxlib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BULK_LUA_MT "dsgraph.bulk"
#define BULK_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))

/* One loader (a Lua userdata, so an error or a forgotten finish is undone by __gc). */
typedef struct bulk_lua {
    graph_bulk *b;          /* NULL once finished or failed */
    bool *open;             /* the run's flag (bulk_lua_open) */
    bool failed;
    int64_t nodes, rels;    /* calls that succeeded */
    uint64_t *known;        /* bit set of node ids known to exist */
    size_t nknown;          /* words */
    graph_bulk_prop *props; /* the row's properties, sorted by key */
    size_t *offs, cprops;
    const char **strings;   /* the row's string values, for the search row */
    size_t nstrings, cstrings;
    const char **aliases;
    size_t caliases;
    char *text;             /* the row's canonical value texts */
    size_t tlen, tcap;
    double t0, cpu0;
} bulk_lua;

/* ---- the node table (shared with ctx:node) ---- */

/* Converts the field key of table idx to JSON (NULL if absent); -1 with err on a bad value. */
static int field_json(lua_State *L, int idx, const char *key, json_t **out, char *err, size_t errlen) {
    *out = NULL;
    int t = lua_getfield(L, idx, key);
    int rc = 0;
    if (t != LUA_TNIL) {
        *out = lua_dsgraph_tojson(L, -1, key, err, errlen);
        rc = *out ? 0 : -1;
    }
    lua_pop(L, 1);
    return rc;
}

/* See bulk_lua.h: ctx:node's argument rules and messages, in one place for both callers. */
void lua_node_args_read(lua_State *L, int idx, const char *fn, lua_node_args *a) {
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    char err[600] = "";
    a->nlabels = 0;
    a->props = a->aliases = NULL;
    int t = lua_getfield(L, idx, "labels");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        t = lua_getfield(L, idx, "label");
    }
    if (t == LUA_TSTRING) {
        a->labels[a->nlabels++] = lua_tostring(L, -1);
    } else if (t == LUA_TTABLE) {
        for (lua_Integer i = 1; a->nlabels < LUA_NODE_MAX_LABELS; i++) {
            if (lua_geti(L, -1, i) == LUA_TNIL) {
                lua_pop(L, 1);
                break;
            }
            if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: labels[%d] must be a string", fn, (int)i);
            a->labels[a->nlabels++] = lua_tostring(L, -1);
            lua_pop(L, 1);   /* the string stays alive in the labels table */
        }
    } else if (t != LUA_TNIL) {
        luaL_error(L, "%s: labels must be a string or a list of strings", fn);
    }
    /* the labels value stays on the stack while its strings are used; so does the name */
    t = lua_getfield(L, idx, "name");
    if (t != LUA_TNIL && t != LUA_TSTRING) luaL_error(L, "%s: name must be a string", fn);
    a->name = lua_tostring(L, -1);
    if ((!a->props_raw && field_json(L, idx, "props", &a->props, err, sizeof err) != 0) ||
        field_json(L, idx, "aliases", &a->aliases, err, sizeof err) != 0) {
        json_decref(a->props);
        a->props = NULL;
        luaL_error(L, "%s: %s", fn, err);
    }
    if (a->aliases && json_is_string(a->aliases)) {
        json_t *one = json_pack("[O]", a->aliases);
        json_decref(a->aliases);
        a->aliases = one;
    }
    if ((a->props && !json_is_object(a->props)) || (a->aliases && !json_is_array(a->aliases))) {
        json_decref(a->props);
        json_decref(a->aliases);
        a->props = a->aliases = NULL;
        luaL_error(L, "%s: props must be a table with string keys, aliases a list of strings", fn);
    }
}

/* See bulk_lua.h. */
int64_t lua_node_ref(lua_State *L, int idx, const char *fn, const char *what) {
    if (lua_isinteger(L, idx)) return lua_tointeger(L, idx);
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "id");
        if (lua_isinteger(L, -1)) {
            int64_t id = lua_tointeger(L, -1);
            lua_pop(L, 1);
            return id;
        }
        lua_pop(L, 1);
    }
    return luaL_error(L, "%s: %s must be a node handle (from ctx:node) or an id, not a %s", fn, what,
                      luaL_typename(L, idx));
}

/* ---- converting a row ---- */

/* A label the store accepts (non-empty, valid UTF-8); others take the general merge for its message. */
static bool label_ok(const char *s) { return *s && graph_utf8_valid(s, strlen(s)); }

/* Grows an array to hold n items of size sz; false on OOM. */
static bool grow(void **p, size_t *cap, size_t n, size_t sz) {
    if (n <= *cap) return true;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < n) ncap *= 2;
    void *np = realloc(*p, ncap * sz);
    if (!np) return false;
    *p = np;
    *cap = ncap;
    return true;
}

/* Makes room for n more bytes of value text; false on OOM. */
static bool text_room(bulk_lua *bl, size_t n) {
    if (bl->tlen + n <= bl->tcap) return true;
    size_t ncap = bl->tcap;
    while (ncap - bl->tlen < n) ncap *= 2;
    char *nt = realloc(bl->text, ncap);
    if (!nt) return false;
    bl->text = nt;
    bl->tcap = ncap;
    return true;
}

/* Appends v's canonical text (what the stored props object spells for it) to bl->text. */
static bool dump_value(bulk_lua *bl, const json_t *v, size_t *off, size_t *len) {
    size_t room = bl->tcap - bl->tlen;
    size_t n = json_dumpb(v, bl->text + bl->tlen, room, BULK_DUMP_FLAGS);
    if (n == 0) return false;
    if (n > room) {
        if (!text_room(bl, n)) return false;
        n = json_dumpb(v, bl->text + bl->tlen, n, BULK_DUMP_FLAGS);
    }
    *off = bl->tlen;
    *len = n;
    bl->tlen += n;
    return true;
}

/* Orders properties (and object keys) by key, as the stored text has them. */
static int prop_cmp(const void *x, const void *y) {
    return strcmp(((const graph_bulk_prop *)x)->key, ((const graph_bulk_prop *)y)->key);
}
static int str_cmp(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* Collects the string values of v (arrays and objects too, keys in stored order) for the search row. */
static bool collect_strings(bulk_lua *bl, const json_t *v) {
    if (json_is_string(v)) {
        if (!grow((void **)&bl->strings, &bl->cstrings, bl->nstrings + 1, sizeof *bl->strings)) return false;
        bl->strings[bl->nstrings++] = json_string_value(v);
        return true;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!collect_strings(bl, json_array_get(v, i))) return false;
        return true;
    }
    if (!json_is_object(v) || json_object_size(v) == 0) return true;
    size_t n = 0;
    const char **keys = malloc(json_object_size(v) * sizeof *keys), *k;
    json_t *e;
    if (!keys) return false;
    json_object_foreach((json_t *)v, k, e) keys[n++] = k;
    qsort(keys, n, sizeof *keys, str_cmp);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) ok = collect_strings(bl, json_object_get(v, keys[i]));
    free(keys);
    return ok;
}

/* Makes room for n properties (and their text offsets); false on OOM. */
static bool props_room(bulk_lua *bl, size_t n) {
    if (n <= bl->cprops) return true;
    size_t ncap = bl->cprops ? bl->cprops : 16;
    while (ncap < n) ncap *= 2;
    graph_bulk_prop *p = realloc(bl->props, ncap * sizeof *p);
    if (!p) return false;
    bl->props = p;
    size_t *o = realloc(bl->offs, ncap * sizeof *o);
    if (!o) return false;
    bl->offs = o;
    bl->cprops = ncap;
    return true;
}

/* The props object as bulk properties in bl->props (sorted); 1: done, 0: the row
 * needs the general merge (an empty key, a null, a node's "name"), -1: out of memory. */
static int convert_props(bulk_lua *bl, const json_t *props, bool node, size_t *np) {
    size_t n = props ? json_object_size(props) : 0, i = 0;
    bl->tlen = 0;
    bl->nstrings = 0;
    *np = 0;
    if (!props_room(bl, n)) return -1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)props, key, v) {
        if (!*key || json_is_null(v) || (node && strcmp(key, "name") == 0)) return 0;
        bl->props[i].key = key;
        if (!dump_value(bl, v, &bl->offs[i], &bl->props[i].json_len)) return -1;
        i++;
    }
    for (i = 0; i < n; i++) bl->props[i].json = bl->text + bl->offs[i];
    qsort(bl->props, n, sizeof *bl->props, prop_cmp);
    for (i = 0; node && i < n; i++)
        if (!collect_strings(bl, json_object_get(props, bl->props[i].key))) return -1;
    *np = n;
    return 1;
}

/* ---- properties straight from Lua ---- */

/* The common rows (strings, integers, booleans, lists of them) are converted
 * here without a jansson tree: most of a Hugging Face import's allocations
 * were the tree built for each row and freed right after its values were
 * dumped. Anything else (a real, a nested table, a null, a metatable, a value
 * the store refuses) makes props_from_lua answer 0, and the row takes the
 * jansson conversion above, which gives the same text or the error. The text
 * is the same as jansson's: integers with %lld, strings as graph_bulk_quote
 * spells them, arrays with no spaces (BULK_DUMP_FLAGS). */

/* A string jansson would keep as it is (valid UTF-8, no NUL) and the store can search. */
static bool plain_string(const char *s, size_t n) { return !memchr(s, '\0', n) && graph_utf8_valid(s, n); }

/* Appends the text of the scalar at idx: 1, 0 if it is not a plain scalar, -1 on OOM. */
static int scalar_text(bulk_lua *bl, lua_State *L, int idx) {
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (!plain_string(s, n)) return 0;
        if (!text_room(bl, 6 * n + 3)) return -1;
        bl->tlen += graph_bulk_quote(bl->text + bl->tlen, s, n);
        return 1;
    }
    case LUA_TNUMBER:
        if (!lua_isinteger(L, idx)) return 0;
        if (!text_room(bl, 24)) return -1;
        bl->tlen += (size_t)snprintf(bl->text + bl->tlen, 24, "%lld", (long long)lua_tointeger(L, idx));
        return 1;
    case LUA_TBOOLEAN: {
        bool b = lua_toboolean(L, idx);
        if (!text_room(bl, 5)) return -1;
        memcpy(bl->text + bl->tlen, b ? "true" : "false", b ? 4 : 5);
        bl->tlen += b ? 4 : 5;
        return 1;
    }
    default:
        return 0;
    }
}

/* The number of elements of the table at idx if lua_dsgraph_tojson would make
 * it an array (keys exactly 1..n; a dsgraph.list, or no metatable and n > 0),
 * else -1. */
static lua_Integer plain_list_len(lua_State *L, int idx) {
    bool list = false;
    if (lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, LUA_DSGRAPH_LIST_MT);
        list = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (!list) return -1;
    }
    lua_Integer n = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
            lua_pop(L, 1);
            return -1;
        }
        if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
        n++;
    }
    return max == n && (n > 0 || list) ? n : -1;
}

/* Appends the text of the value at idx (a plain scalar, or an array of them):
 * 1, 0 if it is anything else, -1 on OOM. */
static int value_text(bulk_lua *bl, lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE) return scalar_text(bl, L, idx);
    lua_Integer n = plain_list_len(L, idx);
    if (n < 0 || !text_room(bl, 1)) return n < 0 ? 0 : -1;
    bl->text[bl->tlen++] = '[';
    int r = 1;
    for (lua_Integer i = 1; r > 0 && i <= n; i++) {
        if (i > 1 && !text_room(bl, 1)) return -1;
        if (i > 1) bl->text[bl->tlen++] = ',';
        lua_rawgeti(L, idx, i);
        r = scalar_text(bl, L, lua_gettop(L));
        lua_pop(L, 1);
    }
    if (r > 0 && !text_room(bl, 1)) return -1;
    if (r > 0) bl->text[bl->tlen++] = ']';
    return r;
}

/* Collects the string values of the value at idx for the search row (as collect_strings). */
static bool lua_strings(bulk_lua *bl, lua_State *L, int idx) {
    bool list = lua_type(L, idx) == LUA_TTABLE;
    lua_Integer n = list ? (lua_Integer)lua_rawlen(L, idx) : 1;
    for (lua_Integer i = 1; i <= n; i++) {
        if (list) lua_rawgeti(L, idx, i);
        else lua_pushvalue(L, idx);
        bool str = lua_type(L, -1) == LUA_TSTRING;   /* kept alive by the props table */
        bool ok = !str || grow((void **)&bl->strings, &bl->cstrings, bl->nstrings + 1, sizeof *bl->strings);
        if (ok && str) bl->strings[bl->nstrings++] = lua_tostring(L, -1);
        lua_pop(L, 1);
        if (!ok) return false;
    }
    return true;
}

/* The props table at idx (or nil) as bulk properties in bl->props, sorted, as
 * convert_props would make them: 1 done, 0 take the jansson conversion, -1 OOM.
 * The strings stay in the table, which the caller's arguments keep alive. */
static int props_from_lua(bulk_lua *bl, lua_State *L, int idx, bool node, size_t *np) {
    bl->tlen = 0;
    bl->nstrings = 0;
    *np = 0;
    if (lua_isnil(L, idx)) return 1;
    if (lua_type(L, idx) != LUA_TTABLE) return 0;
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        return 0;
    }
    size_t n = 0;
    int r = 1;
    lua_pushnil(L);
    while (r > 0 && lua_next(L, idx)) {
        size_t klen;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &klen) : NULL;
        if (!k || !klen || !plain_string(k, klen) || (node && strcmp(k, "name") == 0)) r = 0;
        else if (!props_room(bl, n + 1)) r = -1;
        size_t off = bl->tlen;
        if (r > 0) r = value_text(bl, L, lua_gettop(L));
        if (r > 0) {
            bl->props[n].key = k;
            bl->props[n].json_len = bl->tlen - off;
            bl->offs[n++] = off;
        }
        lua_pop(L, 1);
    }
    if (r <= 0) {
        lua_pop(L, 1);   /* the key lua_next left */
        return r;
    }
    for (size_t i = 0; i < n; i++) bl->props[i].json = bl->text + bl->offs[i];
    qsort(bl->props, n, sizeof *bl->props, prop_cmp);
    for (size_t i = 0; node && i < n; i++) {
        lua_getfield(L, idx, bl->props[i].key);
        bool ok = lua_strings(bl, L, lua_gettop(L));
        lua_pop(L, 1);
        if (!ok) return -1;
    }
    *np = n;
    return 1;
}

/* ---- node ids known to exist (relationship ends) ---- */

/* Remembers that node id exists; false on OOM. */
static bool known_add(bulk_lua *bl, int64_t id) {
    if (id <= 0) return true;
    size_t w = (size_t)((uint64_t)id / 64);
    if (w >= bl->nknown) {
        size_t n = bl->nknown ? bl->nknown : 1024;
        while (n <= w) n *= 2;
        uint64_t *nk = realloc(bl->known, n * sizeof *nk);
        if (!nk) return false;
        memset(nk + bl->nknown, 0, (n - bl->nknown) * sizeof *nk);
        bl->known = nk;
        bl->nknown = n;
    }
    bl->known[w] |= (uint64_t)1 << ((uint64_t)id % 64);
    return true;
}

/* True if node id exists: from bulk:node's results, else one rowid probe (graph_bulk_node_exists). */
static bool known_node(bulk_lua *bl, int64_t id) {
    if (id <= 0) return false;
    size_t w = (size_t)((uint64_t)id / 64);
    if (w < bl->nknown && (bl->known[w] >> ((uint64_t)id % 64) & 1)) return true;
    return graph_bulk_node_exists(bl->b, id) && known_add(bl, id);
}

/* ---- the loader ---- */

/* Monotonic and thread CPU seconds, for the timing line in the log. */
static double now_s(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Frees the loader's memory; an unfinished load is undone. */
static void loader_free(bulk_lua *bl) {
    if (bl->b) graph_bulk_end(bl->b, false, NULL);
    bl->b = NULL;
    free(bl->known);
    free(bl->props);
    free(bl->offs);
    free(bl->strings);
    free(bl->aliases);
    free(bl->text);
    bl->known = NULL;
    bl->props = NULL;
    bl->offs = NULL;
    bl->strings = NULL;
    bl->aliases = NULL;
    bl->text = NULL;
}

/* __gc: a run that ends (or fails) without bulk:finish() leaves nothing behind. */
static int loader_gc(lua_State *L) {
    loader_free(luaL_checkudata(L, 1, BULK_LUA_MT));
    return 0;
}

/* The loader as the first argument, still open; else a Lua error naming fn. */
static bulk_lua *loader_check(lua_State *L, const char *fn) {
    bulk_lua *bl = luaL_checkudata(L, 1, BULK_LUA_MT);
    if (!bl->b)
        luaL_error(L, "%s: the bulk load is %s", fn, bl->failed ? "undone (a bulk call failed)" : "finished");
    return bl;
}

/* A store error in a bulk call: the whole load is undone at once (the run then fails, even if the
 * plugin catches the error: the run's flag stays set), and the error is raised. */
static int loader_fail(lua_State *L, bulk_lua *bl, const char *fn, const char *msg) {
    char copy[700];
    snprintf(copy, sizeof copy, "%s", msg);
    graph_bulk_end(bl->b, false, NULL);
    bl->b = NULL;
    bl->failed = true;
    log_info("bulk lua: failed after %lld nodes and %lld relationships (undone): %s", (long long)bl->nodes,
             (long long)bl->rels, copy);
    return luaL_error(L, "%s: %s", fn, copy);
}

/* bulk:node{labels=, name=, props=, aliases=} -> id: ctx:node's merge through the bulk load. */
static int loader_node(lua_State *L) {
    bulk_lua *bl = loader_check(L, "bulk:node");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "props");
    size_t np = 0;
    int raw = props_from_lua(bl, L, lua_gettop(L), true, &np);   /* 1: no jansson tree needed */
    lua_pop(L, 1);
    lua_node_args a = {.props_raw = raw > 0};
    lua_node_args_read(L, 2, "bulk:node", &a);
    bool fast = a.name && a.nlabels > 0;
    for (size_t i = 0; fast && i < a.nlabels; i++) fast = label_ok(a.labels[i]);
    size_t naliases = a.aliases ? json_array_size(a.aliases) : 0;
    int conv = raw < 0 ? -1 : 1;
    if (fast && !grow((void **)&bl->aliases, &bl->caliases, naliases, sizeof *bl->aliases)) conv = -1;
    for (size_t i = 0; fast && conv > 0 && i < naliases; i++) {
        const char *s = json_string_value(json_array_get(a.aliases, i));
        fast = s && *s;
        bl->aliases[i] = s;
    }
    if (fast && conv > 0 && !a.props_raw) conv = convert_props(bl, a.props, true, &np);
    if (!fast && a.props_raw) {   /* the general merge takes the jansson form (plain values: only OOM fails) */
        char err[600];
        lua_getfield(L, 2, "props");
        if (!lua_isnil(L, -1) && !(a.props = lua_dsgraph_tojson(L, -1, "props", err, sizeof err))) conv = -1;
        lua_pop(L, 1);
    }
    gs_error gerr;
    gs_status st = GS_OK;
    int64_t id = 0;
    if (conv < 0) {
        st = GS_IO;
        snprintf(gerr.msg, sizeof gerr.msg, "out of memory");
    } else if (fast && conv > 0) {
        graph_bulk_node_row row = {.labels = a.labels, .nlabels = a.nlabels, .name = a.name, .props = bl->props,
                                   .nprops = np, .strings = bl->strings, .nstrings = bl->nstrings,
                                   .aliases = naliases ? bl->aliases : NULL, .naliases = naliases};
        st = graph_bulk_node(bl->b, &row, &id, &gerr);
    } else {
        st = graph_bulk_node_put(bl->b, a.labels, a.nlabels, a.name, a.props, a.aliases, &id, &gerr);
    }
    json_decref(a.props);
    json_decref(a.aliases);
    if (st == GS_OK && !known_add(bl, id)) {
        st = GS_IO;
        snprintf(gerr.msg, sizeof gerr.msg, "out of memory");
    }
    if (st != GS_OK) return loader_fail(L, bl, "bulk:node", gerr.msg);
    bl->nodes++;
    lua_pushinteger(L, id);
    return 1;
}

/* bulk:rel(a, "TYPE", b [, props]) -> id: ctx:rel's merge through the bulk load. */
static int loader_rel(lua_State *L) {
    bulk_lua *bl = loader_check(L, "bulk:rel");
    int64_t a = lua_node_ref(L, 2, "bulk:rel", "the start");
    const char *type = luaL_checkstring(L, 3);
    int64_t b = lua_node_ref(L, 4, "bulk:rel", "the end");
    json_t *props = NULL;
    char err[600];
    bool known = known_node(bl, a) && known_node(bl, b);
    size_t np = 0;
    int conv = known && !lua_isnoneornil(L, 5) ? props_from_lua(bl, L, 5, false, &np) : 0;
    if (conv == 0 && !lua_isnoneornil(L, 5)) {
        props = lua_dsgraph_tojson(L, 5, "props", err, sizeof err);
        if (!props) return luaL_error(L, "bulk:rel: %s", err);
        if (!json_is_object(props)) {
            json_decref(props);
            return luaL_error(L, "bulk:rel: props must be a table with string keys");
        }
    }
    if (conv == 0 && known) conv = convert_props(bl, props, false, &np);
    gs_error gerr;
    gs_status st;
    int64_t id = 0;
    if (conv < 0) {
        st = GS_IO;
        snprintf(gerr.msg, sizeof gerr.msg, "out of memory");
    } else if (conv > 0) {
        st = graph_bulk_rel(bl->b, a, type, b, bl->props, np, &id, &gerr);
    } else {
        st = graph_bulk_rel_put(bl->b, a, type, b, props, &id, &gerr);
    }
    json_decref(props);
    if (st != GS_OK) return loader_fail(L, bl, "bulk:rel", gerr.msg);
    bl->rels++;
    lua_pushinteger(L, id);
    return 1;
}

/* bulk:finish() -> {nodes=, relationships=}: builds the deferred indexes, keeps the rows. */
static int loader_finish(lua_State *L) {
    bulk_lua *bl = loader_check(L, "bulk:finish");
    graph_bulk *b = bl->b;
    bl->b = NULL;
    double t1 = now_s(CLOCK_MONOTONIC);
    gs_error gerr;
    double wcpu;
    unsigned long waits;
    graph_bulk_write_stats(b, &wcpu, &waits);
    gs_status st = graph_bulk_end(b, true, &gerr);
    log_info("bulk lua: %lld nodes, %lld relationships%s: rows %.0f ms, end (indexes) %.0f ms; writer CPU %.0f ms, "
             "write thread CPU %.0f ms (%lu waits for it)",
             (long long)bl->nodes, (long long)bl->rels, st == GS_OK ? "" : " (failed, undone)", (t1 - bl->t0) * 1e3,
             (now_s(CLOCK_MONOTONIC) - t1) * 1e3, (now_s(CLOCK_THREAD_CPUTIME_ID) - bl->cpu0) * 1e3, wcpu * 1e3, waits);
    if (st != GS_OK) {
        bl->failed = true;
        return luaL_error(L, "bulk:finish: %s", gerr.msg);
    }
    *bl->open = false;
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, bl->nodes);
    lua_setfield(L, -2, "nodes");
    lua_pushinteger(L, bl->rels);
    lua_setfield(L, -2, "relationships");
    return 1;
}

/* See bulk_lua.h. */
int bulk_lua_open(lua_State *L, graph_store *s, bool *open) {
    if (*open) return luaL_error(L, "ctx:bulk: a bulk load is open already (bulk:finish() it first)");
    bulk_lua *bl = lua_newuserdatauv(L, sizeof *bl, 0);
    memset(bl, 0, sizeof *bl);
    if (luaL_newmetatable(L, BULK_LUA_MT)) {
        static const luaL_Reg methods[] = {
            {"node", loader_node}, {"rel", loader_rel}, {"finish", loader_finish}, {NULL, NULL}};
        lua_pushcfunction(L, loader_gc);
        lua_setfield(L, -2, "__gc");
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
    bl->open = open;
    bl->tcap = 1024;
    if (!(bl->text = malloc(bl->tcap))) return luaL_error(L, "ctx:bulk: out of memory");
    bl->t0 = now_s(CLOCK_MONOTONIC);
    bl->cpu0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    gs_error gerr;
    if (graph_bulk_begin(s, &bl->b, &gerr) != GS_OK) return luaL_error(L, "ctx:bulk: %s", gerr.msg);
    *open = true;
    return 1;
}
