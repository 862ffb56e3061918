/* core/rpc.c - JSON-RPC 2.0 framing of requests and replies. */
#include "rpc.h"
#include "log.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const struct { int code; const char *kind; } rpc_kinds[] = {
    {RPC_PARSE_ERROR, "parse_error"},
    {RPC_INVALID_REQUEST, "invalid_request"},
    {RPC_METHOD_NOT_FOUND, "method_not_found"},
    {RPC_INVALID_PARAMS, "invalid_params"},
    {RPC_INTERNAL_ERROR, "internal_error"},
    {RPC_NOT_FOUND, "not_found"},
    {RPC_AMBIGUOUS, "ambiguous"},
    {RPC_CONFLICT, "conflict"},
    {RPC_PERMISSION_DENIED, "permission_denied"},
    {RPC_READ_ONLY, "read_only"},
    {RPC_LIMIT_EXCEEDED, "limit_exceeded"},
    {RPC_BUSY, "busy"},
    {RPC_SHUTTING_DOWN, "shutting_down"},
};

const char *rpc_code_kind(int code)
{
    for (size_t i = 0; i < sizeof rpc_kinds / sizeof rpc_kinds[0]; i++)
        if (rpc_kinds[i].code == code)
            return rpc_kinds[i].kind;
    return "error";
}

int rpc_fail(rpc_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* The one place where store statuses become protocol codes. */
int rpc_fail_store(rpc_error *err, gs_status st, const char *method, const gs_error *gerr)
{
    int code;
    switch (st) {
    case GS_NOT_FOUND: code = RPC_NOT_FOUND; break;
    case GS_AMBIGUOUS: code = RPC_AMBIGUOUS; break;
    case GS_INVALID: code = RPC_INVALID_PARAMS; break;
    case GS_CONFLICT: code = RPC_CONFLICT; break;
    case GS_READONLY: code = RPC_READ_ONLY; break;
    case GS_LIMIT: code = RPC_LIMIT_EXCEEDED; break;
    case GS_BUSY: code = RPC_BUSY; break;
    default: code = RPC_INTERNAL_ERROR; break;
    }
    if (code == RPC_INTERNAL_ERROR)
        log_error("%s: %s", method, gerr->msg);
    return rpc_fail(err, code, "%s: %s", method, gerr->msg);
}

/* message with every byte that is not part of valid UTF-8 spelled \xHH
 * (malloc'd; NULL on OOM). Messages quote what a client or a plugin sent (a
 * key, a cell) and may cut a character in half at their length limit: as
 * they were, jansson refused them and the client got no reply at all. */
static char *rpc_utf8_spell(const char *message)
{
    size_t n = strlen(message);
    char *out = malloc(4 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)message + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k > 0) {
            memcpy(o, message + i, (size_t)k);
            o += k;
            i += (size_t)k;
        } else {
            o += sprintf(o, "\\x%02X", (unsigned char)message[i]);
            i++;
        }
    }
    *o = '\0';
    return out;
}

/* {"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M,"data":{"kind":K}}} */
static json_t *rpc_error_reply(json_t *id, int code, const char *message)
{
    char *spelled = graph_utf8_valid(message, strlen(message)) ? NULL : rpc_utf8_spell(message);
    json_t *r = json_pack("{s:s, s:O, s:{s:i, s:s, s:{s:s}}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                          "error", "code", code, "message", spelled ? spelled : message, "data", "kind",
                          rpc_code_kind(code));
    free(spelled);
    return r;
}

static json_t *rpc_result_reply(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

char *rpc_dump_line(json_t *value, size_t *len)
{
    char *s = json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

char *rpc_error_line(int code, const char *message, size_t *len)
{
    json_t *r = rpc_error_reply(NULL, code, message);
    char *line = r ? rpc_dump_line(r, len) : NULL;
    json_decref(r);
    return line;
}

/* True if a string anywhere in v holds U+0000. The store keeps names, labels
 * and keys as C strings, so such params are refused as invalid (-32602)
 * rather than silently truncated. Depth is bounded by jansson's parser (2048). */
static bool rpc_has_nul(json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return strlen(json_string_value(v)) != json_string_length(v);
    case JSON_ARRAY:
        json_array_foreach(v, i, item) if (rpc_has_nul(item)) return true;
        return false;
    case JSON_OBJECT:
        json_object_foreach(v, key, item) if (rpc_has_nul(item)) return true;
        return false;
    default:
        return false;
    }
}

/* Checks one request object; fills the call, or its error reply. */
static void rpc_plan_call(rpc_plan *plan, rpc_call *c, json_t *req)
{
    json_t *id = NULL;
    if (json_is_object(req) && (id = json_object_get(req, "id"))) {
        if (!json_is_string(id) && !json_is_integer(id) && !json_is_null(id) && !json_is_real(id))
            id = NULL; /* an unusable id: reply with null */
        c->id = id ? id : json_null();
    }
    const char *why = NULL;
    json_t *ver, *meth;
    if (!json_is_object(req))
        why = "a request must be a JSON object";
    else if (!(ver = json_object_get(req, "jsonrpc")) || !json_is_string(ver) ||
             strcmp(json_string_value(ver), "2.0") != 0)
        why = "member \"jsonrpc\" must be \"2.0\"";
    else if (!(meth = json_object_get(req, "method")) || !json_is_string(meth))
        why = "member \"method\" must be a string";
    else if (json_object_get(req, "params") && !json_is_object(json_object_get(req, "params")) &&
             !json_is_array(json_object_get(req, "params")))
        why = "member \"params\" must be an object or an array";
    else if (json_object_get(req, "id") && !json_is_string(json_object_get(req, "id")) &&
             !json_is_number(json_object_get(req, "id")) && !json_is_null(json_object_get(req, "id")))
        why = "member \"id\" must be a string, a number or null";
    if (why) {
        char msg[200];
        snprintf(msg, sizeof msg, "invalid request: %s", why);
        c->reply = rpc_error_reply(c->id, RPC_INVALID_REQUEST, msg);
        if (!c->id) /* the spec answers invalid requests even without an id */
            c->id = json_null();
        return;
    }
    const char *name = json_string_value(json_object_get(req, "method"));
    c->params = json_object_get(req, "params");
    if (c->params && rpc_has_nul(c->params)) {
        char msg[300];
        snprintf(msg, sizeof msg, "%.200s: invalid params: strings must not contain U+0000", name);
        c->reply = rpc_error_reply(c->id ? c->id : json_null(), RPC_INVALID_PARAMS, msg);
        if (!c->id)
            c->id = NULL; /* a notification stays unanswered */
        return;
    }
    c->method = method_lookup(name);
    if (!c->method) {
        if (c->id) {
            char msg[300];
            snprintf(msg, sizeof msg, "method not found: \"%.200s\"", name);
            c->reply = rpc_error_reply(c->id, RPC_METHOD_NOT_FOUND, msg);
        }
        return;
    }
    c->flags = c->method->classify ? c->method->classify(c->params) : c->method->flags;
    plan->needs |= c->flags & (METHOD_STORE | METHOD_WRITE);
    if (!(c->flags & METHOD_QUICK))
        plan->slow = true;
    if (!(c->flags & (METHOD_QUICK | METHOD_LOOP)))
        plan->off_loop = true;
}

int rpc_plan_line(rpc_plan *plan, const char *line, size_t len)
{
    memset(plan, 0, sizeof *plan);
    json_error_t jerr;
    plan->doc = rpc_parse_large(line, len, &jerr);
    if (!plan->doc) {
        plan->calls = calloc(1, sizeof *plan->calls);
        if (!plan->calls)
            return -1;
        plan->ncalls = 1;
        char msg[400];
        snprintf(msg, sizeof msg, "parse error at line 1, column %d (byte %d): %s", jerr.column,
                 jerr.position, jerr.text);
        plan->calls[0].id = json_null();
        plan->calls[0].reply = rpc_error_reply(NULL, RPC_PARSE_ERROR, msg);
        return 0;
    }
    if (json_is_array(plan->doc)) {
        plan->batch = true;
        plan->ncalls = json_array_size(plan->doc);
        if (plan->ncalls == 0) {
            plan->batch = false;
            plan->ncalls = 1;
            plan->calls = calloc(1, sizeof *plan->calls);
            if (!plan->calls)
                return -1;
            plan->calls[0].id = json_null();
            plan->calls[0].reply = rpc_error_reply(NULL, RPC_INVALID_REQUEST, "invalid request: empty batch");
            return 0;
        }
        plan->calls = calloc(plan->ncalls, sizeof *plan->calls);
        if (!plan->calls)
            return -1;
        for (size_t i = 0; i < plan->ncalls; i++)
            rpc_plan_call(plan, &plan->calls[i], json_array_get(plan->doc, i));
    } else {
        plan->ncalls = 1;
        plan->calls = calloc(1, sizeof *plan->calls);
        if (!plan->calls)
            return -1;
        rpc_plan_call(plan, &plan->calls[0], plan->doc);
    }
    return 0;
}

/* Runs one method inside the transaction the contract promises: a write is
 * all or nothing; a read sees one snapshot. */
static void rpc_run_call(rpc_call *c, method_ctx *ctx)
{
    rpc_error err = {0, "", NULL};
    json_t *result = NULL;
    const method_def *m = c->method;
    unsigned flags = c->flags;
    sqlite3 *db = ctx->store ? graph_store_db(ctx->store) : NULL;
    bool own_tx = db && !ctx->in_transaction;
    int rc;

    if ((flags & METHOD_WRITE) && !ctx->may_write) {
        log_warn("permission denied: %s may not write (method %s)", ctx->peer ? ctx->peer : "peer", m->name);
        rc = rpc_fail(&err, RPC_PERMISSION_DENIED,
                      "%s: permission denied: uid %lu may not write (see write_uids/write_gids in the config)",
                      m->name, ctx->peer_uid);
    } else if ((flags & METHOD_STORE) && !ctx->store) {
        rc = rpc_fail(&err, RPC_INTERNAL_ERROR, "%s: no store connection", m->name);
    } else {
        gs_error gerr;
        gs_status st = GS_OK;
        if (own_tx) {
            if (flags & METHOD_WRITE)
                st = graph_store_begin(ctx->store, &gerr);
            else
                st = graph_store_read_begin(ctx->store, &gerr);   /* cached statement, no re-parse */
        }
        if (st != GS_OK) {
            rc = rpc_fail_store(&err, st, m->name, &gerr);
            own_tx = false;
        } else {
            json_t *params = c->params ? json_incref(c->params) : json_object();
            ctx->raw_result = NULL;
            rc = m->fn(ctx, params, &result, &err);
            json_decref(params);
            if (rc == 0 && ctx->raw_result) {
                c->raw_result = ctx->raw_result;
                ctx->raw_result = NULL;
            } else {
                free(ctx->raw_result);
                ctx->raw_result = NULL;
            }
        }
        if (own_tx) {
            if (rc == 0 && (flags & METHOD_WRITE)) {
                st = graph_store_commit(ctx->store, &gerr);
                if (st != GS_OK) {
                    graph_store_rollback(ctx->store);
                    json_decref(result);
                    result = NULL;
                    free(c->raw_result);
                    c->raw_result = NULL;
                    rc = rpc_fail_store(&err, st, m->name, &gerr);
                }
            } else if (flags & METHOD_WRITE) {
                graph_store_rollback(ctx->store);
            } else {
                graph_store_read_end(ctx->store);
            }
        }
    }
    if (rc == METHOD_DECLINED) {   /* not here (METHOD_LOOP): no reply; it runs again elsewhere */
        json_decref(result);
        json_decref(err.data);
        ctx->declined = true;
        return;
    }
    if (!c->id) { /* a notification: run, answer nothing; keep an error for rpc_plan_failed() */
        json_decref(result);
        if (rc != 0)
            c->reply = rpc_error_reply(NULL, err.code, err.message);
        json_decref(err.data);
        return;
    }
    if (rc == 0 && !result)
        result = json_object();
    c->reply = rc == 0 ? rpc_result_reply(c->id, result) : rpc_error_reply(c->id, err.code, err.message);
    if (rc != 0) {
        json_decref(result);
        /* a method's extra error members join data, next to "kind" */
        if (err.data && c->reply)
            json_object_update(json_object_get(json_object_get(c->reply, "error"), "data"), err.data);
    }
    json_decref(err.data);
}

/* True if the call ran and succeeded (a notification's success leaves no reply). */
static bool rpc_call_ok(const rpc_call *c)
{
    return !c->reply || !json_object_get(c->reply, "error");
}

/* Makes the call's reply the store error st: a group's savepoint could not
 * open, or a succeeded call's writes were lost with the group's commit. */
static void rpc_call_store_error(rpc_call *c, gs_status st, const gs_error *gerr)
{
    rpc_error err = {0, "", NULL};
    rpc_fail_store(&err, st, c->method->name, gerr);
    json_decref(c->reply);
    free(c->raw_result);
    c->raw_result = NULL;
    c->reply = rpc_error_reply(c->id, err.code, err.message);
    json_decref(err.data);
}

/* One call of a group: in a savepoint of the group's transaction, kept if the
 * call succeeded and undone if it failed. */
static void rpc_run_grouped(rpc_call *c, method_ctx *ctx)
{
    gs_error gerr;
    gs_status st = graph_store_savepoint(ctx->store, &gerr);
    c->grouped = true;
    if (st != GS_OK) {
        rpc_call_store_error(c, st, &gerr);
        return;
    }
    ctx->in_transaction = true;
    rpc_run_call(c, ctx);
    ctx->in_transaction = false;
    bool ok = rpc_call_ok(c);
    st = graph_store_savepoint_end(ctx->store, ok, &gerr);
    if (ok && st != GS_OK)
        rpc_call_store_error(c, st, &gerr);
}

/* Commits a group (calls [first, end) of the plan); if that fails, every call
 * of it that had succeeded gets the error: nothing of them is stored. */
static void rpc_group_commit(rpc_plan *plan, size_t first, size_t end, method_ctx *ctx)
{
    gs_error gerr;
    gs_status st = graph_store_commit(ctx->store, &gerr);
    if (st == GS_OK)
        return;
    graph_store_rollback(ctx->store);
    for (size_t i = first; i < end; i++)
        if (plan->calls[i].grouped && rpc_call_ok(&plan->calls[i]))
            rpc_call_store_error(&plan->calls[i], st, &gerr);
}

/* Why groups: a commit (WAL frames, FTS5's segment, the adjacency index's
 * update, a checkpoint now and then) was 80% of a node.put's cost in a batch
 * of 500 (perf, 200,000-model socket load); a batch now pays one per run of
 * METHOD_GROUP calls. Any other call ends the group first, so it sees the
 * group's writes committed, as before. */
void rpc_plan_run(rpc_plan *plan, method_ctx *ctx)
{
    bool open = false;
    size_t first = 0;
    ctx->declined = false;
    for (size_t i = plan->next; i < plan->ncalls; i++) {
        rpc_call *c = &plan->calls[i];
        if (c->reply || !c->method)
            continue;
        bool group = plan->ncalls > 1 && (c->flags & METHOD_GROUP) && ctx->store && ctx->may_write &&
                     (open || !ctx->in_transaction);
        if (!group && open) {
            rpc_group_commit(plan, first, i, ctx);
            open = false;
        }
        if (group && !open) {
            gs_error gerr;
            open = graph_store_begin(ctx->store, &gerr) == GS_OK;
            first = i;
        }
        if (open)
            rpc_run_grouped(c, ctx);
        else
            rpc_run_call(c, ctx);
        if (ctx->declined) {   /* a read on the loop outgrew its bound: the rest runs on a worker */
            if (open)          /* (never: writes do not run on the loop) */
                rpc_group_commit(plan, first, i, ctx);
            plan->next = i;
            return;
        }
    }
    plan->next = plan->ncalls;
    if (open)
        rpc_group_commit(plan, first, plan->ncalls, ctx);
}

/* The one place a reply line around raw result text is assembled (here and
 * by the fast path, core/rpc_fast.c). The member order matches what jansson
 * writes for ordinary replies. */
char *rpc_result_line(const char *id, size_t idn, const char *result, size_t rn, size_t *len)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":", mid[] = ",\"result\":";
    size_t n = sizeof head - 1 + idn + sizeof mid - 1 + rn + 2;
    char *line = malloc(n + 1);
    if (line) {
        char *p = line;
        memcpy(p, head, sizeof head - 1), p += sizeof head - 1;
        memcpy(p, id, idn), p += idn;
        memcpy(p, mid, sizeof mid - 1), p += sizeof mid - 1;
        memcpy(p, result, rn), p += rn;
        memcpy(p, "}\n", 3);
        *len = n;
    }
    return line;
}

/* Serialises a reply whose result is raw text: {"jsonrpc":"2.0","id":ID,"result":RAW}. */
static char *rpc_raw_reply(rpc_call *c, size_t *len)
{
    char num[24], *id = num;
    if (json_is_integer(c->id))   /* the usual id: no json_dumps round trip */
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(c->id));
    else if (!(id = json_dumps(c->id, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))))
        return NULL;
    char *line = rpc_result_line(id, strlen(id), c->raw_result, strlen(c->raw_result), len);
    if (id != num)
        free(id);
    return line;
}

char *rpc_plan_reply(rpc_plan *plan, size_t *len)
{
    json_t *out = NULL;
    if (!plan->batch && plan->ncalls == 1 && plan->calls[0].id && plan->calls[0].raw_result)
        return rpc_raw_reply(&plan->calls[0], len);
    /* In a batch a raw result is parsed back (NaN and infinities become null there). */
    for (size_t i = 0; i < plan->ncalls; i++) {
        rpc_call *c = &plan->calls[i];
        if (c->raw_result && c->reply) {
            json_t *v = json_loads(c->raw_result, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            json_object_set_new(c->reply, "result", v ? v : json_null());
        }
    }
    if (plan->batch) {
        out = json_array();
        for (size_t i = 0; i < plan->ncalls; i++)
            if (plan->calls[i].id && plan->calls[i].reply)
                json_array_append(out, plan->calls[i].reply);
        if (json_array_size(out) == 0) {
            json_decref(out);
            return NULL;
        }
    } else if (plan->ncalls == 1 && plan->calls[0].id && plan->calls[0].reply) {
        out = json_incref(plan->calls[0].reply);
    } else {
        return NULL;
    }
    char *line = rpc_dump_line(out, len);
    json_decref(out);
    if (!line)
        line = rpc_error_line(RPC_INTERNAL_ERROR, "out of memory while encoding the reply", len);
    return line;
}

bool rpc_plan_failed(const rpc_plan *plan, rpc_error *first)
{
    for (size_t i = 0; i < plan->ncalls; i++) {
        json_t *e = plan->calls[i].reply ? json_object_get(plan->calls[i].reply, "error") : NULL;
        if (e) {
            first->code = (int)json_integer_value(json_object_get(e, "code"));
            snprintf(first->message, sizeof first->message, "%s",
                     json_string_value(json_object_get(e, "message")));
            return true;
        }
        if (!plan->calls[i].method && !plan->calls[i].reply) {
            first->code = RPC_METHOD_NOT_FOUND;
            snprintf(first->message, sizeof first->message, "method not found");
            return true;
        }
    }
    return false;
}

void rpc_plan_free(rpc_plan *plan)
{
    for (size_t i = 0; plan->calls && i < plan->ncalls; i++) {
        json_decref(plan->calls[i].reply);
        free(plan->calls[i].raw_result);
    }
    free(plan->calls);
    json_decref(plan->doc);
    memset(plan, 0, sizeof *plan);
}
