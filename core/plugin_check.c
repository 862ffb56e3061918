/* core/plugin_check.c - check plugins (see plugin_check.h): the exporter's
 * run with three more ctx members, ctx:finding, ctx:claims and ctx:imports. */
#include "plugin_check.h"
#include "log.h"
#include "lua_dsgraph.h"
#include "provenance.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_HELD 2

typedef struct check_run {
    graph_store *s;
    const char *severity;     /* the check's default severity */
    json_t *found;            /* the findings so far (C memory, not the Lua cap) */
    json_t *held[CHECK_HELD]; /* JSON being read or pushed: freed even if Lua longjmps */
} check_run;

/* Why: every closure of this file carries the run as upvalue 1. */
static check_run *check_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* Why: keeps v where a longjmp out of the next push or error cannot leak it. */
static json_t *check_hold(check_run *c, json_t *v)
{
    for (int i = 0; i < CHECK_HELD; i++)
        if (!c->held[i]) {
            c->held[i] = v;
            return v;
        }
    json_decref(c->held[CHECK_HELD - 1]);   /* never reached: no call holds more than 2 */
    c->held[CHECK_HELD - 1] = v;
    return v;
}

/* Why: frees what check_hold kept, once the pushes are done (or at the end). */
static void check_release(check_run *c)
{
    for (int i = 0; i < CHECK_HELD; i++) {
        json_decref(c->held[i]);
        c->held[i] = NULL;
    }
}

/* Why: nodes= and imports= are lists of ids; an empty Lua table arrives as {}.
 * Returns a new array of distinct positive ids, or NULL if v is not such a list. */
static json_t *check_ids(json_t *v)
{
    json_t *out = json_array(), *e;
    size_t i;
    if (!v || (json_is_object(v) && json_object_size(v) == 0))
        return out;
    if (!json_is_array(v)) {
        json_decref(out);
        return NULL;
    }
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 0) {
            json_decref(out);
            return NULL;
        }
        bool dup = false;
        for (size_t k = 0; k < json_array_size(out) && !dup; k++)
            dup = json_integer_value(json_array_get(out, k)) == json_integer_value(e);
        if (!dup)
            json_array_append(out, e);
    }
    return out;
}

/* ctx:finding{message=, nodes={ids}, imports={ids}, severity=}: records one
 * finding. Why validate here: a mistake in a check shows as a Lua error with
 * file:line rather than as a malformed finding in the reply. */
static int ctx_finding(lua_State *L)
{
    check_run *c = check_of(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    check_release(c);
    char err[300];
    json_t *f = lua_dsgraph_tojson(L, 2, "finding", err, sizeof err);
    if (!f)
        return luaL_error(L, "ctx:finding: %s", err);
    check_hold(c, f);
    json_t *msg = json_object_get(f, "message"), *sev = json_object_get(f, "severity");
    if (!json_is_string(msg) || !*json_string_value(msg))
        return luaL_error(L, "ctx:finding: message must be a non-empty string");
    const char *severity = c->severity;
    if (sev) {
        severity = json_string_value(sev);
        if (!severity || (strcmp(severity, "error") != 0 && strcmp(severity, "warning") != 0))
            return luaL_error(L, "ctx:finding: severity must be \"error\" or \"warning\"");
    }
    json_t *nodes = check_hold(c, check_ids(json_object_get(f, "nodes")));
    if (!nodes)
        return luaL_error(L, "ctx:finding: nodes must be a list of node ids");
    json_t *imports = check_ids(json_object_get(f, "imports"));
    if (!imports)
        return luaL_error(L, "ctx:finding: imports must be a list of import ids");
    if (json_array_size(c->found) >= PLUGIN_CHECK_MAX_FINDINGS) {
        json_decref(imports);
        return luaL_error(L, "ctx:finding: more than %d findings", PLUGIN_CHECK_MAX_FINDINGS);
    }
    json_array_append_new(c->found, json_pack("{s:s,s:O,s:O,s:o}", "severity", severity, "message", msg,
                                              "nodes", nodes, "imports", imports));
    check_release(c);
    return 0;
}

/* ctx:claims(kind, id) -> props, entity: props is the list of property claims
 * {key, value, text, import, current} (newest first per key; text is the
 * value as canonical JSON, to compare lists and numbers alike), entity the
 * list {import, created} of who asserted the node/rel itself. Import 0 is a
 * direct write. Why: checks about conflicting sources need every claim, not
 * only the value reads show. */
static int ctx_claims(lua_State *L)
{
    check_run *c = check_of(L);
    const char *kind = luaL_checkstring(L, 2);
    lua_Integer id = luaL_checkinteger(L, 3);
    check_release(c);
    json_t *res = NULL;
    gs_error gerr;
    if (prov_claims_of(c->s, kind, id, &res, &gerr) != GS_OK)
        return luaL_error(L, "ctx:claims: %s", gerr.msg);
    check_hold(c, res);
    json_t *props = json_object_get(res, "properties"), *e;
    size_t i;
    json_array_foreach(props, i, e) {
        char *text = json_dumps(json_object_get(e, "value"), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_object_set_new(e, "text", json_string(text ? text : "null"));
        free(text);
    }
    lua_dsgraph_pushjson(L, props);
    lua_dsgraph_pushjson(L, json_object_get(res, "imports"));
    check_release(c);
    return 2;
}

/* ctx:imports() -> the imports {id, plugin, input, sha256, ..., retracted_at}
 * by id, as imports.list returns them. Why: a finding names its sources. */
static int ctx_imports(lua_State *L)
{
    check_run *c = check_of(L);
    check_release(c);
    json_t *res = NULL;
    gs_error gerr;
    if (prov_imports_list(c->s, &res, &gerr) != GS_OK)
        return luaL_error(L, "ctx:imports: %s", gerr.msg);
    lua_dsgraph_pushjson(L, check_hold(c, res));
    check_release(c);
    return 1;
}

/* The hook plugin_export_run_part calls with ctx on top: adds this file's members. */
static void check_ctx_hook(lua_State *L, void *ud)
{
    static const luaL_Reg fns[] = {
        {"finding", ctx_finding}, {"claims", ctx_claims}, {"imports", ctx_imports}, {NULL, NULL}};
    lua_pushlightuserdata(L, ud);
    luaL_setfuncs(L, fns, 1);
}

/* Why a separate list per run: a check that fails halfway must not leave
 * half of its findings in the reply; only a finished run's are appended. */
int plugin_check_run(graph_store *s, const plugin_set *set, const plugin_info *p, json_t *opts,
                     const export_limits *lim, json_t *findings, char *err, size_t errlen)
{
    json_t *sev = p->check ? json_object_get(p->check, "severity") : NULL;
    check_run c = {.s = s, .severity = json_is_string(sev) ? json_string_value(sev) : "warning",
                   .found = json_array()};
    if (!c.found) {
        snprintf(err, errlen, "%s: out of memory", p->name);
        return PLUGIN_EXPORT_INTERNAL;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = plugin_export_run_part(s, set, p, "check", opts, lim, check_ctx_hook, &c, &out, &len, err, errlen);
    free(out);
    check_release(&c);
    if (rc == PLUGIN_EXPORT_OK) {
        json_t *f;
        size_t i;
        json_array_foreach(c.found, i, f) {
            json_object_set_new(f, "check", json_string(p->name));
            json_array_append(findings, f);
        }
        log_info("check %s: %zu findings", p->name, json_array_size(c.found));
    }
    json_decref(c.found);
    return rc;
}
