/* core/workers.c - the writer thread and the reader pool. */
#include "workers.h"
#include "log.h"
#include "adjacency.h"
#include "plugin_sandbox.h"

#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
    uv_loop_t *loop;
    char *db_path;
    graph_store_options opts;
    graph_store *writer;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    work_item *todo_head, *todo_tail; /* writer queue, guarded by mu */
    work_item *done_head, *done_tail; /* finished writes, guarded by mu */
    int stopping;                     /* guarded by mu */
    uv_async_t done_async;
    int in_flight;                    /* loop thread only */
    pthread_key_t reader_key;
    graph_adj *adj;                   /* built by the writer thread, walked by readers */
    graph_store *loop_reader;         /* the loop thread's own read-only connection (workers_loop_store) */
    bool loop_reader_failed;          /* it could not be opened: do not retry on every request */
    bool backlog;                     /* writer thread only: the search backlog may have work */
    double backlog_t0;                /* when the writer started on the current backlog */
    int64_t backlog_done;             /* node ids it covered since then */
    double busy_since_trim;           /* writer thread only: seconds of writes since the heap was last trimmed */
} W;

/* Search rows the writer fills per transaction when it has nothing else to do
 * (graph_search_backlog_step): ~0.1-0.2 s of work, so a write that arrives
 * meanwhile waits at most that long. */
#define WRITER_SEARCH_BATCH 10000

/* The adjacency index outlives workers_stop(): reader connections (closed only
 * when pool threads exit) may still point at it. Reachable, so not a leak. */
static graph_adj *workers_adj;

/* heap_trim_after_ms in seconds (0: never trim); set before workers_start, which clears W. */
static double workers_trim_after_s;

/* The pool threads' connections, for workers_interrupt: a connection is
 * listed while it is open (added when its thread opens it, removed before
 * its thread closes it), so an interrupt never reaches a closed one. */
static struct {
    pthread_mutex_t mu;
    graph_store **v;
    size_t n, cap;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Lists s; false when out of memory (s then cannot be interrupted: its
 * reads end within query_timeout_ms anyway). */
static bool readers_add(graph_store *s)
{
    pthread_mutex_lock(&R.mu);
    bool ok = true;
    if (R.n == R.cap) {
        size_t ncap = R.cap ? R.cap * 2 : 8;
        graph_store **nv = realloc(R.v, ncap * sizeof *nv);
        if (nv) {
            R.v = nv;
            R.cap = ncap;
        } else {
            ok = false;
        }
    }
    if (ok)
        R.v[R.n++] = s;
    pthread_mutex_unlock(&R.mu);
    return ok;
}

static void readers_remove(graph_store *s)
{
    pthread_mutex_lock(&R.mu);
    for (size_t i = 0; i < R.n; i++)
        if (R.v[i] == s) {
            R.v[i] = R.v[--R.n];
            break;
        }
    pthread_mutex_unlock(&R.mu);
}

/* Closes a reader thread's connection when the pool thread exits. */
static void reader_store_free(void *p)
{
    readers_remove(p);
    graph_store_close(p);
}

/* The connection of the calling pool thread, opened on first use. */
static graph_store *reader_store(void)
{
    graph_store *s = pthread_getspecific(W.reader_key);
    if (!s) {
        gs_error err;
        if (graph_store_open(W.db_path, GS_OPEN_READONLY, &W.opts, &s, &err) != GS_OK) {
            log_error("reader thread: cannot open %s: %s", W.db_path, err.msg);
            return NULL;
        }
        pthread_setspecific(W.reader_key, s);
        if (!readers_add(s))
            log_warn("reader thread: out of memory listing its connection (shutdown cannot interrupt it)");
        if (W.adj)
            graph_adj_attach_reader(W.adj, s);
    }
    return s;
}

/* Why: a point lookup (~10 us) costs less than handing it to a pool thread
 * and back (two wake-ups), so the loop may run a few itself (server_jobs.c,
 * under a time budget). Its busy timeout is 1 ms, so a BEGIN that finds the
 * database locked gives up at once and the caller uses the pool instead. */
graph_store *workers_loop_store(void)
{
    if (W.loop_reader || W.loop_reader_failed || !W.db_path)
        return W.loop_reader;
    gs_error err;
    graph_store_options o = W.opts;
    o.busy_timeout_ms = 1;
    if (graph_store_open(W.db_path, GS_OPEN_READONLY, &o, &W.loop_reader, &err) != GS_OK) {
        log_warn("loop reader: cannot open %s: %s (point lookups use the pool)", W.db_path, err.msg);
        W.loop_reader = NULL;
        W.loop_reader_failed = true;
        return NULL;
    }
    if (W.adj)
        graph_adj_attach_reader(W.adj, W.loop_reader);
    return W.loop_reader;
}

static void reader_run(uv_work_t *req)
{
    work_item *w = req->data;
    w->run(w, reader_store());
}

static void reader_done(uv_work_t *req, int status)
{
    work_item *w = req->data;
    W.in_flight--;
    w->done(w);
}

void workers_submit_read(work_item *w)
{
    w->req.data = w;
    W.in_flight++;
    uv_queue_work(W.loop, &w->req, reader_run, reader_done);
}

/* Seconds on a monotonic clock, for the log. */
static double writer_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Why: a big bulk load leaves its search rows to the search backlog (graph/search.c);
 * the writer fills them between writes, one small transaction at a time, so the
 * import's reply does not wait for them and later writes wait at most one batch.
 * Stops on an error (logged) until the next write wakes it again. */
static void writer_fill_search(void)
{
    gs_error err;
    int64_t done = 0, left = 0;
    if (W.backlog_t0 == 0)
        W.backlog_t0 = writer_now();
    if (graph_search_backlog_step(W.writer, WRITER_SEARCH_BATCH, &done, &left, &err) != GS_OK) {
        log_warn("search backlog: %s (retried after the next write)", err.msg);
        W.backlog = false;
    } else {
        W.backlog_done += done;
        W.backlog = left > 0;
    }
    if (!W.backlog) {
        if (W.backlog_done > 0)
            log_info("search backlog: the search rows of %lld node ids written in %.2f s", (long long)W.backlog_done,
                     writer_now() - W.backlog_t0);
        W.backlog_t0 = 0;
        W.backlog_done = 0;
    }
}

/* Gives the heap that large writes freed back to the system: glibc keeps it
 * otherwise (after importing 1M nodes and 1M relationships the daemon idled at
 * 265 MiB RSS, 214 MiB after this); and the writer's SQLite page cache (up to
 * 64 MiB, graph/store.c), which any large write fills and SQLite keeps: 199 ->
 * 131 MiB idle after the 1M in-place CSV import (docs/performance.md, session
 * 19). The next write refills it from the OS page cache. Run by the writer
 * when it goes idle after heap_trim_after_ms of writes (config), so small
 * writes never pay for it (a trim of that heap took 5.5 ms). */
static void writer_trim(void)
{
    double t = writer_now();
    sqlite3 *db = graph_store_db(W.writer);
    int before = 0, after = 0, hi;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_USED, &before, &hi, 0);
    sqlite3_db_release_memory(db);
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_USED, &after, &hi, 0);
    malloc_trim(0);
    log_debug("heap trimmed in %.1f ms after %.1f s of writes (writer's page cache %d -> %d KiB)",
              (writer_now() - t) * 1e3, W.busy_since_trim, before / 1024, after / 1024);
    W.busy_since_trim = 0;
}

/* glibc's default lets the trim threshold follow the largest block it has
 * mapped and unmapped, so it sits near 128 KiB until a big block comes and
 * goes. Row-by-row imports open and close SQLite's temporary b-trees (their
 * page caches) all the time: each free at the top of the writer's heap gave
 * the pages back (madvise) and the next call faulted them in again, about a
 * quarter of a restore's time (a profile with call graphs of a 50,000-model
 * json_graph restore: page faults 13%, madvise 5%, and the b-tree opens and
 * closes around them). A fixed threshold stops that churn; setting it turns off
 * glibc's moving mmap threshold too, so that one is pinned at 32 MiB, the top
 * of its usual range. malloc_trim after large writes (writer_trim) still
 * returns what big frees leave. */
void workers_set_heap_thresholds(int64_t threshold_bytes)
{
    enum { MMAP_THRESHOLD = 32 << 20 };
    int ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 && mallopt(M_TRIM_THRESHOLD, (int)threshold_bytes) == 1;
    log_info("heap: trim threshold %lld bytes, mmap threshold %d bytes%s", (long long)threshold_bytes, MMAP_THRESHOLD,
             ok ? "" : " (not taken by this allocator)");
}

/* See workers.h. */
void workers_set_heap_trim(int64_t after_ms)
{
    workers_trim_after_s = (double)after_ms / 1e3;
}

/* The writer thread: runs queued writes one at a time, in submission order, and
 * fills the search backlog when it has none. */
static void *writer_main(void *arg)
{
    /* First job: the adjacency index (graph/adjacency.h). Until it is built, and
     * if it cannot be, lineage reads SQLite as before. */
    gs_error aerr;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (W.adj && graph_adj_attach_writer(W.adj, W.writer, &aerr) != GS_OK)
        log_warn("adjacency index not built (lineage will read SQLite): %s", aerr.msg);
    else if (W.adj) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_info("adjacency index: %zu relationships in %.1f ms", graph_adj_count(W.writer),
                 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
    W.backlog = true;   /* a backlog left by an earlier run is resumed */
    for (;;) {
        pthread_mutex_lock(&W.mu);
        if (!W.todo_head && !W.stopping && !W.backlog && workers_trim_after_s > 0 &&
            W.busy_since_trim >= workers_trim_after_s) {
            pthread_mutex_unlock(&W.mu);
            writer_trim();
            continue;
        }
        while (!W.todo_head && !W.stopping && !W.backlog)
            pthread_cond_wait(&W.cond, &W.mu);
        work_item *w = W.todo_head;
        if (!w && W.stopping) { /* stopping and drained; a backlog waits for the next start */
            pthread_mutex_unlock(&W.mu);
            return NULL;
        }
        if (!w) {
            pthread_mutex_unlock(&W.mu);
            writer_fill_search();
            continue;
        }
        W.todo_head = w->next;
        if (!W.todo_head)
            W.todo_tail = NULL;
        pthread_mutex_unlock(&W.mu);

        double t = writer_now();
        w->run(w, W.writer);
        W.busy_since_trim += writer_now() - t;
        W.backlog = true;   /* the write may have been a bulk load: look again when idle */

        pthread_mutex_lock(&W.mu);
        w->next = NULL;
        if (W.done_tail)
            W.done_tail->next = w;
        else
            W.done_head = w;
        W.done_tail = w;
        pthread_mutex_unlock(&W.mu);
        uv_async_send(&W.done_async);
    }
}

/* On the loop: hands finished writes back to their owners. */
static void writer_done_cb(uv_async_t *h)
{
    pthread_mutex_lock(&W.mu);
    work_item *w = W.done_head;
    W.done_head = W.done_tail = NULL;
    pthread_mutex_unlock(&W.mu);
    while (w) {
        work_item *next = w->next;
        W.in_flight--;
        w->done(w);
        w = next;
    }
}

void workers_submit_write(work_item *w)
{
    w->next = NULL;
    W.in_flight++;
    pthread_mutex_lock(&W.mu);
    if (W.todo_tail)
        W.todo_tail->next = w;
    else
        W.todo_head = w;
    W.todo_tail = w;
    pthread_cond_signal(&W.cond);
    pthread_mutex_unlock(&W.mu);
}

int workers_in_flight(void) { return W.in_flight; }

/* See workers.h. The writer's connection is W.writer until workers_stop,
 * which runs after the loop (the only caller's thread) has stopped. */
void workers_interrupt(void)
{
    plugin_sandbox_cancel_all();
    if (W.writer)
        sqlite3_interrupt(graph_store_db(W.writer));
    pthread_mutex_lock(&R.mu);
    for (size_t i = 0; i < R.n; i++)
        sqlite3_interrupt(graph_store_db(R.v[i]));
    pthread_mutex_unlock(&R.mu);
}

int workers_start(uv_loop_t *loop, const char *db_path, const graph_store_options *opts,
                  graph_store *writer)
{
    memset(&W, 0, sizeof W);
    W.loop = loop;
    W.db_path = strdup(db_path);
    W.opts = *opts;
    W.writer = writer;
    pthread_mutex_init(&W.mu, NULL);
    pthread_cond_init(&W.cond, NULL);
    if (!W.db_path || pthread_key_create(&W.reader_key, reader_store_free) != 0)
        return -1;
    if (!workers_adj)
        workers_adj = graph_adj_new();   /* NULL (OOM): no index, lineage reads SQLite */
    W.adj = workers_adj;
    if (uv_async_init(loop, &W.done_async, writer_done_cb) != 0)
        return -1;
    if (pthread_create(&W.thread, NULL, writer_main, NULL) != 0)
        return -1;
    return 0;
}

/* See workers.h. The index lives as long as the process (workers_adj is never
 * freed), so a connection may outlive workers_stop(); its reads then use SQLite
 * (the writer's detach leaves the index unusable). */
void workers_attach_index(graph_store *s)
{
    if (workers_adj && s)
        graph_adj_attach_reader(workers_adj, s);
}

graph_store *workers_stop(void)
{
    pthread_mutex_lock(&W.mu);
    W.stopping = 1;
    pthread_cond_signal(&W.cond);
    pthread_mutex_unlock(&W.mu);
    pthread_join(W.thread, NULL);
    if (W.loop_reader) {
        graph_store_close(W.loop_reader);
        W.loop_reader = NULL;
    }
    if (W.writer)
        graph_adj_detach(W.writer);   /* the index stops following writes; readers fall back */
    writer_done_cb(&W.done_async);
    uv_close((uv_handle_t *)&W.done_async, NULL);
    free(W.db_path);
    W.db_path = NULL;
    return W.writer;
}
