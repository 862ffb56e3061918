/* core/methods.c - the JSON-RPC methods: check params, call the store, shape
 * the result. docs/protocol.md is the contract each function implements. */
#include "rpc.h"
#include "provenance.h"
#include "lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- parameter helpers: each names the member and the method on error ---- */

/* Params must be an object (rpc_run_call passes {} when they are absent). */
static int params_object(const char *method, json_t **params, rpc_error *err)
{
    if (!json_is_object(*params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", method);
    return 0;
}

static int param_string(const char *method, json_t *p, const char *key, bool required,
                        const char **out, rpc_error *err)
{
    json_t *v = json_object_get(p, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"%s\" (a string)", method, key);
        return 0;
    }
    if (!json_is_string(v))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" must be a string", method, key);
    *out = json_string_value(v);
    return 0;
}

static int param_bool(const char *method, json_t *p, const char *key, bool *out, rpc_error *err)
{
    json_t *v = json_object_get(p, key);
    *out = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" must be true or false", method, key);
    *out = json_is_true(v);
    return 0;
}

static int param_int(const char *method, json_t *p, const char *key, json_int_t lo, json_int_t hi,
                     json_int_t dflt, json_int_t *out, rpc_error *err)
{
    json_t *v = json_object_get(p, key);
    *out = dflt;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" must be an integer in [%lld, %lld]",
                        method, key, (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

/* Labels/types arrays: strings only, and at least `min` of them. The returned
 * array of pointers borrows from the JSON and must be freed by the caller. */
static int param_strings(const char *method, json_t *p, const char *key, size_t min,
                         const char ***out, size_t *n, rpc_error *err)
{
    json_t *v = json_object_get(p, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v)) {
        if (min)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"%s\" (an array of strings)", method, key);
        return 0;
    }
    if (!json_is_array(v))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" must be an array of strings", method, key);
    size_t len = json_array_size(v);
    if (len < min)
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" needs at least %zu entries", method, key, min);
    const char **arr = calloc(len ? len : 1, sizeof *arr);
    if (!arr)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: out of memory", method);
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e) || json_string_length(e) == 0) {
            free(arr);
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s[%zu] must be a non-empty string", method, key, i);
        }
        arr[i] = json_string_value(e);
    }
    *out = arr;
    *n = len;
    return 0;
}

/* A node reference: an integer id, or {"id":N}, {"label":L,"name":S}, {"name":S}. */
static int resolve_node(method_ctx *ctx, const char *method, const char *what, json_t *ref,
                        int64_t *id, rpc_error *err)
{
    gs_error gerr;
    gs_status st;
    if (json_is_integer(ref)) {
        *id = json_integer_value(ref);
        json_t *node = NULL;
        st = graph_node_get(ctx->store, *id, &node, &gerr);
        json_decref(node);
        return st == GS_OK ? 0 : rpc_fail_store(err, st, method, &gerr);
    }
    if (!json_is_object(ref))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s must be a node id or {\"label\",\"name\"} / {\"name\"} / {\"id\"}", method, what);
    json_t *jid = json_object_get(ref, "id");
    if (jid) {
        if (!json_is_integer(jid))
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s.id must be an integer", method, what);
        return resolve_node(ctx, method, what, jid, id, err);
    }
    json_t *jname = json_object_get(ref, "name"), *jlabel = json_object_get(ref, "label");
    if (!json_is_string(jname))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s needs \"id\" (an integer) or \"name\" (a string)", method, what);
    if (jlabel && !json_is_null(jlabel) && !json_is_string(jlabel))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s.label must be a string", method, what);
    st = graph_node_find(ctx->store, json_string_value(jlabel), json_string_value(jname), id, &gerr);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, method, &gerr);
}

/* ---- methods ---- */

static struct timespec methods_started;

/* Why a constructor: uptime counts from process start, before any request. */
__attribute__((constructor)) static void methods_note_start(void)
{
    clock_gettime(CLOCK_MONOTONIC, &methods_started);
}

/* ping's result as JSON text, {"version":...,"pid":...,"uptime_ms":...} (the
 * keys in jansson's order); shared by m_ping and the loop's fast path
 * (rpc_fast_ping_reply, core/rpc_fast.c). The pid is read once: getpid() is
 * a system call. Returns the length, or 0 if it does not fit. */
size_t method_ping_text(char *buf, size_t cap)
{
    static long long pid;
    struct timespec now;
    if (!pid)
        pid = (long long)getpid();
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long up = (now.tv_sec - methods_started.tv_sec) * 1000LL + (now.tv_nsec - methods_started.tv_nsec) / 1000000;
    int n = snprintf(buf, cap, "{\"version\":\"%s\",\"pid\":%lld,\"uptime_ms\":%lld}", DSGRAPH_VERSION, pid, up);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int m_ping(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    /* pre-serialised: ping is answered on the loop, per line */
    char buf[160];
    ctx->raw_result = method_ping_text(buf, sizeof buf) ? strdup(buf) : NULL;
    if (!ctx->raw_result)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "ping: out of memory");
    return 0;
}

static int m_stats(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    gs_error gerr;
    gs_status st = graph_stats(ctx->store, result, &gerr);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, "stats", &gerr);
}

static int m_node_put(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "node.put";
    const char **labels = NULL, *name = NULL;
    size_t nlabels = 0;
    if (params_object(M, &params, err) || param_string(M, params, "name", false, &name, err))
        return -1;
    json_t *props = json_object_get(params, "properties"), *aliases = json_object_get(params, "aliases");
    if (props && !json_is_null(props) && !json_is_object(props))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"properties\" must be an object", M);
    if (aliases && !json_is_null(aliases) && !json_is_array(aliases))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"aliases\" must be an array of strings", M);
    bool named = name || (json_is_object(props) && json_is_string(json_object_get(props, "name")));
    if (param_strings(M, params, "labels", named ? 1 : 0, &labels, &nlabels, err))
        return -1;
    int64_t id;
    bool created;
    gs_error gerr;
    gs_status st = graph_node_put(ctx->store, labels, nlabels, name, json_is_object(props) ? props : NULL,
                                  json_is_array(aliases) ? aliases : NULL, &id, &created, &gerr);
    free(labels);
    if (st == GS_OK)
        st = graph_node_get(ctx->store, id, result, &gerr);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
}

static int m_node_get(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "node.get";
    bool want_rels, want_aliases, want_claims;
    int64_t id;
    if (params_object(M, &params, err) || param_bool(M, params, "relationships", &want_rels, err) ||
        param_bool(M, params, "aliases", &want_aliases, err) || param_bool(M, params, "claims", &want_claims, err) ||
        resolve_node(ctx, M, "params", params, &id, err))
        return -1;
    gs_error gerr;
    gs_status st;
    if (!want_aliases && !want_rels && !want_claims) {   /* the common lookup: reply built as text */
        size_t len;
        st = graph_node_text(ctx->store, id, &ctx->raw_result, &len, &gerr);
        *result = NULL;
        return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
    }
    st = graph_node_get(ctx->store, id, result, &gerr);
    json_t *extra = NULL;
    if (st == GS_OK && want_aliases && (st = graph_node_aliases(ctx->store, id, &extra, &gerr)) == GS_OK)
        json_object_set_new(*result, "aliases", extra);
    if (st == GS_OK && want_rels && (st = graph_node_relationships(ctx->store, id, &extra, &gerr)) == GS_OK)
        json_object_set_new(*result, "relationships", extra);
    if (st == GS_OK && want_claims && (st = prov_claims_of(ctx->store, "node", id, &extra, &gerr)) == GS_OK)
        json_object_set_new(*result, "claims", extra);   /* provenance: graph/provenance.h */
    return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
}

/* node.get is a point lookup unless it also lists relationships or claims
 * (a hub node has thousands): then it is not METHOD_QUICK. Runs on the loop. */
static unsigned m_node_get_classify(json_t *params)
{
    if (json_is_true(json_object_get(params, "relationships")) || json_is_true(json_object_get(params, "claims")))
        return METHOD_STORE;
    return METHOD_STORE | METHOD_QUICK;
}

static int m_node_delete(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "node.delete";
    bool detach;
    int64_t id, rels = 0;
    if (params_object(M, &params, err) || param_bool(M, params, "detach", &detach, err) ||
        resolve_node(ctx, M, "params", params, &id, err))
        return -1;
    gs_error gerr;
    gs_status st = graph_node_delete(ctx->store, id, detach, &rels, &gerr);
    if (st != GS_OK)
        return rpc_fail_store(err, st, M, &gerr);
    *result = json_pack("{s:i, s:I}", "nodes_deleted", 1, "relationships_deleted", (json_int_t)rels);
    return 0;
}

static int m_rel_put(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "rel.put";
    const char *type;
    bool create;
    int64_t start, end, id;
    if (params_object(M, &params, err) || param_string(M, params, "type", true, &type, err) ||
        param_bool(M, params, "create", &create, err))
        return -1;
    if (!*type)
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"type\" must not be empty", M);
    json_t *props = json_object_get(params, "properties");
    if (props && !json_is_null(props) && !json_is_object(props))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"properties\" must be an object", M);
    if (!json_object_get(params, "start") || !json_object_get(params, "end"))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: members \"start\" and \"end\" (node references) are required", M);
    if (resolve_node(ctx, M, "start", json_object_get(params, "start"), &start, err) ||
        resolve_node(ctx, M, "end", json_object_get(params, "end"), &end, err))
        return -1;
    bool created;
    gs_error gerr;
    gs_status st = graph_rel_put(ctx->store, start, type, end, json_is_object(props) ? props : NULL,
                                 create, &id, &created, &gerr);
    if (st == GS_OK)
        st = graph_rel_get(ctx->store, id, result, &gerr);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
}

static int m_rel_delete(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "rel.delete";
    json_int_t id;
    gs_error gerr;
    gs_status st;
    int64_t deleted = 0;
    if (params_object(M, &params, err) || param_int(M, params, "id", 1, INT64_MAX, 0, &id, err))
        return -1;
    if (id) {
        if ((st = graph_rel_delete(ctx->store, id, &gerr)) != GS_OK)
            return rpc_fail_store(err, st, M, &gerr);
        deleted = 1;
    } else {
        const char *type;
        int64_t start, end, rid;
        if (!json_object_get(params, "start") || !json_object_get(params, "end"))
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: give \"id\", or \"start\", \"type\" and \"end\"", M);
        if (param_string(M, params, "type", true, &type, err) ||
            resolve_node(ctx, M, "start", json_object_get(params, "start"), &start, err) ||
            resolve_node(ctx, M, "end", json_object_get(params, "end"), &end, err))
            return -1;
        while ((st = graph_rel_find(ctx->store, start, type, end, &rid, &gerr)) == GS_OK) {
            if ((st = graph_rel_delete(ctx->store, rid, &gerr)) != GS_OK)
                return rpc_fail_store(err, st, M, &gerr);
            deleted++;
        }
        if (st != GS_NOT_FOUND)
            return rpc_fail_store(err, st, M, &gerr);
        if (deleted == 0)
            return rpc_fail(err, RPC_NOT_FOUND, "%s: no %s relationship from node %lld to node %lld", M, type,
                            (long long)start, (long long)end);
    }
    *result = json_pack("{s:I}", "relationships_deleted", (json_int_t)deleted);
    return 0;
}

/* lineage: the reply text is built by graph/lineage.c (ctx->raw_result), so a
 * 60k-node tree is never a jansson tree; count_only/fields skip what is not asked.
 * METHOD_LOOP: the loop thread tries it within ctx->loop_max_nodes (an ancestry
 * is a dozen nodes: no thread hand-off) and a bigger walk goes to a worker. */
static int m_lineage(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "lineage";
    const char *dir, **types = NULL, **fields = NULL;
    size_t ntypes = 0, nfields = 0;
    json_int_t depth;
    int64_t root;
    bool count_only;
    if (params_object(M, &params, err) || param_string(M, params, "direction", false, &dir, err) ||
        param_int(M, params, "depth", 0, 1000000, 0, &depth, err) ||
        param_bool(M, params, "count_only", &count_only, err))
        return -1;
    graph_direction d = GRAPH_UP;
    if (dir && strcmp(dir, "down") == 0)
        d = GRAPH_DOWN;
    else if (dir && strcmp(dir, "up") != 0)
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"direction\" must be \"up\" or \"down\"", M);
    if (!json_object_get(params, "node"))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"node\" (a node reference)", M);
    if (count_only && json_object_get(params, "fields") && !json_is_null(json_object_get(params, "fields")))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: give \"count_only\" or \"fields\", not both", M);
    if (resolve_node(ctx, M, "node", json_object_get(params, "node"), &root, err) ||
        param_strings(M, params, "types", 0, &types, &ntypes, err))
        return -1;
    if (param_strings(M, params, "fields", 0, &fields, &nfields, err)) {
        free(types);
        return -1;
    }
    graph_lineage_opts o = {.dir = d, .types = types, .ntypes = ntypes, .max_depth = (int)depth,
                            .mode = count_only ? GRAPH_LINEAGE_COUNT : GRAPH_LINEAGE_FULL,
                            .fields = fields, .nfields = nfields, .max_nodes = ctx->loop_max_nodes};
    if (json_is_array(json_object_get(params, "fields")))
        o.mode = GRAPH_LINEAGE_FIELDS;
    gs_error gerr;
    size_t len;
    gs_status st = graph_lineage_text(ctx->store, root, &o, &ctx->raw_result, &len, &gerr);
    free(types);
    free(fields);
    if (st == GS_LIMIT && o.max_nodes)
        return METHOD_DECLINED;   /* too big for the loop thread: a worker runs it */
    if (st != GS_OK)
        return rpc_fail_store(err, st, M, &gerr);
    *result = NULL;
    return 0;
}

static int m_search(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "search", *text;
    json_int_t limit;
    if (params_object(M, &params, err) || param_string(M, params, "text", true, &text, err) ||
        param_int(M, params, "limit", 1, 1000, 20, &limit, err))
        return -1;
    json_t *nodes = NULL;
    gs_error gerr;
    gs_status st = graph_search(ctx->store, text, (int)limit, &nodes, &gerr);
    if (st != GS_OK)
        return rpc_fail_store(err, st, M, &gerr);
    *result = json_pack("{s:o}", "nodes", nodes);
    return 0;
}

static int m_sql(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "sql", *sql;
    if (params_object(M, &params, err) || param_string(M, params, "sql", true, &sql, err))
        return -1;
    json_t *args = json_object_get(params, "params");
    if (args && !json_is_null(args) && !json_is_array(args))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"params\" must be an array", M);
    gs_error gerr;
    gs_status st = graph_sql(ctx->store, sql, json_is_array(args) ? args : NULL, result, &gerr);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
}

/* Plugins and imports: core/methods_plugins.c, core/methods_import.c. */
int m_plugins_list(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_plugins_reload(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_import_begin(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_import_chunk(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_import_abort(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_import_end(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_import_path(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_imports_list(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_imports_show(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_imports_retract(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);

/* core/methods_export.c */
int m_export(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_export_begin(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_export_next(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
int m_export_abort(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
/* core/methods_check.c */
int m_check(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);

/* core/methods_query.c */
int method_query(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);
unsigned method_query_classify(json_t *params);

static const method_def method_table[] = {
    {.name = "ping", .fn = m_ping, .flags = 0},
    {.name = "stats", .fn = m_stats, .flags = METHOD_STORE},
    {.name = "node.put", .fn = m_node_put, .flags = METHOD_STORE | METHOD_WRITE | METHOD_GROUP},
    {.name = "node.get", .fn = m_node_get, .flags = METHOD_STORE, .classify = m_node_get_classify},
    {.name = "node.delete", .fn = m_node_delete, .flags = METHOD_STORE | METHOD_WRITE | METHOD_GROUP},
    {.name = "rel.put", .fn = m_rel_put, .flags = METHOD_STORE | METHOD_WRITE | METHOD_GROUP},
    {.name = "rel.delete", .fn = m_rel_delete, .flags = METHOD_STORE | METHOD_WRITE | METHOD_GROUP},
    {.name = "lineage", .fn = m_lineage, .flags = METHOD_STORE | METHOD_LOOP},
    {.name = "search", .fn = m_search, .flags = METHOD_STORE},
    {.name = "sql", .fn = m_sql, .flags = METHOD_STORE},
    {.name = "query", .fn = method_query, .flags = METHOD_STORE, .classify = method_query_classify},
    {.name = "plugins.list", .fn = m_plugins_list, .flags = 0},
    {.name = "plugins.reload", .fn = m_plugins_reload, .flags = METHOD_WRITE},
    /* begin/chunk run on the reader pool and check write permission themselves */
    {.name = "import.begin", .fn = m_import_begin, .flags = METHOD_STORE},
    {.name = "import.chunk", .fn = m_import_chunk, .flags = METHOD_STORE},
    {.name = "import.abort", .fn = m_import_abort, .flags = METHOD_WRITE},       /* on the loop */
    {.name = "import.end", .fn = m_import_end, .flags = METHOD_STORE | METHOD_WRITE},
    {.name = "import.path", .fn = m_import_path, .flags = METHOD_STORE | METHOD_WRITE},
    {.name = "imports.list", .fn = m_imports_list, .flags = METHOD_STORE},
    {.name = "imports.show", .fn = m_imports_show, .flags = METHOD_STORE},
    {.name = "imports.retract", .fn = m_imports_retract, .flags = METHOD_STORE | METHOD_WRITE},
    {.name = "export", .fn = m_export, .flags = METHOD_STORE},   /* reader pool, read-only snapshot */
    /* streamed: reader pool, each export on its own read-only connection */
    {.name = "export.begin", .fn = m_export_begin, .flags = METHOD_STORE},
    {.name = "export.next", .fn = m_export_next, .flags = METHOD_STORE},
    {.name = "export.abort", .fn = m_export_abort, .flags = METHOD_STORE},
    {.name = "check", .fn = m_check, .flags = METHOD_STORE},     /* reader pool, read-only snapshot */
    {.name = NULL},
};

const method_def *method_lookup(const char *name)
{
    for (const method_def *m = method_table; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}
