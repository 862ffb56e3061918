/* core/server_jobs.c - a client's queued lines on their way through the
 * workers: planning, batching of pipelined reads, groups of quick requests of
 * several clients, and handing the replies back to server.c. Loop thread,
 * except the *_run functions (a worker thread). */
#include "server_int.h"
#include "log.h"
#include "rpc.h"
#include "workers.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One or more request lines of one client on their way through a worker:
 * consecutive read-only lines of a pipelining client travel as one job, so a
 * client with 16 requests in flight costs one thread hand-off, not 16. */
struct job {
    work_item w;
    client *c;
    rpc_plan first;           /* plans[0] until a second line joins */
    rpc_plan *plans;          /* &first, or a JOB_MAX_LINES array */
    size_t nplans;
    method_ctx ctx;
    char *reply;              /* the replies of all lines, concatenated in order */
    size_t reply_len, reply_cap;
    bool oom;                 /* a reply was lost: the client must be closed */
    pending_line *line;       /* a large line still to be parsed, off the loop */
    bool to_writer;           /* parsed off the loop and found to need the writer */
    job *qnext;               /* J.quick_head list */
};

/* Quick jobs (every call METHOD_QUICK: node.get by name) of different clients
 * that become ready in one loop iteration share one worker hand-off, at most
 * this many each, so a burst costs one thread wake-up, not one per request. */
#define GROUP_MAX_JOBS 8
typedef struct job_group {
    work_item w;
    size_t n;
    job *jobs[GROUP_MAX_JOBS];
} job_group;

/* At most this many lines (and about this many bytes of them) run as one job. */
#define JOB_MAX_LINES 32
#define JOB_MAX_BYTES (256 * 1024)

/* Quick jobs the loop may run itself per loop iteration, in loop time: past
 * this the rest of the iteration's quick jobs go to the pool (whose threads
 * run on the other core meanwhile), so a burst of lookups never holds up
 * another client's ping for more than about this. 50-300 us measured alike
 * within the noise of a shared 2-core machine (docs/performance-history.md, "Socket
 * throughput pass 2"); the pool alone was slower at 1 and 16 clients. */
#define LOOP_INLINE_BUDGET_NS (200 * 1000)
/* A lookup on the loop slower than this (a cold page cache, a slow disk, or
 * only the loop thread preempted: the two look alike) stops lookups on the
 * loop for a while: the pool waits for the disk instead of the loop. The
 * first back-off is LOOP_INLINE_BACKOFF_MIN_NS; a slow lookup again within
 * LOOP_INLINE_SLOW_AGAIN_NS after a back-off ends makes the next one 4 times
 * longer, up to LOOP_INLINE_BACKOFF_NS. Why not the full second at once: with
 * 16 busy clients on 2 cores a preempted loop thread crossed the 1 ms every
 * few seconds, and each time every lookup of the next second went to the
 * pool (1 in 6 of a run's lookups; docs/performance.md, session 19). A cold
 * cache is slow again as soon as the loop reads, so it reaches 1 s at the
 * fifth slow lookup in a row. */
#define LOOP_INLINE_SLOW_NS (1000 * 1000)
#define LOOP_INLINE_BACKOFF_MIN_NS (4ull * 1000 * 1000)
#define LOOP_INLINE_BACKOFF_NS (1000ull * 1000 * 1000)
#define LOOP_INLINE_SLOW_AGAIN_NS (100ull * 1000 * 1000)
/* A lineage request (METHOD_LOOP) is tried on the loop too, and handed to the
 * pool as soon as its walk reaches more nodes than this (or twice as many
 * relationships), or when the in-memory index cannot serve it: its reply then
 * takes about as long as a few lookups (~1.2 us per node and relationship at
 * 1M nodes, docs/performance-history.md), within LOOP_INLINE_BUDGET_NS. An ancestry
 * (a dozen nodes) is answered without a thread hand-off. */
#define LOOP_MAX_NODES 64

static struct {
    job *quick_head, *quick_tail; /* quick jobs waiting for the check phase (linked by qnext) */
    graph_store *snap;            /* the loop store while its shared read snapshot is open */
    uint64_t inline_ns;           /* loop time spent on quick jobs in this iteration */
    uint64_t inline_off_until;    /* uv_hrtime() before which quick jobs go to the pool */
    uint64_t backoff_ns;          /* the last back-off's length (0: none yet) */
    uint64_t last_slow;           /* uv_hrtime() when the last slow lookup ended */
} J;

/* ---- jobs ---- */

/* Appends one line's reply to the job's output (takes ownership of r). */
static void job_add_reply(job *j, char *r, size_t n)
{
    if (!j->reply) {
        j->reply = r;
        j->reply_len = j->reply_cap = n;
        return;
    }
    if (j->reply_len + n > j->reply_cap) {
        size_t ncap = j->reply_cap * 2;
        while (ncap < j->reply_len + n)
            ncap *= 2;
        char *np = realloc(j->reply, ncap);
        if (!np) {
            free(r);
            j->oom = true;
            return;
        }
        j->reply = np;
        j->reply_cap = ncap;
    }
    memcpy(j->reply + j->reply_len, r, n);
    j->reply_len += n;
    free(r);
}

/* True when every line of the job is METHOD_QUICK (node.get by name). */
static bool job_is_quick(const job *j)
{
    for (size_t i = 0; i < j->nplans; i++)
        if (j->plans[i].slow)
            return false;
    return j->nplans > 0;
}

/* Opens one read snapshot for several quick lines (instead of a BEGIN/COMMIT
 * each). They were all received before it starts, so each still sees every
 * write acknowledged before it was sent. Reopens it if SQLite ended it. */
static bool job_shared_begin(graph_store *store)
{
    gs_error gerr;
    return store && (!sqlite3_get_autocommit(graph_store_db(store)) || graph_store_read_begin(store, &gerr) == GS_OK);
}

/* True when every line of the job may be tried on the loop thread (METHOD_QUICK
 * or METHOD_LOOP calls only). */
static bool job_loop_ok(const job *j)
{
    for (size_t i = 0; i < j->nplans; i++)
        if (j->plans[i].off_loop)
            return false;
    return j->nplans > 0;
}

/* Runs the job's lines in order on one store connection; their replies are
 * concatenated, so the client sees them in request order. On the loop a line
 * may stop at a declined call (rpc_plan_run): that line and the ones after it
 * stay in the job, first, for a worker to finish. */
static void job_run(work_item *w, graph_store *store)
{
    job *j = (job *)w;
    bool shared = !j->ctx.in_transaction && j->nplans > 1 && job_is_quick(j) && job_shared_begin(store);
    j->ctx.store = store;
    if (shared)
        j->ctx.in_transaction = true;
    for (size_t i = 0; i < j->nplans; i++) {
        size_t n = 0;
        if (j->ctx.in_transaction && sqlite3_get_autocommit(graph_store_db(store)) && !job_shared_begin(store))
            j->ctx.in_transaction = false;   /* the snapshot is gone: the rest run on their own */
        rpc_plan_run(&j->plans[i], &j->ctx);
        if (j->ctx.declined) {
            memmove(j->plans, j->plans + i, (j->nplans - i) * sizeof *j->plans);
            j->nplans -= i;
            break;
        }
        char *r = rpc_plan_reply(&j->plans[i], &n);
        rpc_plan_free(&j->plans[i]);
        if (r && !j->oom)
            job_add_reply(j, r, n);
        else
            free(r);
    }
    if (shared)
        graph_store_read_end(store);
    j->ctx.in_transaction = false;
    if (!j->ctx.declined)
        j->nplans = 0;
}

/* Pool thread: parses a large line; runs it here unless it needs the writer. */
static void job_parse_run(work_item *w, graph_store *store)
{
    job *j = (job *)w;
    int rc = rpc_plan_line(&j->first, j->line->data, j->line->len);
    free(j->line);
    j->line = NULL;
    j->nplans = 1;   /* freed with the job if it does not run */
    if (rc != 0) {
        j->reply = rpc_error_line(RPC_INTERNAL_ERROR, "out of memory while parsing the request", &j->reply_len);
        j->reply_cap = j->reply_len;
        return;
    }
    if (j->first.needs & METHOD_WRITE) {
        j->to_writer = true;
        return;
    }
    job_run(w, store);
}

static void job_done(work_item *w);
static void loop_snapshot_end(void);

/* Loop: a parsed large line that writes moves on to the writer thread. */
static void job_parse_done(work_item *w)
{
    job *j = (job *)w;
    if (j->to_writer) {
        j->to_writer = false;
        j->w.run = job_run;
        j->w.done = job_done;
        workers_submit_write(&j->w);
        return;
    }
    job_done(w);
}

/* Loop: hands a finished job's replies to its client (or closes the client if
 * one was lost to OOM), then frees the job. */
static void job_deliver(client *c, job *j)
{
    if (j->oom) {
        log_error("%s: out of memory while collecting replies; closing", c->name);
        client_close(c);
    } else if (j->reply) {
        client_send(c, j->reply, j->reply_len);
        j->reply = NULL;
    }
    job_free(j);
}

/* Frees a job and whatever it still holds (plans not run, reply not sent). */
void job_free(job *j)
{
    for (size_t i = 0; i < j->nplans; i++)
        rpc_plan_free(&j->plans[i]);
    if (j->plans != &j->first)
        free(j->plans);
    free(j->line);
    free(j->reply);
    free(j);
}

/* Loop: a job finished on a worker: its replies go out and the client's next lines may run. */
static void job_done(work_item *w)
{
    job *j = (job *)w;
    client *c = j->c;
    loop_snapshot_end();
    c->running = false;
    job_deliver(c, j);
    if (!c->closing)
        client_pump(c);
    client_unref(c);
    if (server_is_stopping())
        server_check_drained();
}

/* Pool thread: the quick jobs of several clients, one after the other. */
static void group_run(work_item *w, graph_store *store)
{
    job_group *g = (job_group *)w;
    bool shared = job_shared_begin(store);   /* one snapshot for the group, as in job_run */
    for (size_t i = 0; i < g->n; i++) {
        g->jobs[i]->ctx.in_transaction = shared && (!sqlite3_get_autocommit(graph_store_db(store)) ||
                                                     job_shared_begin(store));
        job_run(&g->jobs[i]->w, store);
    }
    if (shared)
        graph_store_read_end(store);
}

/* Loop: each job of the group completes as if it had run alone. */
static void group_done(work_item *w)
{
    job_group *g = (job_group *)w;
    for (size_t i = 0; i < g->n; i++)
        job_done(&g->jobs[i]->w);
    free(g);
}

/* Ends the loop's shared read snapshot. Why here and in job_done: the
 * snapshot may only serve requests received before any reply that
 * acknowledges a later write can reach a client. A write's reply is only
 * ever buffered by job_done (a job done on a worker may have written), which
 * ends the snapshot first, so a snapshot open when a client's replies are
 * written (at the end of its read callback, or in the check phase, which
 * ends it too) began after every write those replies acknowledge. Never held
 * across loop iterations (it would hold back WAL checkpoints). */
static void loop_snapshot_end(void)
{
    if (J.snap) {
        graph_store_read_end(J.snap);
        J.snap = NULL;
    }
}

/* Why a function of its own: the back-off rule (LOOP_INLINE_SLOW_NS) is
 * tested apart from the clock (tests/unit/test_loop_backoff.c). */
uint64_t jobs_next_backoff(uint64_t prev_ns, uint64_t since_last_slow_ns)
{
    if (!prev_ns || since_last_slow_ns >= prev_ns + LOOP_INLINE_SLOW_AGAIN_NS)
        return LOOP_INLINE_BACKOFF_MIN_NS;
    return prev_ns * 4 < LOOP_INLINE_BACKOFF_NS ? prev_ns * 4 : LOOP_INLINE_BACKOFF_NS;
}

/* The loop store with this iteration's shared snapshot open, when the loop
 * may read now (budget left, no back-off); NULL: use the pool. *t0 is when
 * the read starts, for loop_read_end. */
static graph_store *loop_read_begin(uint64_t *t0)
{
    if (J.inline_ns >= LOOP_INLINE_BUDGET_NS)
        return NULL;
    graph_store *st = workers_loop_store();   /* opened on first use: not timed */
    *t0 = uv_hrtime();
    if (!st || *t0 < J.inline_off_until)
        return NULL;
    if (!J.snap) {
        gs_error gerr;
        if (graph_store_read_begin(st, &gerr) != GS_OK)
            return NULL;   /* e.g. busy: the pool's connections wait for it */
        J.snap = st;
    }
    return J.snap;
}

/* Counts a read of lines lines on the loop against the iteration's budget;
 * a slow one turns loop reads off for a while. */
static void loop_read_end(uint64_t t0, size_t lines)
{
    if (sqlite3_get_autocommit(graph_store_db(J.snap)))
        J.snap = NULL;   /* SQLite ended it (an error): the next lookup begins anew */
    uint64_t took = uv_hrtime() - t0;
    J.inline_ns += took;
    if (took > LOOP_INLINE_SLOW_NS * lines) {
        uint64_t now = t0 + took;
        J.backoff_ns = jobs_next_backoff(J.backoff_ns, now - J.last_slow);
        J.last_slow = now;
        J.inline_off_until = now + J.backoff_ns;
    }
}

/* Runs a quick read job (node.get by name, a small lineage) on the loop itself
 * when the loop store can open (or already holds) this iteration's read
 * snapshot and the iteration's budget is not spent: no pool hand-off, no
 * thread wake-ups, one snapshot for every lookup of the iteration. False: the
 * caller queues it for the pool as before, including a job whose lineage
 * outgrew LOOP_MAX_NODES part way (what was answered stays in j->reply, ahead
 * of the rest). On true the job is answered and freed. */
static bool job_run_on_loop(client *c, job *j)
{
    uint64_t t0;
    if (j->line || !job_loop_ok(j) || !loop_read_begin(&t0))
        return false;
    j->ctx.store = J.snap;
    j->ctx.in_transaction = true;
    j->ctx.loop_max_nodes = LOOP_MAX_NODES;
    size_t lines = j->nplans;   /* job_run zeroes it */
    job_run(&j->w, J.snap);
    j->ctx.loop_max_nodes = 0;   /* a worker runs what was declined without the bound */
    loop_read_end(t0, lines);
    if (j->ctx.declined) {
        j->ctx.declined = false;
        return false;
    }
    job_deliver(c, j);
    return true;
}

/* Why: node.get by name is the commonest request; through the general path
 * its jansson parse, plan, job and reply objects cost as much as the lookup
 * itself. rpc_fast_node_get in the loop's snapshot, under the same budget. */
char *jobs_fast_node_get(const rpc_fast_call *fc, size_t *len)
{
    uint64_t t0;
    graph_store *st = loop_read_begin(&t0);
    if (!st)
        return NULL;
    char *reply = rpc_fast_node_get(st, fc, len);
    loop_read_end(t0, 1);
    return reply;
}

/* Check phase: ends the loop's snapshot and budget for this iteration, then
 * hands the quick jobs gathered in it to the pool in groups of
 * GROUP_MAX_JOBS (a job alone goes as it is). */
void jobs_submit_quick(void)
{
    loop_snapshot_end();
    J.inline_ns = 0;
    while (J.quick_head) {
        job_group *g = J.quick_head->qnext ? calloc(1, sizeof *g) : NULL;
        if (!g) {   /* one job (or no memory for a group): on its own */
            job *j = J.quick_head;
            J.quick_head = j->qnext;
            j->qnext = NULL;
            workers_submit_read(&j->w);
            continue;
        }
        while (J.quick_head && g->n < GROUP_MAX_JOBS) {
            job *j = J.quick_head;
            J.quick_head = j->qnext;
            j->qnext = NULL;
            g->jobs[g->n++] = j;
        }
        g->w.run = group_run;
        g->w.done = group_done;
        workers_submit_read(&g->w);
    }
    J.quick_tail = NULL;
}

/* Queues a read job: quick ones wait for the check phase to share a hand-off. */
static void job_submit_read(job *j)
{
    bool quick = true;
    for (size_t i = 0; i < j->nplans && quick; i++)
        quick = !j->plans[i].slow;
    if (!quick || j->line) {
        workers_submit_read(&j->w);
        return;
    }
    j->qnext = NULL;
    if (J.quick_tail)
        J.quick_tail->qnext = j;
    else
        J.quick_head = j;
    J.quick_tail = j;
}

/* Takes the head of the client's queue. */
static pending_line *client_dequeue(client *c)
{
    pending_line *pl = c->head;
    c->head = pl->next;
    if (!c->head)
        c->tail = NULL;
    c->nqueued--;
    if (pl->len != LINE_TOO_LONG)
        c->queued_bytes -= pl->len;
    return pl;
}

/* A job for one line: planned here, or (a large line) to be parsed off the
 * loop. Takes ownership of pl. NULL when out of memory. */
static job *job_for_line(client *c, pending_line *pl)
{
    job *j = calloc(1, sizeof *j);
    bool off_loop = pl->len > PARSE_OFF_LOOP_BYTES;
    if (!j || (!off_loop && rpc_plan_line(&j->first, pl->data, pl->len) != 0)) {
        if (j)
            rpc_plan_free(&j->first);
        free(j);
        free(pl);
        return NULL;
    }
    j->plans = &j->first;
    j->c = c;
    j->ctx.may_write = c->may_write;
    j->ctx.peer_uid = c->peer.uid;
    j->ctx.peer = c->name;
    j->ctx.cfg = server_config();
    if (off_loop)
        j->line = pl;
    else {
        j->nplans = 1;
        free(pl);
    }
    return j;
}

/* A read-only job takes the client's next queued lines while they are
 * read-only store requests too (up to JOB_MAX_LINES / JOB_MAX_BYTES). The
 * first line that is not (a write, a ping, an error, a large line) stays
 * behind for after this job, planned in c->next_job when it was parsed, so
 * requests still run strictly in order and writes still go to the writer.
 * Returns -1 when out of memory. */
static int job_gather_reads(client *c, job *j)
{
    size_t bytes = 0;
    while (j->nplans < JOB_MAX_LINES && bytes < JOB_MAX_BYTES && c->head && c->head->len != LINE_TOO_LONG &&
           c->head->len <= PARSE_OFF_LOOP_BYTES) {
        if (j->plans == &j->first) {
            rpc_plan *arr = malloc(JOB_MAX_LINES * sizeof *arr);
            if (!arr)
                return -1;
            arr[0] = j->first;
            j->plans = arr;
        }
        bytes += c->head->len;
        job *k = job_for_line(c, client_dequeue(c));
        if (!k)
            return -1;
        if (k->first.needs != METHOD_STORE) {
            c->next_job = k;
            break;
        }
        j->plans[j->nplans++] = k->first;
        k->nplans = 0;
        job_free(k);
    }
    return 0;
}

/* Executes queued lines in order until one needs a worker. Cheap lines (parse
 * errors, ping, unknown methods) are answered right here on the loop. */
void client_run_queue(client *c)
{
    while (!c->running && (c->head || c->next_job) && !c->closing) {
        job *j = c->next_job;
        c->next_job = NULL;
        if (j)
            j->ctx.may_write = c->may_write;   /* planned earlier: a SIGHUP since then applies */
        if (!j) {
            pending_line *pl = client_dequeue(c);
            if (pl->len == LINE_TOO_LONG) {
                size_t n;
                char msg[160];
                snprintf(msg, sizeof msg, "request line longer than max_line_bytes=%zu; closing the connection",
                         server_config()->max_line_bytes);
                char *line = rpc_error_line(RPC_LIMIT_EXCEEDED, msg, &n);
                free(pl);
                log_warn("%s: %s", c->name, msg);
                c->close_when_flushed = true;
                if (line)
                    client_send(c, line, n);
                else
                    client_close(c);
                continue;
            }
            j = job_for_line(c, pl);
        }
        if (!j) {
            log_error("%s: out of memory; closing", c->name);
            client_close(c);
            return;
        }
        if (j->line) {
            c->running = true;
            c->refs++;
            j->w.run = job_parse_run;
            j->w.done = job_parse_done;
            workers_submit_read(&j->w);
            break;
        }
        if (j->first.needs & METHOD_STORE) {
            bool oom = !(j->first.needs & METHOD_WRITE) && job_gather_reads(c, j) != 0;
            if (!oom && !(j->first.needs & METHOD_WRITE) && job_run_on_loop(c, j))
                continue;   /* answered; c->next_job (if any) is next */
            c->running = true;
            c->refs++;
            j->w.run = job_run;
            j->w.done = job_done;
            if (j->first.needs & METHOD_WRITE)
                workers_submit_write(&j->w);
            else
                job_submit_read(j);
            if (oom) {
                log_error("%s: out of memory; closing", c->name);
                client_close(c);
            }
            break;
        }
        job_run(&j->w, NULL);
        if (j->reply) {
            client_send(c, j->reply, j->reply_len);
            j->reply = NULL;
        }
        job_free(j);
    }
}
