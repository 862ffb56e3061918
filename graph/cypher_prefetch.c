/* graph/cypher_prefetch.c - one property of a whole scan page, read at once.
 *
 * A label (or all-nodes) scan gives the matcher its start nodes a page of ids at
 * a time (cypher_match.c, cy_scan_page_set). A query that reads n.k of each of
 * them would otherwise run two statements per node: its props text (the props
 * cache, cypher_store.c), then the member. Here the first read of n.k for a node
 * of the current page reads k of every node of the page from that id on, in one
 * statement with SQLite's JSON reader, and the page's other nodes find theirs in
 * memory: a column of (id, value text) pairs in id order.
 *
 * Invariants:
 * - a column is valid only while its gen equals q->gen + 1 (every write bumps
 *   q->gen), and only for ids in [lo, hi]; an id in that range that is not in the
 *   column is not a node of the scanned set (or was deleted) and is read the
 *   ordinary way, so a column never answers for a node it did not read;
 * - at most CY_PF_COLUMNS fetches per scan page (cy_scan_page.fetches): a query
 *   reading more keys of each node than there are columns reads the rest the
 *   ordinary way instead of fetching the page again for every read;
 * - a column holds at most CY_PF_MAX_BYTES of value text; a page whose values are
 *   bigger ends the column early (hi = the last id read), and the nodes after it
 *   are read the ordinary way or by the page's next fetch.
 *
 * Relationships have no scan page: a pattern reaches them through its nodes. But
 * their ids mostly follow their start nodes' (an import writes a model's
 * relationships after it), so r.k of a node scan's relationships is read in
 * nearly ascending id order. cy_prefetch_rel_prop reads ahead when it sees that:
 * after CY_PF_RUN reads that each came at most CY_PF_NEAR ids after the last
 * miss, it reads k of the next 64 relationship ids (doubling up to 4,096 while
 * the run lasts) in one statement. Its budget: the rows it fetches stay under 4
 * per relationship property read plus one window (rel_rows, rel_reads), so
 * reads in any other order cost at most that much more than before.
 */
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>

#define CY_PF_COLUMNS 4                      /* keys prefetched per scan page */
#define CY_PF_MAX_BYTES ((size_t)8 << 20)    /* value text one column holds */

#define CY_PF_NEAR 64                        /* ids between reads that count as in order */
#define CY_PF_RUN 2                          /* reads in order before reading ahead */
#define CY_PF_SPAN_MIN 64                    /* relationship ids read ahead, first and most */
#define CY_PF_SPAN_MAX 4096

enum { ST_PF_LABEL = CY_ST_FIRST_FREE + 12, ST_PF_ALL, ST_PF_RELS };
_Static_assert(ST_PF_RELS < CY_ST_SLOTS, "CY_ST_SLOTS too small");

static const char pf_label_sql[] =
    "SELECT l.node_id, n.props -> ?4 FROM node_labels l JOIN nodes n ON n.id = l.node_id "
    "WHERE l.label = ?1 AND l.node_id BETWEEN ?2 AND ?3 ORDER BY l.node_id";
static const char pf_all_sql[] = "SELECT id, props -> ?4 FROM nodes WHERE id BETWEEN ?2 AND ?3 ORDER BY id";
static const char pf_rels_sql[] = "SELECT id, props -> ?4 FROM rels WHERE id BETWEEN ?2 AND ?3 ORDER BY id";

#define PF_ABSENT SIZE_MAX   /* a len: the node has no such property */

typedef struct pf_col {
    char *key;            /* malloc'd; NULL: never filled */
    bool rel;             /* relationships' (read ahead), else nodes' (a scan page) */
    unsigned gen;         /* q->gen + 1 when filled */
    int64_t lo, hi;       /* the ids the column answers for */
    size_t n, cap;
    int64_t *ids;         /* ascending */
    size_t *off, *len;    /* value text of ids[i]: text + off[i], len[i] bytes (or PF_ABSENT) */
    char *text;
    size_t tlen, tcap;
    size_t cursor;        /* where the last lookup hit: a scan reads in id order */
} pf_col;

struct cy_prefetch {
    pf_col col[CY_PF_COLUMNS];
    unsigned next;        /* the column the next fetch replaces */
    int64_t rel_last;     /* the last relationship read not found in a column (or a column's end) */
    unsigned rel_run;     /* reads in a row that came at most CY_PF_NEAR ids after rel_last */
    uint64_t rel_reads, rel_rows;   /* relationship property reads, rows read ahead */
};

/* See cypher_int.h: a new page of label (NULL: all nodes) ending at id last. */
void cy_scan_page_set(cy_q *q, const char *label, int64_t last)
{
    q->scan = (cy_scan_page){.label = label, .hi = last, .cur = INT64_MIN, .fetches = 0, .set = true};
}

/* Empties a column for its next fill; its arrays keep their room (a scan fills
 * the same columns page after page). */
static void col_reset(pf_col *c)
{
    free(c->key);
    c->key = NULL;
    c->gen = 0;
    c->n = c->tlen = c->cursor = 0;
}

static void col_clear(pf_col *c)
{
    free(c->key);
    free(c->ids);
    free(c->off);
    free(c->len);
    free(c->text);
    memset(c, 0, sizeof *c);
}

void cy_prefetch_free(cy_q *q)
{
    if (!q->pf)
        return;
    for (size_t i = 0; i < CY_PF_COLUMNS; i++)
        col_clear(&q->pf->col[i]);
    free(q->pf);
    q->pf = NULL;
}

static void *xrealloc(void *p, size_t n)
{
    void *r = realloc(p, n);
    if (!r)
        abort();
    return r;
}

/* Appends one row to the column. */
static void col_push(pf_col *c, int64_t id, const char *t, size_t n, bool absent)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->ids = xrealloc(c->ids, c->cap * sizeof *c->ids);
        c->off = xrealloc(c->off, c->cap * sizeof *c->off);
        c->len = xrealloc(c->len, c->cap * sizeof *c->len);
    }
    if (!absent && c->tlen + n > c->tcap) {
        while (c->tlen + n > c->tcap)
            c->tcap = c->tcap ? c->tcap * 2 : 4096;
        c->text = xrealloc(c->text, c->tcap);
    }
    c->ids[c->n] = id;
    c->off[c->n] = c->tlen;
    c->len[c->n] = absent ? PF_ABSENT : n;
    if (!absent) {
        memcpy(c->text + c->tlen, t, n);
        c->tlen += n;
    }
    c->n++;
}

/* The query's prefetch state, made on first use. */
static struct cy_prefetch *pf_state(cy_q *q)
{
    if (!q->pf) {
        if (!(q->pf = calloc(1, sizeof *q->pf)))
            abort();
        q->pf->rel_last = INT64_MIN;
    }
    return q->pf;
}

/* Reads key (SQLite path `path`) into a column, replacing the least recently
 * filled one: of the relationships with ids in [from, to] (rel), or of the scan
 * page's nodes from id `from` to `to`. */
static int col_fill(cy_q *q, bool rel, const char *key, const char *path, int pathlen, int64_t from, int64_t to,
                    pf_col **out)
{
    struct cy_prefetch *pf = pf_state(q);
    pf_col *c = &pf->col[pf->next];
    pf->next = (pf->next + 1) % CY_PF_COLUMNS;
    col_reset(c);
    sqlite3_stmt *st = rel ? cy_stmt_sql(q, ST_PF_RELS, pf_rels_sql)
                       : q->scan.label ? cy_stmt_sql(q, ST_PF_LABEL, pf_label_sql) : cy_stmt_sql(q, ST_PF_ALL, pf_all_sql);
    if (!st)
        return -1;
    if (!rel && q->scan.label)
        sqlite3_bind_text(st, 1, q->scan.label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_text(st, 4, path, pathlen, SQLITE_STATIC);
    c->rel = rel;
    c->lo = from;
    c->hi = to;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool absent = sqlite3_column_type(st, 1) == SQLITE_NULL;
        const char *t = absent ? NULL : (const char *)sqlite3_column_text(st, 1);
        size_t n = absent ? 0 : (size_t)sqlite3_column_bytes(st, 1);
        col_push(c, id, t, n, absent);
        if (c->tlen > CY_PF_MAX_BYTES) {   /* big values: the column ends at this id */
            c->hi = id;
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        col_reset(c);
        return cy_rt(q, -1, "InternalError", "", "reading properties: %s", sqlite3_errmsg(graph_store_db(q->store)));
    }
    if (!(c->key = strdup(key)))
        abort();
    c->gen = q->gen + 1;
    *out = c;
    return 0;
}

/* The valid column of key that covers id (of a relationship when rel), or NULL. */
static pf_col *col_find(cy_q *q, bool rel, int64_t id, const char *key)
{
    if (!q->pf)
        return NULL;
    for (size_t i = 0; i < CY_PF_COLUMNS; i++) {
        pf_col *c = &q->pf->col[i];
        if (c->key && c->rel == rel && c->gen == q->gen + 1 && id >= c->lo && id <= c->hi && strcmp(c->key, key) == 0)
            return c;
    }
    return NULL;
}

/* Index of id in the column, or -1: the cursor and the row after it first (a
 * scan's nodes come in id order), then a binary search. */
static ptrdiff_t col_index(pf_col *c, int64_t id)
{
    for (size_t i = c->cursor; i < c->n && i < c->cursor + 2; i++)
        if (c->ids[i] == id)
            return (ptrdiff_t)(c->cursor = i);
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->n && c->ids[lo] == id)
        return (ptrdiff_t)(c->cursor = lo);
    return -1;
}

/* Id's value in column c: 0 with *out set, 1 when c does not hold id. */
static int col_value(cy_q *q, pf_col *c, int64_t id, cy_value *out)
{
    ptrdiff_t i = col_index(c, id);
    if (i < 0)
        return 1;
    if (c->len[i] == PF_ABSENT) {
        *out = cy_null();
        return 0;
    }
    return cy_value_from_json_text(q, c->text + c->off[i], c->len[i], out);
}

/* Node id's property key (SQLite path `path`) from a column, fetching the
 * column if id is the node the scan is at: 0 with *out set, 1 when the caller
 * must read it the ordinary way, -1 on error. */
int cy_prefetch_prop(cy_q *q, int64_t id, const char *key, const char *path, int pathlen, cy_value *out)
{
    pf_col *c = col_find(q, false, id, key);
    if (!c) {
        if (!q->scan.set || id != q->scan.cur || q->scan.fetches >= CY_PF_COLUMNS)
            return 1;
        q->scan.fetches++;
        if (col_fill(q, false, key, path, pathlen, id, q->scan.hi, &c))
            return -1;
    }
    return col_value(q, c, id, out);
}

/* Relationship id's property key from a column read ahead (see the top of the
 * file): 0 with *out set, 1 when the caller must read it the ordinary way. */
int cy_prefetch_rel_prop(cy_q *q, int64_t id, const char *key, const char *path, int pathlen, cy_value *out)
{
    struct cy_prefetch *pf = pf_state(q);
    pf->rel_reads++;
    pf_col *c = col_find(q, true, id, key);
    if (!c) {
        bool near = pf->rel_last != INT64_MIN && id > pf->rel_last && id - pf->rel_last <= CY_PF_NEAR;
        pf->rel_run = near ? pf->rel_run + 1 : 0;
        pf->rel_last = id;
        if (pf->rel_run < CY_PF_RUN || pf->rel_rows > 4 * pf->rel_reads + CY_PF_SPAN_MAX)
            return 1;   /* not in order, or not in order enough to pay for reading ahead */
        unsigned doublings = pf->rel_run - CY_PF_RUN < 6 ? pf->rel_run - CY_PF_RUN : 6;
        int64_t span = (int64_t)CY_PF_SPAN_MIN << doublings;
        if (col_fill(q, true, key, path, pathlen, id, id > INT64_MAX - span ? INT64_MAX : id + span - 1, &c))
            return -1;
        pf->rel_rows += (uint64_t)span;
        pf->rel_last = c->hi;   /* a miss just past the column continues the run */
    }
    return col_value(q, c, id, out);
}
