/*
 * core/rpc.h - JSON-RPC 2.0: parsing a line into calls, running them against
 * a store, and turning the results into one reply line.
 *
 * A line is planned on the event loop (parse + validate, cheap), executed on a
 * worker thread that owns a store connection, and its reply is written back on
 * the loop. Error codes are turned into messages in one place: rpc_fail().
 */
#ifndef DSGRAPH_RPC_H
#define DSGRAPH_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

enum rpc_code {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
    RPC_NOT_FOUND = -32001,
    RPC_AMBIGUOUS = -32002,
    RPC_CONFLICT = -32003,
    RPC_PERMISSION_DENIED = -32004,
    RPC_READ_ONLY = -32005,
    RPC_LIMIT_EXCEEDED = -32006,
    RPC_BUSY = -32007,
    RPC_SHUTTING_DOWN = -32008
};

typedef struct rpc_error {
    int code;
    char message[640];
    json_t *data;   /* optional extra members of error.data (owned; set by a method, e.g. query) */
} rpc_error;

/* Sets err and returns -1, so handlers can `return rpc_fail(err, ...)`. */
int rpc_fail(rpc_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps a store status to an RPC code and copies the store's message. */
int rpc_fail_store(rpc_error *err, gs_status st, const char *method, const gs_error *gerr);
/* "not_found", "parse_error", ...: the error's data.kind. */
const char *rpc_code_kind(int code);

/* What a method needs in order to run. METHOD_QUICK marks a short, bounded
 * read (a point lookup): the daemon may run quick requests of several clients
 * in one worker hand-off. METHOD_GROUP marks a write that may share one commit
 * with the neighbouring METHOD_GROUP calls of its batch (rpc_plan_run).
 * METHOD_LOOP marks a read the loop thread may try within a bound
 * (method_ctx.loop_max_nodes): past it the method returns METHOD_DECLINED and
 * the call runs again on a worker. None of the three is part of rpc_plan.needs. */
enum {
    METHOD_STORE = 1u << 0,
    METHOD_WRITE = 1u << 1,
    METHOD_QUICK = 1u << 2,
    METHOD_GROUP = 1u << 3,
    METHOD_LOOP = 1u << 4
};

/* A method_fn's return value: not answered here (see METHOD_LOOP). */
#define METHOD_DECLINED 1

/* Everything a method may touch while it runs on a worker thread. */
typedef struct method_ctx {
    graph_store *store;     /* this thread's connection; NULL for store-less methods */
    bool may_write;         /* the peer's uid/gid may write */
    bool in_transaction;    /* the caller already opened a transaction (seeding) */
    unsigned long peer_uid; /* for log lines */
    const char *peer;       /* "client 7 (uid 1000)", for log lines */
    const dsg_config *cfg;  /* limits for methods that have them; may be NULL in tests */
    char *raw_result;       /* set by a method whose result is pre-serialised JSON text
                             * (malloc'd); it is spliced into the reply as is. Used where
                             * jansson cannot represent a value (NaN, Infinity). */
    size_t loop_max_nodes;  /* > 0 on the loop thread: a METHOD_LOOP call that would read
                             * more nodes than this returns METHOD_DECLINED */
    bool declined;          /* set when a call returned METHOD_DECLINED: the plan stopped
                             * there and its unanswered calls must run elsewhere */
} method_ctx;

typedef int (*method_fn)(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err);

typedef struct method_def {
    const char *name;
    method_fn fn;
    unsigned flags;
    /* Optional: flags decided per call from the params (e.g. a query that
     * writes needs the writer thread and write permission). Runs on the loop. */
    unsigned (*classify)(json_t *params);
} method_def;

/* The method table lives in methods.c. */
const method_def *method_lookup(const char *name);

/* One request of a line (a line holds one, or a batch of several). */
typedef struct rpc_call {
    json_t *id;               /* NULL for a notification */
    const method_def *method; /* NULL if the request was rejected before running */
    json_t *params;           /* borrowed from the parsed document */
    json_t *reply;            /* the response object once known, or NULL (notification) */
    char *raw_result;         /* pre-serialised result text (see method_ctx.raw_result) */
    unsigned flags;           /* the method's flags for this call */
    bool grouped;             /* ran inside a group commit (rpc_plan_run) */
} rpc_call;

typedef struct rpc_plan {
    json_t *doc;       /* the parsed line */
    bool batch;
    size_t ncalls;
    rpc_call *calls;
    unsigned needs;    /* union of the methods' flags: does it need a worker, the writer? */
    bool slow;         /* a call of the line is not METHOD_QUICK */
    bool off_loop;     /* a call of the line is neither METHOD_QUICK nor METHOD_LOOP */
    size_t next;       /* calls before this one have run: a declined call resumes here */
} rpc_plan;

/* json_loadb of a request line with the flags the protocol uses, except that
 * the long base64 string of an import.chunk line skips jansson's lexer
 * (core/rpc_chunk.c); the result, and any error in *jerr, are the same. */
json_t *rpc_parse_large(const char *line, size_t len, json_error_t *jerr);
/* Parses and validates a line. Never fails: a bad line becomes a plan whose
 * only call already holds an error reply. Returns 0, or -1 on out of memory. */
int rpc_plan_line(rpc_plan *plan, const char *line, size_t len);
/* Runs the calls that have not run yet. Each write runs in its own transaction
 * (unless ctx->in_transaction); a failed write is rolled back. Consecutive
 * METHOD_GROUP calls of a batch share one transaction, each in a savepoint of
 * its own: a failed one is undone alone, and if the shared commit fails every
 * one of them that had succeeded gets that error instead. A call that returns
 * METHOD_DECLINED stops the run with ctx->declined set; running the plan again
 * (on a worker) goes on from that call. */
void rpc_plan_run(rpc_plan *plan, method_ctx *ctx);
/* The reply line ('\n'-terminated, malloc'd) or NULL when nothing is to be sent. */
char *rpc_plan_reply(rpc_plan *plan, size_t *len);
/* The reply line {"jsonrpc":"2.0","id":ID,"result":RESULT}'\n' (malloc'd, its
 * length in *len) from the id's JSON text (idn bytes) and the result's (rn
 * bytes), as jansson would order it; NULL: out of memory. */
char *rpc_result_line(const char *id, size_t idn, const char *result, size_t rn, size_t *len);
/* True when a call of the plan failed (used by seeding). Copies the first error. */
bool rpc_plan_failed(const rpc_plan *plan, rpc_error *first);
void rpc_plan_free(rpc_plan *plan);

/* The fast path (core/rpc_fast.c) for the two commonest lines: one object
 * with the members "jsonrpc":"2.0", an "id" that is null, a plain integer of
 * at most 18 digits or a string of printable ASCII without escapes, and
 * either "method":"ping" (no params) or "method":"node.get" with "params"
 * {"name":S} or {"label":L,"name":S}, L and S strings without escapes of
 * valid UTF-8, at most RPC_FAST_MAX_STR bytes; members in any order, JSON
 * whitespace anywhere, nothing else. Any other line is the general path's. */
#define RPC_FAST_MAX_STR 255
#define RPC_FAST_MAX_LINE 1024   /* longer lines are not tried */
enum rpc_fast_method { RPC_FAST_PING = 1, RPC_FAST_NODE_GET = 2 };
typedef struct rpc_fast_call {
    int method;                         /* enum rpc_fast_method; 0 until parsed */
    const char *id;                     /* the id's text in the line, repeated as is */
    size_t id_len;
    bool has_label;
    char label[RPC_FAST_MAX_STR + 1];   /* node.get: NUL-terminated copies */
    char name[RPC_FAST_MAX_STR + 1];
} rpc_fast_call;
/* True when line has one of the forms above; fills *fc (fc->id points into line). */
bool rpc_fast_parse(const char *line, size_t len, rpc_fast_call *fc);
/* A parsed ping's reply line (rpc_result_line); NULL: out of memory. */
char *rpc_fast_ping_reply(const rpc_fast_call *fc, size_t *out_len);
/* A parsed node.get's reply line (rpc_result_line) from store st inside a
 * read transaction the caller holds; NULL when the node is not found exactly
 * once or anything fails (the general path then gives the error reply). */
char *rpc_fast_node_get(graph_store *st, const rpc_fast_call *fc, size_t *out_len);
/* ping's result object as JSON text (methods.c); its length, 0 if cap is too small. */
size_t method_ping_text(char *buf, size_t cap);

/* A standalone error reply line, e.g. for an oversized line (id null). */
char *rpc_error_line(int code, const char *message, size_t *len);
/* Serialises a reply value as one line ('\n'-terminated, malloc'd). */
char *rpc_dump_line(json_t *value, size_t *len);

#endif
