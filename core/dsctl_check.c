/*
 * core/dsctl_check.c - `dsctl check [--plugin NAME]...`: runs the daemon's
 * check plugins (docs/plugins.md, "Check plugins") and lists their findings,
 * each with its severity, message, the nodes it names and the imports behind
 * it. --json prints the result object. Exit status 1 when a finding has
 * severity "error" (or a check failed), else 0: usable as a CI gate.
 */
#include "dsctl_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Why: one line per node, "NAME (#ID, Label, ...)", so a reader can follow
 * up with `dsctl show --id ID`. */
static void dsctl_check_nodes(json_t *nodes)
{
    json_t *n, *l;
    size_t i, k;
    json_array_foreach(nodes, i, n) {
        const char *name = json_string_value(json_object_get(n, "name"));
        printf("    node    %s (#%lld", name ? name : "?", (long long)json_integer_value(json_object_get(n, "id")));
        json_array_foreach(json_object_get(n, "labels"), k, l)
            printf("%s%s", k == 0 ? ", " : ":", json_string_value(l) ? json_string_value(l) : "?");
        printf(")\n");
    }
}

/* Why: the sources of a finding, "#ID PLUGIN INPUT", as `dsctl imports` shows them. */
static void dsctl_check_imports(json_t *imports)
{
    json_t *m;
    size_t i;
    json_array_foreach(imports, i, m) {
        const char *plugin = json_string_value(json_object_get(m, "plugin"));
        const char *input = json_string_value(json_object_get(m, "input"));
        printf("    import  #%lld %s%s%s\n", (long long)json_integer_value(json_object_get(m, "id")),
               plugin ? plugin : "?", input ? " " : "", input ? input : "");
    }
}

/* Why: the readable listing; returns how many findings are errors. */
static size_t dsctl_check_print(json_t *res)
{
    json_t *f, *findings = json_object_get(res, "findings");
    size_t i, errors = 0;
    json_array_foreach(findings, i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        const char *check = json_string_value(json_object_get(f, "check"));
        const char *msg = json_string_value(json_object_get(f, "message"));
        bool err = sev && strcmp(sev, "error") == 0;
        errors += err;
        printf("%-7s %s: %s\n", sev ? sev : "?", check ? check : "?", msg ? msg : "");
        dsctl_check_nodes(json_object_get(f, "nodes"));
        dsctl_check_imports(json_object_get(f, "imports"));
    }
    json_array_foreach(json_object_get(res, "failed"), i, f) {
        const char *check = json_string_value(json_object_get(f, "check"));
        const char *msg = json_string_value(json_object_get(f, "error"));
        fprintf(stderr, "dsctl: check %s failed: %s\n", check ? check : "?", msg ? msg : "?");
    }
    size_t n = json_array_size(findings);
    printf("%zu finding%s (%zu error%s, %zu warning%s) from %lld check%s\n", n, n == 1 ? "" : "s", errors,
           errors == 1 ? "" : "s", n - errors, n - errors == 1 ? "" : "s",
           (long long)json_integer_value(json_object_get(res, "checks_run")),
           json_integer_value(json_object_get(res, "checks_run")) == 1 ? "" : "s");
    return errors;
}

/* Why: counts error findings for the exit status in --json mode too. */
static size_t dsctl_check_errors(json_t *res)
{
    json_t *f;
    size_t i, errors = 0;
    json_array_foreach(json_object_get(res, "findings"), i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        errors += sev && strcmp(sev, "error") == 0;
    }
    return errors;
}

/* dsctl check [--plugin NAME]... [--opt key=value]...: why a command of its own: the exit status
 * (1 on an error finding) makes the graph's consistency a CI gate. */
int dsctl_cmd_check(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{"plugin", 1}, {"opt", 1}, {NULL, 0}};
    struct dsctl_args a;
    int rc = dsctl_args_parse(&a, "check", argc, argv, specs);
    if (rc)
        return rc;
    if (a.npos != 0) {
        rc = dsctl_usage_error("check: unexpected argument '%s' (use --plugin NAME)", a.pos[0]);
        dsctl_args_free(&a);
        return rc;
    }
    json_t *plugins = json_null();
    const char *name;
    for (int k = 0; (name = dsctl_args_get(&a, "plugin", k)) != NULL; k++) {
        if (json_is_null(plugins))
            plugins = json_array();
        json_array_append_new(plugins, json_string(name));
    }
    json_t *opts = dsctl_args_pairs(&a, "opt", false);
    dsctl_args_free(&a);
    if (!opts) {
        json_decref(plugins);
        return DSCTL_EXIT_USAGE;
    }
    json_t *res = NULL;
    if ((rc = dsctl_call(d, "check", json_pack("{s:o,s:o}", "plugins", plugins, "opts", opts), &res)))
        return rc;
    size_t errors = d->json ? dsctl_check_errors(res) : dsctl_check_print(res);
    if (d->json)
        rc = dsctl_print_json(res);
    if (!rc && (errors > 0 || json_array_size(json_object_get(res, "failed")) > 0))
        rc = DSCTL_EXIT_FAILED;
    json_decref(res);
    return rc;
}
