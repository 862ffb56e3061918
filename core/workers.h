/*
 * core/workers.h - where store work runs, off the event loop.
 *
 * Reads run on the libuv threadpool; each pool thread lazily opens its own
 * read-only connection (kept in thread-specific data, closed when the thread
 * exits). Writes run on one writer thread that owns the only read-write
 * connection, so writers never contend for SQLite's lock. Both report back on
 * the loop thread through work_item.done.
 */
#ifndef DSGRAPH_WORKERS_H
#define DSGRAPH_WORKERS_H

#include <uv.h>
#include "store.h"

typedef struct work_item work_item;
struct work_item {
    void (*run)(work_item *w, graph_store *store); /* on a worker thread; store may be NULL if it could not be opened */
    void (*done)(work_item *w);                    /* on the loop thread */
    uv_work_t req;                                 /* private */
    work_item *next;                               /* private */
};

/* writer is the read-write store opened by main; the writer thread owns it
 * from now until workers_stop(). */
int workers_start(uv_loop_t *loop, const char *db_path, const graph_store_options *opts,
                  graph_store *writer);
/* After how many ms of writes the idle writer thread returns the heap freed
 * since to the system (malloc_trim); 0: never. Before workers_start. */
void workers_set_heap_trim(int64_t after_ms);
/* The allocator's own trimming (glibc mallopt): free() gives the top of a heap
 * back only past threshold_bytes, and blocks under 32 MiB come from the heaps.
 * Process-wide; call before any thread starts. Logs what it set. */
void workers_set_heap_thresholds(int64_t threshold_bytes);
void workers_submit_read(work_item *w);
void workers_submit_write(work_item *w);
/* The loop thread's read-only connection (opened on first use; NULL if it
 * cannot be opened). Loop thread only; closed by workers_stop(). */
graph_store *workers_loop_store(void);
/* Lets a read-only connection the daemon opened outside the pools (an export's
 * own snapshot) read the adjacency index, as the readers do; a no-op without one. */
void workers_attach_index(graph_store *s);
/* Items submitted and not yet done. */
int workers_in_flight(void);
/* Shutdown past its deadline: interrupts what the writer and the pool
 * threads are running in SQLite (sqlite3_interrupt: the statement fails,
 * its transaction is rolled back, so nothing is half-written) and stops
 * running plugins (plugin_sandbox_cancel_all). A connection between two
 * statements misses an interrupt, so the caller repeats it until the items
 * are done. Any thread. */
void workers_interrupt(void);
/* Stops the writer thread once its queue is empty and returns its store to the caller. */
graph_store *workers_stop(void);

#endif
