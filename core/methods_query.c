/* core/methods_query.c - the `query` method: openCypher over the store
 * (graph/cypher.h, docs/query.md). The result is pre-serialised JSON text
 * (ctx->raw_result) because it may hold NaN and infinities. Errors carry the
 * openCypher error in data: {"kind","type","code","phase","position":{"line","column"}}. */
#include "rpc.h"

#include <stdlib.h>

#include "cypher.h"

/* Reads go to the reader pool; a query with a write clause needs the writer
 * thread and write permission. Runs on the loop: a cheap keyword scan. */
unsigned method_query_classify(json_t *params)
{
    json_t *text = json_is_object(params) ? json_object_get(params, "query") : NULL;
    if (json_is_string(text) && graph_query_writes(json_string_value(text)))
        return METHOD_STORE | METHOD_WRITE;
    return METHOD_STORE;
}

/* JSON-RPC code for a query error: limits and read-only keep their own codes. */
static int query_rpc_code(const graph_query_error *qe)
{
    switch (qe->status) {
    case GS_LIMIT: return RPC_LIMIT_EXCEEDED;
    case GS_READONLY: return RPC_READ_ONLY;
    case GS_BUSY: return RPC_BUSY;
    case GS_IO: return RPC_INTERNAL_ERROR;
    default: return RPC_INVALID_PARAMS;
    }
}

/* Runs graph_query; errors carry the openCypher error in data. */
int method_query(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    (void)result;
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "query: params must be an object");
    json_t *text = json_object_get(params, "query"), *qparams = json_object_get(params, "params");
    if (!json_is_string(text))
        return rpc_fail(err, RPC_INVALID_PARAMS, "query: missing member \"query\" (a string)");
    if (qparams && !json_is_null(qparams) && !json_is_object(qparams))
        return rpc_fail(err, RPC_INVALID_PARAMS, "query: member \"params\" must be an object");
    graph_query_limits lim = {0};
    if (ctx->cfg) {
        lim.timeout_ms = ctx->cfg->query_timeout_ms;
        lim.max_rows = ctx->cfg->query_max_rows;
        lim.max_memory = ctx->cfg->query_memory_limit;
    }
    graph_query_error qe;
    char *out = NULL;
    gs_status st = graph_query(ctx->store, json_string_value(text), json_is_object(qparams) ? qparams : NULL, &lim,
                               &out, &qe);
    if (st == GS_OK) {
        ctx->raw_result = out;
        return 0;
    }
    int code = query_rpc_code(&qe);
    rpc_fail(err, code, "query: %s%s%s: %s", qe.type, qe.code[0] ? "/" : "", qe.code, qe.message);
    err->data = json_pack("{s:s, s:s, s:s, s:s, s:{s:i, s:i}}", "type", qe.type, "code", qe.code, "phase", qe.phase,
                          "message", qe.message, "position", "line", qe.line, "column", qe.column);
    return -1;
}
