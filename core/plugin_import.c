/* core/plugin_import.c - the importer context (ctx), the input object, and
 * one run of an importer (see plugin_import.h). */
#include "plugin_import.h"
#include "bulk_csv.h"
#include "bulk_lua.h"
#include "log.h"
#include "lua_dsgraph.h"
#include "plugin_sandbox.h"
#include "provenance.h"

#include <lauxlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sqlite3.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_MAX_WARNINGS 1000   /* kept in the result; the rest are counted */
#define IMPORT_READ_CHUNK 65536

typedef struct import_run {
    plugin_sandbox sb;
    graph_store *s;
    const plugin_info *p;
    const import_input *in;
    int64_t line;            /* the input line being worked on, 0 before the first */
    json_t *warnings;
    int64_t nwarnings;
    char *user_error;        /* ctx:error(msg), sticky */
    int64_t progress_done, progress_total;
    struct import_replay *replay;   /* set once the run replays history (the replay block below), or NULL */
    bool bulk_open;          /* a ctx:bulk() load is open or failed: the other writes are refused */
} import_run;

/* Why: while a ctx:bulk() load is open the store takes no other writes (graph/bulk_load.h). */
#define CTX_NO_BULK(L, r, fn) \
    if ((r)->bulk_open) \
        return luaL_error(L, "%s: a bulk load is open (ctx:bulk): use its methods until bulk:finish()", fn)

static import_run *run_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* ---- the input object ---- */

/* Reads one line into a Lua string (without "\n" / "\r\n"); the buffer grows
 * inside Lua's allocator, so a huge line hits the memory cap. Returns false at EOF. */
static bool input_push_line(lua_State *L, import_run *r, bool keep_nl)
{
    luaL_Buffer b;
    char chunk[4096];
    bool any = false;
    luaL_buffinit(L, &b);
    while (fgets(chunk, sizeof chunk, r->in->f)) {
        size_t n = strlen(chunk);
        any = true;
        if (n > 0 && chunk[n - 1] == '\n') {
            if (!keep_nl) {
                n--;
                if (n > 0 && chunk[n - 1] == '\r')
                    n--;
            }
            luaL_addlstring(&b, chunk, n);
            break;
        }
        luaL_addlstring(&b, chunk, n);
    }
    luaL_pushresult(&b);
    if (!any) {
        lua_pop(L, 1);
        return false;
    }
    r->line++;
    return true;
}

/* for line in input:lines() do ... end  (each line advances ctx's line number) */
static int input_lines_next(lua_State *L)
{
    import_run *r = run_of(L);
    if (!input_push_line(L, r, false))
        lua_pushnil(L);
    return 1;
}

static int input_lines(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, input_lines_next, 1);
    return 1;
}

/* input:read(n) bytes, or "l"/"L" (a line), or "a" (the rest); nil at EOF. */
static int input_read(lua_State *L)
{
    import_run *r = run_of(L);
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *fmt = lua_tostring(L, 2);
        if (*fmt == '*')
            fmt++;
        if (*fmt == 'l' || *fmt == 'L') {
            if (!input_push_line(L, r, *fmt == 'L'))
                lua_pushnil(L);
            return 1;
        }
        if (*fmt != 'a')
            return luaL_argerror(L, 2, "expected a byte count, \"l\", \"L\" or \"a\"");
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        size_t n;
        do {
            char *p = luaL_prepbuffsize(&b, IMPORT_READ_CHUNK);
            n = fread(p, 1, IMPORT_READ_CHUNK, r->in->f);
            luaL_addsize(&b, n);
        } while (n == IMPORT_READ_CHUNK);
        luaL_pushresult(&b);
        return 1;
    }
    lua_Integer want = luaL_checkinteger(L, 2);
    luaL_argcheck(L, want >= 0, 2, "must not be negative");
    if (want == 0) {
        int c = getc(r->in->f);
        if (c == EOF) {
            lua_pushnil(L);
            return 1;
        }
        ungetc(c, r->in->f);
        lua_pushliteral(L, "");
        return 1;
    }
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)want);
    size_t n = fread(p, 1, (size_t)want, r->in->f);
    luaL_pushresultsize(&b, n);
    if (n == 0)
        lua_pushnil(L);
    return 1;
}

/* input.name, input.size and the methods. */
static int input_index(lua_State *L)
{
    import_run *r = run_of(L);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "name") == 0)
        lua_pushstring(L, r->in->name);
    else if (strcmp(k, "size") == 0)
        lua_pushinteger(L, r->in->size);
    else if (strcmp(k, "lines") == 0 || strcmp(k, "read") == 0) {
        lua_pushlightuserdata(L, r);
        lua_pushcclosure(L, k[0] == 'l' ? input_lines : input_read, 1);
    } else
        lua_pushnil(L);
    return 1;
}

/* The input is a table whose metatable answers name/size/lines/read. */
static void input_push(lua_State *L, import_run *r)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, input_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "input");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
}

/* ---- ctx ---- */

/* A node reference from Lua: a handle {id=N} or an integer id. */
static int64_t ctx_node_id(lua_State *L, int idx, const char *fn, const char *what)
{
    return lua_node_ref(L, idx, fn, what);
}

/* Pushes the handle {id=N}. */
static void ctx_push_handle(lua_State *L, int64_t id)
{
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
}

/* ctx:node{labels=..., name=..., props=..., aliases=...}: graph_node_put's merge. */
static int ctx_node(lua_State *L)
{
    import_run *r = run_of(L);
    CTX_NO_BULK(L, r, "ctx:node");
    lua_node_args a = {.props_raw = false};
    lua_node_args_read(L, 2, "ctx:node", &a);   /* shared with bulk:node (core/bulk_lua.c) */
    int64_t id = 0;
    bool created = false;
    gs_error gerr;
    gs_status st = graph_node_put(r->s, a.labels, a.nlabels, a.name, a.props, a.aliases, &id, &created, &gerr);
    json_decref(a.props);
    json_decref(a.aliases);
    if (st != GS_OK)
        return luaL_error(L, "ctx:node: %s", gerr.msg);
    ctx_push_handle(L, id);
    return 1;
}

/* ctx:rel(a, "TYPE", b [, props]): rel.put's merge on (start, type, end). */
static int ctx_rel(lua_State *L)
{
    import_run *r = run_of(L);
    CTX_NO_BULK(L, r, "ctx:rel");
    int64_t a = ctx_node_id(L, 2, "ctx:rel", "the start");
    const char *type = luaL_checkstring(L, 3);
    int64_t b = ctx_node_id(L, 4, "ctx:rel", "the end");
    json_t *props = NULL;
    char err[600];
    if (!lua_isnoneornil(L, 5)) {
        props = lua_dsgraph_tojson(L, 5, "props", err, sizeof err);
        if (!props)
            return luaL_error(L, "ctx:rel: %s", err);
        if (!json_is_object(props)) {
            json_decref(props);
            return luaL_error(L, "ctx:rel: props must be a table with string keys");
        }
    }
    int64_t id = 0;
    gs_error gerr;
    gs_status st = graph_rel_put(r->s, a, type, b, props, false, &id, NULL, &gerr);
    json_decref(props);
    if (st != GS_OK)
        return luaL_error(L, "ctx:rel: %s", gerr.msg);
    ctx_push_handle(L, id);
    return 1;
}

/* ctx:alias(node, text): one more name for a node. */
static int ctx_alias(lua_State *L)
{
    import_run *r = run_of(L);
    CTX_NO_BULK(L, r, "ctx:alias");
    int64_t id = ctx_node_id(L, 2, "ctx:alias", "the node");
    const char *alias = luaL_checkstring(L, 3);
    gs_error gerr;
    gs_status st = graph_node_add_alias(r->s, id, alias, &gerr);
    if (st != GS_OK)
        return luaL_error(L, "ctx:alias: %s", gerr.msg);
    return 0;
}

/* ctx:warn(msg [, line]): kept in the result with the input line. */
static int ctx_warn(lua_State *L)
{
    import_run *r = run_of(L);
    const char *msg = luaL_checkstring(L, 2);
    lua_Integer line = luaL_optinteger(L, 3, r->line);
    r->nwarnings++;
    if (json_array_size(r->warnings) < IMPORT_MAX_WARNINGS) {
        json_t *m = json_string(msg);
        if (!m)
            m = json_string("(warning text is not valid UTF-8)");
        json_array_append_new(r->warnings, json_pack("{s:I,s:o}", "line", (json_int_t)line, "message", m));
    }
    return 0;
}

/* ctx:error(msg): aborts the run; the import fails with plugin:input:line: msg. */
static int ctx_error(lua_State *L)
{
    import_run *r = run_of(L);
    const char *msg = luaL_checkstring(L, 2);
    if (!r->user_error)
        r->user_error = strdup(msg);
    return luaL_error(L, "%s", msg);
}

/* ctx:progress(done, total): remembered for the log (and future progress reports). */
static int ctx_progress(lua_State *L)
{
    import_run *r = run_of(L);
    r->progress_done = (int64_t)luaL_checknumber(L, 2);
    r->progress_total = (int64_t)luaL_optnumber(L, 3, 0);
    return 0;
}

/* ctx:line([n]): the current input line; n sets it (for readers that track their own). */
static int ctx_line(lua_State *L)
{
    import_run *r = run_of(L);
    if (!lua_isnoneornil(L, 2))
        r->line = luaL_checkinteger(L, 2);
    lua_pushinteger(L, r->line);
    return 1;
}

/* ---- replaying recorded history: ctx:replay_import, ctx:replay_claims ----
 * An importer restoring an export with provenance (json_graph reading json_export) recreates
 * the historical imports and attributes each claim to its original import (docs/plugins.md,
 * "Replaying provenance"). Claims may name only imports this run replayed, or 0 (direct writes).
 * If the run claims nothing itself, its own imports row is dropped at the end: the replayed
 * imports are the record of what it did, so export -> import -> export gives the same bytes. */

struct import_replay {
    int64_t *ids;   /* the import ids this run replayed (recreated or reused), sorted */
    size_t n, cap;
};

/* Why: claims may only name this run's replayed imports (or 0); a sorted list answers fast. */
static bool replay_known(const struct import_replay *rp, int64_t id)
{
    if (id == 0)
        return true;
    size_t lo = 0, hi = rp ? rp->n : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rp->ids[mid] == id)
            return true;
        if (rp->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Why: remembers a replayed import id (kept sorted, no duplicates); -1 when out of memory. */
static int replay_remember(import_run *r, int64_t id)
{
    if (replay_known(r->replay, id))
        return 0;
    if (!r->replay && !(r->replay = calloc(1, sizeof *r->replay)))
        return -1;
    struct import_replay *rp = r->replay;
    if (rp->n == rp->cap) {
        size_t cap = rp->cap ? rp->cap * 2 : 16;
        int64_t *ids = realloc(rp->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        rp->ids = ids;
        rp->cap = cap;
    }
    size_t i = rp->n++;
    while (i > 0 && rp->ids[i - 1] > id) {
        rp->ids[i] = rp->ids[i - 1];
        i--;
    }
    rp->ids[i] = id;
    return 0;
}

/* ctx:replay_import{plugin=, input=, sha256=, started_at=, finished_at=, retracted_at=,
 * nodes=, relationships=, properties=, warnings=} -> {id = N}: recreates a historical import
 * (or reuses the identical row already there) that ctx:replay_claims may then name. */
static int ctx_replay_import(lua_State *L)
{
    import_run *r = run_of(L);
    CTX_NO_BULK(L, r, "ctx:replay_import");
    luaL_checktype(L, 2, LUA_TTABLE);
    char err[600];
    json_t *rec = lua_dsgraph_tojson(L, 2, "import", err, sizeof err);
    if (!rec)
        return luaL_error(L, "ctx:replay_import: %s", err);
    int64_t id = 0;
    bool reused = false;
    gs_error gerr;
    gs_status st = json_is_object(rec) ? prov_replay_import(r->s, rec, &id, &reused, &gerr) : GS_INVALID;
    if (!json_is_object(rec))
        snprintf(gerr.msg, sizeof gerr.msg, "the import must be a table with string keys");
    json_decref(rec);
    if (st != GS_OK)
        return luaL_error(L, "ctx:replay_import: %s", gerr.msg);
    if (replay_remember(r, id) != 0)
        return luaL_error(L, "ctx:replay_import: out of memory");
    ctx_push_handle(L, id);
    lua_pushboolean(L, reused);
    lua_setfield(L, -2, "reused");
    return 1;
}

/* ctx:replay_claims("node"|"rel", entity, {entity=, properties=, aliases=}): the entity's
 * claims become exactly these (this run's own claims on it are dropped; see provenance.h). */
static int ctx_replay_claims(lua_State *L)
{
    import_run *r = run_of(L);
    CTX_NO_BULK(L, r, "ctx:replay_claims");
    const char *kind = luaL_checkstring(L, 2);
    int64_t id = ctx_node_id(L, 3, "ctx:replay_claims", "the entity");
    luaL_checktype(L, 4, LUA_TTABLE);
    char err[600];
    json_t *claims = lua_dsgraph_tojson(L, 4, "claims", err, sizeof err);
    if (!claims)
        return luaL_error(L, "ctx:replay_claims: %s", err);
    static const char *const lists[] = {"entity", "properties", "aliases"};
    const char *bad = NULL;
    int64_t bad_id = 0;
    for (int k = 0; k < 3 && !bad; k++) {
        json_t *list = json_object_get(claims, lists[k]), *c;
        size_t i;
        if (list && !json_is_array(list) && !(json_is_object(list) && json_object_size(list) == 0))
            bad = lists[k];
        json_array_foreach(list, i, c) {
            json_t *imp = json_object_get(c, "import");
            if (!json_is_integer(imp) || !replay_known(r->replay, json_integer_value(imp))) {
                bad = lists[k];
                bad_id = json_integer_value(imp);
                break;
            }
        }
    }
    if (bad || !json_is_object(claims)) {
        json_decref(claims);
        return luaL_error(L, "ctx:replay_claims: %s: each claim's import must be one ctx:replay_import returned "
                             "(or 0), not %I", bad ? bad : "claims", (lua_Integer)bad_id);
    }
    if (!r->replay && !(r->replay = calloc(1, sizeof *r->replay))) {   /* marks the run as replaying */
        json_decref(claims);
        return luaL_error(L, "ctx:replay_claims: out of memory");
    }
    gs_error gerr;
    gs_status st = prov_replay_claims(r->s, kind, id, claims, &gerr);
    json_decref(claims);
    if (st != GS_OK)
        return luaL_error(L, "ctx:replay_claims: %s", gerr.msg);
    return 0;
}

/* Why: after a successful run that replayed history, drops its own row when it claims
 * nothing (*imp becomes 0); 0 or -1 with msg. */
static int replay_close(import_run *r, int64_t *imp, char *msg, size_t msglen)
{
    if (!r->replay || *imp == 0)
        return 0;
    bool dropped = false;
    gs_error gerr;
    if (prov_import_drop_unclaimed(r->s, *imp, &dropped, &gerr) != GS_OK) {
        snprintf(msg, msglen, "%s", gerr.msg);
        return -1;
    }
    if (dropped) {
        log_info("import of %s by %s replayed %zu imports and claims nothing itself: its row is not kept",
                 r->in->name, r->p->name, r->replay->n);
        *imp = 0;
    }
    return 0;
}

/* Why: the result names the imports a replaying run recreated or reused ("replayed_imports"). */
static void replay_report(const import_run *r, json_t *result)
{
    if (!r->replay || !result)
        return;
    json_t *ids = json_array();
    for (size_t i = 0; i < r->replay->n; i++)
        json_array_append_new(ids, json_integer(r->replay->ids[i]));
    json_object_set_new(result, "replayed_imports", ids);
}

/* Why: the run's replay list is C memory, freed with the run. */
static void replay_free(import_run *r)
{
    if (r->replay)
        free(r->replay->ids);
    free(r->replay);
    r->replay = NULL;
}

/* ---- end of the replay block ---- */

/* ---- bulk loads (core/bulk_csv.c, graph/bulk_load.c) ---- */

/* ctx:bulk_csv{columns=..., ...}: the whole CSV input in one C loop, no Lua call per row. */
static int ctx_bulk_csv(lua_State *L)
{
    import_run *r = run_of(L);
    CTX_NO_BULK(L, r, "ctx:bulk_csv");
    return bulk_csv_lua(L, 2, r->s, r->in->f, &r->line);
}

/* ctx:bulk() -> loader: bulk:node / bulk:rel / bulk:finish for importers that parse in Lua (core/bulk_lua.c). */
static int ctx_bulk(lua_State *L)
{
    import_run *r = run_of(L);
    return bulk_lua_open(L, r->s, &r->bulk_open);
}

/* Builds ctx: a table of closures over the run. */
static void ctx_push(lua_State *L, import_run *r, bool dry_run)
{
    static const luaL_Reg fns[] = {{"node", ctx_node},   {"rel", ctx_rel},           {"alias", ctx_alias},
                                   {"warn", ctx_warn},   {"error", ctx_error},       {"progress", ctx_progress},
                                   {"line", ctx_line},   {"replay_import", ctx_replay_import},
                                   {"replay_claims", ctx_replay_claims}, {"bulk_csv", ctx_bulk_csv},
                                   {"bulk", ctx_bulk},   {NULL, NULL}};
    lua_newtable(L);
    lua_pushlightuserdata(L, r);
    luaL_setfuncs(L, fns, 1);
    lua_pushstring(L, r->in->name);
    lua_setfield(L, -2, "input");
    lua_pushstring(L, r->p->name);
    lua_setfield(L, -2, "plugin");
    lua_pushboolean(L, dry_run);
    lua_setfield(L, -2, "dry_run");
}

/* ---- a run ---- */

/* Runs importer.run(ctx, input) in a fresh sandbox; 0 or a PLUGIN_IMPORT_* code. */
static int import_exec(import_run *r, const plugin_set *set, bool dry_run, char *msg, size_t msglen)
{
    char chunk[300];
    if (plugin_sandbox_open(&r->sb, set->mem_limit, set->instr_limit, r->p->name) != 0) {
        snprintf(msg, msglen, "cannot create a Lua state within plugin_memory_limit=%zu", set->mem_limit);
        return PLUGIN_IMPORT_LIMIT;
    }
    snprintf(chunk, sizeof chunk, "@%s", r->p->base);
    lua_State *L = r->sb.L;
    int rc = PLUGIN_IMPORT_OK;
    if (plugin_sandbox_dochunk(&r->sb, r->p->source, r->p->source_len, chunk, msg, msglen) != 0)
        rc = PLUGIN_IMPORT_FAILED;
    else if (!lua_istable(L, -1) || lua_getfield(L, -1, "importer") != LUA_TTABLE ||
             lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        snprintf(msg, msglen, "the plugin has no importer.run function");
        rc = PLUGIN_IMPORT_FAILED;
    } else {
        ctx_push(L, r, dry_run);
        input_push(L, r);
        if (plugin_sandbox_call(&r->sb, 2, 0, msg, msglen) != 0)
            rc = (r->sb.budget_exceeded || r->sb.mem_exceeded || strstr(msg, "memory limit of"))
                     ? PLUGIN_IMPORT_LIMIT : PLUGIN_IMPORT_FAILED;
    }
    if (r->user_error && !r->sb.budget_exceeded && !r->sb.mem_exceeded) {
        snprintf(msg, msglen, "%s", r->user_error);
        rc = PLUGIN_IMPORT_FAILED;
    }
    if (rc == PLUGIN_IMPORT_OK && r->bulk_open) {   /* closing the sandbox undoes the load (its __gc) */
        snprintf(msg, msglen, "ctx:bulk: the bulk load was not finished (a bulk call failed, or no bulk:finish())");
        rc = PLUGIN_IMPORT_FAILED;
    }
    plugin_sandbox_close(&r->sb);
    return rc;
}

/* The result object of import.end / import.path. */
static json_t *import_result(const import_run *r, int64_t import_id, const prov_counts *c, bool dry_run,
                             bool unchanged)
{
    json_t *res = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:O,s:I,s:b,s:b}", "plugin", r->p->name,
                            "input", r->in->name, "sha256", r->in->sha256, "size", (json_int_t)r->in->size,
                            "nodes_created", (json_int_t)c->nodes_created, "nodes_updated",
                            (json_int_t)c->nodes_updated, "relationships_created", (json_int_t)c->rels_created,
                            "relationships_updated", (json_int_t)c->rels_updated, "properties_set",
                            (json_int_t)c->props_set, "aliases_added", (json_int_t)c->aliases_added,
                            "warnings", r->warnings, "warnings_total", (json_int_t)r->nwarnings, "dry_run",
                            dry_run, "unchanged", unchanged);
    if (res)
        json_object_set_new(res, "import_id", import_id > 0 ? json_integer(import_id) : json_null());
    return res;
}

/* Runs one uncached statement (savepoints of dry runs). */
static int import_sql(graph_store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(graph_store_db(s), sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", sql, msg ? msg : "failed");
    sqlite3_free(msg);
    return -1;
}

/* Long imports must not starve the event loop of CPU (pings are answered
 * there): the writer thread runs them at a lower priority (nice +IMPORT_NICE).
 * Linux nice values are per thread; the priority is not raised again
 * afterwards (that needs CAP_SYS_NICE), so later writes run at it too. */
static void import_lower_priority(void)
{
    enum { IMPORT_NICE = 5 };
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && cur < IMPORT_NICE && setpriority(PRIO_PROCESS, tid, IMPORT_NICE) != 0)
        log_debug("import: cannot lower the writer thread's priority: %s", strerror(errno));
}

int plugin_import_run(graph_store *s, const plugin_set *set, const plugin_info *p, const import_input *in,
                      bool dry_run, json_t **result, char *err, size_t errlen)
{
    import_lower_priority();
    *result = NULL;
    import_run r = {.s = s, .p = p, .in = in, .warnings = json_array()};
    prov_counts zero = {0}, counts = {0};
    gs_error gerr;
    int64_t existing = 0, imp = 0;
    if (prov_import_find(s, p->name, in->sha256, &existing, &gerr) != GS_OK) {
        snprintf(err, errlen, "%s: %s: %s", p->name, in->name, gerr.msg);
        json_decref(r.warnings);
        return PLUGIN_IMPORT_INTERNAL;
    }
    if (existing) {   /* the same input through the same plugin: nothing to do */
        *result = import_result(&r, existing, &zero, dry_run, true);
        json_decref(r.warnings);
        return PLUGIN_IMPORT_OK;
    }
    if (dry_run && import_sql(s, "SAVEPOINT import_dry", err, errlen) != 0) {
        json_decref(r.warnings);
        return PLUGIN_IMPORT_INTERNAL;
    }
    int rc = PLUGIN_IMPORT_OK;
    char msg[700] = "";
    if (prov_import_begin(s, p->name, in->name, in->sha256, &imp, &gerr) != GS_OK) {
        snprintf(msg, sizeof msg, "%s", gerr.msg);
        rc = PLUGIN_IMPORT_INTERNAL;
    } else {
        rc = import_exec(&r, set, dry_run, msg, sizeof msg);
        if (rc == PLUGIN_IMPORT_OK && prov_import_finish(s, r.nwarnings, &counts, &gerr) != GS_OK) {
            snprintf(msg, sizeof msg, "%s", gerr.msg);
            rc = PLUGIN_IMPORT_INTERNAL;
        }
        if (rc == PLUGIN_IMPORT_OK && replay_close(&r, &imp, msg, sizeof msg) != 0)
            rc = PLUGIN_IMPORT_INTERNAL;
    }
    prov_import_stop(s);
    if (rc != PLUGIN_IMPORT_OK) {
        if (r.line > 0)
            snprintf(err, errlen, "%s: %s:%lld: %s", p->name, in->name, (long long)r.line, msg);
        else
            snprintf(err, errlen, "%s: %s: %s", p->name, in->name, msg);
        log_info("import failed: %s", err);
    } else {
        *result = import_result(&r, dry_run ? 0 : imp, &counts, dry_run, false);
        replay_report(&r, *result);
        log_info("import %s of %s by %s: %lld nodes created, %lld updated, %lld relationships, %lld warnings",
                 dry_run ? "(dry run)" : "done", in->name, p->name, (long long)counts.nodes_created,
                 (long long)counts.nodes_updated, (long long)counts.rels_created, (long long)r.nwarnings);
    }
    if (dry_run && import_sql(s, "ROLLBACK TO import_dry; RELEASE import_dry", err, errlen) != 0)
        rc = PLUGIN_IMPORT_INTERNAL;
    free(r.user_error);
    replay_free(&r);
    json_decref(r.warnings);
    if (rc != PLUGIN_IMPORT_OK) {
        json_decref(*result);
        *result = NULL;
    }
    return rc;
}
