/*
 * graph/bulk_behind.h - a bulk load's write thread (graph/bulk_load.c).
 *
 * A bulk load spends about half its time in SQLite's INSERTs and the other
 * half on everything before them (parsing the row, normalising the name,
 * the hash tables, building the props text). The rows it creates get ids the
 * load assigns itself, so nothing it decides depends on an INSERT having run:
 * the INSERTs can run on a second thread while the load resolves the next
 * rows. This module is that thread and the queue in front of it:
 *
 *   - the load appends ops (opaque byte records, bulk_load.c's encoding) to
 *     blocks of BULK_BEHIND_BLOCK bytes; a full block goes to the thread,
 *     which runs each op through the load's exec callback, in order;
 *   - at most queue_bytes of blocks wait (the memory limit: config
 *     bulk_write_queue_bytes); past that the load waits for the thread;
 *   - bulk_behind_sync waits until every op appended so far has run. The
 *     load calls it before anything else touches the SQLite connection
 *     (a read, a merge through graph_node_put, a claim row, the end):
 *     between two syncs only the thread uses the connection;
 *   - a read that only needs some ops to have run (a node the load created
 *     earlier) waits for those (bulk_behind_wait) and then holds the thread
 *     off for its few statements (bulk_behind_lock): the queue keeps its
 *     place, where a sync would leave the thread idle every few rows;
 *   - the first failing op stops the rest (they are dropped, not run) and
 *     its error is returned by every later sync: the load fails and is undone.
 *
 * Invariant: while ops are pending, the connection and the statements the
 * exec callback uses belong to the thread, except between bulk_behind_lock
 * and bulk_behind_unlock, when the thread runs no op; everything else stays
 * with the load.
 */
#ifndef DSGRAPH_GRAPH_BULK_BEHIND_H
#define DSGRAPH_GRAPH_BULK_BEHIND_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>

/* Bytes per block of ops (an op larger than this gets a block of its own). */
#define BULK_BEHIND_BLOCK ((size_t)64 * 1024)

typedef struct bulk_behind bulk_behind;

/* Runs one op (len bytes at op) on the write thread; GS_OK or a failure with err set. */
typedef gs_status (*bulk_behind_exec)(void *ctx, const unsigned char *op, size_t len, gs_error *err);

/* Starts the thread. NULL when it cannot (no memory, no thread): the caller
 * then writes its rows itself. queue_bytes >= BULK_BEHIND_BLOCK. */
bulk_behind *bulk_behind_start(size_t queue_bytes, bulk_behind_exec exec, void *ctx);
/* Room for an op of n bytes at the end of the queue, to be filled before the
 * next call on q; NULL on OOM or after a failure (sync then says which). */
unsigned char *bulk_behind_append(bulk_behind *q, size_t n);
/* Waits until every op appended so far has run; the first failure, if any
 * (sticky: every later sync returns it too). */
gs_status bulk_behind_sync(bulk_behind *q, gs_error *err);
/* Waits until done(arg) holds (checked each time the thread finishes a block)
 * or every op appended so far has run. */
void bulk_behind_wait(bulk_behind *q, bool (*done)(void *arg), void *arg);
/* Holds the thread off between two ops, so that the load may use the
 * connection for a moment while ops are pending; no other call on q until
 * bulk_behind_unlock. */
void bulk_behind_lock(bulk_behind *q);
void bulk_behind_unlock(bulk_behind *q);
/* How many times the load waited for the thread (syncs and waits that found
 * work pending), for the load's timing line. */
unsigned long bulk_behind_waits(const bulk_behind *q);
/* CPU seconds the thread has used so far (for the load's timing line). */
double bulk_behind_cpu_s(bulk_behind *q);
/* Syncs, stops and frees the thread; its status as bulk_behind_sync's. NULL q: GS_OK. */
gs_status bulk_behind_stop(bulk_behind *q, gs_error *err);

#endif
