/*
 * core/dsctl_lineage.c - `dsctl lineage`: ancestors or descendants of a node,
 * drawn as a tree built from the relationships the lineage method returns.
 * A node reached by several paths (a merge) or by a cycle is drawn in full
 * once; later occurrences are one reference line ending in "(see above)".
 */
#include "dsctl_cmd.h"
#include "dsctl_render.h"

#include <stdlib.h>
#include <string.h>

/* A node of the result: the root (depth 0) or one of result.nodes. */
struct dsctl_lnode {
    json_int_t id, depth;
    json_t *node; /* body, borrowed from the result */
    int drawn;
};

/* A tree edge: parent is the node nearer the root; types of every
 * relationship joining the two, e.g. "BASED_ON, DISTILLED_FROM". */
struct dsctl_ledge {
    json_int_t parent, child, child_depth, first_rel;
    json_t *types; /* array of type names */
};

struct dsctl_ltree {
    struct dsctl_lnode *nodes;
    size_t nnodes;
    struct dsctl_ledge *edges;
    size_t nedges;
    int up;
};

/* Why: nodes are looked up by id with bsearch; this orders them. */
static int dsctl_lnode_cmp(const void *x, const void *y)
{
    const struct dsctl_lnode *a = x, *b = y;
    return (a->id > b->id) - (a->id < b->id);
}

/* Why: edges are grouped by parent so a node's children are contiguous, and
 * children are ordered nearest-to-root first, then by relationship id, so
 * the output is deterministic and the shallow paths get drawn in full. */
static int dsctl_ledge_cmp(const void *x, const void *y)
{
    const struct dsctl_ledge *a = x, *b = y;
    if (a->parent != b->parent)
        return (a->parent > b->parent) - (a->parent < b->parent);
    if (a->child_depth != b->child_depth)
        return (a->child_depth > b->child_depth) - (a->child_depth < b->child_depth);
    if (a->first_rel != b->first_rel)
        return (a->first_rel > b->first_rel) - (a->first_rel < b->first_rel);
    return (a->child > b->child) - (a->child < b->child);
}

/* Why: the node (or NULL) for an id. */
static struct dsctl_lnode *dsctl_ltree_find(struct dsctl_ltree *t, json_int_t id)
{
    struct dsctl_lnode key = {.id = id};
    return bsearch(&key, t->nodes, t->nnodes, sizeof key, dsctl_lnode_cmp);
}

/* Why: turns the flat result (root, nodes, relationships) into sorted
 * node and edge arrays; relationships joining the same two nodes become one
 * edge listing every type. */
static void dsctl_ltree_build(struct dsctl_ltree *t, json_t *res, int up)
{
    json_t *nodes = json_object_get(res, "nodes"), *rels = json_object_get(res, "relationships"), *e;
    size_t i, n = 0;

    t->up = up;
    t->nodes = dsctl_xcalloc(json_array_size(nodes) + 1, sizeof *t->nodes);
    t->nodes[0].node = dsctl_node_body(json_object_get(res, "root"));
    t->nodes[0].id = json_integer_value(json_object_get(t->nodes[0].node, "id"));
    t->nnodes = 1;
    json_array_foreach(nodes, i, e) {
        struct dsctl_lnode *ln = &t->nodes[t->nnodes++];
        ln->node = dsctl_node_body(json_object_get(e, "$node"));
        ln->id = json_integer_value(json_object_get(ln->node, "id"));
        ln->depth = json_integer_value(json_object_get(e, "depth"));
    }
    qsort(t->nodes, t->nnodes, sizeof *t->nodes, dsctl_lnode_cmp);

    t->edges = dsctl_xcalloc(json_array_size(rels) + 1, sizeof *t->edges);
    json_array_foreach(rels, i, e) {
        json_t *rel = dsctl_rel_body(e);
        json_int_t s = json_integer_value(json_object_get(rel, "start"));
        json_int_t en = json_integer_value(json_object_get(rel, "end"));
        json_int_t parent = up ? s : en, child = up ? en : s;
        const char *type = json_string_value(json_object_get(rel, "type"));
        struct dsctl_ledge *ed = NULL;
        size_t k;
        json_t *tv;

        for (k = 0; k < n; k++) /* same two nodes: one edge */
            if (t->edges[k].parent == parent && t->edges[k].child == child)
                ed = &t->edges[k];
        if (!ed) {
            struct dsctl_lnode *cn = dsctl_ltree_find(t, child);
            ed = &t->edges[n++];
            ed->parent = parent;
            ed->child = child;
            ed->child_depth = cn ? cn->depth : (json_int_t)1 << 62;
            ed->first_rel = json_integer_value(json_object_get(rel, "id"));
            ed->types = json_array();
        }
        json_array_foreach(ed->types, k, tv)
            if (json_equal(tv, json_object_get(rel, "type")))
                break;
        if (k == json_array_size(ed->types))
            json_array_append_new(ed->types, json_string(type ? type : "?"));
    }
    t->nedges = n;
    qsort(t->edges, t->nedges, sizeof *t->edges, dsctl_ledge_cmp);
}

/* Why: the description after a node's name: " (released) :Label:Label2". */
static void dsctl_lnode_describe(struct dsctl_buf *b, json_t *node)
{
    json_t *rel = json_object_get(json_object_get(node, "properties"), "released");
    if (rel && !json_is_null(rel)) {
        char *r = dsctl_value_text(rel);
        dsctl_buf_printf(b, " (%s)", r);
        free(r);
    }
    if (json_array_size(json_object_get(node, "labels")) > 0) {
        char *l = dsctl_labels_text(json_object_get(node, "labels"), ":");
        dsctl_buf_printf(b, " :%s", l);
        free(l);
    }
}

/* Why: depth-first drawing: each child line is "├─ Name [TYPE] (released)
 * :Label", its subtree below it; a node already drawn is a reference line. */
static void dsctl_ltree_draw(struct dsctl_ltree *t, json_int_t parent, struct dsctl_buf *prefix)
{
    size_t lo = 0, hi = t->nedges, i, end;

    while (lo < hi) { /* first edge of parent */
        size_t mid = (lo + hi) / 2;
        if (t->edges[mid].parent < parent)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < t->nedges && t->edges[end].parent == parent; end++)
        ;
    for (i = lo; i < end; i++) {
        struct dsctl_ledge *ed = &t->edges[i];
        struct dsctl_lnode *cn = dsctl_ltree_find(t, ed->child);
        struct dsctl_buf line = {0};
        int last = i + 1 == end;
        char *name;

        if (cn) {
            name = dsctl_node_name(cn->node);
        } else {
            struct dsctl_buf nb = {0};
            dsctl_buf_printf(&nb, "#%" JSON_INTEGER_FORMAT, ed->child);
            name = dsctl_buf_take(&nb);
        }
        char *types = dsctl_labels_text(ed->types, ", ");
        dsctl_buf_printf(&line, "%s%s%s [%s]", prefix->p ? prefix->p : "", last ? "└─ " : "├─ ", name, types);
        free(types);
        free(name);
        if (cn && cn->drawn) {
            dsctl_buf_puts(&line, " (see above)");
        } else if (cn) {
            dsctl_lnode_describe(&line, cn->node);
        }
        printf("%s\n", line.p);
        free(line.p);
        if (cn && !cn->drawn) {
            size_t keep = prefix->len;
            cn->drawn = 1;
            dsctl_buf_puts(prefix, last ? "   " : "│  ");
            dsctl_ltree_draw(t, cn->id, prefix);
            prefix->len = keep;
            prefix->p[keep] = '\0';
        }
    }
}

/* Why: `lineage NAME [--up|--down] [--depth N] [--types T,...]`. */
int dsctl_cmd_lineage(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"id", 1},    {"label", 1}, {"up", 0},    {"down", 0},
                                             {"depth", 1}, {"types", 1}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params = NULL, *ref = json_object(), *res, *types = NULL;
    const char *depth, *s;
    json_int_t dn = 0;
    int rc = dsctl_args_parse(&a, "lineage", argc, argv, specs), up = 1;

    if (!rc)
        rc = dsctl_node_ref(&a, ref);
    if (!rc && dsctl_args_count(&a, "up") && dsctl_args_count(&a, "down"))
        rc = dsctl_usage_error("lineage: give --up or --down, not both");
    depth = rc ? NULL : dsctl_args_last(&a, "depth");
    if (!rc && depth && dsctl_parse_int(depth, 0, &dn) != 0)
        rc = dsctl_usage_error("lineage: --depth needs a non-negative integer, not '%s'", depth);
    if (!rc && dsctl_args_count(&a, "types") > 0) {
        types = json_array();
        for (int k = 0; (s = dsctl_args_get(&a, "types", k)) != NULL; k++) {
            while (*s) {
                size_t n = strcspn(s, ",");
                const char *b = s, *e = s + n;
                while (b < e && (*b == ' ' || *b == '\t'))
                    b++;
                while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                    e--;
                if (e > b) {
                    char *ty = strndup(b, (size_t)(e - b));
                    json_array_append_new(types, json_string(ty));
                    free(ty);
                }
                s += n + (s[n] == ',');
            }
        }
        if (json_array_size(types) == 0)
            rc = dsctl_usage_error("lineage: --types needs at least one type");
    }
    if (!rc)
        up = dsctl_args_count(&a, "down") == 0;
    dsctl_args_free(&a);
    if (rc) {
        json_decref(ref);
        json_decref(types);
        return rc;
    }
    params = json_pack("{s:o,s:s}", "node", ref, "direction", up ? "up" : "down");
    if (depth)
        json_object_set_new(params, "depth", json_integer(dn));
    if (types)
        json_object_set_new(params, "types", types);
    if ((rc = dsctl_call(d, "lineage", params, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else {
        struct dsctl_ltree t = {0};
        struct dsctl_buf line = {0}, prefix = {0};
        dsctl_ltree_build(&t, res, up);
        char *name = dsctl_node_name(dsctl_node_body(json_object_get(res, "root")));
        dsctl_buf_puts(&line, name);
        free(name);
        dsctl_lnode_describe(&line, dsctl_node_body(json_object_get(res, "root")));
        printf("%s\n", line.p);
        free(line.p);
        struct dsctl_lnode *root = dsctl_ltree_find(&t, json_integer_value(json_object_get(
                                                            dsctl_node_body(json_object_get(res, "root")), "id")));
        if (root)
            root->drawn = 1;
        if (t.nedges == 0)
            printf("  (no %s)\n", up ? "ancestors" : "descendants");
        else if (root)
            dsctl_ltree_draw(&t, root->id, &prefix);
        free(prefix.p);
        for (size_t i = 0; i < t.nedges; i++)
            json_decref(t.edges[i].types);
        free(t.edges);
        free(t.nodes);
    }
    json_decref(res);
    return rc;
}
