/* core/methods_export.c - the `export` method (docs/protocol.md, "Exports"):
 * runs a plugin's exporter on a reader thread over one read-only snapshot and
 * returns the whole output in one reply, {"plugin","bytes","data"}. The
 * result is pre-serialised text (ctx->raw_result) so the output is copied
 * once into the reply instead of once more into a jansson string.
 * export.begin / export.next / export.abort stream the same output in chunks
 * (core/export_stream.h): the daemon holds one chunk at a time. */
#include "export_stream.h"
#include "log.h"
#include "plugin_export.h"
#include "rpc.h"
#include "workers.h"

#include <stdlib.h>
#include <string.h>

/* Why: the exact size of s as the body of a JSON string, so the reply is
 * allocated once. Control characters become \u00XX (6 bytes). */
static size_t json_escaped_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

/* Why: writes the escaped body of s at dst (sized by json_escaped_len);
 * returns the end. UTF-8 is copied as is (the exporter's output was checked). */
static char *json_escape_to(char *dst, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': *dst++ = '\\'; *dst++ = '"'; break;
        case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
        case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
        case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
        case '\t': *dst++ = '\\'; *dst++ = 't'; break;
        default:
            if (c < 0x20) {
                memcpy(dst, "\\u00", 4);
                dst[4] = hex[c >> 4];
                dst[5] = hex[c & 15];
                dst += 6;
            } else
                *dst++ = (char)c;
        }
    }
    return dst;
}

/* Why: the result object as text, {"plugin":P,"bytes":N,"data":"..."}; the
 * plugin name is dumped by jansson (it may need escaping), the data by hand. */
static char *export_result_text(const char *plugin, const char *data, size_t len)
{
    json_t *jname = json_string(plugin);
    char *name = jname ? json_dumps(jname, JSON_ENCODE_ANY) : NULL;
    json_decref(jname);
    if (!name)
        return NULL;
    size_t esc = json_escaped_len(data, len);
    size_t cap = strlen(name) + esc + 96;
    char *out = malloc(cap);
    if (out) {
        int k = snprintf(out, cap, "{\"plugin\":%s,\"bytes\":%zu,\"data\":\"", name, len);
        char *end = json_escape_to(out + k, data, len);
        memcpy(end, "\"}", 3);
    }
    free(name);
    return out;
}

/* export {"plugin":NAME, "opts":{...}} -> {"plugin","bytes","data"}.
 * Runs on a reader thread (METHOD_STORE without METHOD_WRITE): the store is
 * read-only, so an exporter can never change the graph. */
int m_export(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    (void)result;
    const char *M = "export";
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    json_t *jname = json_object_get(params, "plugin"), *opts = json_object_get(params, "opts");
    if (!json_is_string(jname))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"plugin\" (a string)", M);
    if (opts && !json_is_null(opts) && !json_is_object(opts))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"opts\" must be an object", M);
    const char *name = json_string_value(jname);
    plugin_set *set = plugin_host_acquire();
    const plugin_info *p = plugin_set_find(set, name);
    int rc = 0;
    if (!p)
        rc = rpc_fail(err, RPC_NOT_FOUND, "%s: no plugin named \"%s\" (dsctl plugins lists them)", M, name);
    else if (!p->ok)
        rc = rpc_fail(err, RPC_INVALID_PARAMS, "%s: plugin %s failed to load: %s", M, name,
                      p->error ? p->error : "unknown error");
    else if (!p->exporter)
        rc = rpc_fail(err, RPC_INVALID_PARAMS, "%s: plugin %s has no exporter", M, name);
    if (rc) {
        plugin_host_release(set);
        return rc;
    }
    export_limits lim = {.max_bytes = 256LL << 20, .query_timeout_ms = 30000, .query_max_rows = 1000000};
    size_t max_reply = 64u << 20;
    if (ctx->cfg) {
        lim.max_bytes = ctx->cfg->export_max_bytes;
        lim.query_timeout_ms = ctx->cfg->query_timeout_ms;
        lim.query_max_rows = ctx->cfg->query_max_rows;
        lim.query_max_memory = ctx->cfg->query_memory_limit;
        max_reply = ctx->cfg->max_output_bytes;
    }
    json_t *empty = json_object();
    char *out = NULL, msg[800];
    size_t len = 0;
    int xrc = plugin_export_run(ctx->store, set, p, json_is_object(opts) ? opts : empty, &lim, &out, &len, msg,
                                sizeof msg);
    json_decref(empty);
    if (xrc != PLUGIN_EXPORT_OK) {
        int code = xrc == PLUGIN_EXPORT_LIMIT ? RPC_LIMIT_EXCEEDED
                   : xrc == PLUGIN_EXPORT_INTERNAL ? RPC_INTERNAL_ERROR : RPC_INVALID_PARAMS;
        rc = rpc_fail(err, code, "%s: %s", M, msg);
        err->data = json_pack("{s:s}", "plugin", name);
        plugin_host_release(set);
        return rc;
    }
    ctx->raw_result = export_result_text(p->name, out, len);
    plugin_host_release(set);
    free(out);
    if (!ctx->raw_result)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: out of memory", M);
    if (strlen(ctx->raw_result) + 64 > max_reply) {
        size_t n = strlen(ctx->raw_result);
        free(ctx->raw_result);
        ctx->raw_result = NULL;
        return rpc_fail(err, RPC_LIMIT_EXCEEDED, "%s: the reply of %zu bytes would exceed max_output_bytes=%zu", M,
                        n, max_reply);
    }
    return 0;
}

#define EXPORT_CHUNK_DEFAULT (1u << 20)
#define EXPORT_CHUNK_MIN 16

/* Why: the owner of streamed exports is the connection (its log name). */
static const char *export_owner(const method_ctx *ctx) { return ctx->peer ? ctx->peer : "local"; }

/* Why one place: an export failure's RPC code, message and error.data.plugin. */
static int export_fail(rpc_error *err, int xrc, const char *plugin, const char *msg)
{
    int code = xrc == PLUGIN_EXPORT_LIMIT ? RPC_LIMIT_EXCEEDED
               : xrc == PLUGIN_EXPORT_INTERNAL ? RPC_INTERNAL_ERROR : RPC_INVALID_PARAMS;
    int rc = rpc_fail(err, code, "export: %s", msg);
    if (plugin)
        err->data = json_pack("{s:s}", "plugin", plugin);
    return rc;
}

/* export.begin {"plugin":NAME, "opts":{...}} -> {"export":TOKEN, "plugin":NAME}.
 * Why a connection of its own: the export's read transaction (its snapshot)
 * must outlive this call, while the pool thread's connection serves others. */
int m_export_begin(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "export.begin";
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    json_t *jname = json_object_get(params, "plugin"), *opts = json_object_get(params, "opts");
    if (!json_is_string(jname))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"plugin\" (a string)", M);
    if (opts && !json_is_null(opts) && !json_is_object(opts))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"opts\" must be an object", M);
    if (!ctx->cfg || !ctx->cfg->db)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: no database path", M);
    export_stream_sweep();
    const char *name = json_string_value(jname);
    plugin_set *set = plugin_host_acquire();
    const plugin_info *p = plugin_set_find(set, name);
    int rc = 0;
    if (!p)
        rc = rpc_fail(err, RPC_NOT_FOUND, "export: no plugin named \"%s\" (dsctl plugins lists them)", name);
    else if (!p->ok)
        rc = rpc_fail(err, RPC_INVALID_PARAMS, "export: plugin %s failed to load: %s", name,
                      p->error ? p->error : "unknown error");
    else if (!p->exporter)
        rc = rpc_fail(err, RPC_INVALID_PARAMS, "export: plugin %s has no exporter", name);
    if (rc) {
        plugin_host_release(set);
        return rc;
    }
    graph_store_options sopts = {.busy_timeout_ms = ctx->cfg->busy_timeout_ms, .sql_max_rows = ctx->cfg->sql_max_rows};
    graph_store *s = NULL;
    gs_error gerr;
    if (graph_store_open(ctx->cfg->db, GS_OPEN_READONLY, &sopts, &s, &gerr) != GS_OK) {
        plugin_host_release(set);
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: cannot open the database: %s", M, gerr.msg);
    }
    workers_attach_index(s);   /* ctx:lineage and Cypher patterns walk it while the snapshot matches */
    export_limits lim = {.max_bytes = ctx->cfg->export_max_bytes, .query_timeout_ms = ctx->cfg->query_timeout_ms,
                         .query_max_rows = ctx->cfg->query_max_rows, .query_max_memory = ctx->cfg->query_memory_limit};
    json_t *empty = json_object();
    char msg[800], token[EXPORT_TOKEN_LEN + 1];
    /* the stream owns s and set from here on, even when it fails */
    plugin_export_stream *x =
        plugin_export_stream_open(s, set, p, json_is_object(opts) ? opts : empty, &lim, msg, sizeof msg);
    json_decref(empty);
    if (!x)
        return export_fail(err, PLUGIN_EXPORT_FAILED, name, msg);
    if (export_stream_add(export_owner(ctx), x, ctx->cfg->export_idle_timeout_ms, token, msg, sizeof msg) != 0)
        return rpc_fail(err, RPC_BUSY, "%s: %s", M, msg);
    log_info("%s: export %.8s by %s begun", export_owner(ctx), token, name);
    *result = json_pack("{s:s,s:s}", "export", token, "plugin", name);
    return 0;
}

/* export.next {"export":TOKEN, "max_bytes":N} -> {"data":TEXT,"bytes":N,"done":BOOL}.
 * Why the client drives: the exporter runs only inside this call, until one
 * chunk is buffered, so a slow reader slows the exporter instead of filling
 * the daemon's memory (back-pressure). */
int m_export_next(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    (void)result;
    const char *M = "export.next";
    json_t *jtok = json_object_get(params, "export"), *jmax = json_object_get(params, "max_bytes");
    if (!json_is_object(params) || !json_is_string(jtok))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"export\" (the token of export.begin)", M);
    size_t max_reply = ctx->cfg ? ctx->cfg->max_output_bytes : (64u << 20);
    size_t chunk = EXPORT_CHUNK_DEFAULT, cap = max_reply / 8 > EXPORT_CHUNK_MIN ? max_reply / 8 : EXPORT_CHUNK_MIN;
    if (jmax) {
        if (!json_is_integer(jmax) || json_integer_value(jmax) < EXPORT_CHUNK_MIN)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: \"max_bytes\" must be an integer >= %d", M,
                            EXPORT_CHUNK_MIN);
        chunk = (size_t)json_integer_value(jmax);
    }
    if (chunk > cap)
        chunk = cap;   /* the escaped reply (up to 6x for control characters) must fit max_output_bytes */
    const char *token = json_string_value(jtok);
    char msg[800];
    plugin_export_stream *x = export_stream_take(export_owner(ctx), token, msg, sizeof msg);
    if (!x)
        return rpc_fail(err, RPC_NOT_FOUND, "%s: %s", M, msg);
    char *out = NULL;
    size_t len = 0;
    bool done = false;
    int xrc = plugin_export_stream_next(x, chunk, &out, &len, &done, msg, sizeof msg);
    export_stream_put(token, xrc != PLUGIN_EXPORT_OK || done);
    if (xrc != PLUGIN_EXPORT_OK)
        return export_fail(err, xrc, NULL, msg);
    size_t esc = json_escaped_len(out, len);
    char *text = malloc(esc + 64);
    if (text) {
        int k = snprintf(text, esc + 64, "{\"bytes\":%zu,\"done\":%s,\"data\":\"", len, done ? "true" : "false");
        char *end = json_escape_to(text + k, out, len);
        memcpy(end, "\"}", 3);
    }
    free(out);
    if (!text)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "%s: out of memory", M);
    ctx->raw_result = text;
    return 0;
}

/* export.abort {"export":TOKEN} -> {"aborted":true}: the client gives up
 * (dsctl on a write error); frees the snapshot and the Lua state now. */
int m_export_abort(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "export.abort";
    json_t *jtok = json_object_get(params, "export");
    if (!json_is_object(params) || !json_is_string(jtok))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"export\" (the token of export.begin)", M);
    char msg[800];
    const char *token = json_string_value(jtok);
    if (!export_stream_take(export_owner(ctx), token, msg, sizeof msg))
        return rpc_fail(err, RPC_NOT_FOUND, "%s: %s", M, msg);
    export_stream_put(token, true);
    *result = json_pack("{s:b}", "aborted", 1);
    return 0;
}
