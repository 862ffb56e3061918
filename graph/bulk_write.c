/*
 * graph/bulk_write.c - the INSERTs of the rows a bulk load creates (node,
 * labels, staged search row, relationship), run in line or queued for the
 * load's write thread (graph/bulk_behind.h), and every way the load waits for
 * that thread before it uses the connection itself. The rest of the load is
 * graph/bulk_load.c; what they share is in bulk_load_int.h.
 */
#include "bulk_load_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Steps a write statement, resets it; GS_OK or the SQLite error. */
gs_status bulk_exec(graph_bulk *b, sqlite3_stmt *st, const char *what, gs_error *err) {
    int rc = sqlite3_step(st);
    gs_status r = rc == SQLITE_DONE || rc == SQLITE_ROW ? GS_OK : gs_sqlfail(b->s, err, what);
    sqlite3_reset(st);
    return r;
}

/* Runs one op on the connection (the load's thread, or the write thread while
 * ops are pending: bulk_behind.h). Binds copy nothing: the strings outlive the step. */
static gs_status bulk_op_run(graph_bulk *b, const bulk_op *op, gs_error *err) {
    sqlite3_stmt *st;
    switch (op->kind) {
    case OP_NODE:   /* id, name key, props text */
        st = b->st[BS_NODE];
        sqlite3_bind_text(st, 1, op->s[0], (int)op->n[0], SQLITE_STATIC);
        sqlite3_bind_text(st, 2, op->s[1], (int)op->n[1], SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, op->i[0]);
        gs_status r = bulk_exec(b, st, "inserting a node", err);
        if (r == GS_OK) atomic_store_explicit(&b->written_node_id, op->i[0], memory_order_release);
        return r;
    case OP_LABEL:   /* node id, position, label */
        st = b->st[BS_LABEL];
        sqlite3_bind_int64(st, 1, op->i[0]);
        sqlite3_bind_int64(st, 2, op->i[1]);
        sqlite3_bind_text(st, 3, op->s[0], (int)op->n[0], SQLITE_STATIC);
        return bulk_exec(b, st, "adding a label", err);
    case OP_FTS:   /* node id, name key, alias keys, other strings' keys */
        st = b->st[BS_FTS];
        sqlite3_bind_int64(st, 1, op->i[0]);
        for (int k = 0; k < 3; k++) sqlite3_bind_text(st, k + 2, op->s[k] ? op->s[k] : "", (int)op->n[k], SQLITE_STATIC);
        return bulk_exec(b, st, "updating the search index", err);
    case OP_REL:   /* id, start, end, type, props text */
        st = b->st[BS_REL];
        sqlite3_bind_text(st, 1, op->s[0], (int)op->n[0], SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, op->i[1]);
        sqlite3_bind_int64(st, 3, op->i[2]);
        sqlite3_bind_text(st, 4, op->s[1], (int)op->n[1], SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, op->i[0]);
        return bulk_exec(b, st, "inserting a relationship", err);
    }
    return gs_fail(err, GS_INVALID, "bulk load: unknown write op %d", op->kind);
}

/* The write thread's side: decodes an op bulk_write queued and runs it. */
static gs_status bulk_op_exec(void *ctx, const unsigned char *p, size_t len, gs_error *err) {
    bulk_op op = {0};
    (void)len;
    op.kind = *p++;
    memcpy(op.i, p, sizeof op.i);
    p += sizeof op.i;
    memcpy(op.n, p, sizeof op.n);
    p += sizeof op.n;
    for (int k = 0; k < 3; k++) {
        op.s[k] = (const char *)p;
        p += op.n[k];
    }
    gs_status r = bulk_op_run((graph_bulk *)ctx, &op, err);
    if (r != GS_OK) {   /* reported at a later row: say which kind of row failed */
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (a row before this one, written by the load's write thread)");
    }
    return r;
}

/* Waits until the write thread (if any) has run every queued op, so that the
 * load may use the connection itself: before every read, merge, claim row and
 * at the end. Returns the thread's failure, if one of its INSERTs failed. */
gs_status bulk_settle(graph_bulk *b, gs_error *err) {
    return b->behind ? bulk_behind_sync(b->behind, err) : GS_OK;
}

/* What bulk_read_begin waits for: node id of load b. */
typedef struct bulk_node_wait {
    graph_bulk *b;
    int64_t id;
} bulk_node_wait;

/* bulk_behind_wait's predicate: the node is written. */
static bool bulk_node_written(void *arg) {
    const bulk_node_wait *w = arg;
    return atomic_load_explicit(&w->b->written_node_id, memory_order_acquire) >= w->id;
}

/* Before the load reads the connection while ops may be pending: waits until
 * node id (if the load created it; 0: none) is written, then holds the write
 * thread off until bulk_read_end. A wait that ends without the node written
 * (an INSERT failed: the queue ran out) leaves the read to find nothing. */
void bulk_read_begin(graph_bulk *b, int64_t id) {
    if (!b->behind) return;
    if (id >= b->first_new_id) {
        bulk_node_wait w = {b, id};
        bulk_behind_wait(b->behind, bulk_node_written, &w);
    }
    bulk_behind_lock(b->behind);
}

/* Ends bulk_read_begin's hold. */
void bulk_read_end(graph_bulk *b) {
    if (b->behind) bulk_behind_unlock(b->behind);
}

/* Runs op now, or queues it for the write thread: started at the first op
 * once the load resolves rows from its maps (not while it probes an index
 * per row, which would wait for the thread every row). */
gs_status bulk_write(graph_bulk *b, const bulk_op *op, gs_error *err) {
    if (!b->behind && b->behind_bytes && b->probes_left == 0) {
        atomic_store(&b->written_node_id, b->next_node_id - 1);   /* every node so far is written */
        b->behind = bulk_behind_start(b->behind_bytes, bulk_op_exec, b);
        if (!b->behind) b->behind_bytes = 0;   /* no thread: rows are written in line */
    }
    if (!b->behind) return bulk_op_run(b, op, err);
    size_t n = 1 + sizeof op->i + sizeof op->n + (size_t)op->n[0] + op->n[1] + op->n[2];
    unsigned char *p = bulk_behind_append(b->behind, n);
    if (!p) {
        gs_status r = bulk_settle(b, err);
        return r != GS_OK ? r : gs_fail(err, GS_IO, "out of memory");
    }
    *p++ = (unsigned char)op->kind;
    memcpy(p, op->i, sizeof op->i);
    p += sizeof op->i;
    memcpy(p, op->n, sizeof op->n);
    p += sizeof op->n;
    for (int k = 0; k < 3; k++) {
        if (op->n[k]) memcpy(p, op->s[k], op->n[k]);
        p += op->n[k];
    }
    return GS_OK;
}

/* Stops the write thread (after it ran what is queued); its failure, if any. */
gs_status bulk_behind_end(graph_bulk *b, gs_error *err) {
    if (!b->behind) return GS_OK;
    b->behind_cpu += bulk_behind_cpu_s(b->behind);
    b->behind_waits += bulk_behind_waits(b->behind);
    gs_status r = bulk_behind_stop(b->behind, err);
    b->behind = NULL;
    return r;
}

/* The ids the next created node and relationship get (after a merge that
 * created one; the connection is the load's: settled). */
gs_status bulk_next_ids(graph_bulk *b, gs_error *err) {
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = b->st[i ? BS_NEXT_REL_ID : BS_NEXT_NODE_ID];
        gs_status r = sqlite3_step(st) == SQLITE_ROW ? GS_OK : gs_sqlfail(b->s, err, "bulk load: reading ids");
        if (r == GS_OK) *(i ? &b->next_rel_id : &b->next_node_id) = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (r != GS_OK) return r;
    }
    atomic_store(&b->written_node_id, b->next_node_id - 1);   /* settled: every node is written */
    return GS_OK;
}

/* See bulk_load.h: one rowid probe, once the node is written if the load created it. */
bool graph_bulk_node_exists(graph_bulk *b, int64_t id) {
    bulk_read_begin(b, id);
    sqlite3_stmt *st = b->st[BS_NODE_EXISTS];
    sqlite3_bind_int64(st, 1, id);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    bulk_read_end(b);
    return yes;
}

/* See bulk_load.h. */
void graph_bulk_write_stats(graph_bulk *b, double *cpu_s, unsigned long *waits) {
    if (b->behind) bulk_settle(b, NULL);   /* what is queued runs first; a failure stays for graph_bulk_end */
    *cpu_s = b->behind_cpu + (b->behind ? bulk_behind_cpu_s(b->behind) : 0);
    *waits = b->behind_waits + bulk_behind_waits(b->behind);
}
