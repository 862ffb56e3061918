/*
 * core/dsctl_query.c - `dsctl query [--json] [--csv] [--param NAME=JSON]... 'CYPHER'|-`.
 * With --json stdout is exactly one JSON object: the daemon's raw result text
 * (sliced out of the reply line, so NaN/Infinity survive), or
 * {"error":{"type","code","phase","message","position":{"line","column"}}}.
 * Without it: an aligned table (or CSV), and errors with a caret under the position.
 */
#include "dsctl_cmd.h"
#include "dsctl_render.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The query text from stdin (for `-`). */
static char *read_all_stdin(void)
{
    struct dsctl_buf b = {0};
    char tmp[4096];
    ssize_t r;
    while ((r = read(STDIN_FILENO, tmp, sizeof tmp)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(b.p);
            return NULL;
        }
        dsctl_buf_add(&b, tmp, (size_t)r);
    }
    dsctl_buf_add(&b, "", 0);
    return dsctl_buf_take(&b);
}

/* Bare NaN/Infinity/-Infinity tokens become strings so jansson can read the
 * result for display (the --json path never parses it). */
static char *quote_specials(const char *s)
{
    struct dsctl_buf b = {0};
    bool in_str = false;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            dsctl_buf_add(&b, p, 1);
            if (*p == '\\' && p[1])
                dsctl_buf_add(&b, ++p, 1);
            else if (*p == '"')
                in_str = false;
            continue;
        }
        if (*p == '"')
            in_str = true;
        static const char *const toks[] = {"-Infinity", "Infinity", "NaN"};
        size_t k;
        for (k = 0; k < 3; k++)
            if (strncmp(p, toks[k], strlen(toks[k])) == 0)
                break;
        if (k < 3) {
            dsctl_buf_printf(&b, "\"%s\"", toks[k]);
            p += strlen(toks[k]) - 1;
            continue;
        }
        dsctl_buf_add(&b, p, 1);
    }
    dsctl_buf_add(&b, "", 0);
    return dsctl_buf_take(&b);
}

static void cell_text(struct dsctl_buf *b, json_t *v, int top);

/* {k: v, ...} in Cypher's literal style. */
static void map_text(struct dsctl_buf *b, json_t *m, size_t max)
{
    const char *k;
    json_t *v;
    size_t i = 0;
    dsctl_buf_puts(b, "{");
    json_t *name = json_object_get(m, "name");
    if (name && max < json_object_size(m)) {
        dsctl_buf_puts(b, "name: ");
        cell_text(b, name, 0);
        i = 1;
    }
    json_object_foreach(m, k, v) {
        if (i >= max) {
            dsctl_buf_puts(b, ", ...");
            break;
        }
        if (name && max < json_object_size(m) && strcmp(k, "name") == 0)
            continue;
        dsctl_buf_printf(b, "%s%s: ", i ? ", " : "", k);
        cell_text(b, v, 0);
        i++;
    }
    dsctl_buf_puts(b, "}");
}

/* (:Label {name: 'x', ...}) for the table form. */
static void node_text(struct dsctl_buf *b, json_t *n)
{
    json_t *labels = json_object_get(n, "labels"), *props = json_object_get(n, "properties"), *l;
    size_t i;
    dsctl_buf_puts(b, "(");
    json_array_foreach(labels, i, l) dsctl_buf_printf(b, ":%s", json_string_value(l));
    if (json_object_size(props)) {
        if (json_array_size(labels))
            dsctl_buf_puts(b, " ");
        map_text(b, props, 1);
    }
    dsctl_buf_puts(b, ")");
}

/* [:TYPE {k: v}] for the table form. */
static void rel_text(struct dsctl_buf *b, json_t *r)
{
    json_t *props = json_object_get(r, "properties");
    dsctl_buf_printf(b, "[:%s", json_string_value(json_object_get(r, "type")));
    if (json_object_size(props)) {
        dsctl_buf_puts(b, " ");
        map_text(b, props, 3);
    }
    dsctl_buf_puts(b, "]");
}

/* Display text of one value: strings bare at top level, quoted inside. */
static void cell_text(struct dsctl_buf *b, json_t *v, int top)
{
    json_t *x;
    size_t i;
    if (json_is_string(v)) {
        if (top)
            dsctl_buf_puts(b, json_string_value(v));
        else
            dsctl_buf_printf(b, "'%s'", json_string_value(v));
    } else if (json_is_array(v)) {
        dsctl_buf_puts(b, "[");
        json_array_foreach(v, i, x) {
            if (i)
                dsctl_buf_puts(b, ", ");
            cell_text(b, x, 0);
        }
        dsctl_buf_puts(b, "]");
    } else if (json_is_object(v) && (x = json_object_get(v, "$node")) && json_object_size(v) == 1) {
        node_text(b, x);
    } else if (json_is_object(v) && (x = json_object_get(v, "$rel")) && json_object_size(v) == 1) {
        rel_text(b, x);
    } else if (json_is_object(v) && (x = json_object_get(v, "$path")) && json_object_size(v) == 1) {
        json_t *prev = NULL;
        json_array_foreach(x, i, v) {
            if (i % 2 == 0) {
                node_text(b, json_object_get(v, "$node"));
                prev = json_object_get(v, "$node");
            } else {
                json_t *r = json_object_get(v, "$rel");
                bool fwd = json_equal(json_object_get(r, "start"), json_object_get(prev, "id"));
                dsctl_buf_puts(b, fwd ? "-" : "<-");
                rel_text(b, r);
                dsctl_buf_puts(b, fwd ? "->" : "-");
            }
        }
    } else if (json_is_object(v)) {
        map_text(b, v, (size_t)-1);
    } else if (!v || json_is_null(v)) {
        dsctl_buf_puts(b, top ? "NULL" : "null");
    } else {
        char *t = json_dumps(v, DSCTL_DUMP_FLAGS);
        dsctl_buf_puts(b, t ? t : "?");
        free(t);
    }
}

/* One CSV field, quoted when needed. */
static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* The table (or CSV) form of a result, then the non-zero stats. */
static void print_result(json_t *res, int csv)
{
    json_t *cols = json_object_get(res, "columns"), *rows = json_object_get(res, "rows"), *row;
    size_t ncols = json_array_size(cols), i, j;
    if (csv) {
        for (j = 0; j < ncols; j++) {
            if (j)
                putchar(',');
            csv_field(json_string_value(json_array_get(cols, j)));
        }
        putchar('\n');
        json_array_foreach(rows, i, row) {
            for (j = 0; j < ncols; j++) {
                struct dsctl_buf b = {0};
                cell_text(&b, json_array_get(row, j), 1);
                char *t = dsctl_buf_take(&b);
                if (j)
                    putchar(',');
                csv_field(t ? t : "");
                free(t);
            }
            putchar('\n');
        }
        return;
    }
    if (ncols) {
        struct dsctl_table *t = dsctl_table_new(ncols);
        for (j = 0; j < ncols; j++)
            dsctl_table_add_copy(t, json_string_value(json_array_get(cols, j)));
        json_array_foreach(rows, i, row)
            for (j = 0; j < ncols; j++) {
                struct dsctl_buf b = {0};
                cell_text(&b, json_array_get(row, j), 1);
                char *txt = dsctl_buf_take(&b);
                char *clean = dsctl_sanitize(txt ? txt : "", txt ? strlen(txt) : 0);
                free(txt);
                dsctl_table_add(t, clean);
            }
        dsctl_table_print(t, stdout, 1, "");
        dsctl_table_free(t);
        printf("(%zu %s)\n", json_array_size(rows), json_array_size(rows) == 1 ? "row" : "rows");
    }
    json_t *stats = json_object_get(res, "stats");
    const char *k;
    json_t *v;
    int any = 0;
    json_object_foreach(stats, k, v) {
        if (json_integer_value(v)) {
            printf("%s%s: %lld", any ? ", " : "", k, (long long)json_integer_value(v));
            any = 1;
        }
    }
    if (any)
        putchar('\n');
}

/* The error object of the contract, from a JSON-RPC error (query errors carry
 * type/code/phase/position in data; others get their kind). */
static json_t *error_object(json_t *error)
{
    json_t *data = json_object_get(error, "data");
    const char *type = json_string_value(json_object_get(data, "type"));
    json_t *pos = json_object_get(data, "position");
    const char *msg = json_string_value(json_object_get(data, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(error, "message"));
    const char *kind = json_string_value(json_object_get(data, "kind"));
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:O}}", "error", "type", type ? type : "DatabaseError", "code",
                     type ? json_string_value(json_object_get(data, "code")) : (kind ? kind : ""), "phase",
                     type ? json_string_value(json_object_get(data, "phase")) : "runtime", "message", msg ? msg : "",
                     "position", pos ? pos : json_pack("{s:i, s:i}", "line", 0, "column", 0));
}

/* Human error: message, then the query line with a caret under the column. */
static void print_error_human(json_t *err, const char *text)
{
    json_t *e = json_object_get(err, "error"), *pos = json_object_get(e, "position");
    fprintf(stderr, "dsctl: query: %s\n", json_string_value(json_object_get(e, "message")));
    json_int_t line = json_integer_value(json_object_get(pos, "line")), col = json_integer_value(json_object_get(pos, "column"));
    if (line <= 0)
        return;
    const char *p = text;
    for (json_int_t l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return;
    size_t n = strcspn(p, "\n");
    fprintf(stderr, "  %.*s\n  ", (int)n, p);
    json_int_t c = 1;
    for (const char *q = p; c < col && q < p + n; q++)
        if (((unsigned char)*q & 0xC0) != 0x80) {
            fputc(*q == '\t' ? '\t' : ' ', stderr);
            c++;
        }
    fputs("^\n", stderr);
}

/* `dsctl query`: send, then print raw (--json), a table or CSV. */
int dsctl_cmd_query(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"param", 1}, {"csv", 0}, {NULL, 0}};
    struct dsctl_args a;
    const char *p;
    int rc = dsctl_args_parse(&a, "query", argc, argv, specs);
    if (!rc && a.npos != 1)
        rc = dsctl_usage_error("query: expected one Cypher query (quote it, or - for stdin)");
    if (rc) {
        dsctl_args_free(&a);
        return rc;
    }
    int csv = dsctl_args_count(&a, "csv") > 0;
    char *text = strcmp(a.pos[0], "-") == 0 ? read_all_stdin() : strdup(a.pos[0]);
    if (!text) {
        dsctl_args_free(&a);
        fprintf(stderr, "dsctl: query: cannot read the query\n");
        return DSCTL_EXIT_FAILED;
    }
    json_t *params = json_object();
    for (int k = 0; (p = dsctl_args_get(&a, "param", k)) != NULL; k++) {
        const char *eq = strchr(p, '=');
        json_t *v = eq ? json_loads(eq + 1, JSON_DECODE_ANY, NULL) : NULL;
        if (!eq || eq == p || !v) {
            json_decref(params);
            free(text);
            dsctl_args_free(&a);
            return dsctl_usage_error("query: --param needs NAME=JSON, got '%s'", p);
        }
        char *name = strndup(p, (size_t)(eq - p));
        json_object_set_new(params, name, v);
        free(name);
    }
    dsctl_args_free(&a);
    json_t *req = json_pack("{s:s, s:I, s:s, s:{s:s, s:o}}", "jsonrpc", "2.0", "id", (json_int_t)1, "method", "query",
                            "params", "query", text, "params", params);
    char *line = json_dumps(req, DSCTL_DUMP_FLAGS);
    json_decref(req);
    if (!line || (rc = dsctl_conn_connect(d))) {
        free(line);
        free(text);
        return line ? rc : DSCTL_EXIT_FAILED;
    }
    int send_err = dsctl_conn_send_line(&d->conn, line, strlen(line)) ? errno : 0;
    free(line);
    char *reply = NULL;
    size_t len = 0;
    int got = send_err ? -1 : dsctl_conn_read_line(&d->conn, &reply, &len);
    if (got <= 0) {
        free(text);
        return dsctl_lost(d, "lost connection to", send_err ? send_err : (got < 0 ? errno : 0));
    }
    static const char prefix[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":";
    size_t pl = sizeof prefix - 1;
    while (len && (reply[len - 1] == '\n' || reply[len - 1] == '\r'))
        len--;
    if (len > pl + 1 && strncmp(reply, prefix, pl) == 0 && reply[len - 1] == '}') {
        if (d->json) {
            fwrite(reply + pl, 1, len - pl - 1, stdout);
            putchar('\n');
            free(text);
            return DSCTL_EXIT_OK;
        }
        char *raw = strndup(reply + pl, len - pl - 1);
        char *quoted = raw ? quote_specials(raw) : NULL;
        json_t *res = quoted ? json_loads(quoted, 0, NULL) : NULL;
        free(raw);
        free(quoted);
        free(text);
        if (!res) {
            fprintf(stderr, "dsctl: query: unreadable result\n");
            return DSCTL_EXIT_FAILED;
        }
        print_result(res, csv);
        json_decref(res);
        return DSCTL_EXIT_OK;
    }
    json_t *doc = json_loadb(reply, len, 0, NULL), *error = json_object_get(doc, "error");
    if (!error) {
        json_decref(doc);
        free(text);
        fprintf(stderr, "dsctl: query: unexpected reply\n");
        return DSCTL_EXIT_FAILED;
    }
    json_t *eo = error_object(error);
    if (d->json) {
        char *t = json_dumps(eo, DSCTL_DUMP_FLAGS);
        if (t)
            puts(t);
        free(t);
    } else {
        print_error_human(eo, text);
    }
    json_decref(eo);
    json_decref(doc);
    free(text);
    return DSCTL_EXIT_FAILED;
}
