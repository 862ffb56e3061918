/*
 * core/server_int.h - what server.c (sockets, clients, output, shutdown) and
 * server_jobs.c (running a client's queued lines on the workers) share. Loop
 * thread only.
 */
#ifndef DSGRAPH_SERVER_INT_H
#define DSGRAPH_SERVER_INT_H

#include "access.h"
#include "config.h"
#include "framing.h"
#include "rpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct client client;

/* A framed request line waiting its turn. len == LINE_TOO_LONG marks the
 * point where an oversized line was refused: answer, then close. */
typedef struct pending_line {
    struct pending_line *next;
    size_t len;
    char data[];
} pending_line;
#define LINE_TOO_LONG ((size_t)-1)

typedef struct job job;

struct client {
    uv_pipe_t pipe;
    uint64_t no;              /* for log lines */
    peer_cred peer;
    bool may_write;
    char name[64];            /* "client 7 (uid 1000)" */
    framer fr;
    pending_line *head, *tail;
    int nqueued;
    size_t queued_bytes;      /* bytes of the lines in the queue */
    job *next_job;            /* a line already planned (it ended a batch of reads), runs next */
    bool running;             /* a job of this client is on a worker */
    bool reading;
    bool closing;
    bool close_when_flushed;  /* after an oversized line or a refused connection */
    bool flush_listed;        /* on S.flush_head: output waits for the end of this loop iteration */
    int refs;                 /* the handle + each job in flight + the flush list + each write */
    char *out;                /* replies not yet handed to the kernel (or to uv_write) */
    size_t out_len, out_cap;
    client *flush_next;
    client *prev, *next;
};

/* Lines longer than this are parsed on a pool thread, not on the loop, so a
 * client uploading megabytes never delays another client's ping. */
#define PARSE_OFF_LOOP_BYTES (64 * 1024)

/* server.c */
const dsg_config *server_config(void);
bool server_is_stopping(void);
void server_check_drained(void);
void client_send(client *c, char *data, size_t len);
void client_close(client *c);
void client_unref(client *c);
bool client_idle(client *c);
/* Runs what it can of the client's queue, then back-pressure and close checks. */
void client_pump(client *c);

/* server_jobs.c */
/* Executes queued lines in order until one needs a worker (client_pump's first half). */
void client_run_queue(client *c);
/* Frees a job that will not run (a planned line of a closed client). */
void job_free(job *j);
/* Check phase: hands the quick jobs gathered in this loop iteration to the pool. */
void jobs_submit_quick(void);
/* How long the loop stops its own lookups after a slow one: the first time
 * (prev_ns 0) or long after the last slow one, the shortest back-off; a slow
 * one soon after the last back-off ended, 4 times the last, up to 1 s. */
uint64_t jobs_next_backoff(uint64_t prev_ns, uint64_t since_last_slow_ns);
/* A fast-path node.get (rpc_fast_parse) answered on the loop: its reply line,
 * or NULL when the loop may not read now or the store did not find exactly
 * one node (the general path then answers it, error included). */
char *jobs_fast_node_get(const rpc_fast_call *fc, size_t *len);

#endif
