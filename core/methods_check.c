/* core/methods_check.c - the `check` method (docs/protocol.md, "Checks"):
 * runs check plugins (core/plugin_check.c) on a reader thread over one
 * read-only snapshot and returns their findings with the nodes and imports
 * they name resolved, {"findings":[...],"checks_run":N,"failed":[...]}. */
#include "log.h"
#include "plugin_check.h"
#include "provenance.h"
#include "rpc.h"

#include <stdlib.h>
#include <string.h>

/* Why: a finding names nodes by id; the reply shows who they are,
 * {"id","name","labels"} (name null, labels [] for a node that is gone). */
static json_t *check_node_ref(graph_store *s, json_int_t id)
{
    json_t *v = NULL;
    gs_error gerr;
    if (graph_node_get(s, id, &v, &gerr) != GS_OK)
        return json_pack("{s:I,s:n,s:[]}", "id", id, "name", "labels");
    json_t *body = json_object_get(v, "$node");
    json_t *name = json_object_get(json_object_get(body, "properties"), "name");
    json_t *labels = json_object_get(body, "labels");
    json_t *o = json_pack("{s:I,s:O?,s:O?}", "id", id, "name", name, "labels", labels);
    json_decref(v);
    return o;
}

/* Why: a finding names imports by id; the reply says which plugin read which
 * input, {"id","plugin","input"}; import 0 is the direct source. */
static json_t *check_import_ref(json_t *imports, json_int_t id)
{
    json_t *e;
    size_t i;
    json_array_foreach(imports, i, e) {
        if (json_integer_value(json_object_get(e, "id")) == id)
            return json_pack("{s:I,s:O?,s:O?}", "id", id, "plugin", json_object_get(e, "plugin"), "input",
                             json_object_get(e, "input"));
    }
    return json_pack("{s:I,s:s,s:n}", "id", id, "plugin", id == 0 ? "direct" : "unknown", "input");
}

/* Why: replaces the id lists of every finding with the resolved objects. */
static void check_resolve(graph_store *s, json_t *findings, json_t *imports)
{
    json_t *f, *e;
    size_t i, k;
    json_array_foreach(findings, i, f) {
        json_t *nodes = json_array(), *imps = json_array();
        json_array_foreach(json_object_get(f, "nodes"), k, e)
            json_array_append_new(nodes, check_node_ref(s, json_integer_value(e)));
        json_array_foreach(json_object_get(f, "imports"), k, e)
            json_array_append_new(imps, check_import_ref(imports, json_integer_value(e)));
        json_object_set_new(f, "nodes", nodes);
        json_object_set_new(f, "imports", imps);
    }
}

/* Why: the checks to run, in the set's order: the named ones (each must have
 * a check part), or every loaded plugin with one. 0 or an rpc_fail code. */
static int check_select(const plugin_set *set, json_t *names, const plugin_info ***out, size_t *n, rpc_error *err)
{
    const char *M = "check";
    *out = calloc(set->n + json_array_size(names) + 1, sizeof **out);
    *n = 0;
    if (!*out)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: out of memory", M);
    if (!json_is_array(names)) {
        for (size_t i = 0; i < set->n; i++)
            if (set->v[i].ok && set->v[i].check)
                (*out)[(*n)++] = &set->v[i];
        return 0;
    }
    json_t *e;
    size_t i;
    json_array_foreach(names, i, e) {
        const char *name = json_string_value(e);
        const plugin_info *p = name ? plugin_set_find(set, name) : NULL;
        if (!name)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: \"plugins\" must be a list of names", M);
        if (!p)
            return rpc_fail(err, RPC_NOT_FOUND, "%s: no plugin named \"%s\" (dsctl plugins lists them)", M, name);
        if (!p->ok)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: plugin %s failed to load: %s", M, name,
                            p->error ? p->error : "unknown error");
        if (!p->check)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: plugin %s has no check", M, name);
        bool dup = false;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = (*out)[k] == p;
        if (!dup)
            (*out)[(*n)++] = p;
    }
    return 0;
}

/* check {"plugins":[names]|null, "opts":{...}} -> {"findings","checks_run","failed"}.
 * Runs on a reader thread (METHOD_STORE without METHOD_WRITE): every check
 * sees the same read-only snapshot and none can change the graph. A check
 * that fails (a Lua error, its budget) is listed in "failed"; the others run. */
int m_check(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "check";
    if (params && !json_is_null(params) && !json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    json_t *names = json_object_get(params, "plugins"), *opts = json_object_get(params, "opts");
    if (names && !json_is_null(names) && !json_is_array(names))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"plugins\" must be a list of names or null", M);
    if (opts && !json_is_null(opts) && !json_is_object(opts))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"opts\" must be an object", M);
    plugin_set *set = plugin_host_acquire();
    if (!set)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: no plugins are loaded", M);
    const plugin_info **run = NULL;
    size_t n = 0;
    int rc = check_select(set, names, &run, &n, err);
    if (rc) {
        free(run);
        plugin_host_release(set);
        return rc;
    }
    export_limits lim = {.max_bytes = 16LL << 20, .query_timeout_ms = 30000, .query_max_rows = 1000000};
    if (ctx->cfg) {
        lim.query_timeout_ms = ctx->cfg->query_timeout_ms;
        lim.query_max_rows = ctx->cfg->query_max_rows;
        lim.query_max_memory = ctx->cfg->query_memory_limit;
    }
    json_t *empty = json_object(), *findings = json_array(), *failed = json_array();
    for (size_t i = 0; i < n && !rc; i++) {
        char msg[800];
        int xrc = plugin_check_run(ctx->store, set, run[i], json_is_object(opts) ? opts : empty, &lim, findings,
                                   msg, sizeof msg);
        if (xrc == PLUGIN_EXPORT_INTERNAL)
            rc = rpc_fail(err, RPC_INTERNAL_ERROR, "%s: %s", M, msg);
        else if (xrc != PLUGIN_EXPORT_OK)
            json_array_append_new(failed, json_pack("{s:s,s:s}", "check", run[i]->name, "error", msg));
    }
    free(run);
    plugin_host_release(set);
    json_decref(empty);
    json_t *imports = NULL;
    gs_error gerr;
    if (!rc && prov_imports_list(ctx->store, &imports, &gerr) != GS_OK)
        rc = rpc_fail(err, RPC_INTERNAL_ERROR, "%s: reading the imports: %s", M, gerr.msg);
    if (rc) {
        json_decref(findings);
        json_decref(failed);
        return rc;
    }
    check_resolve(ctx->store, findings, imports);
    json_decref(imports);
    *result = json_pack("{s:o,s:I,s:o}", "findings", findings, "checks_run", (json_int_t)n, "failed", failed);
    return *result ? 0 : rpc_fail(err, RPC_INTERNAL_ERROR, "%s: out of memory", M);
}
