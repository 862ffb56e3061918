/*
 * graph/claim_ranges.c - node and relationship claims written as id ranges.
 *
 * A bulk load claims every entity it creates, and every known node its
 * relationships name. As one claim row each, that was ~3 million rows (two
 * B-trees each) for a load of 1M nodes + 1M relationships and a fifth of its
 * time. Those claims come in runs of consecutive ids, so since schema step 5
 * (graph/schema.c) they are stored as ranges: one *_claim_ranges row per run of
 * at most GS_CLAIM_SPAN ids. The node_claims and rel_claims views show both
 * kinds as the tables used to; the invariants that make that exact are in
 * step 5's comment. This file only writes ranges; the views' triggers move a
 * claim out of its range when it changes or goes.
 */
#include "store_internal.h"

#include <stdlib.h>

/* See store_internal.h. */
gs_status gs_claim_range_put(graph_store *s, bool node, int64_t lo, int64_t hi, int64_t import, int created,
                             bool props_implicit, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, node ? GS_ST_CLAIM_RANGE_NODE : GS_ST_CLAIM_RANGE_REL, err);
    if (!st) return GS_IO;
    gs_status r = GS_OK;
    for (int64_t a = lo; r == GS_OK && a <= hi; a += GS_CLAIM_SPAN) {
        int64_t b = hi - a >= GS_CLAIM_SPAN ? a + GS_CLAIM_SPAN - 1 : hi;
        sqlite3_bind_int64(st, 1, a);
        sqlite3_bind_int64(st, 2, b);
        sqlite3_bind_int64(st, 3, import);
        sqlite3_bind_int(st, 4, created);
        sqlite3_bind_int(st, 5, props_implicit ? 1 : 0);
        r = gs_exec_stmt(s, st, "recording a claim range", err);
    }
    return r;
}

/* The ids in lo..hi the import claims already, ascending, into *out. */
static gs_status claimed_in(graph_store *s, int64_t lo, int64_t hi, int64_t import, gs_ids *out, gs_error *err) {
    out->n = 0;
    sqlite3_stmt *st = gs_stmt(s, GS_ST_CLAIMED_NODES_IN, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, import);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    int rc;
    gs_status r = GS_OK;
    while (r == GS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (!gs_ids_push(out, sqlite3_column_int64(st, 0))) r = gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading claims");
    sqlite3_reset(st);
    return r;
}

/* See store_internal.h. Each run of consecutive ids is checked against the
 * import's existing claims once (one indexed read; a fresh import has none),
 * and what is left of it becomes ranges. */
gs_status gs_claim_nodes_put(graph_store *s, const int64_t *ids, size_t n, int64_t import, gs_error *err) {
    gs_ids have = {0};
    gs_status r = GS_OK;
    for (size_t i = 0; r == GS_OK && i < n;) {
        size_t j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1) j++;
        int64_t next = ids[i], hi = ids[j];
        r = claimed_in(s, next, hi, import, &have, err);
        for (size_t k = 0; r == GS_OK && k <= have.n; k++) {
            int64_t stop = k < have.n ? have.v[k] - 1 : hi;   /* claimable up to the next claimed id */
            if (stop >= next) r = gs_claim_range_put(s, true, next, stop, import, 0, false, err);
            if (k < have.n) next = have.v[k] + 1;
        }
        i = j + 1;
    }
    gs_ids_free(&have);
    return r;
}
