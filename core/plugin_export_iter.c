/*
 * core/plugin_export_iter.c - ctx:nodes and ctx:rels, the iterators every
 * exporter (and check) pages through the graph with: whole pages read by
 * graph/export_page.c, each entity pushed as the Lua table docs/plugins.md
 * describes ({id, labels, props, aliases} / {id, type, start, end, props},
 * with claims when asked).
 */
#include "plugin_export_int.h"
#include "export_page.h"
#include "lua_dsgraph.h"
#include "lua_dsgraph_internal.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_ITER_MT "dsgraph.export_iter"

/* The state of one ctx:nodes / ctx:rels iterator (a Lua userdata whose __gc frees the page). */
typedef struct export_iter {
    int64_t last;              /* the last id handed out */
    int pos;                   /* page.ent[pos..page.n) are still to hand out */
    bool rels;
    bool claims;               /* each entity carries its claims (opts.claims) */
    graph_page page;           /* the current page (graph/export_page.h) */
} export_iter;

/* Pushes list l of page entity k's claims as a Lua list of {import=, ...}. */
static void push_claim_list(lua_State *L, export_run *r, const graph_page *pg, int k, graph_claim_list l)
{
    const graph_page_ent *e = &pg->ent[k];
    lua_createtable(L, (int)e->nclaims[l], 0);
    for (uint32_t i = 0; i < e->nclaims[l]; i++) {
        const graph_page_claim *c = &pg->claims[l][e->claims[l] + i];
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, c->import);
        lua_setfield(L, -2, "import");
        if (l == GRAPH_CLAIM_ENTITY) {
            lua_pushstring(L, c->effect);
            lua_setfield(L, -2, "effect");
        } else if (l == GRAPH_CLAIM_PROPERTY) {
            size_t n;
            const char *key = graph_page_str(pg, c->key, &n);
            lua_pushlstring(L, key, n);
            lua_setfield(L, -2, "key");
            /* as every claim reader: a value that does not parse reads as null */
            json_t *v = json_loads(graph_page_str(pg, c->value, NULL), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            lua_dsgraph_pushjson(L, v ? export_hold(r, v) : NULL);   /* NULL: dsgraph.null */
            export_release(r);
            lua_setfield(L, -2, "value");
        } else {
            size_t n;
            const char *alias = graph_page_str(pg, c->alias, &n);
            lua_pushlstring(L, alias, n);
            lua_setfield(L, -2, "alias");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_dsgraph_marklist(L, -1);
}

/* Sets the claims field of the entity table on top (only the lists that are not empty,
 * no field at all when it has none), as ctx:nodes / ctx:rels have always shaped them. */
static void push_claims(lua_State *L, export_run *r, const graph_page *pg, int k)
{
    static const char *const names[GRAPH_CLAIM__LISTS] = {"entity", "properties", "aliases"};
    const graph_page_ent *e = &pg->ent[k];
    if (!e->nclaims[0] && !e->nclaims[1] && !e->nclaims[2])
        return;
    lua_createtable(L, 0, 3);
    for (int l = 0; l < GRAPH_CLAIM__LISTS; l++) {
        if (!e->nclaims[l])
            continue;
        push_claim_list(L, r, pg, k, (graph_claim_list)l);
        lua_setfield(L, -2, names[l]);
    }
    lua_setfield(L, -2, "claims");
}

/* Pushes n consecutive page strings from first as a Lua list. */
static void push_str_list(lua_State *L, const graph_page *pg, uint32_t first, uint32_t n)
{
    lua_createtable(L, (int)n, 0);
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *str = graph_page_str(pg, first + i, &len);
        lua_pushlstring(L, str, len);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_dsgraph_marklist(L, -1);
}

/* Pushes page entity k as ctx:nodes / ctx:rels hand it out: the shapes of push_node
 * ({id, labels, props, aliases}) and push_rel ({id, type, start, end, props}). */
static void push_page_entity(lua_State *L, export_run *r, export_iter *it, int k)
{
    const graph_page *pg = &it->page;
    const graph_page_ent *e = &pg->ent[k];
    gs_error gerr;
    json_t *props = graph_page_props(pg, k, &gerr);
    if (!props)
        export_fail_store(L, r, it->rels ? "ctx:rels" : "ctx:nodes", &gerr);
    export_hold(r, props);
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, e->id);
    lua_setfield(L, -2, "id");
    if (it->rels) {
        lua_pushstring(L, graph_page_str(pg, e->type, NULL));
        lua_setfield(L, -2, "type");
        lua_pushinteger(L, e->start);
        lua_setfield(L, -2, "start");
        lua_pushinteger(L, e->end);
        lua_setfield(L, -2, "end");
    } else {
        push_str_list(L, pg, e->labels, e->nlabels);
        lua_setfield(L, -2, "labels");
    }
    lua_dsgraph_pushjson(L, props);
    lua_setfield(L, -2, "props");
    export_release(r);
    if (!it->rels) {
        push_str_list(L, pg, e->aliases, e->naliases);
        lua_setfield(L, -2, "aliases");
    }
    if (it->claims)
        push_claims(L, r, pg, k);
}

/* The iterator function of ctx:nodes / ctx:rels: the next entity, or nil at the end.
 * Why pages: bounded memory however big the graph (export_page.h), and a few range
 * statements per GRAPH_PAGE_MAX entities rather than several per entity. */
static int iter_next(lua_State *L)
{
    export_run *r = export_run_of(L);
    export_iter *it = lua_touserdata(L, lua_upvalueindex(2));
    const char *filter = lua_tostring(L, lua_upvalueindex(3));
    export_release(r);
    if (it->pos >= it->page.n) {
        if (it->page.done)
            return 0;
        gs_error gerr;
        it->pos = 0;
        if (graph_page_read(r->s, it->rels, filter, it->last, it->claims, &it->page, &gerr) != GS_OK)
            return export_fail_store(L, r, it->rels ? "ctx:rels" : "ctx:nodes", &gerr);
        if (it->page.n == 0)
            return 0;
    }
    int k = it->pos++;
    it->last = it->page.ent[k].id;
    push_page_entity(L, r, it, k);
    return 1;
}

/* Frees the page of an iterator Lua has collected (or the run's end closed). */
static int iter_gc(lua_State *L)
{
    export_iter *it = luaL_checkudata(L, 1, EXPORT_ITER_MT);
    graph_page_free(&it->page);
    return 0;
}

/* Why one constructor for both: ctx:nodes(label) and ctx:rels(type) differ
 * only in the table they page through. */
static int iter_new(lua_State *L, bool rels)
{
    const char *filter = luaL_optstring(L, 2, NULL);
    bool claims = false;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "claims");
        claims = lua_toboolean(L, -1);
        lua_pop(L, 1);
    } else if (!lua_isnoneornil(L, 3)) {
        return luaL_argerror(L, 3, "options must be a table ({claims = true})");
    }
    export_iter *it = lua_newuserdatauv(L, sizeof *it, 0);
    memset(it, 0, sizeof *it);
    it->rels = rels;
    it->claims = claims;
    it->page.done = false;   /* nothing read yet */
    if (luaL_newmetatable(L, EXPORT_ITER_MT)) {
        lua_pushcfunction(L, iter_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    int ud = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, ud);
    if (filter)
        lua_pushstring(L, filter);
    else
        lua_pushnil(L);
    lua_pushcclosure(L, iter_next, 3);
    return 1;
}

/* for n in ctx:nodes([label]) do ... end */
int export_ctx_nodes(lua_State *L) { return iter_new(L, false); }
/* for r in ctx:rels([type]) do ... end */
int export_ctx_rels(lua_State *L) { return iter_new(L, true); }

