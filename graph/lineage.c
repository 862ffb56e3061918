/*
 * graph/lineage.c - ancestors and descendants as reply text: the walk
 * (graph/lineage_walk.c) gives the nodes and relationships, this file sorts
 * them and writes the JSON straight from the stored canonical props text, in
 * one read snapshot (graph/lineage.h). node.get's reply text lives here too.
 */
#include "lineage_int.h"
#include "adjacency.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Up to this many keys are sorted by insertion: an ancestry (a dozen nodes)
 * spent 5% of its request time clearing and summing the radix counters. */
#define GS_SMALL_SORT 32

/* LSD radix sort of 64-bit keys, 8 bits a pass; a pass whose byte is the same
 * for every key is skipped, so ids under 2^24 with a small depth take ~4 passes.
 * Replaces qsort (a function call per comparison) on 60k-element results;
 * GS_SMALL_SORT keys or fewer are sorted in place by insertion.
 * Returns false when out of memory (the caller falls back to qsort). */
static bool gs_radix_u64(uint64_t *a, size_t n) {
    if (n <= GS_SMALL_SORT) {
        for (size_t i = 1; i < n; i++) {
            uint64_t k = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1] > k; j--) a[j] = a[j - 1];
            a[j] = k;
        }
        return true;
    }
    uint64_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp) return false;
    uint64_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++) count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n) continue;   /* this byte sorts nothing */
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
    free(tmp);
    return true;
}

#define GS_ID_BITS 40   /* ids below 2^40 pack with a depth (or a position) into one sort key */

/* Result order for nodes: by depth, then id. */
static int gs_cmp_visit(const void *a, const void *b) {
    const gs_visit *x = a, *y = b;
    if (x->depth != y->depth) return x->depth < y->depth ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Sorts visits by (depth, id): one packed key each and a radix sort when the
 * ids allow it, else qsort. */
static void gs_sort_visits(gs_visit *v, size_t n) {
    uint64_t *keys = malloc(n * sizeof *keys);
    bool packed = keys != NULL;
    for (size_t i = 0; packed && i < n; i++) {
        if (v[i].id < 0 || (uint64_t)v[i].id >> GS_ID_BITS || v[i].depth < 0 || v[i].depth >= (1 << 23)) packed = false;
        else keys[i] = (uint64_t)v[i].depth << GS_ID_BITS | (uint64_t)v[i].id;
    }
    if (packed && gs_radix_u64(keys, n)) {
        for (size_t i = 0; i < n; i++)
            v[i] = (gs_visit){(int64_t)(keys[i] & ((1ULL << GS_ID_BITS) - 1)), (int)(keys[i] >> GS_ID_BITS)};
    } else {
        qsort(v, n, sizeof *v, gs_cmp_visit);
    }
    free(keys);
}

/* ---- the reply as text: no jansson tree for 60k nodes, props copied verbatim ---- */

/* A growable byte buffer; oom sticks so callers check once at the end. */
typedef struct gs_buf {
    char *p;
    size_t len, cap;
    bool oom;
} gs_buf;

/* Makes room for n more bytes (plus a NUL); false (and oom) on failure. */
static bool gs_buf_room(gs_buf *b, size_t n) {
    if (b->oom) return false;
    if (b->len + n + 1 <= b->cap) return true;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + n + 1) ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = ncap;
    return true;
}

/* Appends n raw bytes. */
static void gs_buf_add(gs_buf *b, const char *s, size_t n) {
    if (!gs_buf_room(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends a C string literal or text. */
static void gs_buf_str(gs_buf *b, const char *s) { gs_buf_add(b, s, strlen(s)); }

/* Appends a decimal integer (by hand: snprintf was a visible share of a 60k-node reply). */
static void gs_buf_int(gs_buf *b, int64_t v) {
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    gs_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* Appends s as a JSON string, escaped the way jansson does it (UTF-8 kept). */
static void gs_buf_jstr(gs_buf *b, const char *s, size_t n) {
    if (!gs_buf_room(b, n + 2)) return;
    b->p[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        gs_buf_add(b, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"': gs_buf_add(b, "\\\"", 2); break;
        case '\\': gs_buf_add(b, "\\\\", 2); break;
        case '\b': gs_buf_add(b, "\\b", 2); break;
        case '\f': gs_buf_add(b, "\\f", 2); break;
        case '\n': gs_buf_add(b, "\\n", 2); break;
        case '\r': gs_buf_add(b, "\\r", 2); break;
        case '\t': gs_buf_add(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            gs_buf_add(b, esc, 6);
        }
    }
    gs_buf_add(b, s + run, n - run);
    gs_buf_add(b, "\"", 1);
}

/* Appends a node's labels as JSON strings, in order: from the adjacency index
 * when it is this read's snapshot and knows them (one label or none, the
 * common case), else from node_labels. The snapshot already holds the node. */
static gs_status gs_emit_labels(graph_store *s, gs_buf *b, int64_t id, gs_error *err) {
    if (graph_adj_begin(s)) {
        const char *label = NULL;
        int n = graph_adj_sole_label(s, id, &label);
        if (n == 1) gs_buf_jstr(b, label, strlen(label));
        graph_adj_end(s);
        if (n >= 0) return GS_OK;
    }
    sqlite3_stmt *lt = gs_stmt(s, GS_ST_LABELS_OF, err);
    if (!lt) return GS_IO;
    sqlite3_bind_int64(lt, 1, id);
    int n = 0, rc;
    while ((rc = sqlite3_step(lt)) == SQLITE_ROW) {
        if (n++) gs_buf_add(b, ",", 1);
        gs_buf_jstr(b, (const char *)sqlite3_column_text(lt, 0), (size_t)sqlite3_column_bytes(lt, 0));
    }
    sqlite3_reset(lt);
    return rc == SQLITE_DONE ? GS_OK : gs_sqlfail(s, err, "reading labels");
}

/* Appends {"$node":{"id":..,"labels":[..],"properties":{..}}} without the
 * closing brace of the outer object, so the caller may add "depth". Reads the
 * stored canonical props text and the labels; GS_NOT_FOUND if absent. */
static gs_status gs_emit_node_open(graph_store *s, gs_buf *b, int64_t id, gs_error *err) {
    sqlite3_stmt *st = gs_stmt(s, GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? gs_fail(err, GS_NOT_FOUND, "node %" PRId64 " not found", id)
                                 : gs_sqlfail(s, err, "reading a node");
    }
    gs_buf_str(b, "{\"$node\":{\"id\":");
    gs_buf_int(b, id);
    gs_buf_str(b, ",\"labels\":[");
    gs_status r = gs_emit_labels(s, b, id, err);
    gs_buf_str(b, "],\"properties\":");
    const char *props = (const char *)sqlite3_column_text(st, 0);
    if (props) gs_buf_add(b, props, (size_t)sqlite3_column_bytes(st, 0));
    else gs_buf_str(b, "{}");
    gs_buf_add(b, "}", 1);
    sqlite3_reset(st);
    return r;
}

/* node.get's reply as text, {"$node":{"id","labels","properties"}}: the same
 * bytes the jansson path (gs_node_json + json_dumps) gives, since stored props
 * are canonical compact JSON, without parsing and re-encoding them per request. */
gs_status graph_node_text(graph_store *s, int64_t id, char **out, size_t *len, gs_error *err) {
    gs_buf b = {0};
    *out = NULL;
    *len = 0;
    gs_status r = gs_emit_node_open(s, &b, id, err);
    gs_buf_add(&b, "}", 1);
    if (r == GS_OK && b.oom) r = gs_fail(err, GS_IO, "out of memory");
    if (r != GS_OK) {
        free(b.p);
        return r;
    }
    *out = b.p;
    *len = b.len;
    return GS_OK;
}

/* Reads nodes' (or relationships') stored props text one after another. A
 * reply fetches tens of thousands of them: an incremental-blob handle moved
 * from row to row (sqlite3_blob_reopen) costs less than a statement run per
 * row. A missing row, a NULL or any blob error falls back to the statement,
 * which reports it. rels: relationships (else nodes). */
typedef struct gs_props_reader {
    sqlite3_blob *blob;
    bool no_blob, rels;
    char *buf;
    size_t cap;
} gs_props_reader;

/* Makes pr->buf hold n bytes and a NUL. */
static bool gs_props_room(gs_props_reader *pr, size_t n) {
    if (n + 1 <= pr->cap) return true;
    size_t ncap = pr->cap ? pr->cap : 1024;
    while (ncap < n + 1) ncap *= 2;
    char *np = realloc(pr->buf, ncap);
    if (!np) return false;
    pr->buf = np;
    pr->cap = ncap;
    return true;
}

/* The props text of node (or relationship) id, valid until the next call, or GS_NOT_FOUND. */
static gs_status gs_props_read(graph_store *s, gs_props_reader *pr, int64_t id, const char **text, size_t *len,
                               gs_error *err) {
    if (!pr->no_blob) {
        int rc = pr->blob ? sqlite3_blob_reopen(pr->blob, id)
                          : sqlite3_blob_open(s->db, "main", pr->rels ? "rels" : "nodes", "props", id, 0, &pr->blob);
        if (rc == SQLITE_OK) {
            int n = sqlite3_blob_bytes(pr->blob);
            if (gs_props_room(pr, (size_t)n) && sqlite3_blob_read(pr->blob, pr->buf, n, 0) == SQLITE_OK) {
                pr->buf[n] = '\0';
                *text = pr->buf;
                *len = (size_t)n;
                return GS_OK;
            }
        }
        if (pr->blob) sqlite3_blob_close(pr->blob);
        pr->blob = NULL;
        pr->no_blob = true;
    }
    sqlite3_stmt *st = gs_stmt(s, pr->rels ? GS_ST_REL_GET : GS_ST_NODE_PROPS, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), col = pr->rels ? 4 : 0;
    gs_status r = GS_OK;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, col);
        size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 2;
        if (!gs_props_room(pr, n)) r = gs_fail(err, GS_IO, "out of memory");
        else {
            memcpy(pr->buf, t ? t : "{}", n);
            pr->buf[n] = '\0';
            *text = pr->buf;
            *len = n;
        }
    } else {
        r = rc == SQLITE_DONE ? gs_fail(err, GS_NOT_FOUND, "%s %" PRId64 " not found", pr->rels ? "relationship" : "node", id)
                              : gs_sqlfail(s, err, pr->rels ? "reading a relationship" : "reading a node");
    }
    sqlite3_reset(st);
    return r;
}


/* FIELDS mode: {"id":N,"depth":D,"properties":{only the asked keys}}. Scans
 * the node's canonical props text for the top-level keys (compared in their
 * escaped form, jkeys[f]) and copies the values' text as stored. */
static gs_status gs_emit_fields(graph_store *s, gs_buf *b, const gs_visit *v, const graph_lineage_opts *o,
                                char *const *jkeys, gs_props_reader *pr, gs_error *err) {
    const char *text = NULL;
    size_t tlen = 0;
    gs_status r = gs_props_read(s, pr, v->id, &text, &tlen, err);
    if (r != GS_OK) return r;
    gs_buf_str(b, "{\"id\":");
    gs_buf_int(b, v->id);
    gs_buf_str(b, ",\"depth\":");
    gs_buf_int(b, v->depth);
    gs_buf_str(b, ",\"properties\":{");
    int n = 0;
    for (size_t f = 0; f < o->nfields; f++) {
        size_t klen = strlen(jkeys[f]);
        const char *ve, *val = gs_json_find_key(text, tlen, jkeys[f], klen, &ve);
        if (val) {
            if (n++) gs_buf_add(b, ",", 1);
            gs_buf_add(b, jkeys[f], klen);
            gs_buf_add(b, ":", 1);
            gs_buf_add(b, val, (size_t)(ve - val));
        }
    }
    gs_buf_str(b, "}}");
    return GS_OK;
}

/* gs_emit_node_open for many nodes: the same text, the props read through
 * the incremental-blob reader (gs_props_read) instead of a statement run. */
static gs_status gs_emit_node_read(graph_store *s, gs_buf *b, int64_t id, gs_props_reader *pr, gs_error *err) {
    const char *text = NULL;
    size_t len = 0;
    gs_status r = gs_props_read(s, pr, id, &text, &len, err);
    if (r != GS_OK) return r;
    gs_buf_str(b, "{\"$node\":{\"id\":");
    gs_buf_int(b, id);
    gs_buf_str(b, ",\"labels\":[");
    r = gs_emit_labels(s, b, id, err);
    gs_buf_str(b, "],\"properties\":");
    gs_buf_add(b, text, len);
    gs_buf_add(b, "}", 1);
    return r;
}

/* A node id and its position in the depth-ordered visits. */
typedef struct gs_idpos {
    int64_t id;
    size_t pos;
} gs_idpos;

/* Fetch order: by node id. */
static int gs_cmp_idpos(const void *a, const void *b) {
    int64_t x = ((const gs_idpos *)a)->id, y = ((const gs_idpos *)b)->id;
    return (x > y) - (x < y);
}

/* order[k] = the position in visits of the k-th node by id, with a radix sort
 * of (id << 24 | position) keys; false when the ids or n do not fit (qsort then). */
static bool gs_fetch_order(const gs_visit *visits, size_t n, size_t *order) {
    if (n >= (1u << 24)) return false;
    uint64_t *keys = malloc(n * sizeof *keys);
    if (!keys) return false;
    for (size_t i = 0; i < n; i++) {
        int64_t id = visits[i + 1].id;
        if (id < 0 || (uint64_t)id >> GS_ID_BITS) {
            free(keys);
            return false;
        }
        keys[i] = (uint64_t)id << 24 | (uint64_t)(i + 1);
    }
    bool ok = gs_radix_u64(keys, n);
    for (size_t k = 0; ok && k < n; k++) order[k] = (size_t)(keys[k] & 0xffffff);
    free(keys);
    return ok;
}

/* FIELDS mode for `fields:["name"]` from the names the adjacency index keeps
 * (adjacency.h), in the fragment layout gs_emit_nodes uses; false (and frag
 * emptied) when the index is not this read's snapshot or has no names: then
 * the caller reads SQLite. jkey is "name" as a JSON string. */
static bool gs_emit_names_mem(graph_store *s, gs_buf *frag, const gs_visit *visits, size_t n, const size_t *order,
                              size_t *off, const char *jkey) {
    if (!graph_adj_begin(s)) return false;
    bool ok = true;
    for (size_t k = 0; ok && k < n; k++) {
        const gs_visit *v = &visits[order[k]];
        const char *text;
        size_t len;
        off[order[k] - 1] = frag->len;
        ok = graph_adj_node_name(s, v->id, &text, &len);
        gs_buf_str(frag, "{\"id\":");
        gs_buf_int(frag, v->id);
        gs_buf_str(frag, ",\"depth\":");
        gs_buf_int(frag, v->depth);
        gs_buf_str(frag, ",\"properties\":{");
        if (ok && text) {
            gs_buf_str(frag, jkey);
            gs_buf_add(frag, ":", 1);
            gs_buf_add(frag, text, len);
        }
        gs_buf_str(frag, "}}");
    }
    graph_adj_end(s);
    if (!ok) frag->len = 0;
    return ok;
}

/* The nodes array's elements (visits[1..], already in depth order): fetched in
 * id order, so consecutive B-tree lookups share pages, into a side buffer, then
 * copied out in depth order. */
static gs_status gs_emit_nodes(graph_store *s, gs_buf *b, const gs_visit *visits, size_t nvisits,
                               const graph_lineage_opts *o, gs_error *err) {
    size_t n = nvisits - 1;
    if (n == 0) return GS_OK;
    char **jkeys = calloc(o->nfields ? o->nfields : 1, sizeof *jkeys);   /* fields as JSON strings */
    bool keys_ok = jkeys != NULL;
    for (size_t f = 0; keys_ok && f < o->nfields; f++) {
        gs_buf kb = {0};
        gs_buf_jstr(&kb, o->fields[f], strlen(o->fields[f]));
        jkeys[f] = kb.p;
        keys_ok = !kb.oom;
    }
    gs_idpos *ord = malloc(n * sizeof *ord);
    size_t *order = malloc(n * sizeof *order), *off = malloc((n + 1) * sizeof *off);
    gs_buf frag = {0};
    gs_props_reader pr = {0};
    gs_status r = keys_ok && ord && order && off ? GS_OK : gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK && !gs_fetch_order(visits, n, order)) {
        for (size_t i = 0; i < n; i++) ord[i] = (gs_idpos){visits[i + 1].id, i + 1};
        qsort(ord, n, sizeof *ord, gs_cmp_idpos);
        for (size_t i = 0; i < n; i++) order[i] = ord[i].pos;
    }
    free(ord);
    /* names only, and the in-memory index is this snapshot: no SQLite read per node */
    bool done = r == GS_OK && o->mode == GRAPH_LINEAGE_FIELDS && o->nfields == 1 &&
                strcmp(o->fields[0], "name") == 0 && gs_emit_names_mem(s, &frag, visits, n, order, off, jkeys[0]);
    for (size_t k = 0; r == GS_OK && !done && k < n; k++) {
        const gs_visit *v = &visits[order[k]];
        off[order[k] - 1] = frag.len;
        if (o->mode == GRAPH_LINEAGE_FIELDS) {
            r = gs_emit_fields(s, &frag, v, o, jkeys, &pr, err);
        } else {
            r = gs_emit_node_read(s, &frag, v->id, &pr, err);
            gs_buf_str(&frag, ",\"depth\":");
            gs_buf_int(&frag, v->depth);
            gs_buf_add(&frag, "}", 1);
        }
    }
    if (r == GS_OK && frag.oom) r = gs_fail(err, GS_IO, "out of memory");
    if (r == GS_OK) {
        /* a fragment ends where the one fetched after it starts */
        size_t *end = malloc(n * sizeof *end);
        if (!end) r = gs_fail(err, GS_IO, "out of memory");
        for (size_t k = 0; r == GS_OK && k < n; k++)
            end[order[k] - 1] = k + 1 < n ? off[order[k + 1] - 1] : frag.len;
        for (size_t i = 0; r == GS_OK && i < n; i++) {
            if (i) gs_buf_add(b, ",", 1);
            gs_buf_add(b, frag.p + off[i], end[i] - off[i]);
        }
        free(end);
    }
    for (size_t f = 0; jkeys && f < o->nfields; f++) free(jkeys[f]);
    free(jkeys);
    free(order);
    free(off);
    free(frag.p);
    if (pr.blob) sqlite3_blob_close(pr.blob);
    free(pr.buf);
    return r;
}

/* qsort order of relationships: by id. */
static int gs_cmp_step(const void *a, const void *b) {
    int64_t x = ((const gs_step *)a)->rel, y = ((const gs_step *)b)->rel;
    return (x > y) - (x < y);
}

/* Relationships in id order: one packed key (id, position) each and a radix
 * sort when they fit, else qsort. */
static void gs_sort_steps(gs_step *steps, size_t n) {
    uint64_t *keys = malloc(n * sizeof *keys);
    gs_step *tmp = malloc(n * sizeof *tmp);
    bool packed = keys && tmp && n < (1u << 20);
    for (size_t i = 0; packed && i < n; i++) {
        if (steps[i].rel < 0 || (uint64_t)steps[i].rel >> 43) packed = false;
        else keys[i] = (uint64_t)steps[i].rel << 20 | i;
    }
    if (packed && gs_radix_u64(keys, n)) {
        memcpy(tmp, steps, n * sizeof *steps);
        for (size_t i = 0; i < n; i++) steps[i] = tmp[keys[i] & ((1u << 20) - 1)];
    } else {
        qsort(steps, n, sizeof *steps, gs_cmp_step);
    }
    free(keys);
    free(tmp);
}

/* Appends {"$rel":{"id","type","start","end","properties"}} of one traversed
 * relationship: id, type and ends as the walk found them (the same read
 * snapshot), the props text as stored, through the blob reader. */
static gs_status gs_emit_step(graph_store *s, gs_buf *b, const gs_step *st, const char *const *types,
                              gs_props_reader *pr, gs_error *err) {
    const char *props = NULL;
    size_t plen = 0;
    gs_status r = gs_props_read(s, pr, st->rel, &props, &plen, err);
    if (r != GS_OK) return r;
    gs_buf_str(b, "{\"$rel\":{\"id\":");
    gs_buf_int(b, st->rel);
    gs_buf_str(b, ",\"type\":");
    gs_buf_jstr(b, types[st->type], strlen(types[st->type]));
    gs_buf_str(b, ",\"start\":");
    gs_buf_int(b, st->start);
    gs_buf_str(b, ",\"end\":");
    gs_buf_int(b, st->end);
    gs_buf_str(b, ",\"properties\":");
    gs_buf_add(b, props, plen);
    gs_buf_str(b, "}}");
    return GS_OK;
}

/* Writes the rest of the result object for the chosen mode, after "root"
 * (already in b). visits[0] is the root. */
static gs_status gs_lineage_emit(graph_store *s, gs_buf *b, gs_visit *visits, size_t nvisits, gs_step *rels,
                                 size_t nrels, const char *const *types, const graph_lineage_opts *o,
                                 gs_error *err) {
    gs_status r = GS_OK;
    if (nvisits > 2 && o->mode != GRAPH_LINEAGE_COUNT) gs_sort_visits(visits + 1, nvisits - 1);
    if (o->mode == GRAPH_LINEAGE_COUNT) {
        gs_buf_str(b, ",\"count\":");
        gs_buf_int(b, (int64_t)nvisits - 1);
        gs_buf_str(b, ",\"relationships\":");
        gs_buf_int(b, (int64_t)nrels);
        gs_buf_add(b, "}", 1);
        return GS_OK;
    }
    if (o->mode == GRAPH_LINEAGE_FIELDS) {
        gs_buf_str(b, ",\"count\":");
        gs_buf_int(b, (int64_t)nvisits - 1);
    }
    gs_buf_str(b, ",\"nodes\":[");
    r = gs_emit_nodes(s, b, visits, nvisits, o, err);
    if (o->mode == GRAPH_LINEAGE_FIELDS) {
        gs_buf_str(b, "]}");
        return r;
    }
    gs_buf_str(b, "],\"relationships\":[");
    if (nrels > 1) gs_sort_steps(rels, nrels);
    gs_props_reader pr = {.rels = true};
    for (size_t i = 0; r == GS_OK && i < nrels; i++) {
        if (i) gs_buf_add(b, ",", 1);
        r = gs_emit_step(s, b, &rels[i], types, &pr, err);
    }
    if (pr.blob) sqlite3_blob_close(pr.blob);
    free(pr.buf);
    gs_buf_str(b, "]}");
    return r;
}

/* lineage as text: checks arguments, BFS and output in one read snapshot. */
gs_status graph_lineage_text(graph_store *s, int64_t root, const graph_lineage_opts *o, char **out, size_t *len,
                             gs_error *err) {
    static const char *const default_types[] = {"BASED_ON", "DISTILLED_FROM"};
    *out = NULL;
    *len = 0;
    if (o->dir != GRAPH_UP && o->dir != GRAPH_DOWN) return gs_fail(err, GS_INVALID, "direction must be up or down");
    const char *const *types = o->types;
    size_t ntypes = o->ntypes;
    if (!types || ntypes == 0) {
        types = default_types;
        ntypes = 2;
    }
    for (size_t f = 0; f < o->nfields; f++)
        if (!gs_utf8_ok(o->fields[f])) return gs_fail(err, GS_INVALID, "fields[%zu] must be a non-empty UTF-8 string", f);
    /* deduplicated copy, so each relationship is found once */
    const char **uniq = calloc(ntypes, sizeof *uniq);
    if (!uniq) return gs_fail(err, GS_IO, "out of memory");
    size_t nuniq = 0;
    for (size_t i = 0; i < ntypes; i++) {
        if (!gs_utf8_ok(types[i])) {
            free(uniq);
            return gs_fail(err, GS_INVALID, "types[%zu] must be a non-empty UTF-8 string", i);
        }
        bool dup = false;
        for (size_t j = 0; j < nuniq && !dup; j++) dup = strcmp(uniq[j], types[i]) == 0;
        if (!dup) uniq[nuniq++] = types[i];
    }
    bool token = false;
    gs_status r = gs_read_begin(s, &token, err);
    gs_visit *visits = NULL;
    size_t nvisits = 0, nrels = 0;
    gs_step *rels = NULL;
    gs_buf b = {0};
    if (r == GS_OK) {   /* the root first: "node 42 not found" before any traversal */
        gs_buf_str(&b, "{\"root\":");
        r = gs_emit_node_open(s, &b, root, err);
        gs_buf_add(&b, "}", 1);
    }
    if (r == GS_OK) r = gs_lineage_walk(s, root, o, uniq, nuniq, &visits, &nvisits, &rels, &nrels, err);
    if (r == GS_OK) r = gs_lineage_emit(s, &b, visits, nvisits, rels, nrels, uniq, o, err);
    gs_read_end(s, token);
    free(visits);
    free(rels);
    free(uniq);
    if (r == GS_OK && b.oom) r = gs_fail(err, GS_IO, "out of memory");
    if (r != GS_OK) {
        free(b.p);
        return r;
    }
    *out = b.p;
    *len = b.len;
    return GS_OK;
}

/* lineage (store.h): the FULL text form parsed back, for C callers and tests. */
gs_status graph_lineage(graph_store *s, int64_t root, graph_direction dir, const char *const *types, size_t ntypes,
                        int max_depth, json_t **out, gs_error *err) {
    graph_lineage_opts o = {.dir = dir, .types = types, .ntypes = ntypes, .max_depth = max_depth};
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    gs_status r = graph_lineage_text(s, root, &o, &text, &len, err);
    if (r != GS_OK) return r;
    json_error_t jerr;
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    return *out ? GS_OK : gs_fail(err, GS_IO, "lineage: bad reply text: %s", jerr.text);
}
