/* graph/cypher_stats.c - side-effect statistics as the TCK counts them: the
 * net difference between the graph before and after the query. Every entity
 * and label a write touches is recorded once, with its state before the first
 * touch; at the end the recorded state is compared with the final one, so
 * effects undone within the query count 0. */
#include "cypher_agg.h"

#include <stdlib.h>
#include <string.h>

enum { ST_NODE_PROPS = CY_ST_FIRST_FREE + 8, ST_REL_PROPS, ST_LABEL_EXISTS };
/* Invariant: every statement slot fits cy_q.st (cypher_write.c uses FIRST_FREE .. +7). */
_Static_assert(ST_LABEL_EXISTS < CY_ST_SLOTS, "CY_ST_SLOTS too small");

typedef struct touched {
    bool rel, existed;
    bool recreated;           /* deleted, then its id was reused by a new entity */
    int64_t id;
    json_t *props;            /* props before the first touch; NULL if it did not exist */
} touched;

typedef struct tlabel { const char *name; bool existed; } tlabel;

struct cy_stats {
    cy_hset index;            /* "n<id>" / "r<id>" / "l<label>" → position */
    touched *ents;
    size_t nents, capents;
    tlabel *labels;
    size_t nlabels, caplabels;
};

/* Write queries record what they touch from here on. */
int cy_stats_begin(cy_q *q)
{
    q->stats = calloc(1, sizeof *q->stats);
    if (!q->stats)
        abort();
    return 0;
}

/* Releases the recorded before-states. */
void cy_stats_free(cy_q *q)
{
    if (!q->stats)
        return;
    for (size_t i = 0; i < q->stats->nents; i++)
        json_decref(q->stats->ents[i].props);
    free(q->stats->ents);
    free(q->stats->labels);
    cy_hset_free(&q->stats->index);
    free(q->stats);
    q->stats = NULL;
}

/* Current props of an entity as JSON, or NULL when it does not exist. */
static json_t *current_props(cy_q *q, bool rel, int64_t id)
{
    sqlite3_stmt *st = rel ? cy_stmt_sql(q, ST_REL_PROPS, "SELECT props FROM rels WHERE id = ?1")
                           : cy_stmt_sql(q, ST_NODE_PROPS, "SELECT props FROM nodes WHERE id = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *j = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        j = json_loadb((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), 0, NULL);
    sqlite3_reset(st);
    return j;
}

/* Records an entity once, with its state before the query changed it. */
static int touch(cy_q *q, bool rel, int64_t id, bool created)
{
    cy_stats *s = q->stats;
    if (!s)
        return 0;
    char key[32];
    int n = snprintf(key, sizeof key, "%c%lld", rel ? 'r' : 'n', (long long)id);
    bool fresh;
    cy_hset_put(q, &s->index, key, (size_t)n, &fresh);
    if (!fresh) {
        /* SQLite may hand a deleted entity's id to a new one: then the old one
         * counts as deleted and the new one as created, not as one changed entity */
        if (created)
            for (size_t i = 0; i < s->nents; i++)
                if (s->ents[i].rel == rel && s->ents[i].id == id && s->ents[i].existed)
                    s->ents[i].recreated = true;
        return 0;
    }
    if (s->nents == s->capents) {
        s->capents = s->capents ? s->capents * 2 : 32;
        touched *nv = realloc(s->ents, s->capents * sizeof *nv);
        if (!nv)
            abort();
        s->ents = nv;
    }
    touched *t = &s->ents[s->nents++];
    t->rel = rel;
    t->id = id;
    t->existed = !created;
    t->recreated = false;
    t->props = created ? NULL : current_props(q, rel, id);
    if (!created && !t->props)
        t->existed = false;
    return 0;
}

int cy_touch_node(cy_q *q, int64_t id, bool created) { return touch(q, false, id, created); }
int cy_touch_rel(cy_q *q, int64_t id, bool created) { return touch(q, true, id, created); }

/* Does any node carry label? (labels are counted graph-wide). */
static bool label_exists(cy_q *q, const char *label)
{
    sqlite3_stmt *st = cy_stmt_sql(q, ST_LABEL_EXISTS, "SELECT 1 FROM node_labels WHERE label = ?1 LIMIT 1");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return yes;
}

/* Call before adding or removing label anywhere (or deleting a node that has it). */
int cy_touch_label(cy_q *q, const char *label)
{
    cy_stats *s = q->stats;
    if (!s)
        return 0;
    cy_buf b = {0};
    cy_buf_puts(&b, "l");
    cy_buf_puts(&b, label);
    bool fresh;
    cy_hset_put(q, &s->index, b.p, b.len, &fresh);
    free(b.p);
    if (!fresh)
        return 0;
    if (s->nlabels == s->caplabels) {
        s->caplabels = s->caplabels ? s->caplabels * 2 : 16;
        tlabel *nv = realloc(s->labels, s->caplabels * sizeof *nv);
        if (!nv)
            abort();
        s->labels = nv;
    }
    s->labels[s->nlabels].name = cy_strndup(&q->arena, label, strlen(label));
    s->labels[s->nlabels].existed = label_exists(q, label);
    s->nlabels++;
    return 0;
}

/* Appends "stats":{...}; zeros for a read-only query. */
int cy_stats_finish(cy_q *q, cy_buf *b)
{
    int64_t nc = 0, nd = 0, rc = 0, rd = 0, ps = 0, pr = 0, la = 0, lr = 0;
    cy_stats *s = q->stats;
    for (size_t i = 0; s && i < s->nents; i++) {
        touched *t = &s->ents[i];
        json_t *now = current_props(q, t->rel, t->id);
        if ((!t->existed || t->recreated) && now)
            *(t->rel ? &rc : &nc) += 1;
        if (t->existed && (!now || t->recreated))
            *(t->rel ? &rd : &nd) += 1;
        json_t *before = t->props;
        if (t->recreated) {   /* every old property removed, every new one set */
            pr += before ? (int64_t)json_object_size(before) : 0;
            ps += now ? (int64_t)json_object_size(now) : 0;
            json_decref(now);
            continue;
        }
        const char *k;
        json_t *v;
        if (before)
            json_object_foreach(before, k, v) {
                json_t *w = now ? json_object_get(now, k) : NULL;
                if (!w)
                    pr++;
                else if (!json_equal(v, w)) {
                    ps++;
                    pr++;
                }
            }
        if (now)
            json_object_foreach(now, k, v)
                if (!before || !json_object_get(before, k))
                    ps++;
        json_decref(now);
    }
    for (size_t i = 0; s && i < s->nlabels; i++) {
        bool now = label_exists(q, s->labels[i].name);
        la += !s->labels[i].existed && now;
        lr += s->labels[i].existed && !now;
    }
    cy_buf_printf(b,
                  "\"stats\":{\"nodes_created\":%lld,\"nodes_deleted\":%lld,\"relationships_created\":%lld,"
                  "\"relationships_deleted\":%lld,\"properties_set\":%lld,\"properties_removed\":%lld,"
                  "\"labels_added\":%lld,\"labels_removed\":%lld}",
                  (long long)nc, (long long)nd, (long long)rc, (long long)rd, (long long)ps, (long long)pr,
                  (long long)la, (long long)lr);
    return 0;
}
