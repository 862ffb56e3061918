/*
 * graph/bulk_behind.c - a bulk load's write thread and its queue (see
 * bulk_behind.h). One producer (the load), one consumer (the thread); every
 * field marked "mu" is read and written under mu only.
 */
#include "bulk_behind.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ops sit in a block as [uint32 length][bytes], one after the other. */
typedef struct bh_block {
    struct bh_block *next;
    size_t len, cap;
    unsigned char data[];
} bh_block;

struct bulk_behind {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_mutex_t conn;      /* held by the thread while it runs an op, by the load in bulk_behind_lock */
    pthread_cond_t work;       /* the thread waits here: a block, or stop */
    pthread_cond_t progress;   /* the load waits here: a block ran */
    bh_block *head, *tail;     /* mu: blocks waiting for the thread, oldest first */
    size_t queued;             /* mu: bytes in waiting and running blocks */
    bool busy;                 /* mu: the thread is running a block */
    bool stop;                 /* mu: no more blocks will come */
    bool failed;               /* mu: an op failed; status and error say how */
    gs_status status;          /* mu */
    gs_error error;            /* mu */
    bh_block *spare;           /* mu: one block kept for reuse */
    bh_block *cur;             /* the load's block being filled (the load's alone) */
    size_t limit;
    bulk_behind_exec exec;
    void *ctx;
    clockid_t cpu;
    bool have_cpu;
    unsigned long waits;       /* the load's alone */
};

/* The thread: runs blocks in order until stopped; after a failure it drops
 * the ops of later blocks (the load is undone anyway) but keeps counting them
 * out, so syncs return. */
static void *bh_main(void *arg) {
    bulk_behind *q = arg;
    bool failed = false;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop) pthread_cond_wait(&q->work, &q->mu);
        bh_block *b = q->head;
        if (!b) break;   /* stopped, nothing left */
        q->head = b->next;
        if (!q->head) q->tail = NULL;
        q->busy = true;
        pthread_mutex_unlock(&q->mu);

        gs_status st = GS_OK;
        gs_error err = {{0}};
        for (size_t at = 0; !failed && at < b->len;) {
            uint32_t n;
            memcpy(&n, b->data + at, sizeof n);
            at += sizeof n;
            pthread_mutex_lock(&q->conn);
            st = q->exec(q->ctx, b->data + at, n, &err);
            pthread_mutex_unlock(&q->conn);
            at += n;
            if (st != GS_OK) failed = true;
        }

        pthread_mutex_lock(&q->mu);
        if (st != GS_OK && !q->failed) {
            q->failed = true;
            q->status = st;
            q->error = err;
        }
        q->busy = false;
        q->queued -= b->len;
        if (!q->spare && b->cap == BULK_BEHIND_BLOCK) q->spare = b;
        else free(b);
        pthread_cond_broadcast(&q->progress);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Frees q and what it holds (no thread running). */
static void bh_free(bulk_behind *q) {
    free(q->spare);
    free(q->cur);
    pthread_cond_destroy(&q->progress);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->conn);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* See bulk_behind.h. */
bulk_behind *bulk_behind_start(size_t queue_bytes, bulk_behind_exec exec, void *ctx) {
    bulk_behind *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->limit = queue_bytes < BULK_BEHIND_BLOCK ? BULK_BEHIND_BLOCK : queue_bytes;
    q->exec = exec;
    q->ctx = ctx;
    pthread_mutex_init(&q->mu, NULL);
    pthread_mutex_init(&q->conn, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->progress, NULL);
    if (pthread_create(&q->thread, NULL, bh_main, q) != 0) {
        bh_free(q);
        return NULL;
    }
    q->have_cpu = pthread_getcpuclockid(q->thread, &q->cpu) == 0;
    return q;
}

/* Hands the load's current block to the thread, first waiting while the
 * queue is at its limit. False if an op has failed (the block is dropped). */
static bool bh_submit(bulk_behind *q) {
    bh_block *b = q->cur;
    q->cur = NULL;
    if (!b || b->len == 0) {
        free(b);
        return true;
    }
    pthread_mutex_lock(&q->mu);
    while (q->queued >= q->limit && !q->failed) pthread_cond_wait(&q->progress, &q->mu);
    bool ok = !q->failed;
    if (ok) {
        b->next = NULL;
        if (q->tail) q->tail->next = b;
        else q->head = b;
        q->tail = b;
        q->queued += b->len;
        pthread_cond_signal(&q->work);
    }
    pthread_mutex_unlock(&q->mu);
    if (!ok) free(b);
    return ok;
}

/* See bulk_behind.h. */
unsigned char *bulk_behind_append(bulk_behind *q, size_t n) {
    size_t need = sizeof(uint32_t) + n;
    if (n > UINT32_MAX) return NULL;
    if (!q->cur || q->cur->cap - q->cur->len < need) {
        if (!bh_submit(q)) return NULL;
        size_t cap = need > BULK_BEHIND_BLOCK ? need : BULK_BEHIND_BLOCK;
        bh_block *b = NULL;
        if (cap == BULK_BEHIND_BLOCK) {
            pthread_mutex_lock(&q->mu);
            b = q->spare;
            q->spare = NULL;
            pthread_mutex_unlock(&q->mu);
        }
        if (!b && !(b = malloc(sizeof *b + cap))) return NULL;
        b->cap = cap;
        b->len = 0;
        q->cur = b;
    }
    bh_block *b = q->cur;
    uint32_t len = (uint32_t)n;
    memcpy(b->data + b->len, &len, sizeof len);
    unsigned char *p = b->data + b->len + sizeof len;
    b->len += need;
    return p;
}

/* See bulk_behind.h. */
gs_status bulk_behind_sync(bulk_behind *q, gs_error *err) {
    bh_submit(q);
    pthread_mutex_lock(&q->mu);
    if (q->head || q->busy) q->waits++;
    while (q->head || q->busy) pthread_cond_wait(&q->progress, &q->mu);
    gs_status st = q->failed ? q->status : GS_OK;
    if (q->failed && err) *err = q->error;
    pthread_mutex_unlock(&q->mu);
    return st;
}

/* See bulk_behind.h. */
void bulk_behind_wait(bulk_behind *q, bool (*done)(void *arg), void *arg) {
    if (done(arg)) return;
    bh_submit(q);
    pthread_mutex_lock(&q->mu);
    q->waits++;
    while ((q->head || q->busy) && !done(arg)) pthread_cond_wait(&q->progress, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

/* See bulk_behind.h. */
void bulk_behind_lock(bulk_behind *q) { pthread_mutex_lock(&q->conn); }

/* See bulk_behind.h. */
void bulk_behind_unlock(bulk_behind *q) { pthread_mutex_unlock(&q->conn); }

/* See bulk_behind.h. */
unsigned long bulk_behind_waits(const bulk_behind *q) { return q ? q->waits : 0; }

/* See bulk_behind.h. */
double bulk_behind_cpu_s(bulk_behind *q) {
    struct timespec ts;
    if (!q || !q->have_cpu || clock_gettime(q->cpu, &ts) != 0) return 0;
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* See bulk_behind.h. */
gs_status bulk_behind_stop(bulk_behind *q, gs_error *err) {
    if (!q) return GS_OK;
    gs_status st = bulk_behind_sync(q, err);
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    bh_free(q);
    return st;
}
