/*
 * core/plugin_import.h - running one importer over one input, on the writer
 * thread, inside the caller's write transaction (all or nothing).
 *
 * The importer sees (docs/plugins.md has the reference):
 *   ctx:node{labels=..., name=..., props=..., aliases=...} -> handle {id=N}
 *   ctx:rel(a, "TYPE", b, props) -> handle {id=N}
 *   ctx:alias(node, text)   ctx:warn(msg [, line])   ctx:error(msg)
 *   ctx:progress(done, total)   ctx:line([n])   ctx.input   ctx.dry_run
 *   input:lines()  input:read(n | "l" | "a")  input.name  input.size
 */
#ifndef DSGRAPH_PLUGIN_IMPORT_H
#define DSGRAPH_PLUGIN_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plugin_host.h"
#include "store.h"

typedef struct import_input {
    const char *name;    /* as shown in results and messages ("report.md") */
    FILE *f;             /* the data, positioned at its start */
    int64_t size;
    const char *sha256;  /* lowercase hex */
} import_input;

enum { PLUGIN_IMPORT_OK = 0, PLUGIN_IMPORT_FAILED = 1, PLUGIN_IMPORT_LIMIT = 2, PLUGIN_IMPORT_INTERNAL = 3 };

/* Runs p over in. A re-import of the same input (plugin + sha256) is not run
 * and reported "unchanged". A dry run is rolled back to a savepoint and
 * reports what it would have done. On failure err holds
 * "plugin: input:LINE: message" and the caller must roll back. */
int plugin_import_run(graph_store *s, const plugin_set *set, const plugin_info *p, const import_input *in,
                      bool dry_run, json_t **result, char *err, size_t errlen);

#endif
