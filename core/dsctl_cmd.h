/*
 * core/dsctl_cmd.h - dsctl's commands and the small option parser they share.
 * Adding a command: write `int dsctl_cmd_NAME(struct dsctl *, int, char **)`
 * (argv[0] is the command name, global flags already removed), declare it
 * here, and add one row to dsctl_commands[] in dsctl.c.
 */
#ifndef DSGRAPH_DSCTL_CMD_H
#define DSGRAPH_DSCTL_CMD_H
#include "dsctl_conn.h"

#include <stdbool.h>

/* One option a command accepts, written without the leading "--". */
struct dsctl_opt {
    const char *name;
    int has_arg;
};

/* A command line after parsing against a list of dsctl_opt. */
struct dsctl_args {
    const char *cmd;             /* for messages, e.g. "node put" */
    const struct dsctl_opt *specs;
    int npos;
    char **pos;                  /* positional arguments, in order */
    int nopt;
    const struct dsctl_opt **which; /* occurrence i is option which[i] ... */
    const char **val;               /* ... with value val[i] (NULL for flags) */
};

int dsctl_args_parse(struct dsctl_args *a, const char *cmd, int argc, char **argv,
                     const struct dsctl_opt *specs);
void dsctl_args_free(struct dsctl_args *a);
int dsctl_args_count(const struct dsctl_args *a, const char *name);
const char *dsctl_args_get(const struct dsctl_args *a, const char *name, int k);
const char *dsctl_args_last(const struct dsctl_args *a, const char *name);
json_t *dsctl_args_pairs(const struct dsctl_args *a, const char *name, bool json_values); /* --NAME k=v ... */
int dsctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int dsctl_parse_int(const char *s, json_int_t min, json_int_t *out);
json_t *dsctl_parse_value(const char *s);
int dsctl_node_ref(const struct dsctl_args *a, json_t *params);

/* Commands: each returns an exit status. */
int dsctl_cmd_ping(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_stats(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_show(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_node(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_rel(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_lineage(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_search(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_sql(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_raw(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_query(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_import(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_imports(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_plugins(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_export(struct dsctl *d, int argc, char **argv);
int dsctl_cmd_check(struct dsctl *d, int argc, char **argv);

#endif
