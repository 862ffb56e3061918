/* graph/cypher_store.c - the query engine's reads of the store's tables
 * (graph/README.md): scans by label and name key, expansion over the rels
 * indexes, and entity properties/labels. Statements are prepared once per store
 * and kept (cypher_plan_cache.c).
 * Results are copied out (arrays in the arena) before the statement is reused,
 * so nested expansions never share a running statement. */
#include "cypher_int.h"
#include "adjacency.h"

#include <stdlib.h>
#include <string.h>

enum {
    Q_ALL_NODES, Q_LABEL_NODES, Q_NAME_NODES, Q_NODE_PROPS, Q_NODE_LABELS, Q_HAS_LABEL,
    Q_OUT, Q_OUT_T, Q_IN, Q_IN_T, Q_REL_PROPS, Q_REL_GET, Q_ALL_RELS, Q_NODE_OUT,
    Q_DEG_OUT, Q_DEG_OUT_T, Q_DEG_IN, Q_DEG_IN_T, Q_JSON_GET, Q__COUNT
};
_Static_assert(Q__COUNT == CY_ST_FIRST_FREE, "CY_ST_FIRST_FREE must follow cypher_store.c's slots");

static const char *const cy_sql[Q__COUNT] = {
    [Q_ALL_NODES] = "SELECT id FROM nodes WHERE id > ?2 ORDER BY id LIMIT ?3",
    [Q_LABEL_NODES] = "SELECT node_id FROM node_labels WHERE label = ?1 AND node_id > ?2 ORDER BY node_id LIMIT ?3",
    [Q_NAME_NODES] = "SELECT id FROM nodes WHERE name_key = ?1 ORDER BY id",
    [Q_NODE_PROPS] = "SELECT props FROM nodes WHERE id = ?1",
    [Q_NODE_LABELS] = "SELECT label FROM node_labels WHERE node_id = ?1 ORDER BY pos",
    [Q_HAS_LABEL] = "SELECT 1 FROM node_labels WHERE node_id = ?1 AND label = ?2",
    [Q_OUT] = "SELECT id, type, start, end FROM rels WHERE start = ?1 ORDER BY id",
    [Q_OUT_T] = "SELECT id, type, start, end FROM rels WHERE start = ?1 AND type = ?2 ORDER BY id",
    [Q_IN] = "SELECT id, type, start, end FROM rels WHERE end = ?1 ORDER BY id",
    [Q_IN_T] = "SELECT id, type, start, end FROM rels WHERE end = ?1 AND type = ?2 ORDER BY id",
    [Q_REL_PROPS] = "SELECT props FROM rels WHERE id = ?1",
    [Q_REL_GET] = "SELECT id, type, start, end FROM rels WHERE id = ?1",
    [Q_ALL_RELS] = "SELECT id, type, start, end FROM rels ORDER BY id",
    [Q_DEG_OUT] = "SELECT count(*) FROM (SELECT 1 FROM rels WHERE start = ?1 LIMIT ?3)",
    [Q_DEG_OUT_T] = "SELECT count(*) FROM (SELECT 1 FROM rels WHERE start = ?1 AND type = ?2 LIMIT ?3)",
    [Q_DEG_IN] = "SELECT count(*) FROM (SELECT 1 FROM rels WHERE end = ?1 LIMIT ?3)",
    [Q_DEG_IN_T] = "SELECT count(*) FROM (SELECT 1 FROM rels WHERE end = ?1 AND type = ?2 LIMIT ?3)",
    /* one member of a props text (a cache entry's, bound as it is): SQLite's JSON
     * reader finds it without building a tree, ~5x faster than jansson's parse */
    [Q_JSON_GET] = "SELECT ?1 -> ?2",
    [Q_NODE_OUT] = "SELECT (SELECT json_group_array(label) FROM (SELECT label FROM node_labels WHERE node_id = ?1 "
                   "ORDER BY pos)), props FROM nodes WHERE id = ?1",
};

static int sqlfail(cy_q *q, const char *what);

/* The statement for id, prepared on first use, reset and unbound. */
static sqlite3_stmt *stmt(cy_q *q, int id)
{
    return cy_stmt_sql(q, id, cy_sql[id]);
}

/* Appends ,"labels":[...],"properties":{...} of a node straight from the stored
 * text: props are canonical JSON whose reals already have the output encoding
 * (17 digits, always '.' or exponent), so only text that may hold a temporal value is
 * parsed (cy_out_props_text). A deleted node has none. */
int cy_out_node_body(cy_q *q, int64_t id, cy_buf *b)
{
    sqlite3_stmt *st = stmt(q, Q_NODE_OUT);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cy_buf_puts(b, ",\"labels\":");
        cy_buf_add(b, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        cy_buf_puts(b, ",\"properties\":");
        if (cy_out_props_text(q, b, (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1))) {
            sqlite3_reset(st);
            return -1;
        }
    } else {
        cy_buf_puts(b, ",\"labels\":[],\"properties\":{}");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlfail(q, "reading a node");
}

/* Appends the stored props text of a relationship ({} when it is gone). */
int cy_out_rel_props(cy_q *q, int64_t id, cy_buf *b)
{
    sqlite3_stmt *st = stmt(q, Q_REL_PROPS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    int bad = 0;
    if (rc == SQLITE_ROW)
        bad = cy_out_props_text(q, b, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    else
        cy_buf_puts(b, "{}");
    sqlite3_reset(st);
    if (bad)
        return -1;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlfail(q, "reading a relationship");
}

/* The statement in slot (other cypher files use slots >= CY_ST_FIRST_FREE): prepared on
 * first use on this connection and kept (cypher_plan_cache.c), else reset and unbound. */
sqlite3_stmt *cy_stmt_sql(cy_q *q, int slot, const char *sql)
{
    if (!q->st[slot]) {
        if (sqlite3_prepare_v2(graph_store_db(q->store), sql, -1, &q->st[slot], NULL) != SQLITE_OK) {
            cy_rt(q, -1, "InternalError", "", "preparing a query: %s", sqlite3_errmsg(graph_store_db(q->store)));
            return NULL;
        }
    } else {
        sqlite3_reset(q->st[slot]);
        sqlite3_clear_bindings(q->st[slot]);
    }
    return q->st[slot];
}

/* Finalizes the statements of a query that could not use the store's cache
 * (the cache's own are reset by cy_store_cache_release and kept) and frees the
 * props cache's documents. */
void cy_store_finish(cy_q *q)
{
    for (size_t i = 0; i < CY_ST_SLOTS; i++) {
        sqlite3_finalize(q->st_own[i]);
        q->st_own[i] = NULL;
    }
    for (size_t i = 0; i < sizeof q->pcache / sizeof q->pcache[0]; i++) {
        free(q->pcache[i].text);
        json_decref(q->pcache[i].doc);
        q->pcache[i].text = NULL;
        q->pcache[i].doc = NULL;
    }
    cy_prefetch_free(q);
}

/* An SQLite failure as an InternalError. */
static int sqlfail(cy_q *q, const char *what)
{
    return cy_rt(q, -1, "InternalError", "", "%s: %s", what, sqlite3_errmsg(graph_store_db(q->store)));
}

/* Collects column 0 of every row as ids. */
static int collect_ids(cy_q *q, sqlite3_stmt *st, int64_t **ids, size_t *n)
{
    size_t cap = 16;
    int64_t *v = malloc(cap * sizeof *v);
    if (!v)
        abort();
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            int64_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                abort();
            v = nv;
        }
        v[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(v);
        *ids = NULL;
        *n = 0;
        return sqlfail(q, "scanning nodes");
    }
    *ids = v;
    return 0;
}

/* A page of node ids after `after`, all or those with a label (node_labels
 * index), in id order. */
int cy_scan_nodes(cy_q *q, const char *label, int64_t after, size_t page, int64_t **ids, size_t *n)
{
    sqlite3_stmt *st = stmt(q, label ? Q_LABEL_NODES : Q_ALL_NODES);
    if (!st)
        return -1;
    if (label)
        sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)page);
    return collect_ids(q, st, ids, n);
}

/* Candidates whose name_key equals the key of name; the caller still checks the
 * exact property value (the key is normalised). */
int cy_scan_name(cy_q *q, const char *name, int64_t **ids, size_t *n)
{
    gs_error gerr;
    char *key = graph_name_key(name, &gerr);
    *n = 0;
    *ids = NULL;
    if (!key)
        return 0;
    int64_t one;
    bool has_label;
    if (gs_name_key_sole(q->store, key, NULL, &one, &has_label)) {   /* readers: no name-index descent */
        free(key);
        if (!(*ids = malloc(sizeof **ids)))
            abort();
        (*ids)[0] = one;
        *n = 1;
        return 0;
    }
    sqlite3_stmt *st = stmt(q, Q_NAME_NODES);
    if (!st) {
        free(key);
        return -1;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    free(key);
    return collect_ids(q, st, ids, n);
}

/* Relationship from a row (id, type, start, end). Types repeat, so the previous
 * row's copy is reused when the text is the same (prev may be NULL). */
static void rel_from_row(cy_q *q, sqlite3_stmt *st, cy_rel *r, const cy_rel *prev)
{
    r->id = sqlite3_column_int64(st, 0);
    const char *t = (const char *)sqlite3_column_text(st, 1);
    size_t tl = (size_t)sqlite3_column_bytes(st, 1);
    if (prev && strlen(prev->type) == tl && memcmp(prev->type, t, tl) == 0)
        r->type = prev->type;
    else
        r->type = cy_strndup(&q->arena, t, tl);
    r->start = sqlite3_column_int64(st, 2);
    r->end = sqlite3_column_int64(st, 3);
}

/* Room for one more relationship in a malloc'd array (aborts on OOM like xmalloc). */
static cy_rel *rels_grow(cy_rel **v, size_t n, size_t *cap)
{
    if (n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        cy_rel *nv = realloc(*v, *cap * sizeof *nv);
        if (!nv)
            abort();
        *v = nv;
    }
    return &(*v)[n];
}

/* Appends the (id, type, start, end) rows of st. */
static int collect_rels(cy_q *q, sqlite3_stmt *st, cy_rel **out, size_t *n, size_t *cap)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cy_rel *r = rels_grow(out, *n, cap);   /* first: it may move the array prev points into */
        rel_from_row(q, st, r, *n ? &(*out)[*n - 1] : NULL);
        (*n)++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sqlfail(q, "expanding relationships");
}

/* See cypher_int.h: index range counts, each stopped at cap. */
int cy_degree(cy_q *q, int64_t node, cy_dir dir, const char *type, int64_t cap, int64_t *out)
{
    *out = 0;
    for (int in = 0; in < 2; in++) {
        if (dir == (in ? DIR_OUT : DIR_IN))
            continue;
        sqlite3_stmt *st = stmt(q, in ? (type ? Q_DEG_IN_T : Q_DEG_IN) : (type ? Q_DEG_OUT_T : Q_DEG_OUT));
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, node);
        if (type)
            sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, cap);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *out += sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return sqlfail(q, "counting relationships");
    }
    return 0;
}

/* What expand_via_index gathers: one direction's relationships of a node. */
typedef struct adj_rels {
    cy_q *q;
    cy_rel *v;
    size_t n, cap;
    int64_t node;
    bool out, skip_loops;
    const char *type;         /* the one type asked for, in the arena (NULL: any) */
    const char **names;       /* any type: type id -> its name in the arena, as met */
} adj_rels;

/* graph_adj_each callback: one relationship as cy_expand lists it. */
static int adj_rels_add(void *arg, int64_t rel, int64_t other, int type_id)
{
    adj_rels *c = arg;
    const char *type = c->type;
    if (!type) {
        if (!c->names[type_id])
            c->names[type_id] = cy_str0(&c->q->arena, graph_adj_type_name(c->q->store, type_id)).u.s.p;
        type = c->names[type_id];
    }
    if (c->skip_loops && other == c->node)
        return 0;
    *rels_grow(&c->v, c->n++, &c->cap) =
        (cy_rel){.id = rel, .type = type, .start = c->out ? c->node : other, .end = c->out ? other : c->node};
    return 0;
}

static int rel_id_cmp(const void *a, const void *b)
{
    int64_t x = ((const cy_rel *)a)->id, y = ((const cy_rel *)b)->id;
    return (x > y) - (x < y);
}

/* cy_expand from the in-memory adjacency index, when it is exactly this read's
 * snapshot (adjacency.h): no statement per node expanded. Each direction is
 * sorted by id, as the statements order them. 1: not usable. */
static int expand_via_index(cy_q *q, int64_t node, cy_dir dir, const char *type, cy_rel **rels, size_t *n)
{
    if (!graph_adj_begin(q->store))
        return 1;
    adj_rels c = {.q = q, .node = node};
    int one, *tids = &one;
    size_t nt = 1;
    if (type) {
        c.type = cy_str0(&q->arena, type).u.s.p;
        one = graph_adj_type_id(q->store, type);   /* -1: no relationship has the type */
        nt = one >= 0;
    } else {   /* any type: every type id the index has */
        nt = graph_adj_type_count(q->store);
        if (nt > 64) {   /* the index tests each entry against every id asked for */
            graph_adj_end(q->store);
            return 1;
        }
        tids = malloc((nt ? nt : 1) * sizeof *tids);
        if (!tids)
            abort();
        for (size_t i = 0; i < nt; i++)
            tids[i] = (int)i;
        c.names = cy_alloc(&q->arena, (nt ? nt : 1) * sizeof *c.names);
    }
    size_t before = 0;
    if (nt && (dir == DIR_OUT || dir == DIR_BOTH)) {
        c.out = true;
        graph_adj_each(q->store, node, GRAPH_UP, tids, nt, adj_rels_add, &c);
        if (c.n > 1)
            qsort(c.v, c.n, sizeof *c.v, rel_id_cmp);
        before = c.n;
    }
    if (nt && (dir == DIR_IN || dir == DIR_BOTH)) {
        c.out = false;
        c.skip_loops = dir == DIR_BOTH;   /* a loop is found once, going out */
        graph_adj_each(q->store, node, GRAPH_DOWN, tids, nt, adj_rels_add, &c);
        if (c.n - before > 1)
            qsort(c.v + before, c.n - before, sizeof *c.v, rel_id_cmp);
    }
    graph_adj_end(q->store);
    if (tids != &one)
        free(tids);
    *n = c.n;
    *rels = cy_alloc(&q->arena, (c.n ? c.n : 1) * sizeof **rels);
    cy_memcpy(*rels, c.v, c.n * sizeof *c.v);
    free(c.v);
    return 0;
}

/* Relationships of node in direction dir (DIR_BOTH: outgoing, then incoming
 * ones that are not self-loops, so a loop is found once). */
int cy_expand(cy_q *q, int64_t node, cy_dir dir, const char *type, cy_rel **rels, size_t *n)
{
    if (expand_via_index(q, node, dir, type, rels, n) == 0)
        return 0;
    cy_rel *v = NULL;
    size_t cap = 0;
    *n = 0;
    if (dir == DIR_OUT || dir == DIR_BOTH) {
        sqlite3_stmt *st = stmt(q, type ? Q_OUT_T : Q_OUT);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, node);
        if (type)
            sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        if (collect_rels(q, st, &v, n, &cap)) {
            free(v);
            return -1;
        }
    }
    if (dir == DIR_IN || dir == DIR_BOTH) {
        size_t before = *n;
        sqlite3_stmt *st = stmt(q, type ? Q_IN_T : Q_IN);
        if (!st) {
            free(v);
            return -1;
        }
        sqlite3_bind_int64(st, 1, node);
        if (type)
            sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        if (collect_rels(q, st, &v, n, &cap)) {
            free(v);
            return -1;
        }
        if (dir == DIR_BOTH) {
            size_t w = before;
            for (size_t i = before; i < *n; i++)
                if (v[i].start != v[i].end)
                    v[w++] = v[i];
            *n = w;
        }
    }
    *rels = cy_alloc(&q->arena, (*n ? *n : 1) * sizeof **rels);
    if (*n)
        cy_memcpy(*rels, v, *n * sizeof *v);
    free(v);
    return 0;
}

/* Every relationship (for patterns that start from nothing). */
int cy_scan_rels(cy_q *q, cy_rel **rels, size_t *n)
{
    cy_rel *v = NULL;
    size_t cap = 0;
    *n = 0;
    sqlite3_stmt *st = stmt(q, Q_ALL_RELS);
    if (!st || collect_rels(q, st, &v, n, &cap)) {
        free(v);
        return -1;
    }
    *rels = cy_alloc(&q->arena, (*n ? *n : 1) * sizeof **rels);
    if (*n)
        cy_memcpy(*rels, v, *n * sizeof *v);
    free(v);
    return 0;
}

/* One relationship by id; 1 when it does not exist. */
int cy_rel_load(cy_q *q, int64_t id, cy_rel *out)
{
    sqlite3_stmt *st = stmt(q, Q_REL_GET);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rel_from_row(q, st, out, NULL);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? 1 : sqlfail(q, "reading a relationship");
}

/* The props cache entry of one row, read into it if it is not there: the
 * stored text, owned by q->pcache (valid until the slot is reused or the query
 * ends: callers convert what they need at once); a missing row (a deleted
 * entity) gives {}. Repeated reads of one entity (n.a, n.b, ...) hit it. */
static int props_entry(cy_q *q, int sid, int64_t id, size_t *slotp)
{
    bool rel = sid == Q_REL_PROPS;
    size_t slot = (size_t)((uint64_t)id * 2 + rel) & 63;
    *slotp = slot;
    if (q->pcache[slot].gen == q->gen + 1 && q->pcache[slot].id == id && q->pcache[slot].rel == rel)
        return 0;
    sqlite3_stmt *st = stmt(q, sid);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return sqlfail(q, "reading properties");
    }
    const char *t = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "{}";
    size_t n = rc == SQLITE_ROW ? (size_t)sqlite3_column_bytes(st, 0) : 2;
    char *copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, t, n);
    copy[n] = '\0';
    sqlite3_reset(st);
    free(q->pcache[slot].text);
    json_decref(q->pcache[slot].doc);
    q->pcache[slot].id = id;
    q->pcache[slot].rel = rel;
    q->pcache[slot].text = copy;
    q->pcache[slot].len = n;
    q->pcache[slot].doc = NULL;
    q->pcache[slot].gen = q->gen + 1; /* +1: a zeroed entry is never valid */
    return 0;
}

/* The entry's jansson document, parsed once. */
static int props_doc(cy_q *q, size_t slot, int64_t id, const json_t **doc)
{
    if (!q->pcache[slot].doc) {
        json_error_t jerr;
        json_t *j = json_loadb(q->pcache[slot].text, q->pcache[slot].len, 0, &jerr);
        if (!json_is_object(j)) {
            json_decref(j);
            return cy_rt(q, -1, "InternalError", "", "corrupt properties of entity %lld", (long long)id);
        }
        q->pcache[slot].doc = j;
    }
    *doc = q->pcache[slot].doc;
    return 0;
}

/* Every property as a map value in the arena. */
static int load_props(cy_q *q, int sid, int64_t id, cy_value *out)
{
    size_t slot;
    const json_t *doc = NULL;
    if (props_entry(q, sid, id, &slot) || props_doc(q, slot, id, &doc))
        return -1;
    *out = cy_from_json(&q->arena, doc);
    return 0;
}

/* A JSON value's text (one member of a props text) as a value: a string
 * without escapes and true/false directly, anything else through jansson. */
int cy_value_from_json_text(cy_q *q, const char *t, size_t n, cy_value *out)
{
    if (n >= 2 && t[0] == '"' && t[n - 1] == '"' && !memchr(t, '\\', n)) {
        *out = cy_str(&q->arena, t + 1, n - 2);
        return 0;
    }
    if (n == 4 && memcmp(t, "true", 4) == 0) {
        *out = cy_bool(true);
        return 0;
    }
    if (n == 5 && memcmp(t, "false", 5) == 0) {
        *out = cy_bool(false);
        return 0;
    }
    json_error_t jerr;
    json_t *j = json_loadb(t, n, JSON_DECODE_ANY, &jerr);
    if (!j)
        return cy_rt(q, -1, "InternalError", "", "corrupt property value: %s", jerr.text);
    *out = cy_from_json(&q->arena, j);
    json_decref(j);
    return 0;
}

/* Can SQLite's JSON path `$."key"` name key in a props text? It compares the
 * key with the stored text of each member's name, and the stores write names
 * escaped only where JSON must (graph/props.c through jansson, the bulk
 * loader's graph_bulk_quote): '"', '\\' and control characters. */
static bool path_key_ok(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\')
            return false;
    return true;
}

/* One property; see cy_node_prop. Read by SQLite's JSON reader from the cached
 * text; a key that its path cannot name (path_key_ok), or an entity whose
 * document is parsed already, goes through the document. */
static int load_prop(cy_q *q, int sid, int64_t id, const char *key, cy_value *out)
{
    char path[256];   /* $."key" (no snprintf: this runs for every property read) */
    size_t kl = strlen(key);
    int pl = kl + 5 <= sizeof path ? (int)kl + 4 : -1;
    if (pl > 0) {
        memcpy(path, "$.\"", 3);
        memcpy(path + 3, key, kl);
        memcpy(path + 3 + kl, "\"", 2);
    }
    bool path_ok = pl > 0 && path_key_ok(key);
    if (sid == Q_NODE_PROPS && strcmp(key, "name") == 0 && graph_adj_begin(q->store)) {
        /* names are kept in the in-memory index too (adjacency.h): no row read */
        const char *t;
        size_t len;
        int rc = 1;
        if (graph_adj_node_name(q->store, id, &t, &len)) {
            rc = 0;
            if (t)
                rc = cy_value_from_json_text(q, t, len, out);
            else
                *out = cy_null();
        }
        graph_adj_end(q->store);
        if (rc <= 0)
            return rc;
    }
    if (path_ok) {   /* a node of the scan page, or relationships read in order: a column */
        int rc = sid == Q_NODE_PROPS ? cy_prefetch_prop(q, id, key, path, pl, out)
                                     : cy_prefetch_rel_prop(q, id, key, path, pl, out);
        if (rc <= 0)
            return rc;
    }
    size_t slot;
    if (props_entry(q, sid, id, &slot))
        return -1;
    if (q->pcache[slot].doc || !path_ok) {
        const json_t *doc = NULL, *v;
        if (props_doc(q, slot, id, &doc))
            return -1;
        v = json_object_get(doc, key);
        *out = v ? cy_from_json(&q->arena, v) : cy_null();
        return 0;
    }
    sqlite3_stmt *st = stmt(q, Q_JSON_GET);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, q->pcache[slot].text, (int)q->pcache[slot].len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, pl, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return sqlfail(q, "reading a property");
    }
    int r = 0;
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        *out = cy_null();
    else
        r = cy_value_from_json_text(q, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), out);
    sqlite3_reset(st);
    return r;
}

int cy_node_props(cy_q *q, int64_t id, cy_value *out) { return load_props(q, Q_NODE_PROPS, id, out); }
int cy_rel_props(cy_q *q, int64_t id, cy_value *out) { return load_props(q, Q_REL_PROPS, id, out); }
int cy_node_prop(cy_q *q, int64_t id, const char *key, cy_value *out)
{
    return load_prop(q, Q_NODE_PROPS, id, key, out);
}
int cy_rel_prop(cy_q *q, int64_t id, const char *key, cy_value *out)
{
    return load_prop(q, Q_REL_PROPS, id, key, out);
}

/* Does the row with id exist in the statement's table? */
static bool exists(cy_q *q, int sid, int64_t id)
{
    sqlite3_stmt *st = stmt(q, sid);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, id);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return yes;
}

bool cy_node_exists(cy_q *q, int64_t id) { return exists(q, Q_NODE_PROPS, id); }
bool cy_rel_exists(cy_q *q, int64_t id) { return exists(q, Q_REL_PROPS, id); }

/* Reading the properties or labels of an entity deleted earlier in the same
 * query is an error in Cypher (the TCK's DeletedEntityAccess), not an empty map.
 * Only queries that deleted something pay for the existence check. */
int cy_check_alive(cy_q *q, const cy_value *ent, int pos)
{
    if (!q->deleted_any || (ent->t != CV_NODE && ent->t != CV_REL))
        return 0;
    bool alive = ent->t == CV_NODE ? cy_node_exists(q, ent->u.node) : cy_rel_exists(q, ent->u.rel->id);
    return alive ? 0 : cy_rt(q, pos, "EntityNotFound", "DeletedEntityAccess", "the %s was deleted",
                             ent->t == CV_NODE ? "node" : "relationship");
}

/* A node's labels, in their stored order. */
int cy_node_labels(cy_q *q, int64_t id, cy_value *out)
{
    if (graph_adj_begin(q->store)) {   /* a node of none or one label: the index knows (adjacency.h) */
        const char *sole;
        int k = graph_adj_sole_label(q->store, id, &sole);
        if (k >= 0) {
            *out = cy_list_new(&q->arena, (size_t)k);
            if (k == 1)
                out->u.l->v[0] = cy_str0(&q->arena, sole);
        }
        graph_adj_end(q->store);
        if (k >= 0)
            return 0;
    }
    sqlite3_stmt *st = stmt(q, Q_NODE_LABELS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    const char *labels[256];
    size_t lens[256], n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 256) {
        lens[n] = (size_t)sqlite3_column_bytes(st, 0);
        labels[n] = cy_strndup(&q->arena, (const char *)sqlite3_column_text(st, 0), lens[n]);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sqlfail(q, "reading labels");
    *out = cy_list_new(&q->arena, n);
    for (size_t i = 0; i < n; i++)
        out->u.l->v[i] = (cy_value){.t = CV_STR, .u.s = {labels[i], lens[i]}};
    return 0;
}

/* Label test without reading all labels. */
int cy_node_has_label(cy_q *q, int64_t id, const char *label, bool *yes)
{
    /* a read whose snapshot the in-memory index matches asks the index (adjacency.h) */
    if (graph_adj_begin(q->store)) {
        int bit = graph_adj_label_bit(q->store, label);
        if (bit != GRAPH_ADJ_LABEL_UNINDEXED)
            *yes = bit >= 0 && (graph_adj_node_labels(q->store, id) >> bit & 1);
        graph_adj_end(q->store);
        if (bit != GRAPH_ADJ_LABEL_UNINDEXED)
            return 0;
    }
    sqlite3_stmt *st = stmt(q, Q_HAS_LABEL);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlfail(q, "reading labels");
}
