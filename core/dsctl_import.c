/*
 * core/dsctl_import.c - dsctl import, imports and plugins: uploading files in
 * chunks (one import.chunk in flight at a time: the daemon's reply is the
 * back-pressure) or, with --in-place, naming them for the daemon to read
 * itself (import.path), a progress line on a terminal, and the summaries.
 */
#include "dsctl_cmd.h"
#include "dsctl_render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DSCTL_CHUNK (768u * 1024u)   /* raw bytes per import.chunk (~1 MiB of base64) */

/* Why: chunks travel as base64 in JSON strings; dsctl links no crypto library. */
static char *dsctl_b64(const unsigned char *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static double dsctl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Why: on a terminal the user sees bytes sent, the rate and the time left. */
static void dsctl_progress(const char *name, double done, double total, double t0)
{
    double dt = dsctl_now() - t0, rate = dt > 0 ? done / dt : 0;
    fprintf(stderr, "\r\033[K%s: %.1f/%.1f MiB", name, done / 1048576.0, total / 1048576.0);
    if (total > 0)
        fprintf(stderr, " %3.0f%%", 100.0 * done / total);
    fprintf(stderr, " %.1f MiB/s", rate / 1048576.0);
    if (rate > 0 && total > done)
        fprintf(stderr, " ETA %.0fs", (total - done) / rate);
    fflush(stderr);
}

/* Why: "1, 2, 3" for the summary line (a static buffer: one summary at a time). */
static const char *replayed_list(json_t *ids)
{
    static char buf[256];
    size_t used = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(ids, i, v) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "", json_integer_value(v));
        if (n < 0 || (size_t)n >= sizeof buf - used) {
            snprintf(buf + (sizeof buf > 6 ? sizeof buf - 6 : 0), 6, ", ...");
            break;
        }
        used += (size_t)n;
    }
    return buf;
}

/* Why: the person-readable summary of one import.end result. */
static void dsctl_import_summary(const char *file, json_t *r, double secs)
{
    json_int_t nc = json_integer_value(json_object_get(r, "nodes_created")),
               nu = json_integer_value(json_object_get(r, "nodes_updated")),
               rc = json_integer_value(json_object_get(r, "relationships_created")),
               ps = json_integer_value(json_object_get(r, "properties_set")),
               nw = json_integer_value(json_object_get(r, "warnings_total"));
    const char *plugin = json_string_value(json_object_get(r, "plugin"));
    json_t *id = json_object_get(r, "import_id");
    if (json_is_true(json_object_get(r, "unchanged"))) {
        printf("%s: unchanged (already imported by %s as import %" JSON_INTEGER_FORMAT ")\n", file,
               plugin ? plugin : "?", json_integer_value(id));
        return;
    }
    if (json_is_true(json_object_get(r, "dry_run")))
        printf("%s: dry run with %s, nothing written; would create %" JSON_INTEGER_FORMAT " nodes, update %"
               JSON_INTEGER_FORMAT ", create %" JSON_INTEGER_FORMAT " relationships, set %" JSON_INTEGER_FORMAT
               " properties", file, plugin ? plugin : "?", nc, nu, rc, ps);
    else if (json_is_null(id) && json_array_size(json_object_get(r, "replayed_imports")))
        /* a restore of an export with provenance: its facts belong to the recreated imports */
        printf("%s: restored imports %s with %s: %" JSON_INTEGER_FORMAT " nodes created, %" JSON_INTEGER_FORMAT
               " updated, %" JSON_INTEGER_FORMAT " relationships created, %" JSON_INTEGER_FORMAT " properties set",
               file, replayed_list(json_object_get(r, "replayed_imports")), plugin ? plugin : "?", nc, nu, rc, ps);
    else
        printf("%s: import %" JSON_INTEGER_FORMAT " with %s: %" JSON_INTEGER_FORMAT " nodes created, %"
               JSON_INTEGER_FORMAT " updated, %" JSON_INTEGER_FORMAT " relationships created, %" JSON_INTEGER_FORMAT
               " properties set", file, json_integer_value(id), plugin ? plugin : "?", nc, nu, rc, ps);
    printf(", %" JSON_INTEGER_FORMAT " warning%s", nw, nw == 1 ? "" : "s");
    if (secs > 0)
        printf(" (%.2f s, %.0f items/s)", secs, (double)(nc + nu + rc) / secs);
    printf("\n");
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(r, "warnings"), i, w)
        printf("  line %" JSON_INTEGER_FORMAT ": %s\n", json_integer_value(json_object_get(w, "line")),
               json_string_value(json_object_get(w, "message")));
    if (nw > (json_int_t)json_array_size(json_object_get(r, "warnings")))
        printf("  ... and %" JSON_INTEGER_FORMAT " more\n", nw - (json_int_t)json_array_size(json_object_get(r, "warnings")));
}

/* Why: one file: begin, chunks, end. *out gets the import.end result. */
static int dsctl_import_one(struct dsctl *d, const char *path, const char *plugin, int dry, json_t **out)
{
    FILE *f = fopen(path, "rb");
    struct stat stt;
    if (!f || fstat(fileno(f), &stt) != 0) {
        fprintf(stderr, "dsctl: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return DSCTL_EXIT_FAILED;
    }
    unsigned char *buf = malloc(DSCTL_CHUNK);
    size_t n = buf ? fread(buf, 1, 4096, f) : 0;
    rewind(f);
    char *head = buf ? dsctl_b64(buf, n) : NULL;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    json_t *res = NULL;
    int rc = !buf || !head ? DSCTL_EXIT_FAILED : 0;
    if (!rc)
        rc = dsctl_call(d, "import.begin",
                        json_pack("{s:s?,s:s,s:I,s:s,s:b}", "plugin", plugin, "name", base, "size",
                                  (json_int_t)stt.st_size, "head", head, "dry_run", dry),
                        &res);
    free(head);
    char token[80] = "";
    if (!rc)
        snprintf(token, sizeof token, "%s", json_string_value(json_object_get(res, "import")));
    json_decref(res);
    int tty = isatty(2);
    double t0 = dsctl_now(), sent = 0, last = 0;
    while (!rc && (n = fread(buf, 1, DSCTL_CHUNK, f)) > 0) {
        char *b64 = dsctl_b64(buf, n);
        if (!b64) {
            rc = DSCTL_EXIT_FAILED;
            break;
        }
        rc = dsctl_call(d, "import.chunk", json_pack("{s:s,s:s}", "import", token, "data", b64), &res);
        free(b64);
        json_decref(res);
        sent += (double)n;
        if (tty && dsctl_now() - last > 0.2) {
            dsctl_progress(base, sent, (double)stt.st_size, t0);
            last = dsctl_now();
        }
    }
    if (!rc && ferror(f)) {
        fprintf(stderr, "dsctl: reading %s failed\n", path);
        rc = DSCTL_EXIT_FAILED;
        json_t *ignored = NULL;
        dsctl_call(d, "import.abort", json_pack("{s:s}", "import", token), &ignored);
        json_decref(ignored);
    }
    if (tty && sent > 0)
        fprintf(stderr, "\r\033[K%s: %.1f MiB sent; importing...", base, sent / 1048576.0);
    double t1 = dsctl_now();
    if (!rc)
        rc = dsctl_call(d, "import.end", json_pack("{s:s}", "import", token), &res);
    if (tty && sent > 0)
        fprintf(stderr, "\r\033[K");
    if (!rc) {
        if (!d->json)
            dsctl_import_summary(path, res, dsctl_now() - t1);
        *out = res;
    }
    free(buf);
    fclose(f);
    return rc;
}

/* Why: `--in-place`: the daemon reads the file where it lies (import.path), which
 * spares the upload (base64 in JSON, a spool copy: about 40 MB/s) for big inputs
 * on the daemon's own machine. The daemon only opens files under its config's
 * import_dirs; the path is sent absolute, symbolic links resolved, since the
 * daemon's working directory is not ours. */
static int dsctl_import_in_place(struct dsctl *d, const char *path, const char *plugin, int dry, json_t **out)
{
    char *real = realpath(path, NULL);
    if (!real) {
        fprintf(stderr, "dsctl: %s: %s\n", path, strerror(errno));
        return DSCTL_EXIT_FAILED;
    }
    json_t *res = NULL;
    double t0 = dsctl_now();
    int rc = dsctl_call(d, "import.path", json_pack("{s:s,s:s?,s:b}", "path", real, "plugin", plugin, "dry_run", dry),
                        &res);
    free(real);
    if (!rc) {
        if (!d->json)
            dsctl_import_summary(path, res, dsctl_now() - t0);
        *out = res;
    }
    return rc;
}

/* Why: `dsctl import FILE... [--plugin NAME] [--dry-run] [--in-place]`; every file is tried,
 * the exit status is 1 if any failed. --json prints the results (an object
 * for one file, an array for several). */
int dsctl_cmd_import(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"plugin", 1}, {"dry-run", 0}, {"in-place", 0}, {NULL, 0}};
    struct dsctl_args a;
    int rc = dsctl_args_parse(&a, "import", argc, argv, specs);
    if (!rc && a.npos == 0)
        rc = dsctl_usage_error("import: give at least one FILE");
    if (rc) {
        dsctl_args_free(&a);
        return rc;
    }
    const char *plugin = dsctl_args_last(&a, "plugin");
    int dry = dsctl_args_count(&a, "dry-run") > 0, in_place = dsctl_args_count(&a, "in-place") > 0, worst = 0;
    json_t *all = json_array();
    for (int i = 0; i < a.npos; i++) {
        json_t *res = NULL;
        int r = in_place ? dsctl_import_in_place(d, a.pos[i], plugin, dry, &res)
                         : dsctl_import_one(d, a.pos[i], plugin, dry, &res);
        if (r == DSCTL_EXIT_NOCONN) {
            worst = r;
            break;
        }
        if (r)
            worst = DSCTL_EXIT_FAILED;
        else
            json_array_append_new(all, res);
    }
    if (d->json && worst != DSCTL_EXIT_NOCONN)
        dsctl_print_json(a.npos == 1 ? json_array_get(all, 0) ? json_array_get(all, 0) : json_null() : all);
    json_decref(all);
    dsctl_args_free(&a);
    return worst;
}

/* Why: `dsctl imports`, `imports show ID`, `imports retract ID`. */
int dsctl_cmd_imports(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"limit", 1}, {NULL, 0}};
    struct dsctl_args a;
    json_t *res = NULL;
    json_int_t id = 0, limit = 1000;
    int rc = dsctl_args_parse(&a, "imports", argc, argv, specs);
    const char *sub = !rc && a.npos > 0 ? a.pos[0] : "list";
    if (!rc && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "retract") != 0)
        rc = dsctl_usage_error("imports: unknown subcommand '%s'", sub);
    if (!rc && strcmp(sub, "list") != 0 && (a.npos != 2 || dsctl_parse_int(a.pos[1], 1, &id) != 0))
        rc = dsctl_usage_error("imports %s: give one import ID (a positive integer)", sub);
    if (!rc && dsctl_args_last(&a, "limit") && dsctl_parse_int(dsctl_args_last(&a, "limit"), 0, &limit) != 0)
        rc = dsctl_usage_error("imports: --limit needs a non-negative integer");
    dsctl_args_free(&a);
    if (rc)
        return rc;
    if (strcmp(sub, "list") == 0)
        rc = dsctl_call(d, "imports.list", NULL, &res);
    else if (strcmp(sub, "show") == 0)
        rc = dsctl_call(d, "imports.show", json_pack("{s:I,s:I}", "id", id, "limit", limit), &res);
    else
        rc = dsctl_call(d, "imports.retract", json_pack("{s:I}", "id", id), &res);
    if (rc)
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
    } else if (strcmp(sub, "list") == 0) {
        struct dsctl_table *t = dsctl_table_new(8);
        static const char *const cols[] = {"ID", "PLUGIN", "INPUT", "NODES", "RELS", "PROPS", "STARTED", "STATUS"};
        for (int i = 0; i < 8; i++)
            dsctl_table_add_copy(t, cols[i]);
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(res, "imports"), i, r) {
            static const char *const keys[] = {"id", "plugin", "input", "nodes", "relationships", "properties",
                                               "started_at"};
            for (int k = 0; k < 7; k++)
                dsctl_table_add(t, dsctl_value_text(json_object_get(r, keys[k])));
            dsctl_table_add_copy(t, json_is_string(json_object_get(r, "retracted_at")) ? "retracted" : "active");
        }
        dsctl_table_print(t, stdout, 1, "");
        dsctl_table_free(t);
    } else if (strcmp(sub, "show") == 0) {
        json_t *imp = json_object_get(res, "import");
        printf("import %" JSON_INTEGER_FORMAT ": %s by %s, sha256 %s\n", json_integer_value(json_object_get(imp, "id")),
               json_string_value(json_object_get(imp, "input")), json_string_value(json_object_get(imp, "plugin")),
               json_string_value(json_object_get(imp, "sha256")));
        static const char *const lists[] = {"nodes", "relationships", "aliases", "properties"};
        for (int k = 0; k < 4; k++) {
            json_t *arr = json_object_get(res, lists[k]), *e;
            size_t i;
            printf("%s (%zu):\n", lists[k], json_array_size(arr));
            json_array_foreach(arr, i, e) {
                char *s = json_dumps(e, DSCTL_DUMP_FLAGS);
                printf("  %s\n", s ? s : "?");
                free(s);
            }
        }
        if (json_is_true(json_object_get(res, "truncated")))
            printf("(truncated at %" JSON_INTEGER_FORMAT " per list; use --limit)\n", limit);
    } else {
        printf("retracted import %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT " nodes and %" JSON_INTEGER_FORMAT
               " relationships deleted, %" JSON_INTEGER_FORMAT " properties restored, %" JSON_INTEGER_FORMAT
               " removed, %" JSON_INTEGER_FORMAT " aliases removed\n", id,
               json_integer_value(json_object_get(res, "nodes_deleted")),
               json_integer_value(json_object_get(res, "relationships_deleted")),
               json_integer_value(json_object_get(res, "properties_restored")),
               json_integer_value(json_object_get(res, "properties_removed")),
               json_integer_value(json_object_get(res, "aliases_removed")));
    }
    json_decref(res);
    return rc;
}

/* Why: `dsctl plugins` lists plugins and their status; `plugins reload`. */
int dsctl_cmd_plugins(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{NULL, 0}};
    struct dsctl_args a;
    json_t *res = NULL;
    int rc = dsctl_args_parse(&a, "plugins", argc, argv, specs);
    int reload = !rc && a.npos == 1 && strcmp(a.pos[0], "reload") == 0;
    if (!rc && a.npos > 0 && !reload)
        rc = dsctl_usage_error("plugins: the only subcommand is 'reload'");
    dsctl_args_free(&a);
    if (rc || (rc = dsctl_call(d, reload ? "plugins.reload" : "plugins.list", NULL, &res)))
        return rc;
    if (d->json) {
        rc = dsctl_print_json(res);
        json_decref(res);
        return rc;
    }
    struct dsctl_table *t = dsctl_table_new(5);
    static const char *const cols[] = {"NAME", "VERSION", "STATUS", "KIND", "FILE / ERROR"};
    for (int i = 0; i < 5; i++)
        dsctl_table_add_copy(t, cols[i]);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res, "plugins"), i, p) {
        json_t *imp = json_object_get(p, "importer"), *exp = json_object_get(p, "exporter");
        const char *status = json_string_value(json_object_get(p, "status"));
        dsctl_table_add_copy(t, json_is_string(json_object_get(p, "name")) ? json_string_value(json_object_get(p, "name")) : "-");
        dsctl_table_add_copy(t, json_is_string(json_object_get(p, "version")) ? json_string_value(json_object_get(p, "version")) : "");
        dsctl_table_add_copy(t, status ? status : "?");
        struct dsctl_buf kind = {0};
        if (json_is_object(imp)) {
            dsctl_buf_puts(&kind, "importer");
            size_t k;
            json_t *e;
            json_array_foreach(json_object_get(imp, "extensions"), k, e)
                dsctl_buf_printf(&kind, "%s.%s", k ? " " : " ", json_string_value(e));
        }
        if (json_is_object(exp))
            dsctl_buf_puts(&kind, kind.len ? ", exporter" : "exporter");
        dsctl_table_add(t, kind.len ? dsctl_buf_take(&kind) : strdup("-"));
        const char *what = status && strcmp(status, "ok") == 0 ? json_string_value(json_object_get(p, "file"))
                                                               : json_string_value(json_object_get(p, "error"));
        dsctl_table_add_copy(t, what ? what : "");
    }
    dsctl_table_print(t, stdout, 1, "");
    dsctl_table_free(t);
    if (reload)
        printf("reloaded: %" JSON_INTEGER_FORMAT " loaded, %" JSON_INTEGER_FORMAT " failed\n",
               json_integer_value(json_object_get(res, "loaded")), json_integer_value(json_object_get(res, "failed")));
    json_decref(res);
    return rc;
}
