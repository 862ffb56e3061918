/* Unit tests for the loop's fast path (core/rpc_fast.c), its shortcut for a
 * plain ping and for node.get by name: for every line it accepts, its reply
 * must be byte for byte the reply of the general path (rpc_plan_line +
 * rpc_plan_run + rpc_plan_reply), and it must refuse (NULL) every line it
 * cannot answer exactly, which the general path then answers. uptime_ms may
 * differ between two calls, so it is normalised to 0 before comparing. */
#include "store_fixture.h"

#include "rpc.h"

/* The fast path's answer to a ping line, or NULL when it leaves it to the general path. */
static char *rpc_fast_ping(const char *line, size_t n, size_t *len)
{
    rpc_fast_call fc;
    if (!rpc_fast_parse(line, n, &fc) || fc.method != RPC_FAST_PING)
        return NULL;
    return rpc_fast_ping_reply(&fc, len);
}

/* Replaces the digits after "uptime_ms": with a single 0 (in place). */
static void zero_uptime(char *s, size_t *len)
{
    char *p = strstr(s, "\"uptime_ms\":");
    if (!p)
        return;
    p += strlen("\"uptime_ms\":");
    char *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p)
        return;
    *p = '0';
    memmove(p + 1, q, strlen(q) + 1);
    *len = strlen(s);
}

/* The general path's reply to line (NULL when it sends nothing). */
static char *general_reply(const char *line, size_t n, size_t *len)
{
    rpc_plan plan;
    method_ctx ctx = {0};
    assert_int_equal(rpc_plan_line(&plan, line, n), 0);
    if (!(plan.needs & METHOD_STORE))
        rpc_plan_run(&plan, &ctx);
    char *out = rpc_plan_reply(&plan, len);
    rpc_plan_free(&plan);
    if (out)
        zero_uptime(out, len);
    return out;
}

/* The fast path must answer line, exactly as the general path does. */
static void expect_fast(const char *line)
{
    size_t flen = 0, glen = 0, n = strlen(line);
    char *fast = rpc_fast_ping(line, n, &flen);
    if (!fast)
        fail_msg("fast path refused %s", line);
    assert_int_equal(fast[flen - 1], '\n');
    assert_int_equal(strlen(fast), flen);
    zero_uptime(fast, &flen);
    char *gen = general_reply(line, n, &glen);
    assert_non_null(gen);
    if (flen != glen || memcmp(fast, gen, flen) != 0)
        fail_msg("line %s\n fast:    %s general: %s", line, fast, gen);
    free(fast);
    free(gen);
}

/* The fast path must leave line to the general path. */
static void expect_general(const char *line, size_t n)
{
    size_t flen = 0;
    char *fast = rpc_fast_ping(line, n, &flen);
    if (fast) {
        fail_msg("fast path answered %.*s with %s", (int)n, line, fast);
        free(fast);
    }
}

#define GENERAL(s) expect_general(s, sizeof(s) - 1)

static void plain_pings_match_the_general_path(void **st)
{
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":-5,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":123456789012345678,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":-123456789012345678,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"a/b c~{}[]:,'!\",\"method\":\"ping\"}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"ping\"}");
}

static void whitespace_and_member_order(void **st)
{
    expect_fast("  { \"jsonrpc\" : \"2.0\" , \"id\" : 7 , \"method\" : \"ping\" }  ");
    expect_fast("\t{\"jsonrpc\":\t\"2.0\",\r\n\"id\":7,\"method\":\"ping\"}\r");
    expect_fast("{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
    expect_fast("{\"id\":7,\"method\":\"ping\",\"jsonrpc\":\"2.0\"}");
    expect_fast("{\"method\":\"ping\",\"id\":\"x\",\"jsonrpc\":\"2.0\"}");
    expect_fast("{\"method\":\"ping\",\"jsonrpc\":\"2.0\",\"id\":null}");
    expect_fast("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":-1}");
}

/* Ids the fast path cannot repeat byte for byte: jansson rewrites them (or rejects them). */
static void odd_ids_go_the_general_path(void **st)
{
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1234567890123456789,\"method\":\"ping\"}");   /* 19 digits */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,\"method\":\"ping\"}");  /* overflow */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":+1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":-,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":nul,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":nullx,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\\\\b\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\\u00e9\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\\/\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\xa9\",\"method\":\"ping\"}");          /* UTF-8 é */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"ping\"}");              /* invalid UTF-8 */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\tb\",\"method\":\"ping\"}");              /* raw control char */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\x7f\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"a\0b\",\"method\":\"ping\"}");               /* raw NUL */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":\"unterminated,\"method\":\"ping\"}");
}

static void anything_else_goes_the_general_path(void **st)
{
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pinG\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping \"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\\u0069ng\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{}}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":1}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");                          /* notification */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}");        /* duplicate */
    GENERAL("{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}x");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"");
    GENERAL("{\"jsonrpc\":\"2.0\" \"id\":1,\"method\":\"ping\"}");
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\" 1,\"method\":\"ping\"}");
    GENERAL("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");               /* batch */
    GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\0");
    GENERAL("\0{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    GENERAL("\f{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");               /* not JSON whitespace */
    GENERAL("");
    GENERAL("{");
    GENERAL("{}");
}

/* Every prefix of a good line is refused, and reading never runs past len. */
static void prefixes_are_refused(void **st)
{
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}";
    size_t n = strlen(line);
    for (size_t k = 0; k < n; k++) {
        char *copy = malloc(k ? k : 1);   /* exactly k bytes: ASan catches a read past them */
        assert_non_null(copy);
        memcpy(copy, line, k);
        expect_general(copy, k);
        free(copy);
    }
}

/* ---- node.get ---- */

/* The general path's reply to line on store s (its own read transaction). */
static char *general_store_reply(graph_store *s, const char *line, size_t n, size_t *len)
{
    rpc_plan plan;
    method_ctx ctx = {0};
    ctx.store = s;
    assert_int_equal(rpc_plan_line(&plan, line, n), 0);
    rpc_plan_run(&plan, &ctx);
    char *out = rpc_plan_reply(&plan, len);
    rpc_plan_free(&plan);
    return out;
}

/* The fast path's reply to line on store s, or NULL where it leaves the line
 * to the general path; *parsed says whether the line had the fast form. */
static char *fast_store_reply(graph_store *s, const char *line, size_t n, size_t *len, bool *parsed)
{
    rpc_fast_call fc;
    gs_error err;
    *parsed = rpc_fast_parse(line, n, &fc) && fc.method == RPC_FAST_NODE_GET;
    if (!*parsed)
        return NULL;
    assert_int_equal(graph_store_read_begin(s, &err), GS_OK);
    char *out = rpc_fast_node_get(s, &fc, len);
    graph_store_read_end(s);
    return out;
}

/* Nodes for the lookups: one label or two, an alias, props of every JSON kind,
 * a name two labels share, a non-ASCII name. */
static int get_setup(void **state)
{
    if (fixture_open(state, NULL))
        return -1;
    graph_store *s = ((fixture *)*state)->s;
    gs_error err;
    int64_t id;
    bool created;
    const char *model[] = {"Model"}, *two[] = {"Model", "Paper"}, *tech[] = {"Technique"};
    json_t *p1 = json_pack("{s:i,s:f,s:s,s:b,s:n,s:[i,s],s:{s:s}}", "params_b", 671, "ratio", 0.5, "note",
                           "a \"quoted\" \\ text \xe6\xb3\xa8", "open", 1, "gone", "list", 1, "x", "obj", "k", "v");
    json_t *al = json_pack("[s]", "R1");
    assert_int_equal(graph_node_put(s, model, 1, "DeepSeek-R1", p1, al, &id, &created, &err), GS_OK);
    assert_int_equal(graph_node_put(s, two, 2, "deepseek-ai/DeepSeek-V3 (base)", NULL, NULL, &id, &created, &err), GS_OK);
    assert_int_equal(graph_node_put(s, model, 1, "Twin", NULL, NULL, &id, &created, &err), GS_OK);
    assert_int_equal(graph_node_put(s, tech, 1, "Twin", NULL, NULL, &id, &created, &err), GS_OK);
    assert_int_equal(graph_node_put(s, tech, 1, "\xe6\xb7\xb1\xe5\xba\xa6", NULL, NULL, &id, &created, &err), GS_OK);
    json_decref(p1);
    json_decref(al);
    return 0;
}

/* The fast path answers line, byte for byte as the general path does. */
static void expect_fast_get(graph_store *s, const char *line)
{
    size_t flen = 0, glen = 0, n = strlen(line);
    bool parsed;
    char *fast = fast_store_reply(s, line, n, &flen, &parsed);
    if (!fast)
        fail_msg("fast path refused %s (%s)", line, parsed ? "by the store" : "by the parser");
    char *gen = general_store_reply(s, line, n, &glen);
    assert_non_null(gen);
    if (flen != glen || memcmp(fast, gen, flen) != 0)
        fail_msg("line %s\n fast:    %s general: %s", line, fast, gen);
    assert_non_null(strstr(gen, "\"result\":{\"$node\":"));
    free(fast);
    free(gen);
}

/* The line has the fast form but the store does not answer it there: the
 * general path's reply is then an error with this code. */
static void expect_store_refusal(graph_store *s, const char *line, int code)
{
    size_t flen = 0, glen = 0, n = strlen(line);
    bool parsed;
    char *fast = fast_store_reply(s, line, n, &flen, &parsed);
    if (!parsed || fast)
        fail_msg("%s: %s", line, parsed ? fast : "not parsed");
    char *gen = general_store_reply(s, line, n, &glen);
    char want[64];
    snprintf(want, sizeof want, "\"code\":%d,", code);
    if (!gen || !strstr(gen, want))
        fail_msg("line %s: general reply %s, wanted code %d", line, gen ? gen : "(none)", code);
    free(gen);
}

/* The parser leaves the line to the general path. */
static void expect_get_general(const char *line, size_t n)
{
    rpc_fast_call fc;
    if (rpc_fast_parse(line, n, &fc))
        fail_msg("fast path parsed %.*s", (int)n, line);
}

#define GET(params) "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"node.get\",\"params\":" params "}"
#define GET_GENERAL(s) expect_get_general(s, sizeof(s) - 1)

/* A line jansson refuses (the general path answers -32700): the fast path must not parse it. */
static void expect_invalid(const char *line, size_t n)
{
    expect_get_general(line, n);
    size_t len = 0;
    char *gen = general_reply(line, n, &len);
    if (!gen || !strstr(gen, "\"code\":-32700,"))
        fail_msg("%.*s: general reply %s, wanted a parse error", (int)n, line, gen ? gen : "(none)");
    free(gen);
}
#define GET_INVALID(s) expect_invalid(s, sizeof(s) - 1)

static void node_gets_match_the_general_path(void **state)
{
    graph_store *s = ((fixture *)*state)->s;
    expect_fast_get(s, GET("{\"label\":\"Model\",\"name\":\"DeepSeek-R1\"}"));
    expect_fast_get(s, GET("{\"name\":\"DeepSeek-R1\"}"));
    expect_fast_get(s, GET("{\"name\":\"deepseek-r1\"}"));                 /* the name key ignores case */
    expect_fast_get(s, GET("{\"name\":\"R1\"}"));                          /* an alias */
    expect_fast_get(s, GET("{\"name\":\"DeepSeek-R1\",\"label\":\"Model\"}"));
    expect_fast_get(s, GET(" { \"name\" :\t\"DeepSeek-R1\" , \"label\" : \"Model\" } "));
    expect_fast_get(s, GET("{\"label\":\"Paper\",\"name\":\"deepseek-ai/DeepSeek-V3 (base)\"}"));
    expect_fast_get(s, GET("{\"label\":\"Technique\",\"name\":\"Twin\"}"));
    expect_fast_get(s, "{\"params\":{\"name\":\"R1\"},\"method\":\"node.get\",\"id\":\"q/1\",\"jsonrpc\":\"2.0\"}");
    expect_fast_get(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"node.get\",\"params\":{\"name\":\"R1\"}}");
    expect_fast_get(s, "{\"jsonrpc\":\"2.0\",\"id\":-123456789012345678,\"method\":\"node.get\",\"params\":{\"name\":\"R1\"}}\r");
    expect_fast_get(s, GET("{\"name\":\"\xe6\xb7\xb1\xe5\xba\xa6\"}"));                    /* UTF-8, as it is */
    expect_fast_get(s, GET("{\"label\":\"Technique\",\"name\":\"\xe6\xb7\xb1\xe5\xba\xa6\"}"));
}

static void misses_and_errors_go_the_general_path(void **state)
{
    graph_store *s = ((fixture *)*state)->s;
    expect_store_refusal(s, GET("{\"name\":\"nope\"}"), -32001);
    expect_store_refusal(s, GET("{\"label\":\"Paper\",\"name\":\"DeepSeek-R1\"}"), -32001);
    expect_store_refusal(s, GET("{\"name\":\"Twin\"}"), -32002);            /* ambiguous */
    expect_store_refusal(s, GET("{\"name\":\"\"}"), -32602);
    expect_store_refusal(s, GET("{\"name\":\"   \"}"), -32602);
    expect_store_refusal(s, GET("{\"label\":\"\",\"name\":\"R1\"}"), -32602);
    expect_store_refusal(s, GET("{\"name\":\"R1\x7f\"}"), -32001);                 /* DEL is JSON text */
    expect_store_refusal(s, GET("{\"name\":\"\xf0\x9f\x98\x80 \xe6\xb3\xa8\"}"), -32001);
}

static void other_node_get_lines_are_not_parsed(void **state)
{
    GET_GENERAL(GET("{\"name\":\"R1\",\"relationships\":true}"));
    GET_GENERAL(GET("{\"name\":\"R1\",\"claims\":false}"));
    GET_GENERAL(GET("{\"name\":\"R1\",\"name\":\"R1\"}"));
    GET_GENERAL(GET("{\"label\":\"Model\",\"label\":\"Model\"}"));
    GET_GENERAL(GET("{\"label\":\"Model\"}"));
    GET_GENERAL(GET("{\"id\":1}"));
    GET_GENERAL(GET("{}"));
    GET_GENERAL(GET("[\"R1\"]"));
    GET_GENERAL(GET("null"));
    GET_GENERAL(GET("{\"name\":null}"));
    GET_GENERAL(GET("{\"name\":\"R1\",\"label\":null}"));
    GET_GENERAL(GET("{\"name\":7}"));
    GET_GENERAL(GET("{\"name\":\"R\\u0031\"}"));                             /* an escape */
    /* invalid UTF-8, which jansson refuses: overlong, a surrogate, past U+10FFFF, cut short,
     * a lone continuation byte, a byte UTF-8 never uses */
    GET_INVALID(GET("{\"name\":\"\xc0\x80\"}"));
    GET_INVALID(GET("{\"name\":\"\xe0\x80\xaf\"}"));
    GET_INVALID(GET("{\"name\":\"\xed\xa0\x80\"}"));
    GET_INVALID(GET("{\"name\":\"\xf4\x90\x80\x80\"}"));
    GET_INVALID(GET("{\"name\":\"\xe6\xb7\"}"));
    GET_INVALID(GET("{\"name\":\"a\x80\"}"));
    GET_INVALID(GET("{\"label\":\"\xff\",\"name\":\"R1\"}"));
    GET_GENERAL(GET("{\"name\":\"a\tb\"}"));
    GET_GENERAL(GET("{\"name\":\"R1\",}"));
    GET_GENERAL(GET("{\"name\":\"R1\""));
    GET_GENERAL("{\"jsonrpc\":\"2.0\",\"method\":\"node.get\",\"params\":{\"name\":\"R1\"}}");   /* notification */
    GET_GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node.get\"}");
    GET_GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node.get\",\"params\":{\"name\":\"R1\"},\"params\":{\"name\":\"R1\"}}");
    GET_GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node.gets\",\"params\":{\"name\":\"R1\"}}");
    GET_GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"name\":\"R1\"}}");
    GET_GENERAL("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node.get\",\"params\":{\"name\":\"R1\"},\"x\":1}");
    /* the longest name the fast path copies, and one byte more */
    char line[600], name[RPC_FAST_MAX_STR + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    int n = snprintf(line, sizeof line, GET("{\"name\":\"%s\"}"), name);
    expect_get_general(line, (size_t)n);
    name[RPC_FAST_MAX_STR] = '\0';
    n = snprintf(line, sizeof line, GET("{\"name\":\"%s\"}"), name);
    rpc_fast_call fc;
    assert_true(rpc_fast_parse(line, (size_t)n, &fc));
    assert_int_equal(strlen(fc.name), RPC_FAST_MAX_STR);
    /* every prefix of a good line is refused, reading never past its end */
    const char *good = GET("{\"label\":\"Model\",\"name\":\"R1\"}");
    for (size_t k = 0; k < strlen(good); k++) {
        char *copy = malloc(k ? k : 1);
        assert_non_null(copy);
        memcpy(copy, good, k);
        expect_get_general(copy, k);
        free(copy);
    }
}

/* ---- mutated lines ---- */

#define MUTATIONS 100000

/* Seeds for the mutations: every form the fast path takes, and near misses. */
static const char *const seeds[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
    "{\"id\":\"a b\",\"method\":\"ping\",\"jsonrpc\":\"2.0\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"node.get\",\"params\":{\"label\":\"Model\",\"name\":\"DeepSeek-R1\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"node.get\",\"params\":{\"name\":\"R1\"}}",
    "{ \"params\" : { \"name\" : \"\xe6\xb7\xb1\xe5\xba\xa6\" } , \"method\" : \"node.get\" , \"jsonrpc\" : \"2.0\" , \"id\" : -7 }",
    "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"node.get\",\"params\":{\"name\":\"Twin\",\"label\":\"Technique\"}}",
};

/* Bytes a mutation writes: JSON's structure, escapes, digits, UTF-8 lead and
 * continuation bytes, controls, NUL. */
static const char alphabet[] = "\"\\:,{}[] \t\r\nanulrtue0-1.9+E\x7f\x80\xbf\xc3\xa9\xe6\xed\xf4\xff\x01";

/* One line edited 1 to 3 times at random (replace, insert, delete, or repeat a
 * span), into out (NUL-terminated; its length in *n). */
static void mutate(uint64_t *rng, const char *seed, char *out, size_t cap, size_t *n)
{
    size_t len = strlen(seed);
    memcpy(out, seed, len);
    int edits = 1 + (int)(*rng % 3);
    for (int e = 0; e < edits; e++) {
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        size_t at = len ? (size_t)(*rng >> 8) % len : 0;
        char c = alphabet[(*rng >> 40) % (sizeof alphabet - 1)];
        switch (*rng % 4) {
        case 0:
            if (len) out[at] = c;
            break;
        case 1:
            if (len + 1 < cap) {
                memmove(out + at + 1, out + at, len - at);
                out[at] = c;
                len++;
            }
            break;
        case 2:
            if (len) {
                memmove(out + at, out + at + 1, len - at - 1);
                len--;
            }
            break;
        default: {
            size_t span = 1 + (size_t)(*rng >> 20) % 12;
            if (at + span <= len && len + span < cap) {
                memmove(out + at + span, out + at, len - at);
                len += span;
            }
        }
        }
    }
    out[len] = '\0';
    *n = len;
}

/* Why: the invariant of rpc_fast.c (a line it answers gets the general path's
 * bytes) over lines nobody wrote by hand. Each mutated line the parser takes
 * is answered by both paths; a node.get the fast path leaves to the store's
 * refusal must get an error from the general path. */
static void mutated_lines_keep_the_invariant(void **state)
{
    graph_store *s = ((fixture *)*state)->s;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    size_t parsed = 0, answered = 0;
    for (int i = 0; i < MUTATIONS; i++) {
        char line[512];
        size_t n, flen = 0, glen = 0;
        mutate(&rng, seeds[i % (sizeof seeds / sizeof seeds[0])], line, sizeof line, &n);
        rpc_fast_call fc;
        if (!rpc_fast_parse(line, n, &fc))
            continue;
        parsed++;
        char *fast, *gen;
        if (fc.method == RPC_FAST_PING) {
            fast = rpc_fast_ping_reply(&fc, &flen);
            gen = general_reply(line, n, &glen);
            assert_non_null(fast);
            zero_uptime(fast, &flen);
        } else {
            bool p;
            fast = fast_store_reply(s, line, n, &flen, &p);
            gen = general_store_reply(s, line, n, &glen);
        }
        if (!gen)
            fail_msg("parsed %s, but the general path sends nothing", line);
        if (fast) {
            answered++;
            if (flen != glen || memcmp(fast, gen, flen) != 0)
                fail_msg("line %s\n fast:    %s general: %s", line, fast, gen);
        } else if (!strstr(gen, "\"error\":")) {
            fail_msg("line %s: the fast path refused it, the general path found %s", line, gen);
        }
        free(fast);
        free(gen);
    }
    /* the mutations must reach the fast path, not only its refusals */
    print_message("mutated lines: %zu parsed, %zu answered on the fast path, of %d\n", parsed, answered, MUTATIONS);
    assert_true(parsed > 2000 && answered > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_pings_match_the_general_path),
        cmocka_unit_test(whitespace_and_member_order),
        cmocka_unit_test(odd_ids_go_the_general_path),
        cmocka_unit_test(anything_else_goes_the_general_path),
        cmocka_unit_test(prefixes_are_refused),
        cmocka_unit_test_setup_teardown(node_gets_match_the_general_path, get_setup, fixture_close),
        cmocka_unit_test_setup_teardown(misses_and_errors_go_the_general_path, get_setup, fixture_close),
        cmocka_unit_test(other_node_get_lines_are_not_parsed),
        cmocka_unit_test_setup_teardown(mutated_lines_keep_the_invariant, get_setup, fixture_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
