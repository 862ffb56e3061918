/*
 * graph/export_page.c - whole entities a page at a time, for exporters (see
 * export_page.h for the invariants). Before it, ctx:nodes read each node
 * with three statements and a JSON tree ({"$node":...}, then its aliases),
 * and each page's claims as one JSON object keyed by id text: a 1M-node
 * export spent more time building and freeing those trees than reading.
 */
#include "export_page.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* Appends a NUL-terminated copy of s to the page's strings; UINT32_MAX on OOM. */
static uint32_t page_str(graph_page *pg, const char *s, size_t n) {
    if (!s) s = "", n = 0;
    if (pg->nstr == pg->cstr) {
        uint32_t nc = pg->cstr ? pg->cstr * 2 : 1024;
        uint32_t *no = realloc(pg->str_off, nc * sizeof *no);
        if (!no) return UINT32_MAX;
        pg->str_off = no;
        uint32_t *nl = realloc(pg->str_len, nc * sizeof *nl);
        if (!nl) return UINT32_MAX;
        pg->str_len = nl;
        pg->cstr = nc;
    }
    if (n >= UINT32_MAX - pg->len - 1) return UINT32_MAX;   /* offsets are 32-bit: pages stay far below */
    if (pg->cap - pg->len < n + 1) {
        size_t nc = pg->cap ? pg->cap : 64 * 1024;
        while (nc - pg->len < n + 1) nc *= 2;
        char *nb = realloc(pg->buf, nc);
        if (!nb) return UINT32_MAX;
        pg->buf = nb;
        pg->cap = nc;
    }
    memcpy(pg->buf + pg->len, s, n);
    pg->buf[pg->len + n] = '\0';
    pg->str_off[pg->nstr] = (uint32_t)pg->len;
    pg->str_len[pg->nstr] = (uint32_t)n;
    pg->len += n + 1;
    return pg->nstr++;
}

/* Column col of the current row as a page string. */
static uint32_t page_col(graph_page *pg, sqlite3_stmt *st, int col) {
    return page_str(pg, (const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
}

/* Appends a claim to list l; NULL on OOM. */
static graph_page_claim *page_claim(graph_page *pg, graph_claim_list l) {
    if (pg->nclaims[l] == pg->cclaims[l]) {
        uint32_t nc = pg->cclaims[l] ? pg->cclaims[l] * 2 : 256;
        graph_page_claim *np = realloc(pg->claims[l], nc * sizeof *np);
        if (!np) return NULL;
        pg->claims[l] = np;
        pg->cclaims[l] = nc;
    }
    graph_page_claim *c = &pg->claims[l][pg->nclaims[l]++];
    memset(c, 0, sizeof *c);
    return c;
}

/* The page index of entity id at or after *cur (rows come in id order), or -1 if the page has none. */
static int page_find(const graph_page *pg, int *cur, int64_t id) {
    while (*cur < pg->n && pg->ent[*cur].id < id) (*cur)++;
    return *cur < pg->n && pg->ent[*cur].id == id ? *cur : -1;
}

/* The first statement: ids and props (and type, ends) of the page's entities. */
static gs_status page_entities(graph_store *s, bool rels, const char *filter, int64_t after, graph_page *pg,
                               gs_error *err) {
    gs_stmt_id sid = rels ? (filter ? GS_ST_PAGE_RELS_TYPE : GS_ST_PAGE_RELS)
                          : (filter ? GS_ST_PAGE_NODES_LABEL : GS_ST_PAGE_NODES);
    sqlite3_stmt *st = gs_stmt(s, sid, err);
    if (!st) return GS_IO;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, GRAPH_PAGE_MAX);
    if (filter) sqlite3_bind_text(st, 3, filter, -1, SQLITE_STATIC);
    int rc;
    gs_status r = GS_OK;
    bool full = false;
    while (!full && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        graph_page_ent *e = &pg->ent[pg->n];
        memset(e, 0, sizeof *e);
        e->id = sqlite3_column_int64(st, 0);
        if (rels) {
            e->type = page_col(pg, st, 1);
            e->start = sqlite3_column_int64(st, 2);
            e->end = sqlite3_column_int64(st, 3);
            e->props = page_col(pg, st, 4);
        } else {
            e->props = page_col(pg, st, 1);
        }
        if (e->props == UINT32_MAX || e->type == UINT32_MAX) {
            r = gs_fail(err, GS_IO, "out of memory");
            break;
        }
        pg->n++;
        full = pg->n == GRAPH_PAGE_MAX || pg->len > GRAPH_PAGE_BYTES;
    }
    if (r == GS_OK && !full && rc != SQLITE_DONE) r = gs_sqlfail(s, err, rels ? "reading relationships" : "reading nodes");
    /* a short page is the last; a full one may be too, which the next read finds out */
    pg->done = r == GS_OK && !full;
    sqlite3_reset(st);
    return r;
}

/* Labels (list 0) or aliases (list 1) of a node page, column 1 of a range
 * statement (or column 0 of the per-node one) as consecutive strings. */
static gs_status page_node_strings(graph_store *s, graph_page *pg, bool aliases, gs_error *err) {
    int64_t first = pg->ent[0].id, last = pg->ent[pg->n - 1].id;
    /* a range reads the rows of every node between: worth it only when the page is dense
     * (a label filter may leave a few nodes spread over millions of ids) */
    bool range = last - first < 4 * (int64_t)pg->n;
    const char *what = aliases ? "reading aliases" : "reading labels";
    int cur = 0, rc = SQLITE_DONE;
    gs_status r = GS_OK;
    for (int i = 0; r == GS_OK && i < (range ? 1 : pg->n); i++) {
        sqlite3_stmt *st = gs_stmt(s, range ? (aliases ? GS_ST_PAGE_ALIASES : GS_ST_PAGE_LABELS)
                                            : (aliases ? GS_ST_ALIASES_OF : GS_ST_LABELS_OF), err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, range ? first : pg->ent[i].id);
        if (range) sqlite3_bind_int64(st, 2, last);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int k = range ? page_find(pg, &cur, sqlite3_column_int64(st, 0)) : i;
            if (k < 0) continue;
            uint32_t si = page_col(pg, st, range ? 1 : 0);
            if (si == UINT32_MAX) {
                r = gs_fail(err, GS_IO, "out of memory");
                break;
            }
            graph_page_ent *e = &pg->ent[k];
            uint32_t *at = aliases ? &e->aliases : &e->labels, *n = aliases ? &e->naliases : &e->nlabels;
            if ((*n)++ == 0) *at = si;
        }
        if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, what);
        sqlite3_reset(st);
    }
    return r;
}

/* Every claim on the page's entities, one range statement per list (as prov_claims_of's rows). */
static gs_status page_claims(graph_store *s, bool rels, graph_page *pg, gs_error *err) {
    static const char *const effects[] = {"asserted", "created", "updated"};
    const gs_stmt_id sids[GRAPH_CLAIM__LISTS] = {
        rels ? GS_ST_PAGE_REL_CLAIMS : GS_ST_PAGE_NODE_CLAIMS,
        rels ? GS_ST_PAGE_REL_PROP_CLAIMS : GS_ST_PAGE_NODE_PROP_CLAIMS,
        rels ? GS_ST__COUNT : GS_ST_PAGE_ALIAS_CLAIMS};
    for (int l = 0; l < GRAPH_CLAIM__LISTS && sids[l] != GS_ST__COUNT; l++) {
        sqlite3_stmt *st = gs_stmt(s, sids[l], err);
        if (!st) return GS_IO;
        sqlite3_bind_int64(st, 1, pg->ent[0].id);
        sqlite3_bind_int64(st, 2, pg->ent[pg->n - 1].id);
        int rc, cur = 0;
        gs_status r = GS_OK;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int k = page_find(pg, &cur, sqlite3_column_int64(st, 0));
            if (k < 0) continue;
            graph_page_claim *c = page_claim(pg, (graph_claim_list)l);
            if (!c) {
                r = gs_fail(err, GS_IO, "out of memory");
                break;
            }
            c->import = sqlite3_column_int64(st, 1);
            if (l == GRAPH_CLAIM_ENTITY) {
                int e = sqlite3_column_int(st, 2);
                c->effect = effects[e >= 0 && e <= 2 ? e : 0];
            } else if (l == GRAPH_CLAIM_PROPERTY) {
                c->key = page_col(pg, st, 2);
                c->value = page_col(pg, st, 3);
            } else {
                c->alias = page_col(pg, st, 2);
            }
            if (c->key == UINT32_MAX || c->value == UINT32_MAX || c->alias == UINT32_MAX) {
                r = gs_fail(err, GS_IO, "out of memory");
                break;
            }
            graph_page_ent *e = &pg->ent[k];
            if (e->nclaims[l]++ == 0) e->claims[l] = pg->nclaims[l] - 1;
        }
        if (r == GS_OK && rc != SQLITE_DONE) r = gs_sqlfail(s, err, "reading claims");
        sqlite3_reset(st);
        if (r != GS_OK) return r;
    }
    return GS_OK;
}

/* See export_page.h. */
gs_status graph_page_read(graph_store *s, bool rels, const char *filter, int64_t after, bool claims, graph_page *pg,
                          gs_error *err) {
    pg->n = 0;
    pg->done = true;
    pg->nstr = 0;
    pg->len = 0;
    for (int l = 0; l < GRAPH_CLAIM__LISTS; l++) pg->nclaims[l] = 0;
    gs_status r = page_entities(s, rels, filter, after, pg, err);
    if (r == GS_OK && pg->n > 0 && !rels) r = page_node_strings(s, pg, false, err);
    if (r == GS_OK && pg->n > 0 && !rels) r = page_node_strings(s, pg, true, err);
    if (r == GS_OK && pg->n > 0 && claims) r = page_claims(s, rels, pg, err);
    if (r != GS_OK) {
        pg->n = 0;
        pg->done = true;
    }
    return r;
}

/* See export_page.h. */
const char *graph_page_str(const graph_page *pg, uint32_t i, size_t *len) {
    if (len) *len = pg->str_len[i];
    return pg->buf + pg->str_off[i];
}

/* See export_page.h. */
json_t *graph_page_props(const graph_page *pg, int i, gs_error *err) {
    size_t len;
    const char *text = graph_page_str(pg, pg->ent[i].props, &len);
    return gs_props_load(text, len, err);
}

/* See export_page.h. */
void graph_page_free(graph_page *pg) {
    free(pg->str_off);
    free(pg->str_len);
    free(pg->buf);
    for (int l = 0; l < GRAPH_CLAIM__LISTS; l++) free(pg->claims[l]);
    memset(pg, 0, sizeof *pg);
}
