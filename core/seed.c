/* core/seed.c - the first-start data load, through the same methods clients use. */
#include "seed.h"
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long seed_apply(graph_store *store, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    gs_error gerr;
    if (graph_store_begin(store, &gerr) != GS_OK) {
        snprintf(err, errlen, "%s: %s", path, gerr.msg);
        fclose(f);
        return -1;
    }
    method_ctx ctx = {.store = store, .may_write = true, .in_transaction = true, .peer = "seed"};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, applied = 0;
    int failed = 0;
    while (!failed && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        size_t i = strspn(line, " \t");
        if ((size_t)n == i)
            continue;
        rpc_plan plan;
        rpc_error rerr;
        if (rpc_plan_line(&plan, line, (size_t)n) != 0) {
            snprintf(err, errlen, "%s:%ld: out of memory", path, lineno);
            failed = 1;
            break;
        }
        if (!(plan.needs & METHOD_STORE) && !rpc_plan_failed(&plan, &rerr)) {
            snprintf(err, errlen, "%s:%ld: not a store request", path, lineno);
            failed = 1;
        } else {
            rpc_plan_run(&plan, &ctx);
            if (rpc_plan_failed(&plan, &rerr)) {
                snprintf(err, errlen, "%s:%ld: %s", path, lineno, rerr.message);
                failed = 1;
            } else {
                applied += (long)plan.ncalls;
            }
        }
        rpc_plan_free(&plan);
    }
    free(line);
    if (!failed && ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        failed = 1;
    }
    fclose(f);
    if (!failed && graph_store_commit(store, &gerr) != GS_OK) {
        snprintf(err, errlen, "%s: commit: %s", path, gerr.msg);
        failed = 1;
    }
    if (failed) {
        graph_store_rollback(store);
        return -1;
    }
    return applied;
}
