/*
 * core/dsctl.c - dsctl, the command-line client of dsgraphd: global flags,
 * the command table, usage, and the option parser the commands share.
 * The commands themselves live in dsctl_cmds.c and dsctl_lineage.c; the
 * connection in dsctl_conn.c; display in dsctl_render.c.
 */
#include "dsctl_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static int dsctl_cmd_help(struct dsctl *d, int argc, char **argv);

/* One row per command: adding a command is a row here plus its function. */
struct dsctl_command {
    const char *name;
    int (*run)(struct dsctl *d, int argc, char **argv);
    const char *synopsis; /* lines after "dsctl ", '\n'-separated */
    const char *summary;
};

static const struct dsctl_command dsctl_commands[] = {
    {"ping", dsctl_cmd_ping, "ping", "check that the daemon answers; prints its version, pid and uptime"},
    {"stats", dsctl_cmd_stats, "stats", "counts of nodes, relationships, labels and types"},
    {"show", dsctl_cmd_show, "show NAME [--label L]\nshow --id N",
     "a node: labels, properties, aliases and relationships"},
    {"node", dsctl_cmd_node,
     "node put --label L [--label L2]... NAME [--prop KEY=JSON]... [--alias A]...\n"
     "node get NAME|--id N [--label L]\n"
     "node delete NAME|--id N [--label L] [--detach]",
     "create/merge, read or delete a node (a --prop value that is not JSON is a string)"},
    {"rel", dsctl_cmd_rel,
     "rel put START TYPE END [--prop KEY=JSON]... [--create]\n"
     "rel delete --id N\n"
     "rel delete START TYPE END",
     "create/merge or delete relationships; START and END are names, or #ID"},
    {"lineage", dsctl_cmd_lineage, "lineage NAME|--id N [--label L] [--up|--down] [--depth N] [--types T,...]",
     "ancestors (--up, the default) or descendants (--down) drawn as a tree"},
    {"search", dsctl_cmd_search, "search TEXT [--limit N]", "full-text search over names, aliases and properties"},
    {"query", dsctl_cmd_query, "query [--csv] [--param NAME=JSON]... 'CYPHER'|-", "an openCypher query (docs/query.md); --json prints the result object"},
    {"sql", dsctl_cmd_sql, "sql 'SELECT ...' [--param JSON]...", "one read-only SQL statement, as a table"},
    {"import", dsctl_cmd_import, "import FILE... [--plugin NAME] [--dry-run] [--in-place]",
     "import files through a plugin (chosen by extension and content unless named); --dry-run writes nothing; "
     "--in-place has the daemon read them where they are (only under its import_dirs) instead of uploading them"},
    {"imports", dsctl_cmd_imports, "imports\nimports show ID [--limit N]\nimports retract ID",
     "list imports, show what one asserted, or retract exactly the facts only it asserted"},
    {"plugins", dsctl_cmd_plugins, "plugins\nplugins reload", "list the plugins and their status; reload them"},
    {"export", dsctl_cmd_export, "export NAME [--opt KEY=VALUE]... [-o FILE] [--format svg|png]",
     "run an exporter plugin; writes stdout or FILE (via FILE.tmp); --format renders DOT with Graphviz's dot"},
    {"check", dsctl_cmd_check, "check [--plugin NAME]... [--opt key=value]...",
     "run the check plugins; lists findings with their nodes and imports; exit 1 on an error finding"},
    {"raw", dsctl_cmd_raw, "raw", "send one JSON-RPC request read from stdin; print the reply line verbatim"},
    {"help", dsctl_cmd_help, "help", "this text"},
};

/* Why: `--help`, `help` and every usage error print the same listing,
 * generated from the command table so a new command documents itself. */
static void dsctl_usage(FILE *out)
{
    fputs("usage: dsctl [--socket PATH] [--json] COMMAND [ARGS...]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof dsctl_commands / sizeof dsctl_commands[0]; i++) {
        const char *s = dsctl_commands[i].synopsis;
        while (*s) {
            size_t n = strcspn(s, "\n");
            fprintf(out, "  dsctl %.*s\n", (int)n, s);
            s += n + (s[n] == '\n');
        }
        fprintf(out, "      %s\n", dsctl_commands[i].summary);
    }
    fputs("\nglobal options (anywhere before \"--\"):\n"
          "  --socket PATH  the daemon's socket; default $DSGRAPH_SOCKET, else\n"
          "                 $XDG_RUNTIME_DIR/dsgraph.sock, else /tmp/dsgraph-$UID/dsgraph.sock\n"
          "  --json         print the JSON-RPC result as one line of JSON\n"
          "                 (on failure {\"error\":{...}})\n"
          "  -h, --help     this text\n"
          "\nexit status: 0 success, 1 the request failed, 2 usage error, 3 no daemon reachable\n",
          out);
}

/* Why: `dsctl help` is a command too, for people who type it that way. */
static int dsctl_cmd_help(struct dsctl *d, int argc, char **argv)
{
    dsctl_usage(stdout);
    return DSCTL_EXIT_OK;
}

/* The command being run, so a usage error can show that command's usage. */
static const struct dsctl_command *dsctl_current;

/* Why: every usage error reads the same: what is wrong, then the usage (of
 * the command at hand, or all of it), exit 2. */
int dsctl_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("dsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    if (!dsctl_current) {
        fputs("\n", stderr);
        dsctl_usage(stderr);
        return DSCTL_EXIT_USAGE;
    }
    for (const char *s = dsctl_current->synopsis; *s;) {
        size_t n = strcspn(s, "\n");
        fprintf(stderr, "%s dsctl %.*s\n", s == dsctl_current->synopsis ? "usage:" : "      ", (int)n, s);
        s += n + (s[n] == '\n');
    }
    fputs("Run 'dsctl --help' for all commands and global options.\n", stderr);
    return DSCTL_EXIT_USAGE;
}

/* Why: ids, depths and limits must be whole numbers; "12x" is a usage error,
 * not 12. Returns 0 or -1. */
int dsctl_parse_int(const char *s, json_int_t min, json_int_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min)
        return -1;
    *out = (json_int_t)v;
    return 0;
}

/* Why: --prop and --param take JSON, but typing quotes around every string
 * is a pain: a value that parses as JSON is that value, anything else is a
 * string. Returns a new reference. */
json_t *dsctl_parse_value(const char *s)
{
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(s);
}

/* Why: jansson refuses invalid UTF-8 in strings; catching it while parsing
 * the command line gives a usage error instead of a failed json_pack. */
static int dsctl_valid_utf8(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        if (n <= 0)
            return 0;
        p += n;
    }
    return 1;
}

/* Why: each command's options (--label L, --prop k=v, --detach ...) are
 * parsed one way: "--opt VALUE" or "--opt=VALUE", repeatable, mixed freely
 * with positionals; after "--" everything is positional. argv[0] is the
 * command word and is skipped. Returns 0 or a reported usage error (2). */
int dsctl_args_parse(struct dsctl_args *a, const char *cmd, int argc, char **argv,
                     const struct dsctl_opt *specs)
{
    int i, dashdash = 0;

    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->specs = specs;
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    a->which = calloc((size_t)argc + 1, sizeof *a->which);
    a->val = calloc((size_t)argc + 1, sizeof *a->val);
    if (!a->pos || !a->which || !a->val) {
        fputs("dsctl: out of memory\n", stderr);
        return DSCTL_EXIT_FAILED;
    }
    for (i = 1; i < argc; i++) {
        char *arg = argv[i];
        const struct dsctl_opt *o;
        const char *eq;
        size_t nlen;

        if (!dsctl_valid_utf8(arg))
            return dsctl_usage_error("%s: argument %d is not valid UTF-8", cmd, i);
        if (dashdash || strncmp(arg, "--", 2) != 0) {
            a->pos[a->npos++] = arg;
            continue;
        }
        if (arg[2] == '\0') {
            dashdash = 1;
            continue;
        }
        eq = strchr(arg, '=');
        nlen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        for (o = specs; o && o->name; o++)
            if (strlen(o->name) == nlen && strncmp(o->name, arg + 2, nlen) == 0)
                break;
        if (!o || !o->name)
            return dsctl_usage_error("%s: unknown option %.*s", cmd, (int)(nlen + 2), arg);
        a->which[a->nopt] = o;
        if (!o->has_arg) {
            if (eq)
                return dsctl_usage_error("%s: option --%s takes no value", cmd, o->name);
            a->val[a->nopt++] = NULL;
        } else if (eq) {
            a->val[a->nopt++] = eq + 1;
        } else if (i + 1 < argc) {
            if (!dsctl_valid_utf8(argv[i + 1]))
                return dsctl_usage_error("%s: the value of --%s is not valid UTF-8", cmd, o->name);
            a->val[a->nopt++] = argv[++i];
        } else {
            return dsctl_usage_error("%s: option --%s needs a value", cmd, o->name);
        }
    }
    return 0;
}

/* Why: the parser allocates; every command frees on every path. */
void dsctl_args_free(struct dsctl_args *a)
{
    free(a->pos);
    free(a->which);
    free(a->val);
    memset(a, 0, sizeof *a);
}

/* Why: how many times an option was given (flags and repeatables). */
int dsctl_args_count(const struct dsctl_args *a, const char *name)
{
    int n = 0;
    for (int i = 0; i < a->nopt; i++)
        n += strcmp(a->which[i]->name, name) == 0;
    return n;
}

/* Why: the k-th value of a repeatable option (--label, --prop, --param). */
const char *dsctl_args_get(const struct dsctl_args *a, const char *name, int k)
{
    for (int i = 0; i < a->nopt; i++)
        if (strcmp(a->which[i]->name, name) == 0 && k-- == 0)
            return a->val[i];
    return NULL;
}

/* Why: --prop KEY=VALUE (node and rel properties: a value that parses as JSON is
 * that value, else a string) and --opt key=value (plugin options of export and
 * check: always a string, the plugin converts) are read alike: every occurrence of
 * --NAME becomes a member of one object. NULL after a usage message when one has
 * no key or no '='. */
json_t *dsctl_args_pairs(const struct dsctl_args *a, const char *name, bool json_values)
{
    json_t *obj = json_object();
    const char *kv;
    for (int k = 0; (kv = dsctl_args_get(a, name, k)) != NULL; k++) {
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            json_decref(obj);
            dsctl_usage_error("%s: --%s needs key=value, not '%s'", a->cmd, name, kv);
            return NULL;
        }
        char *key = strndup(kv, (size_t)(eq - kv));
        json_object_set_new(obj, key, json_values ? dsctl_parse_value(eq + 1) : json_string(eq + 1));
        free(key);
    }
    return obj;
}

/* Why: for single-valued options a later occurrence wins, as usual for CLIs. */
const char *dsctl_args_last(const struct dsctl_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopt; i++)
        if (strcmp(a->which[i]->name, name) == 0)
            v = a->val[i];
    return v;
}

/* Why: global flags (--socket, --json, --help) may appear anywhere before
 * "--", so they are pulled out of argv first; what is left is the command
 * and its own arguments. Returns -1 to continue, else an exit status. */
static int dsctl_globals(struct dsctl *d, int argc, char **argv, char **rest, int *nrest)
{
    int help = 0, i;

    *nrest = 0;
    for (i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            while (i < argc)
                rest[(*nrest)++] = argv[i++];
            break;
        }
        if (strcmp(arg, "--json") == 0)
            d->json = 1;
        else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            help = 1;
        else if (strncmp(arg, "--socket=", 9) == 0)
            d->socket_opt = arg + 9;
        else if (strcmp(arg, "--socket") == 0) {
            if (i + 1 >= argc)
                return dsctl_usage_error("option --socket needs a value");
            d->socket_opt = argv[++i];
        } else
            rest[(*nrest)++] = arg;
    }
    rest[*nrest] = NULL;
    if (help) {
        dsctl_usage(stdout);
        return DSCTL_EXIT_OK;
    }
    return -1;
}

/* Why: the entry point: strip global flags, find the command in the table,
 * run it, and make sure a failed write to stdout is not reported as success. */
int main(int argc, char **argv)
{
    struct dsctl d;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest, rc;
    const struct dsctl_command *cmd = NULL;

    memset(&d, 0, sizeof d);
    if (!rest) {
        fputs("dsctl: out of memory\n", stderr);
        return DSCTL_EXIT_FAILED;
    }
    rc = dsctl_globals(&d, argc, argv, rest, &nrest);
    if (rc < 0) {
        char **cargv = rest;
        if (nrest > 0 && strcmp(cargv[0], "--") == 0) {
            cargv++;
            nrest--;
        }
        if (nrest == 0) {
            rc = dsctl_usage_error("no command given");
        } else {
            for (size_t i = 0; i < sizeof dsctl_commands / sizeof dsctl_commands[0]; i++)
                if (strcmp(dsctl_commands[i].name, cargv[0]) == 0)
                    cmd = &dsctl_commands[i];
            dsctl_current = cmd;
            rc = cmd ? cmd->run(&d, nrest, cargv) : dsctl_usage_error("unknown command '%s'", cargv[0]);
        }
    }
    dsctl_close(&d);
    free(rest);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dsctl: cannot write to standard output: %s\n", strerror(errno));
        if (rc == 0)
            rc = DSCTL_EXIT_FAILED;
    }
    return rc;
}
