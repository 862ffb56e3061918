/*
 * core/rpc_fast.c - the loop's fast path for the two commonest request lines,
 * a plain ping and node.get by name: recognised and answered without jansson,
 * without a plan and without a job. Anything not exactly of the forms in
 * rpc.h is left to the general path (rpc.c), which then answers it as always;
 * so is any node.get the store cannot answer at once (an error, a miss).
 *
 * Invariant: every line these functions accept gets, byte for byte, the reply
 * the general path would give it (tests/unit/test_rpc_fastpath.c checks it
 * line by line; tests/integration/test_daemon_fastpath.py through a daemon).
 */
#include "rpc.h"
#include "lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Skips JSON whitespace. */
static const char *fp_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Matches the literal s at p; the position after it, or NULL. */
static const char *fp_lit(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(end - p) >= n && memcmp(p, s, n) == 0 ? p + n : NULL;
}

/* A member's ':' (JSON whitespace around it) after its key at p; the position
 * of the value, or NULL. */
static const char *fp_colon(const char *p, const char *end)
{
    p = fp_ws(p, end);
    return p < end && *p == ':' ? fp_ws(p + 1, end) : NULL;
}

/* An id the reply can repeat byte for byte: null, an integer without leading
 * zeros (not -0) of at most 18 digits (so it fits jansson's integer), or a
 * string of printable ASCII without '"' or '\\' (what jansson would write back
 * unchanged). The position after it, or NULL. */
static const char *fp_id(const char *p, const char *end)
{
    if (*p == 'n')
        return fp_lit(p, end, "null");
    if (*p == '"') {
        const char *q = p + 1;
        while (q < end && *q != '"') {
            if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
                return NULL;
            q++;
        }
        return q < end ? q + 1 : NULL;
    }
    const char *q = p;
    if (q < end && *q == '-')
        q++;
    const char *d = q;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    size_t nd = (size_t)(q - d);
    if (nd == 0 || nd > 18 || (nd > 1 && *d == '0') || (nd == 1 && *d == '0' && d != p))
        return NULL;
    return q;   /* a '.', 'e' or anything else after the digits fails at the next token */
}

/* A JSON string without escapes, of valid UTF-8 (what jansson accepts) and at
 * most RPC_FAST_MAX_STR bytes, copied NUL-terminated into out. The position
 * after it, or NULL (the general path decodes everything else: escapes, and
 * refuses control characters and invalid UTF-8). */
static const char *fp_str(const char *p, const char *end, char *out)
{
    if (p >= end || *p != '"')
        return NULL;
    const char *q = ++p;
    bool ascii = true;
    while (q < end && *q != '"') {
        if ((unsigned char)*q < 0x20 || *q == '\\')
            return NULL;
        ascii &= (unsigned char)*q < 0x80;
        q++;
    }
    size_t n = (size_t)(q - p);
    if (q >= end || n > RPC_FAST_MAX_STR || (!ascii && !graph_utf8_valid(p, n)))
        return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return q + 1;
}

/* node.get's params: {"name":S} or {"label":L,"name":S} in either order. The
 * position after the closing brace, or NULL. */
static const char *fp_get_params(const char *p, const char *end, rpc_fast_call *fc)
{
    bool have_name = false;
    if (p >= end || *p++ != '{')
        return NULL;
    for (int k = 0; k < 2; k++) {
        const char *q;
        char *dst;
        p = fp_ws(p, end);
        if ((q = fp_lit(p, end, "\"name\"")) && !have_name) {
            dst = fc->name;
            have_name = true;
        } else if ((q = fp_lit(p, end, "\"label\"")) && !fc->has_label) {
            dst = fc->label;
            fc->has_label = true;
        } else {
            return NULL;
        }
        if (!(p = fp_colon(q, end)) || !(p = fp_str(p, end, dst)))
            return NULL;
        p = fp_ws(p, end);
        if (p < end && *p == '}' && have_name)
            return p + 1;
        if (p >= end || *p++ != ',')
            return NULL;
    }
    return NULL;
}

bool rpc_fast_parse(const char *line, size_t len, rpc_fast_call *fc)
{
    const char *p = line, *end = line + len, *id_end = NULL;
    bool have_ver = false, have_params = false;
    fc->method = 0;   /* not the buffers: a ping never reads them */
    fc->id = NULL;
    fc->id_len = 0;
    fc->has_label = false;
    fc->label[0] = fc->name[0] = '\0';
    p = fp_ws(p, end);
    if (p >= end || *p++ != '{')
        return false;
    for (int k = 0; k < 4; k++) {
        p = fp_ws(p, end);
        const char *q;
        if ((q = fp_lit(p, end, "\"jsonrpc\"")) && !have_ver) {
            if (!(p = fp_colon(q, end)) || !(p = fp_lit(p, end, "\"2.0\"")))
                return false;
            have_ver = true;
        } else if ((q = fp_lit(p, end, "\"method\"")) && !fc->method) {
            if (!(p = fp_colon(q, end)))
                return false;
            if ((q = fp_lit(p, end, "\"ping\"")))
                fc->method = RPC_FAST_PING;
            else if ((q = fp_lit(p, end, "\"node.get\"")))
                fc->method = RPC_FAST_NODE_GET;
            else
                return false;
            p = q;
        } else if ((q = fp_lit(p, end, "\"id\"")) && !fc->id) {
            if (!(p = fp_colon(q, end)) || p >= end || !(id_end = fp_id(p, end)))
                return false;
            fc->id = p;
            fc->id_len = (size_t)(id_end - p);
            p = id_end;
        } else if ((q = fp_lit(p, end, "\"params\"")) && !have_params) {
            if (!(p = fp_colon(q, end)) || !(p = fp_get_params(p, end, fc)))
                return false;
            have_params = true;
        } else {
            return false;
        }
        p = fp_ws(p, end);
        if (p < end && *p == '}')
            break;
        if (p >= end || *p++ != ',')
            return false;
    }
    if (p >= end || *p++ != '}' || fp_ws(p, end) != end || !have_ver || !fc->id)
        return false;
    /* ping takes no params here (the general path answers ping with params);
     * node.get needs them. */
    return fc->method == RPC_FAST_PING ? !have_params : fc->method == RPC_FAST_NODE_GET && have_params;
}

/* Why: a ping is most of what a health-checking client sends; parsing it with
 * jansson, planning it and building the reply through the general path costs
 * more than the round trip itself. */
char *rpc_fast_ping_reply(const rpc_fast_call *fc, size_t *out_len)
{
    char result[160];
    size_t rn = method_ping_text(result, sizeof result);
    return rn ? rpc_result_line(fc->id, fc->id_len, result, rn, out_len) : NULL;
}

/* The lookup m_node_get (methods.c) makes for params {"label","name"} /
 * {"name"} and nothing else: graph_node_find, then graph_node_text, in the
 * caller's read transaction. */
char *rpc_fast_node_get(graph_store *st, const rpc_fast_call *fc, size_t *out_len)
{
    gs_error gerr;
    int64_t id;
    char *text = NULL, *reply = NULL;
    size_t tn = 0;
    if (graph_node_find(st, fc->has_label ? fc->label : NULL, fc->name, &id, &gerr) == GS_OK &&
        graph_node_text(st, id, &text, &tn, &gerr) == GS_OK)
        reply = rpc_result_line(fc->id, fc->id_len, text, tn, out_len);
    free(text);
    return reply;
}
