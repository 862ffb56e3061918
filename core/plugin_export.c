/* core/plugin_export.c - the exporter context (ctx) and one run of an
 * exporter over a read-only snapshot of the graph (see plugin_export.h). */
#include "plugin_export.h"
#include "plugin_export_int.h"
#include "cypher.h"
#include "log.h"
#include "lua_dsgraph.h"
#include "plugin_sandbox.h"
#include "provenance.h"

#include <lauxlib.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Why: every ctx closure carries the run as upvalue 1. */
export_run *export_run_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* Why: a Lua error (or the memory cap) may longjmp out of a push; JSON kept
 * here is freed at the next ctx call or at the end of the run, never leaked. */
json_t *export_hold(export_run *r, json_t *v)
{
    for (int i = 0; i < EXPORT_HELD; i++)
        if (!r->held[i]) {
            r->held[i] = v;
            return v;
        }
    json_decref(r->held[EXPORT_HELD - 1]);   /* never reached: no call holds more than 3 */
    r->held[EXPORT_HELD - 1] = v;
    return v;
}

/* Why: drops everything export_hold() kept; called once the pushes are done. */
void export_release(export_run *r)
{
    for (int i = 0; i < EXPORT_HELD; i++) {
        json_decref(r->held[i]);
        r->held[i] = NULL;
    }
}

/* Why: store errors become Lua errors naming the ctx call; the JSON held so
 * far is released first (luaL_error does not return). */
int export_fail_store(lua_State *L, export_run *r, const char *fn, const gs_error *gerr)
{
    export_release(r);
    return luaL_error(L, "%s: %s", fn, gerr->msg);
}

/* Pushes a node as the exporter sees it: {id=, labels=, props=, aliases=}.
 * body is the inside of {"$node":...}; aliases are read when with_aliases.
 * Why one shape: every ctx call that returns nodes hands out the same table. */
static void push_node(lua_State *L, export_run *r, json_t *body, bool with_aliases)
{
    int64_t id = json_integer_value(json_object_get(body, "id"));
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
    lua_dsgraph_pushjson(L, json_object_get(body, "labels"));
    lua_setfield(L, -2, "labels");
    lua_dsgraph_pushjson(L, json_object_get(body, "properties"));
    lua_setfield(L, -2, "props");
    if (with_aliases) {
        json_t *aliases = NULL;
        gs_error gerr;
        if (graph_node_aliases(r->s, id, &aliases, &gerr) != GS_OK)
            export_fail_store(L, r, "ctx:nodes", &gerr);
        lua_dsgraph_pushjson(L, export_hold(r, aliases));
        lua_setfield(L, -2, "aliases");
    }
}

/* Pushes a relationship: {id=, type=, start=, end=, props=} from the inside of {"$rel":...}.
 * Why flat: exporters read r.start / r["end"] directly, as the importers write them. */
static void push_rel(lua_State *L, json_t *body)
{
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, json_integer_value(json_object_get(body, "id")));
    lua_setfield(L, -2, "id");
    lua_pushstring(L, json_string_value(json_object_get(body, "type")));
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, json_integer_value(json_object_get(body, "start")));
    lua_setfield(L, -2, "start");
    lua_pushinteger(L, json_integer_value(json_object_get(body, "end")));
    lua_setfield(L, -2, "end");
    lua_dsgraph_pushjson(L, json_object_get(body, "properties"));
    lua_setfield(L, -2, "props");
}

/* ctx:node(id): the node {id, labels, props, aliases}, or nil if there is none. */
static int ctx_node(lua_State *L)
{
    export_run *r = export_run_of(L);
    lua_Integer id = luaL_checkinteger(L, 2);
    export_release(r);
    json_t *v = NULL;
    gs_error gerr;
    gs_status st = graph_node_get(r->s, id, &v, &gerr);
    if (st == GS_NOT_FOUND)
        return 0;
    if (st != GS_OK)
        return export_fail_store(L, r, "ctx:node", &gerr);
    push_node(L, r, json_object_get(export_hold(r, v), "$node"), true);
    export_release(r);
    return 1;
}

/* ctx:lineage(id [, "up"|"down" [, types [, depth]]]) ->
 * {root=node, nodes={node+depth, ...}, rels={rel, ...}} (graph_lineage's order). */
static int ctx_lineage(lua_State *L)
{
    export_run *r = export_run_of(L);
    lua_Integer id = luaL_checkinteger(L, 2);
    const char *dir = luaL_optstring(L, 3, "up");
    lua_Integer depth = luaL_optinteger(L, 5, 0);
    graph_direction d = GRAPH_UP;
    if (strcmp(dir, "down") == 0)
        d = GRAPH_DOWN;
    else if (strcmp(dir, "up") != 0)
        return luaL_error(L, "ctx:lineage: direction must be \"up\" or \"down\"");
    const char *types[32];
    size_t ntypes = 0;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        for (lua_Integer i = 1; ntypes < 32; i++) {
            if (lua_geti(L, 4, i) == LUA_TNIL) {
                lua_pop(L, 1);
                break;
            }
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "ctx:lineage: types[%d] must be a string", (int)i);
            types[ntypes++] = lua_tostring(L, -1);   /* stays alive in the types table */
            lua_pop(L, 1);
        }
    }
    export_release(r);
    json_t *res = NULL;
    gs_error gerr;
    gs_status st = graph_lineage(r->s, id, d, types, ntypes, (int)(depth > 1000000 ? 1000000 : depth), &res, &gerr);
    if (st != GS_OK)
        return export_fail_store(L, r, "ctx:lineage", &gerr);
    export_hold(r, res);
    lua_createtable(L, 0, 3);
    push_node(L, r, json_object_get(json_object_get(res, "root"), "$node"), false);
    lua_setfield(L, -2, "root");
    json_t *arr = json_object_get(res, "nodes"), *e;
    size_t i;
    lua_createtable(L, (int)json_array_size(arr), 0);
    json_array_foreach(arr, i, e) {
        push_node(L, r, json_object_get(e, "$node"), false);
        lua_pushinteger(L, json_integer_value(json_object_get(e, "depth")));
        lua_setfield(L, -2, "depth");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "nodes");
    arr = json_object_get(res, "relationships");
    lua_createtable(L, (int)json_array_size(arr), 0);
    json_array_foreach(arr, i, e) {
        push_rel(L, json_object_get(e, "$rel"));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "rels");
    export_release(r);
    return 1;
}

/* ctx:search(text [, limit]) -> list of {id, labels, props, score}, best first. */
static int ctx_search(lua_State *L)
{
    export_run *r = export_run_of(L);
    const char *text = luaL_checkstring(L, 2);
    lua_Integer limit = luaL_optinteger(L, 3, 20);
    luaL_argcheck(L, limit >= 1 && limit <= 1000, 3, "must be in [1, 1000]");
    export_release(r);
    json_t *res = NULL;
    gs_error gerr;
    if (graph_search(r->s, text, (int)limit, &res, &gerr) != GS_OK)
        return export_fail_store(L, r, "ctx:search", &gerr);
    export_hold(r, res);
    json_t *e;
    size_t i;
    lua_createtable(L, (int)json_array_size(res), 0);
    json_array_foreach(res, i, e) {
        push_node(L, r, json_object_get(e, "$node"), false);
        json_t *score = json_object_get(e, "score");
        lua_pushnumber(L, json_number_value(score));
        lua_setfield(L, -2, "score");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    export_release(r);
    return 1;
}

/* ctx:query(cypher [, params]) -> {columns={...}, rows={{...}, ...}}; read-only.
 * Why refuse writes up front: the connection is read-only anyway, but the
 * message should say that exporters cannot write. */
static int ctx_query(lua_State *L)
{
    export_run *r = export_run_of(L);
    const char *text = luaL_checkstring(L, 2);
    if (graph_query_writes(text))
        return luaL_error(L, "ctx:query: exporters are read-only; the query writes");
    export_release(r);
    char err[600];
    json_t *params = NULL;
    if (!lua_isnoneornil(L, 3)) {
        params = lua_dsgraph_tojson(L, 3, "params", err, sizeof err);
        if (!params)
            return luaL_error(L, "ctx:query: %s", err);
        export_hold(r, params);
        if (!json_is_object(params)) {
            export_release(r);
            return luaL_error(L, "ctx:query: params must be a table with string keys");
        }
    }
    graph_query_limits lim = {.timeout_ms = r->lim->query_timeout_ms, .max_rows = r->lim->query_max_rows,
                              .max_memory = r->lim->query_max_memory};
    graph_query_error qe;
    char *out = NULL;
    if (graph_query(r->s, text, params, &lim, &out, &qe) != GS_OK) {
        export_release(r);
        return luaL_error(L, "ctx:query: %s%s%s: %s", qe.type, qe.code[0] ? "/" : "", qe.code, qe.message);
    }
    json_error_t jerr;
    json_t *res = json_loads(out, JSON_DECODE_ANY, &jerr);
    free(out);
    if (!res) {
        export_release(r);
        return luaL_error(L, "ctx:query: the result holds a value JSON cannot carry (NaN or infinity)");
    }
    lua_dsgraph_pushjson(L, export_hold(r, res));
    export_release(r);
    return 1;
}

/* ctx:imports() -> the imports {id, plugin, input, sha256, started_at, finished_at,
 * retracted_at, nodes, relationships, properties, warnings} by id, as imports.list gives them.
 * Why: an exporter that writes provenance (json_export) lists the imports its claims name. */
static int ctx_imports(lua_State *L)
{
    export_run *r = export_run_of(L);
    export_release(r);
    json_t *res = NULL;
    gs_error gerr;
    if (prov_imports_list(r->s, &res, &gerr) != GS_OK)
        return export_fail_store(L, r, "ctx:imports", &gerr);
    lua_dsgraph_pushjson(L, export_hold(r, res));
    export_release(r);
    return 1;
}

/* ctx:write(text, ...): appends strings (numbers are converted) to the output.
 * Why a C buffer: the output does not count against the plugin's Lua memory
 * cap, only against export_max_bytes (one-shot runs). A streaming run
 * (r->chunk > 0) has no total cap: once a chunk's worth is buffered the
 * coroutine yields here and the buffer is handed to the client before the
 * exporter goes on (back-pressure: it runs only while the client asks). */
static int ctx_write(lua_State *L)
{
    export_run *r = export_run_of(L);
    int n = lua_gettop(L);
    for (int i = 2; i <= n; i++) {
        size_t len;
        const char *s = luaL_checklstring(L, i, &len);
        if (!r->chunk && r->len + len > (size_t)r->lim->max_bytes) {
            r->over_limit = true;
            return luaL_error(L, "the output exceeds export_max_bytes=%I", (lua_Integer)r->lim->max_bytes);
        }
        if (r->len + len + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 65536;
            while (cap < r->len + len + 1)
                cap *= 2;
            char *nb = realloc(r->buf, cap);
            if (!nb)
                return luaL_error(L, "ctx:write: out of memory");
            r->buf = nb;
            r->cap = cap;
        }
        memcpy(r->buf + r->len, s, len);
        r->len += len;
        r->buf[r->len] = 0;
    }
    /* inside pcall or a sort comparator the coroutine cannot yield: the
     * buffer then grows until the next ctx:write outside of it */
    if (r->chunk && r->len >= r->chunk && lua_isyieldable(L))
        return lua_yield(L, 0);
    return 0;
}

/* Builds ctx: a table of closures over the run. */
static void ctx_push(lua_State *L, export_run *r)
{
    static const luaL_Reg fns[] = {{"nodes", export_ctx_nodes},   {"rels", export_ctx_rels},     {"node", ctx_node},
                                   {"lineage", ctx_lineage}, {"search", ctx_search}, {"query", ctx_query},
                                   {"write", ctx_write},   {"imports", ctx_imports}, {NULL, NULL}};
    lua_newtable(L);
    lua_pushlightuserdata(L, r);
    luaL_setfuncs(L, fns, 1);
    lua_pushstring(L, r->p->name);
    lua_setfield(L, -2, "plugin");
}

/* Runs exporter.run(ctx, opts) in a fresh sandbox; a PLUGIN_EXPORT_* code. */
static int export_exec(export_run *r, const plugin_set *set, json_t *opts, char *msg, size_t msglen)
{
    char chunk[300];
    if (plugin_sandbox_open(&r->sb, set->mem_limit, set->instr_limit, r->p->name) != 0) {
        snprintf(msg, msglen, "cannot create a Lua state within plugin_memory_limit=%zu", set->mem_limit);
        return PLUGIN_EXPORT_LIMIT;
    }
    snprintf(chunk, sizeof chunk, "@%s", r->p->base);
    lua_State *L = r->sb.L;
    int rc = PLUGIN_EXPORT_OK;
    if (plugin_sandbox_dochunk(&r->sb, r->p->source, r->p->source_len, chunk, msg, msglen) != 0)
        rc = PLUGIN_EXPORT_FAILED;
    else if (!lua_istable(L, -1) || lua_getfield(L, -1, r->part) != LUA_TTABLE ||
             lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        snprintf(msg, msglen, "the plugin has no %s.run function", r->part);
        rc = PLUGIN_EXPORT_FAILED;
    } else {
        ctx_push(L, r);
        if (r->hook)
            r->hook(L, r->hook_ud);
        lua_dsgraph_pushjson(L, opts);
        if (plugin_sandbox_call(&r->sb, 2, 0, msg, msglen) != 0)
            rc = (r->sb.budget_exceeded || r->sb.mem_exceeded || r->over_limit || strstr(msg, "memory limit of"))
                     ? PLUGIN_EXPORT_LIMIT : PLUGIN_EXPORT_FAILED;
    }
    plugin_sandbox_close(&r->sb);
    export_release(r);
    return rc;
}

/* Why: the reply carries the output as a JSON string, which must be UTF-8;
 * returns the offset of the first invalid byte, or len when all is valid. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > len || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
            return i;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        if (n == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0)))
            return i;
        if (n == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90)))
            return i;
        i += n;
    }
    return len;
}

int plugin_export_run(graph_store *s, const plugin_set *set, const plugin_info *p, json_t *opts,
                      const export_limits *lim, char **out, size_t *out_len, char *err, size_t errlen)
{
    return plugin_export_run_part(s, set, p, "exporter", opts, lim, NULL, NULL, out, out_len, err, errlen);
}

/* Why one body for every part: a check runs exactly like an exporter (same
 * snapshot, sandbox, budget and ctx); only the part's name and ctx's extra
 * members differ. */
int plugin_export_run_part(graph_store *s, const plugin_set *set, const plugin_info *p, const char *part,
                           json_t *opts, const export_limits *lim, plugin_ctx_hook hook, void *ud, char **out,
                           size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    export_run r = {.s = s, .p = p, .lim = lim, .part = part, .hook = hook, .hook_ud = ud};
    char msg[700] = "";
    char *emsg = NULL;
    /* one snapshot for the whole run: every read below sees the same graph.
     * The RPC layer already runs a read method inside BEGIN ... COMMIT; a
     * caller without one (a test) gets its own here. */
    bool own = sqlite3_get_autocommit(graph_store_db(s)) != 0;
    if (own && sqlite3_exec(graph_store_db(s), "BEGIN", NULL, NULL, &emsg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open a read snapshot: %s", p->name, emsg ? emsg : "failed");
        sqlite3_free(emsg);
        return PLUGIN_EXPORT_INTERNAL;
    }
    int rc = export_exec(&r, set, opts, msg, sizeof msg);
    if (own && sqlite3_exec(graph_store_db(s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(graph_store_db(s), "ROLLBACK", NULL, NULL, NULL);
    if (rc == PLUGIN_EXPORT_OK && r.len > 0) {
        size_t bad = utf8_check((const unsigned char *)r.buf, r.len);
        if (bad < r.len) {
            snprintf(msg, sizeof msg, "the output is not valid UTF-8 (at byte %zu)", bad);
            rc = PLUGIN_EXPORT_FAILED;
        }
    }
    if (rc != PLUGIN_EXPORT_OK) {
        snprintf(err, errlen, "%s: %s", p->name, msg);
        log_info("%s failed: %s", strcmp(part, "check") == 0 ? "check" : "export", err);
        free(r.buf);
        return rc;
    }
    if (!r.buf)
        r.buf = calloc(1, 1);
    if (!r.buf) {
        snprintf(err, errlen, "%s: out of memory", p->name);
        return PLUGIN_EXPORT_INTERNAL;
    }
    if (strcmp(part, "check") != 0)   /* a check logs its findings (plugin_check.c) */
        log_info("export by %s: %zu bytes", p->name, r.len);
    *out = r.buf;
    *out_len = r.len;
    return PLUGIN_EXPORT_OK;
}

/* ---- streaming runs (export.begin / export.next) ---- */

struct plugin_export_stream {
    export_run r;
    export_limits lim;
    plugin_set *set;   /* held (plugin_host_acquire) while the run lives: p points into it */
    graph_store *s;    /* the run's own read-only connection, in one read transaction */
    lua_State *co;     /* the coroutine running exporter.run */
    int coref;         /* its registry reference (keeps it from the collector) */
    bool started, finished;
};

/* Why: the chunk handed out must be valid UTF-8 on its own (it travels in a
 * JSON string), so a multi-byte character split by the chunk size waits for
 * the next chunk; returns how many of buf's first n bytes to hand out. */
static size_t utf8_cut(const unsigned char *buf, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned c = buf[n - back];
        if ((c & 0xc0) == 0x80)
            continue;   /* a continuation byte: look further back */
        size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

/* Why everything up front: load errors surface at export.begin, and the
 * snapshot starts there, not at the first chunk. */
plugin_export_stream *plugin_export_stream_open(graph_store *s, plugin_set *set, const plugin_info *p,
                                                json_t *opts, const export_limits *lim, char *err,
                                                size_t errlen)
{
    plugin_export_stream *x = calloc(1, sizeof *x);
    char msg[700] = "";
    char *emsg = NULL;
    if (!x) {
        snprintf(err, errlen, "%s: out of memory", p->name);
        graph_store_close(s);
        plugin_host_release(set);
        return NULL;
    }
    x->lim = *lim;
    x->set = set;
    x->s = s;
    x->coref = LUA_NOREF;
    x->r = (export_run){.s = s, .p = p, .lim = &x->lim, .part = "exporter", .chunk = 1u << 20};
    /* the snapshot: reading sqlite_master starts the read transaction now,
     * so every later export.next sees the graph as it was at export.begin.
     * No mmap: an export reads the whole file, which would otherwise all be
     * mapped into the daemon's resident memory; SQLite's page cache (2 MiB
     * by default) bounds what the export's connection keeps. */
    gs_error gerr = {{0}};
    if (sqlite3_exec(graph_store_db(s), "PRAGMA mmap_size = 0", NULL, NULL, &emsg) != SQLITE_OK ||
        graph_store_read_begin(s, &gerr) != GS_OK ||   /* notes the adjacency index's state first */
        sqlite3_exec(graph_store_db(s), "SELECT count(*) FROM sqlite_master", NULL, NULL, &emsg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open a read snapshot: %s", p->name,
                 emsg ? emsg : gerr.msg[0] ? gerr.msg : "failed");
        sqlite3_free(emsg);
        plugin_export_stream_close(x);
        return NULL;
    }
    const plugin_set *cset = set;
    if (plugin_sandbox_open(&x->r.sb, cset->mem_limit, cset->instr_limit, p->name) != 0) {
        snprintf(err, errlen, "%s: cannot create a Lua state within plugin_memory_limit=%zu", p->name,
                 cset->mem_limit);
        plugin_export_stream_close(x);
        return NULL;
    }
    lua_State *L = x->r.sb.L;
    char chunk[300];
    snprintf(chunk, sizeof chunk, "@%s", p->base);
    if (plugin_sandbox_dochunk(&x->r.sb, p->source, p->source_len, chunk, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: %s", p->name, msg);
        plugin_export_stream_close(x);
        return NULL;
    }
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "exporter") != LUA_TTABLE ||
        lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        snprintf(err, errlen, "%s: the plugin has no exporter.run function", p->name);
        plugin_export_stream_close(x);
        return NULL;
    }
    x->co = lua_newthread(L);   /* inherits the budget hook of L */
    x->coref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_xmove(L, x->co, 1);     /* run */
    ctx_push(x->co, &x->r);
    lua_dsgraph_pushjson(x->co, opts);
    lua_settop(L, 0);
    log_info("export stream by %s: started", p->name);
    return x;
}

/* Why resume until a chunk is buffered: the exporter runs only on demand
 * (back-pressure) and every reply but the last carries a full chunk. */
int plugin_export_stream_next(plugin_export_stream *x, size_t max_bytes, char **out, size_t *out_len,
                              bool *done, char *err, size_t errlen)
{
    export_run *r = &x->r;
    *out = NULL;
    *out_len = 0;
    *done = false;
    r->chunk = max_bytes ? max_bytes : 1;
    while (!x->finished && r->len < r->chunk) {
        int nres = 0;
        int st = lua_resume(x->co, r->sb.L, x->started ? 0 : 2, &nres);
        x->started = true;
        export_release(r);
        if (st == LUA_YIELD) {
            lua_pop(x->co, nres);
            continue;
        }
        x->finished = true;
        if (st == LUA_OK) {
            log_info("export stream by %s: done after about %lld Lua instructions (budget %lld)", r->p->name,
                     (long long)r->sb.instr_used, (long long)r->sb.instr_limit);
            break;
        }
        char msg[700];
        if (st == LUA_ERRMEM || r->sb.mem_exceeded)
            snprintf(msg, sizeof msg, "memory limit of %zu bytes exceeded", r->sb.mem_limit);
        else if (r->sb.budget_exceeded)
            snprintf(msg, sizeof msg, "instruction budget of %lld exceeded", (long long)r->sb.instr_limit);
        else if (lua_type(x->co, -1) == LUA_TSTRING)
            snprintf(msg, sizeof msg, "%s", lua_tostring(x->co, -1));
        else
            snprintf(msg, sizeof msg, "(error object is a %s value)", luaL_typename(x->co, -1));
        snprintf(err, errlen, "%s: %s", r->p->name, msg);
        log_info("export stream failed: %s", err);
        return (r->sb.budget_exceeded || r->sb.mem_exceeded || st == LUA_ERRMEM) ? PLUGIN_EXPORT_LIMIT
                                                                                 : PLUGIN_EXPORT_FAILED;
    }
    size_t n = r->len < r->chunk ? r->len : r->chunk;
    if (!(x->finished && n == r->len))
        n = utf8_cut((const unsigned char *)r->buf, n);   /* the rest waits for the next call */
    if (n > 0 && utf8_check((const unsigned char *)r->buf, n) < n) {
        snprintf(err, errlen, "%s: the output is not valid UTF-8", r->p->name);
        x->finished = true;
        return PLUGIN_EXPORT_FAILED;
    }
    char *chunk = malloc(n + 1);
    if (!chunk) {
        snprintf(err, errlen, "%s: out of memory", r->p->name);
        return PLUGIN_EXPORT_INTERNAL;
    }
    memcpy(chunk, r->buf ? r->buf : "", n);
    chunk[n] = 0;
    if (n > 0) {
        memmove(r->buf, r->buf + n, r->len - n);
        r->len -= n;
        r->buf[r->len] = 0;
    }
    /* a large buffer left by one big ctx:write is given back once drained */
    if (r->len == 0 && r->cap > (4u << 20)) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    *out = chunk;
    *out_len = n;
    *done = x->finished && r->len == 0;
    return PLUGIN_EXPORT_OK;
}

/* Why one teardown for every end (done, error, abort, idle, disconnect):
 * the Lua state, the snapshot's transaction and the plugin set all go. */
void plugin_export_stream_close(plugin_export_stream *x)
{
    if (!x)
        return;
    if (x->r.sb.L)
        plugin_sandbox_close(&x->r.sb);   /* frees the coroutine with the state */
    export_release(&x->r);
    free(x->r.buf);
    if (x->s) {
        sqlite3_exec(graph_store_db(x->s), "ROLLBACK", NULL, NULL, NULL);
        graph_store_close(x->s);
    }
    if (x->set)
        plugin_host_release(x->set);
    free(x);
}
