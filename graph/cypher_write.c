/* graph/cypher_write.c - CREATE, MERGE, SET, REMOVE, DELETE. Entities are
 * written with the store's functions (graph_node_create, graph_rel_put,
 * graph_node_delete, graph_rel_delete) or with SQL on its schema that keeps
 * the same invariants: canonical props text (gs_props_dump), name_key of the
 * name, node_fts refreshed (gs_fts_refresh). Every write touches cypher_stats first. */
#include "cypher_int.h"

#include <stdlib.h>
#include <string.h>

enum { ST_NODE_UPDATE = CY_ST_FIRST_FREE, ST_REL_UPDATE, ST_LABEL_ADD, ST_LABEL_DEL, ST_REL_COUNT };

/* Maps a store failure inside a write to a query error. */
static int store_fail(cy_q *q, int pos, gs_status st, const gs_error *gerr)
{
    if (st == GS_READONLY)
        return cy_rt(q, pos, "ReadOnly", "", "%s", gerr->msg);
    return cy_rt(q, pos, "InternalError", "", "%s", gerr->msg);
}

/* A map value → a JSON props object, dropping nulls (absent = null). */
static json_t *props_json(cy_q *q, const cy_value *m, int pos)
{
    json_t *obj = json_object();
    for (size_t i = 0; m && m->t == CV_MAP && i < m->u.m->n; i++) {
        if (m->u.m->v[i].t == CV_NULL)
            continue;
        json_t *j = cy_to_json_prop(q, &m->u.m->v[i], pos);
        if (!j) {
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, m->u.m->k[i], j);
    }
    return obj;
}

/* Evaluates a pattern property map (a Map or null). */
static int eval_props(cy_q *q, const cy_expr *e, const cy_env *env, cy_value *out)
{
    *out = cy_null();
    if (!e)
        return 0;
    if (cy_eval(q, e, env, out))
        return -1;
    if (out->t != CV_MAP && out->t != CV_NULL)
        return cy_rt(q, e->pos, "TypeError", "InvalidArgumentType", "properties must be a Map, got %s", cy_type_name(out));
    return 0;
}

/* CREATE of one node pattern: store write, then stats. */
static int create_node(cy_q *q, const cy_node_pat *np, const cy_env *env, int64_t *id)
{
    cy_value pv;
    if (eval_props(q, np->props, env, &pv))
        return -1;
    json_t *obj = props_json(q, &pv, np->pos);
    if (!obj)
        return -1;
    for (size_t i = 0; i < np->nlabels; i++)
        cy_touch_label(q, np->labels[i]);
    gs_error gerr;
    q->gen++; /* a write: cached props are stale (ids may be reused) */
    gs_status st = graph_node_create(q->store, np->labels, np->nlabels, obj, id, &gerr);
    json_decref(obj);
    if (st != GS_OK)
        return store_fail(q, np->pos, st, &gerr);
    return cy_touch_node(q, *id, true);
}

/* CREATE of one relationship pattern between two created/bound nodes. */
static int create_rel(cy_q *q, const cy_rel_pat *rp, const cy_env *env, int64_t from, int64_t to, cy_rel *out)
{
    cy_value pv;
    if (eval_props(q, rp->props, env, &pv))
        return -1;
    json_t *obj = props_json(q, &pv, rp->pos);
    if (!obj)
        return -1;
    int64_t start = rp->dir == DIR_IN ? to : from, end = rp->dir == DIR_IN ? from : to, id;
    bool created;
    gs_error gerr;
    q->gen++;
    gs_status st = graph_rel_put(q->store, start, rp->types[0], end, obj, true, &id, &created, &gerr);
    json_decref(obj);
    if (st != GS_OK)
        return store_fail(q, rp->pos, st, &gerr);
    out->id = id;
    out->start = start;
    out->end = end;
    out->type = rp->types[0];
    return cy_touch_rel(q, id, true);
}

/* Creates one pattern part for one row; new variables are appended to env (names/vals
 * have room for every variable of the part). */
static int create_part(cy_q *q, const cy_pattern_part *pp, cy_env *env)
{
    int64_t *nodes = cy_alloc(&q->arena, (pp->nrels + 1) * sizeof *nodes);
    cy_rel *rels = cy_alloc(&q->arena, (pp->nrels + 1) * sizeof *rels);
    for (size_t i = 0; i <= pp->nrels; i++) {
        const cy_node_pat *np = &pp->nodes[i];
        const cy_value *bound = np->var ? cy_env_get(env, np->var) : NULL;
        if (bound) {
            if (bound->t != CV_NODE)
                return cy_rt(q, np->pos, "TypeError", "InvalidArgumentType", "`%s` is %s, not a node", np->var,
                             cy_type_name(bound));
            nodes[i] = bound->u.node;
        } else {
            if (create_node(q, np, env, &nodes[i]))
                return -1;
            if (np->var) {
                env->names[env->n] = np->var;
                env->vals[env->n++] = cy_node(nodes[i]);
            }
        }
        if (i > 0) {
            const cy_rel_pat *rp = &pp->rels[i - 1];
            if (create_rel(q, rp, env, nodes[i - 1], nodes[i], &rels[i - 1]))
                return -1;
            if (rp->var) {
                env->names[env->n] = rp->var;
                env->vals[env->n++] = (cy_value){.t = CV_REL, .u.rel = &rels[i - 1]};
            }
        }
    }
    if (pp->pathvar) {
        cy_value pv = {.t = CV_PATH};
        pv.u.path = cy_alloc(&q->arena, sizeof *pv.u.path);
        pv.u.path->nrels = pp->nrels;
        pv.u.path->nodes = nodes;
        pv.u.path->rels = rels;
        env->names[env->n] = pp->pathvar;
        env->vals[env->n++] = pv;
    }
    return 0;
}

/* ---- property and label writes ---- */

/* Current props of a node/relationship as a JSON object. */
static json_t *entity_props(cy_q *q, const cy_value *ent)
{
    cy_value m;
    if (ent->t == CV_NODE ? cy_node_props(q, ent->u.node, &m) : cy_rel_props(q, ent->u.rel->id, &m))
        return NULL;
    return props_json(q, &m, -1);
}

/* Writes a whole props object: canonical text, name_key and FTS for nodes. */
static int write_props(cy_q *q, const cy_value *ent, json_t *obj, int pos)
{
    gs_error gerr;
    char *text = gs_props_dump(obj);
    if (!text)
        return cy_rt(q, pos, "InternalError", "", "out of memory");
    sqlite3_stmt *st;
    if (ent->t == CV_NODE) {
        st = cy_stmt_sql(q, ST_NODE_UPDATE, "UPDATE nodes SET props = ?2, name_key = ?3 WHERE id = ?1");
        if (!st) {
            free(text);
            return -1;
        }
        json_t *name = json_object_get(obj, "name");
        char *key = json_is_string(name) ? graph_name_key(json_string_value(name), &gerr) : NULL;
        sqlite3_bind_int64(st, 1, ent->u.node);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        if (key)
            sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
        free(key);
    } else {
        st = cy_stmt_sql(q, ST_REL_UPDATE, "UPDATE rels SET props = ?2 WHERE id = ?1");
        if (!st) {
            free(text);
            return -1;
        }
        sqlite3_bind_int64(st, 1, ent->u.rel->id);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    }
    free(text);
    q->gen++;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_READONLY)
            return cy_rt(q, pos, "ReadOnly", "", "the store is read-only");
        return cy_rt(q, pos, "InternalError", "", "updating properties: %s", sqlite3_errmsg(graph_store_db(q->store)));
    }
    if (ent->t == CV_NODE) {
        gs_status s = gs_fts_refresh(q->store, ent->u.node, obj, &gerr);
        if (s != GS_OK)
            return store_fail(q, pos, s, &gerr);
    }
    return 0;
}

/* Was the entity deleted earlier in this query? */
static bool entity_alive(cy_q *q, const cy_value *ent)
{
    return ent->t == CV_NODE ? cy_node_exists(q, ent->u.node) : cy_rel_exists(q, ent->u.rel->id);
}

/* SET e.k = v / REMOVE e.k / SET e = map / SET e += map on one entity. */
static int set_props(cy_q *q, const cy_value *ent, const char *key, const cy_value *val, bool replace, int pos)
{
    if (ent->t == CV_NULL)
        return 0;
    if (ent->t != CV_NODE && ent->t != CV_REL)
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "cannot set properties on %s", cy_type_name(ent));
    if (!entity_alive(q, ent))
        return cy_rt(q, pos, "EntityNotFound", "DeletedEntityAccess", "the entity was deleted");
    if (ent->t == CV_NODE ? cy_touch_node(q, ent->u.node, false) : cy_touch_rel(q, ent->u.rel->id, false))
        return -1;
    json_t *obj = replace ? json_object() : entity_props(q, ent);
    if (!obj)
        return -1;
    int rc = 0;
    if (key) {
        if (!val || val->t == CV_NULL)
            json_object_del(obj, key);
        else {
            json_t *j = cy_to_json_prop(q, val, pos);
            if (!j)
                rc = -1;
            else
                json_object_set_new(obj, key, j);
        }
    } else {
        cy_value m = *val;
        if (m.t == CV_NODE || m.t == CV_REL) {
            if (m.t == CV_NODE ? cy_node_props(q, m.u.node, &m) : cy_rel_props(q, m.u.rel->id, &m))
                rc = -1;
        } else if (m.t == CV_NULL) {
            m = cy_map_new(&q->arena, 0);
        } else if (m.t != CV_MAP) {
            rc = cy_rt(q, pos, "TypeError", "InvalidArgumentType", "SET needs a Map, got %s", cy_type_name(&m));
        }
        for (size_t i = 0; rc == 0 && i < m.u.m->n; i++) {
            if (m.u.m->v[i].t == CV_NULL) {
                json_object_del(obj, m.u.m->k[i]);
                continue;
            }
            json_t *j = cy_to_json_prop(q, &m.u.m->v[i], pos);
            if (!j)
                rc = -1;
            else
                json_object_set_new(obj, m.u.m->k[i], j);
        }
    }
    if (rc == 0)
        rc = write_props(q, ent, obj, pos);
    json_decref(obj);
    return rc;
}

/* SET n:L / REMOVE n:L for one node. */
static int set_labels(cy_q *q, const cy_value *ent, const char **labels, size_t n, bool remove, int pos)
{
    if (ent->t == CV_NULL)
        return 0;
    if (ent->t != CV_NODE)
        return cy_rt(q, pos, "TypeError", "InvalidArgumentType", "labels can be set on nodes only, not %s", cy_type_name(ent));
    if (!cy_node_exists(q, ent->u.node))
        return cy_rt(q, pos, "EntityNotFound", "DeletedEntityAccess", "the node was deleted");
    for (size_t i = 0; i < n; i++) {
        cy_touch_label(q, labels[i]);
        sqlite3_stmt *st = remove
            ? cy_stmt_sql(q, ST_LABEL_DEL, "DELETE FROM node_labels WHERE node_id = ?1 AND label = ?2")
            : cy_stmt_sql(q, ST_LABEL_ADD, "INSERT OR IGNORE INTO node_labels(node_id, pos, label) VALUES (?1, "
                                           "(SELECT coalesce(max(pos), -1) + 1 FROM node_labels WHERE node_id = ?1), ?2)");
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, ent->u.node);
        sqlite3_bind_text(st, 2, labels[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return cy_rt(q, pos, rc == SQLITE_READONLY ? "ReadOnly" : "InternalError", "", "writing labels: %s",
                         sqlite3_errmsg(graph_store_db(q->store)));
    }
    return 0;
}

/* One SET/REMOVE item for one row. */
static int run_set_item(cy_q *q, const cy_set_item *it, const cy_env *env)
{
    cy_value ent, val = cy_null();
    const cy_expr *target = (it->k == SI_PROP || it->k == RI_PROP) ? it->target->a : it->target;
    if (cy_eval(q, target, env, &ent))
        return -1;
    if (it->value && cy_eval(q, it->value, env, &val))
        return -1;
    switch (it->k) {
    case SI_PROP:
        if (ent.t == CV_MAP)
            return cy_rt(q, it->pos, "TypeError", "InvalidArgumentType", "cannot set a property of a Map");
        return set_props(q, &ent, it->target->name, &val, false, it->pos);
    case RI_PROP: return set_props(q, &ent, it->target->name, NULL, false, it->pos);
    case SI_REPLACE: return set_props(q, &ent, NULL, &val, true, it->pos);
    case SI_MERGE: return set_props(q, &ent, NULL, &val, false, it->pos);
    case SI_LABELS: return set_labels(q, &ent, it->labels, it->nlabels, false, it->pos);
    case RI_LABELS: return set_labels(q, &ent, it->labels, it->nlabels, true, it->pos);
    }
    return 0;
}

/* Every item of a SET/REMOVE (or ON CREATE/ON MATCH) for one row. */
static int run_sets(cy_q *q, const cy_set_item *items, size_t n, const cy_env *env)
{
    for (size_t i = 0; i < n; i++)
        if (run_set_item(q, &items[i], env))
            return -1;
    return 0;
}

/* ---- DELETE ---- */

/* Deletes a relationship once (deleting twice is fine). */
static int delete_rel(cy_q *q, int64_t id, int pos)
{
    if (!cy_rel_exists(q, id))
        return 0;
    cy_touch_rel(q, id, false);
    q->gen++;
    q->deleted_any = true;
    gs_error gerr;
    gs_status st = graph_rel_delete(q->store, id, &gerr);
    return st == GS_OK || st == GS_NOT_FOUND ? 0 : store_fail(q, pos, st, &gerr);
}

/* Deletes a node; without DETACH it must have no relationships left. */
static int delete_node(cy_q *q, int64_t id, bool detach, int pos)
{
    if (!cy_node_exists(q, id))
        return 0;
    cy_rel *rels;
    size_t n;
    if (cy_expand(q, id, DIR_BOTH, NULL, &rels, &n))
        return -1;
    if (n && !detach)
        return cy_rt(q, pos, "ConstraintVerificationFailed", "DeleteConnectedNode",
                     "cannot delete node %lld: it still has %zu relationship%s (use DETACH DELETE)", (long long)id, n,
                     n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        if (delete_rel(q, rels[i].id, pos))
            return -1;
    cy_value labels;
    if (cy_node_labels(q, id, &labels))
        return -1;
    for (size_t i = 0; i < labels.u.l->n; i++)
        cy_touch_label(q, labels.u.l->v[i].u.s.p);
    cy_touch_node(q, id, false);
    q->gen++;
    q->deleted_any = true;
    gs_error gerr;
    int64_t nd;
    gs_status st = graph_node_delete(q->store, id, true, &nd, &gerr);
    return st == GS_OK || st == GS_NOT_FOUND ? 0 : store_fail(q, pos, st, &gerr);
}

/* Relationships first, then nodes, so `DELETE n, r` works in any order. */
static int run_delete(cy_q *q, const cy_clause *c, const cy_env *env)
{
    cy_value *vals = cy_alloc(&q->arena, c->nexprs * sizeof *vals);
    for (size_t i = 0; i < c->nexprs; i++) {
        if (cy_eval(q, c->exprs[i], env, &vals[i]))
            return -1;
        cv_type t = vals[i].t;
        if (t != CV_NULL && t != CV_NODE && t != CV_REL && t != CV_PATH)
            return cy_rt(q, c->exprs[i]->pos, "TypeError", "InvalidArgumentType", "DELETE expects a node, relationship or path, got %s",
                         cy_type_name(&vals[i]));
    }
    for (size_t i = 0; i < c->nexprs; i++) {
        if (vals[i].t == CV_REL && delete_rel(q, vals[i].u.rel->id, c->exprs[i]->pos))
            return -1;
        if (vals[i].t == CV_PATH)
            for (size_t k = 0; k < vals[i].u.path->nrels; k++)
                if (delete_rel(q, vals[i].u.path->rels[k].id, c->exprs[i]->pos))
                    return -1;
    }
    for (size_t i = 0; i < c->nexprs; i++) {
        if (vals[i].t == CV_NODE && delete_node(q, vals[i].u.node, c->detach, c->exprs[i]->pos))
            return -1;
        if (vals[i].t == CV_PATH)
            for (size_t k = 0; k <= vals[i].u.path->nrels; k++)
                if (delete_node(q, vals[i].u.path->nodes[k], c->detach, c->exprs[i]->pos))
                    return -1;
    }
    return 0;
}

/* ---- MERGE ---- */

typedef struct merge_ctx { const cy_clause *c; cy_rows *out; const cy_value *in_row; size_t nin; bool any; } merge_ctx;

/* MERGE found a match: emit it as an output row. */
static int merge_cb(cy_q *q, void *arg, const cy_env *env)
{
    merge_ctx *m = arg;
    m->any = true;
    cy_value *row = cy_alloc(&q->arena, (m->out->ncols ? m->out->ncols : 1) * sizeof *row);
    cy_memcpy(row, m->in_row, m->nin * sizeof *row);
    for (size_t i = m->nin; i < m->out->ncols; i++) {
        const cy_value *v = cy_env_get(env, m->out->names[i]);
        row[i] = v ? *v : cy_null();
    }
    return cy_rows_add(q, m->out, row) ? -1 : 0;
}

/* MERGE cannot create an entity whose pattern asks for a null property: it could
 * never match what it creates (the TCK's SemanticError MergeReadOwnWrites). */
static int merge_null_props(cy_q *q, const cy_pattern_part *pp, const cy_env *env)
{
    for (size_t i = 0; i <= 2 * pp->nrels; i++) {
        const cy_expr *e = i % 2 == 0 ? pp->nodes[i / 2].props : pp->rels[i / 2].props;
        cy_value m;
        if (!e || e->k != E_MAP)
            continue;
        if (eval_props(q, e, env, &m))
            return -1;
        for (size_t k = 0; m.t == CV_MAP && k < m.u.m->n; k++)
            if (m.u.m->v[k].t == CV_NULL)
                return cy_rt(q, e->pos, "SemanticError", "MergeReadOwnWrites",
                             "cannot MERGE with a null property value for '%s'", m.u.m->k[k]);
    }
    return 0;
}

/* MERGE per row: match the pattern, else create all of it. */
static int run_merge(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    cy_rows_extend_pattern(q, in, &c->pat, out);
    for (size_t r = 0; r < in->n; r++) {
        cy_env env = {.names = in->names, .vals = in->rows[r], .n = in->ncols};
        merge_ctx m = {.c = c, .out = out, .in_row = in->rows[r], .nin = in->ncols};
        size_t first = out->n;
        if (cy_match(q, &c->pat, &env, merge_cb, &m) < 0)
            return -1;
        if (m.any) {
            for (size_t k = first; k < out->n; k++) {
                cy_env oenv = {.names = out->names, .vals = out->rows[k], .n = out->ncols};
                if (run_sets(q, c->on_match, c->non_match, &oenv))
                    return -1;
            }
            continue;
        }
        cy_env cenv = {.names = cy_alloc(&q->arena, (out->ncols + 1) * sizeof(char *)),
                       .vals = cy_alloc(&q->arena, (out->ncols + 1) * sizeof(cy_value))};
        cy_memcpy(cenv.names, in->names, in->ncols * sizeof *in->names);
        cy_memcpy(cenv.vals, in->rows[r], in->ncols * sizeof(cy_value));
        cenv.n = in->ncols;
        cy_pattern_part pp = c->pat.parts[0];
        cy_rel_pat *rels = cy_alloc(&q->arena, (pp.nrels + 1) * sizeof *rels);
        for (size_t i = 0; i < pp.nrels; i++) {
            rels[i] = pp.rels[i];
            if (rels[i].dir == DIR_BOTH)
                rels[i].dir = DIR_OUT;
        }
        pp.rels = rels;
        if (merge_null_props(q, &pp, &cenv) || create_part(q, &pp, &cenv))
            return -1;
        cy_value *row = cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *row);
        for (size_t i = 0; i < out->ncols; i++) {
            const cy_value *v = cy_env_get(&cenv, out->names[i]);
            row[i] = v ? *v : cy_null();
        }
        if (cy_rows_add(q, out, row))
            return -1;
        cy_env oenv = {.names = out->names, .vals = row, .n = out->ncols};
        if (run_sets(q, c->on_create, c->non_create, &oenv))
            return -1;
    }
    return 0;
}

/* CREATE, MERGE, SET, REMOVE, DELETE over every row. */
int cy_write_clause(cy_q *q, const cy_clause *c, cy_rows *in, cy_rows *out)
{
    if (c->k == C_MERGE)
        return run_merge(q, c, in, out);
    if (c->k != C_CREATE) {
        *out = *in;
        for (size_t r = 0; r < in->n; r++) {
            cy_env env = {.names = in->names, .vals = in->rows[r], .n = in->ncols};
            int rc = c->k == C_DELETE ? run_delete(q, c, &env) : run_sets(q, c->sets, c->nsets, &env);
            if (rc || cy_check_time(q))
                return -1;
        }
        return 0;
    }
    size_t max_new = 0;
    for (size_t p = 0; p < c->pat.n; p++)
        max_new += 2 * c->pat.parts[p].nrels + 2;
    cy_rows_extend_pattern(q, in, &c->pat, out);
    for (size_t r = 0; r < in->n; r++) {
        cy_env env = {.names = cy_alloc(&q->arena, (in->ncols + max_new) * sizeof(char *)),
                      .vals = cy_alloc(&q->arena, (in->ncols + max_new) * sizeof(cy_value))};
        cy_memcpy(env.names, in->names, in->ncols * sizeof *in->names);
        cy_memcpy(env.vals, in->rows[r], in->ncols * sizeof(cy_value));
        env.n = in->ncols;
        for (size_t p = 0; p < c->pat.n; p++)
            if (create_part(q, &c->pat.parts[p], &env))
                return -1;
        cy_value *row = cy_alloc(&q->arena, (out->ncols ? out->ncols : 1) * sizeof *row);
        for (size_t i = 0; i < out->ncols; i++) {
            const cy_value *v = cy_env_get(&env, out->names[i]);
            row[i] = v ? *v : cy_null();
        }
        if (cy_rows_add(q, out, row) || cy_check_time(q))
            return -1;
    }
    return 0;
}
