/*
 * core/dsctl_cmds.c - dsctl's commands (all but lineage): each parses its
 * arguments, makes its JSON-RPC call(s), and prints either the result as
 * JSON (--json) or a readable rendering.
 */
#include "dsctl_cmd.h"
#include "dsctl_render.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DSCTL_SHOW_BATCH 256 /* node.get requests per batch line in `show` */

/* Why: "1 node" / "2 nodes" in confirmations. */
static const char *dsctl_plural(json_int_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Why: node get, node delete and show name a node the same ways: NAME
 * (optionally with --label) or --id N. Builds the REF members of params. */
int dsctl_node_ref(const struct dsctl_args *a, json_t *params)
{
    const char *id = dsctl_args_last(a, "id"), *label = dsctl_args_last(a, "label");
    json_int_t n;

    if (id) {
        if (a->npos != 0)
            return dsctl_usage_error("%s: give a NAME or --id N, not both", a->cmd);
        if (label)
            return dsctl_usage_error("%s: --label goes with a NAME, not with --id", a->cmd);
        if (dsctl_parse_int(id, 0, &n) != 0)
            return dsctl_usage_error("%s: --id needs a non-negative integer, not '%s'", a->cmd, id);
        json_object_set_new(params, "id", json_integer(n));
        return 0;
    }
    if (a->npos != 1)
        return dsctl_usage_error("%s: give exactly one NAME (quote names with spaces) or --id N", a->cmd);
    json_object_set_new(params, "name", json_string(a->pos[0]));
    if (label)
        json_object_set_new(params, "label", json_string(label));
    return 0;
}

/* Why: rel put/delete take START and END as a name or "#ID"; this turns
 * one into a protocol REF (an integer id or {"name":...}). */
static json_t *dsctl_endpoint_ref(const char *s)
{
    json_int_t id;
    if (s[0] == '#' && s[1] >= '0' && s[1] <= '9' && dsctl_parse_int(s + 1, 0, &id) == 0)
        return json_integer(id);
    return json_pack("{s:s}", "name", s);
}

/* Why: --prop KEY=VALUE (repeatable) becomes the properties object; a
 * value that parses as JSON is that value, else a string. */
static int dsctl_props(const struct dsctl_args *a, json_t **out)
{
    *out = dsctl_args_pairs(a, "prop", true);
    return *out ? 0 : DSCTL_EXIT_USAGE;
}

/* Why: `ping` proves the daemon answers; uptime is shown in human units. */
int dsctl_cmd_ping(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{NULL, 0}};
    struct dsctl_args a;
    json_t *res;
    int rc = dsctl_args_parse(&a, "ping", argc, argv, specs);

    if (!rc && a.npos)
        rc = dsctl_usage_error("ping: takes no arguments");
    dsctl_args_free(&a);
    if (rc || (rc = dsctl_call(d, "ping", NULL, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else {
        const char *ver = json_string_value(json_object_get(res, "version"));
        json_int_t ms = json_integer_value(json_object_get(res, "uptime_ms"));
        json_int_t s = ms / 1000;
        printf("dsgraphd %s: pid %" JSON_INTEGER_FORMAT ", up ", ver ? ver : "?",
               json_integer_value(json_object_get(res, "pid")));
        if (s < 60)
            printf("%" JSON_INTEGER_FORMAT ".%03" JSON_INTEGER_FORMAT " s\n", s, ms % 1000);
        else if (s < 3600)
            printf("%" JSON_INTEGER_FORMAT "m %02" JSON_INTEGER_FORMAT "s\n", s / 60, s % 60);
        else
            printf("%" JSON_INTEGER_FORMAT "h %02" JSON_INTEGER_FORMAT "m %02" JSON_INTEGER_FORMAT "s\n",
                   s / 3600, s / 60 % 60, s % 60);
    }
    json_decref(res);
    return rc;
}

/* Why: a key/value table (stats, per-label counts), numbers right-aligned. */
static void dsctl_print_counts(json_t *obj, const char *indent)
{
    struct dsctl_table *t = dsctl_table_new(2);
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        if (json_is_object(v))
            continue;
        dsctl_table_add_copy(t, key);
        dsctl_table_add(t, dsctl_value_text(v));
    }
    dsctl_table_align_right(t, 1);
    dsctl_table_print(t, stdout, 0, indent);
    dsctl_table_free(t);
}

/* Why: `stats` shows the totals, then each breakdown (by_label, by_type) as
 * its own list; members the daemon may add later are shown too. */
int dsctl_cmd_stats(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{NULL, 0}};
    struct dsctl_args a;
    json_t *res, *v;
    const char *key;
    int rc = dsctl_args_parse(&a, "stats", argc, argv, specs);

    if (!rc && a.npos)
        rc = dsctl_usage_error("stats: takes no arguments");
    dsctl_args_free(&a);
    if (rc || (rc = dsctl_call(d, "stats", NULL, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else {
        dsctl_print_counts(res, "");
        json_object_foreach(res, key, v) {
            if (!json_is_object(v))
                continue;
            char *title = dsctl_sanitize(key, strlen(key));
            for (char *p = title; *p; p++)
                if (*p == '_')
                    *p = ' ';
            printf("\n%s:\n", title);
            free(title);
            if (json_object_size(v) == 0)
                printf("  (none)\n");
            dsctl_print_counts(v, "  ");
        }
    }
    json_decref(res);
    return rc;
}

/* One relationship line of `show`, sortable. */
struct dsctl_rel_line {
    int incoming;
    const char *type;
    char *text; /* "-[:T]-> Name (Label)" */
    json_int_t id;
};

/* Why: show lists outgoing before incoming, then by type and other end, so
 * the output is stable whatever order the daemon returns. */
static int dsctl_rel_line_cmp(const void *x, const void *y)
{
    const struct dsctl_rel_line *a = x, *b = y;
    int c;
    if (a->incoming != b->incoming)
        return a->incoming - b->incoming;
    if ((c = strcmp(a->type, b->type)) != 0)
        return c;
    if ((c = strcmp(a->text, b->text)) != 0)
        return c;
    return (a->id > b->id) - (a->id < b->id);
}

/* Why: "Name (Label, Label2)" for the other end of a relationship; "#id"
 * when the node could not be fetched. */
static char *dsctl_node_brief(json_t *node, json_int_t id)
{
    struct dsctl_buf b = {0};
    if (!node) {
        dsctl_buf_printf(&b, "#%" JSON_INTEGER_FORMAT, id);
        return dsctl_buf_take(&b);
    }
    char *name = dsctl_node_name(node), *labels = dsctl_labels_text(json_object_get(node, "labels"), ", ");
    dsctl_buf_puts(&b, name);
    if (*labels)
        dsctl_buf_printf(&b, " (%s)", labels);
    free(name);
    free(labels);
    return dsctl_buf_take(&b);
}

/* Why: the other ends of show's relationships are fetched by id with
 * pipelined node.get batches (one line per DSCTL_SHOW_BATCH ids). Fills
 * `ends` (id as a decimal string -> node body). */
static int dsctl_fetch_ends(struct dsctl *d, json_t *rels, json_int_t self, json_t *ends)
{
    json_t *batch = json_array(), *r, **results = NULL;
    json_int_t *ids = NULL;
    size_t i, n = 0;
    int rc = 0;
    char key[32];

    json_array_foreach(rels, i, r) {
        json_t *rel = dsctl_rel_body(r);
        json_int_t s = json_integer_value(json_object_get(rel, "start"));
        json_int_t e = json_integer_value(json_object_get(rel, "end"));
        json_int_t other = s == self ? e : s;
        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, other);
        if (other == self || json_object_get(ends, key))
            continue;
        json_object_set_new(ends, key, json_null()); /* placeholder: requested */
    }
    const char *k;
    json_t *v;
    ids = dsctl_xcalloc(json_object_size(ends) + 1, sizeof *ids);
    results = dsctl_xcalloc(DSCTL_SHOW_BATCH, sizeof *results);
    json_object_foreach(ends, k, v)
        ids[n++] = strtoll(k, NULL, 10);
    for (i = 0; i < n && rc == 0; i += DSCTL_SHOW_BATCH) {
        size_t m = n - i < DSCTL_SHOW_BATCH ? n - i : DSCTL_SHOW_BATCH;
        json_array_clear(batch);
        for (size_t j = 0; j < m; j++)
            json_array_append_new(batch, json_pack("{s:I}", "id", ids[i + j]));
        rc = dsctl_call_batch(d, "node.get", batch, results);
        for (size_t j = 0; j < m; j++) {
            if (results[j]) {
                snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, ids[i + j]);
                json_object_set(ends, key, dsctl_node_body(json_object_get(results[j], "$node")));
                json_decref(results[j]);
            }
        }
    }
    free(ids);
    free(results);
    json_decref(batch);
    return rc;
}

/* Why: the relationship part of `show`: one line per relationship,
 * `-[:USES]-> Other (Label)` or `<-[:DISTILLED_FROM]- Other (Label)`.
 * Relationship properties are left out (they made lines hundreds of
 * columns wide); --json has them. */
static int dsctl_print_rels(struct dsctl *d, json_t *node, json_t *rels)
{
    json_int_t self = json_integer_value(json_object_get(node, "id"));
    json_t *ends = json_object(), *r;
    struct dsctl_rel_line *lines;
    size_t i, n = json_array_size(rels);
    int rc = dsctl_fetch_ends(d, rels, self, ends);

    if (rc) {
        json_decref(ends);
        return rc;
    }
    lines = dsctl_xcalloc(n + 1, sizeof *lines);
    json_array_foreach(rels, i, r) {
        json_t *rel = dsctl_rel_body(r);
        json_int_t s = json_integer_value(json_object_get(rel, "start"));
        json_int_t e = json_integer_value(json_object_get(rel, "end"));
        json_int_t other = s == self ? e : s;
        char key[32], *brief, *type;
        struct dsctl_buf b = {0};

        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, other);
        json_t *on = other == self ? node : json_object_get(ends, key);
        brief = dsctl_node_brief(json_is_object(on) ? on : NULL, other);
        lines[i].incoming = s != self;
        lines[i].id = json_integer_value(json_object_get(rel, "id"));
        lines[i].type = json_string_value(json_object_get(rel, "type"));
        if (!lines[i].type)
            lines[i].type = "?";
        type = dsctl_sanitize(lines[i].type, strlen(lines[i].type));
        dsctl_buf_printf(&b, lines[i].incoming ? "<-[:%s]- %s" : "-[:%s]-> %s", type, brief);
        lines[i].text = dsctl_buf_take(&b);
        free(brief);
        free(type);
    }
    qsort(lines, n, sizeof *lines, dsctl_rel_line_cmp);
    printf("relationships:\n");
    for (i = 0; i < n; i++) {
        printf("  %s\n", lines[i].text);
        free(lines[i].text);
    }
    free(lines);
    json_decref(ends);
    return 0;
}

/* Why: the readable form of a node.get/node.put result: the node, then its
 * aliases and relationships when the result carries them. */
static int dsctl_show_result(struct dsctl *d, json_t *res)
{
    json_t *node = dsctl_node_body(json_object_get(res, "$node"));
    json_t *aliases = json_object_get(res, "aliases"), *rels = json_object_get(res, "relationships");

    dsctl_print_node(stdout, node);
    if (json_array_size(aliases) > 0) {
        char *t = dsctl_labels_text(aliases, ", ");
        printf("aliases: %s\n", t);
        free(t);
    }
    if (json_array_size(rels) > 0)
        return dsctl_print_rels(d, node, rels);
    return 0;
}

/* Why: node.get with options, shared by `show` (everything) and `node get`. */
static int dsctl_get_node(struct dsctl *d, const char *cmd, int argc, char **argv, int full)
{
    static const struct dsctl_opt specs[] = {{"id", 1}, {"label", 1}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params = json_object(), *res;
    int rc = dsctl_args_parse(&a, cmd, argc, argv, specs);

    if (!rc)
        rc = dsctl_node_ref(&a, params);
    dsctl_args_free(&a);
    if (rc) {
        json_decref(params);
        return rc;
    }
    if (full) {
        json_object_set_new(params, "relationships", json_true());
        json_object_set_new(params, "aliases", json_true());
    }
    if ((rc = dsctl_call(d, "node.get", params, &res)))
        return rc;
    rc = d->json ? dsctl_print_json(res) : dsctl_show_result(d, res);
    json_decref(res);
    return rc;
}

/* Why: `show NAME` is the everyday way to look at a node. */
int dsctl_cmd_show(struct dsctl *d, int argc, char **argv)
{
    return dsctl_get_node(d, "show", argc, argv, 1);
}

/* Why: `node put`: merge a node by first label and name. */
static int dsctl_node_put(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"label", 1}, {"prop", 1}, {"alias", 1}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params = NULL, *props = NULL, *labels, *aliases, *res;
    const char *s;
    int rc = dsctl_args_parse(&a, "node put", argc, argv, specs);

    if (!rc && a.npos != 1)
        rc = dsctl_usage_error("node put: give exactly one NAME (quote names with spaces)");
    if (!rc && dsctl_args_count(&a, "label") == 0)
        rc = dsctl_usage_error("node put: at least one --label is required");
    if (!rc)
        rc = dsctl_props(&a, &props);
    if (rc) {
        dsctl_args_free(&a);
        return rc;
    }
    labels = json_array();
    for (int k = 0; (s = dsctl_args_get(&a, "label", k)) != NULL; k++)
        json_array_append_new(labels, json_string(s));
    params = json_pack("{s:o,s:s}", "labels", labels, "name", a.pos[0]);
    if (json_object_size(props) > 0)
        json_object_set(params, "properties", props);
    json_decref(props);
    if (dsctl_args_count(&a, "alias") > 0) {
        aliases = json_array();
        for (int k = 0; (s = dsctl_args_get(&a, "alias", k)) != NULL; k++)
            json_array_append_new(aliases, json_string(s));
        json_object_set_new(params, "aliases", aliases);
    }
    dsctl_args_free(&a);
    if ((rc = dsctl_call(d, "node.put", params, &res)))
        return rc;
    rc = d->json ? dsctl_print_json(res) : dsctl_show_result(d, res);
    json_decref(res);
    return rc;
}

/* Why: `node delete`: by name or id, --detach to take its relationships along. */
static int dsctl_node_delete(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"id", 1}, {"label", 1}, {"detach", 0}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params = json_object(), *res;
    int rc = dsctl_args_parse(&a, "node delete", argc, argv, specs);

    if (!rc)
        rc = dsctl_node_ref(&a, params);
    if (!rc && dsctl_args_count(&a, "detach") > 0)
        json_object_set_new(params, "detach", json_true());
    dsctl_args_free(&a);
    if (rc) {
        json_decref(params);
        return rc;
    }
    if ((rc = dsctl_call(d, "node.delete", params, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else {
        json_int_t nn = json_integer_value(json_object_get(res, "nodes_deleted"));
        json_int_t nr = json_integer_value(json_object_get(res, "relationships_deleted"));
        printf("deleted %" JSON_INTEGER_FORMAT " %s and %" JSON_INTEGER_FORMAT " %s\n", nn,
               dsctl_plural(nn, "node", "nodes"), nr, dsctl_plural(nr, "relationship", "relationships"));
    }
    json_decref(res);
    return rc;
}

/* Why: `node` groups put/get/delete; the subcommand picks the function. */
int dsctl_cmd_node(struct dsctl *d, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "put") == 0)
        return dsctl_node_put(d, argc - 1, argv + 1);
    if (strcmp(sub, "get") == 0)
        return dsctl_get_node(d, "node get", argc - 1, argv + 1, 0);
    if (strcmp(sub, "delete") == 0)
        return dsctl_node_delete(d, argc - 1, argv + 1);
    return dsctl_usage_error("node: expected put, get or delete%s%s", *sub ? ", not " : "", sub);
}

/* Why: `rel put START TYPE END`: merge (or --create) one relationship. */
static int dsctl_rel_put(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"prop", 1}, {"create", 0}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params, *props = NULL, *res, *rel;
    int rc = dsctl_args_parse(&a, "rel put", argc, argv, specs);

    if (!rc && a.npos != 3)
        rc = dsctl_usage_error("rel put: expected START TYPE END");
    if (!rc)
        rc = dsctl_props(&a, &props);
    if (rc) {
        dsctl_args_free(&a);
        return rc;
    }
    params = json_pack("{s:o,s:s,s:o}", "start", dsctl_endpoint_ref(a.pos[0]), "type", a.pos[1],
                       "end", dsctl_endpoint_ref(a.pos[2]));
    if (json_object_size(props) > 0)
        json_object_set(params, "properties", props);
    json_decref(props);
    if (dsctl_args_count(&a, "create") > 0)
        json_object_set_new(params, "create", json_true());
    if ((rc = dsctl_call(d, "rel.put", params, &res))) {
        dsctl_args_free(&a);
        return rc;
    }
    if (d->json) {
        rc = dsctl_print_json(res);
    } else {
        char *st = dsctl_sanitize(a.pos[0], strlen(a.pos[0])), *en = dsctl_sanitize(a.pos[2], strlen(a.pos[2]));
        rel = dsctl_rel_body(res);
        const char *type = json_string_value(json_object_get(rel, "type"));
        char *ty = dsctl_sanitize(type ? type : a.pos[1], strlen(type ? type : a.pos[1]));
        printf("%s -[:%s]-> %s  (relationship id %" JSON_INTEGER_FORMAT ")\n", st, ty, en,
               json_integer_value(json_object_get(rel, "id")));
        free(st);
        free(en);
        free(ty);
        json_t *rp = json_object_get(rel, "properties");
        if (json_object_size(rp) > 0) {
            struct dsctl_table *t = dsctl_table_new(2);
            const char *key;
            json_t *v;
            printf("properties:\n");
            json_object_foreach(rp, key, v) {
                dsctl_table_add_copy(t, key);
                dsctl_table_add(t, dsctl_value_text(v));
            }
            dsctl_table_print(t, stdout, 0, "  ");
            dsctl_table_free(t);
        }
    }
    dsctl_args_free(&a);
    json_decref(res);
    return rc;
}

/* Why: `rel delete --id N` or `rel delete START TYPE END` (every such one). */
static int dsctl_rel_delete(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"id", 1}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params = NULL, *res;
    const char *id;
    json_int_t n;
    int rc = dsctl_args_parse(&a, "rel delete", argc, argv, specs);

    if (!rc) {
        id = dsctl_args_last(&a, "id");
        if (id && a.npos == 0 && dsctl_parse_int(id, 0, &n) == 0)
            params = json_pack("{s:I}", "id", n);
        else if (id && a.npos == 0)
            rc = dsctl_usage_error("rel delete: --id needs a non-negative integer, not '%s'", id);
        else if (!id && a.npos == 3)
            params = json_pack("{s:o,s:s,s:o}", "start", dsctl_endpoint_ref(a.pos[0]), "type", a.pos[1],
                               "end", dsctl_endpoint_ref(a.pos[2]));
        else
            rc = dsctl_usage_error("rel delete: expected --id N, or START TYPE END");
    }
    dsctl_args_free(&a);
    if (rc || (rc = dsctl_call(d, "rel.delete", params, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else {
        n = json_integer_value(json_object_get(res, "relationships_deleted"));
        printf("deleted %" JSON_INTEGER_FORMAT " %s\n", n, dsctl_plural(n, "relationship", "relationships"));
    }
    json_decref(res);
    return rc;
}

/* Why: `rel` groups put/delete. */
int dsctl_cmd_rel(struct dsctl *d, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "put") == 0)
        return dsctl_rel_put(d, argc - 1, argv + 1);
    if (strcmp(sub, "delete") == 0)
        return dsctl_rel_delete(d, argc - 1, argv + 1);
    return dsctl_usage_error("rel: expected put or delete%s%s", *sub ? ", not " : "", sub);
}

/* Why: `search TEXT`: ranked matches as a score/labels/name table. Several
 * words are joined with spaces, so quoting is optional. */
int dsctl_cmd_search(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"limit", 1}, {NULL, 0}};
    struct dsctl_args a;
    struct dsctl_buf text = {0};
    json_t *params, *res, *hit;
    const char *limit;
    json_int_t n = 0;
    size_t i;
    int rc = dsctl_args_parse(&a, "search", argc, argv, specs);

    if (!rc && a.npos == 0)
        rc = dsctl_usage_error("search: expected TEXT");
    limit = rc ? NULL : dsctl_args_last(&a, "limit");
    if (!rc && limit && dsctl_parse_int(limit, 0, &n) != 0)
        rc = dsctl_usage_error("search: --limit needs a non-negative integer, not '%s'", limit);
    if (rc) {
        dsctl_args_free(&a);
        return rc;
    }
    for (int k = 0; k < a.npos; k++) {
        if (k)
            dsctl_buf_puts(&text, " ");
        dsctl_buf_puts(&text, a.pos[k]);
    }
    dsctl_args_free(&a);
    char *t = dsctl_buf_take(&text);
    params = json_pack("{s:s}", "text", t);
    free(t);
    if (limit)
        json_object_set_new(params, "limit", json_integer(n));
    if ((rc = dsctl_call(d, "search", params, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else if (json_array_size(json_object_get(res, "nodes")) == 0) {
        printf("no matches\n");
    } else {
        struct dsctl_table *tb = dsctl_table_new(3);
        dsctl_table_add_copy(tb, "score");
        dsctl_table_add_copy(tb, "labels");
        dsctl_table_add_copy(tb, "name");
        dsctl_table_align_right(tb, 0);
        json_array_foreach(json_object_get(res, "nodes"), i, hit) {
            json_t *node = dsctl_node_body(json_object_get(hit, "$node"));
            dsctl_table_add(tb, dsctl_value_text(json_object_get(hit, "score")));
            dsctl_table_add(tb, dsctl_labels_text(json_object_get(node, "labels"), ", "));
            dsctl_table_add(tb, dsctl_node_name(node));
        }
        dsctl_table_print(tb, stdout, 1, "");
        dsctl_table_free(tb);
    }
    json_decref(res);
    return rc;
}

/* Why: `sql`: one read-only statement shown as an aligned table with a
 * header; numeric columns right-aligned, NULL shown as NULL. */
int dsctl_cmd_sql(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"param", 1}, {NULL, 0}};
    struct dsctl_args a;
    json_t *params, *res, *cols, *rows, *row, *v;
    const char *p;
    size_t i, j, ncols;
    int rc = dsctl_args_parse(&a, "sql", argc, argv, specs);

    if (!rc && a.npos != 1)
        rc = dsctl_usage_error("sql: expected one SQL statement (quote it)");
    if (rc) {
        dsctl_args_free(&a);
        return rc;
    }
    params = json_pack("{s:s}", "sql", a.pos[0]);
    if (dsctl_args_count(&a, "param") > 0) {
        json_t *list = json_array();
        for (int k = 0; (p = dsctl_args_get(&a, "param", k)) != NULL; k++)
            json_array_append_new(list, dsctl_parse_value(p));
        json_object_set_new(params, "params", list);
    }
    dsctl_args_free(&a);
    if ((rc = dsctl_call(d, "sql", params, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
        json_decref(res);
        return rc;
    }
    cols = json_object_get(res, "columns");
    rows = json_object_get(res, "rows");
    ncols = json_array_size(cols);
    struct dsctl_table *t = dsctl_table_new(ncols);
    for (j = 0; j < ncols; j++)
        dsctl_table_add(t, dsctl_value_text(json_array_get(cols, j)));
    for (j = 0; j < ncols; j++) {
        int numeric = 0, other = 0;
        json_array_foreach(rows, i, row) {
            v = json_array_get(row, j);
            if (json_is_number(v))
                numeric = 1;
            else if (v && !json_is_null(v))
                other = 1;
        }
        if (numeric && !other)
            dsctl_table_align_right(t, j);
    }
    json_array_foreach(rows, i, row)
        for (j = 0; j < ncols; j++)
            dsctl_table_add(t, dsctl_value_text(json_array_get(row, j)));
    if (ncols > 0)
        dsctl_table_print(t, stdout, 1, "");
    printf("(%zu %s)\n", json_array_size(rows), json_array_size(rows) == 1 ? "row" : "rows");
    dsctl_table_free(t);
    json_decref(res);
    return rc;
}
