/*
 * core/plugin_host.h - the loaded plugins: every *.lua of the configured
 * plugin directories, each loaded in its own sandbox (plugin_sandbox.h).
 *
 * A plugin file returns a table:
 *   {name="csv", version="1.0", description="...",
 *    importer={extensions={"csv"}, media_types={"text/csv"},
 *              detect=function(head) return true/false end,   -- optional
 *              run=function(ctx, input) ... end},
 *    exporter={...},                                             -- run(ctx, opts): core/plugin_export.c
 *    check={severity="error"|"warning", description=..., run=...}}  -- core/plugin_check.c
 * A file that fails to load is kept in the set with its error (file:line).
 *
 * The set is immutable and reference counted: plugin_host_load() builds a new
 * one and swaps it in; an import holding the old set keeps it until it is done,
 * so a reload never disturbs a running import. Every run gets a fresh sandbox
 * made from the source text kept in the set (a file edited on disk changes
 * nothing until the next reload).
 */
#ifndef DSGRAPH_PLUGIN_HOST_H
#define DSGRAPH_PLUGIN_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#ifndef DSGRAPH_PLUGIN_DIR
#define DSGRAPH_PLUGIN_DIR "plugins"
#endif

/* Budget for loading a file and for detect(head): these run on the event loop. */
#define PLUGIN_LOAD_INSTRUCTIONS 20000000LL
#define PLUGIN_LOAD_MEMORY (16u << 20)

typedef struct plugin_info {
    char *file;          /* path as found */
    char *base;          /* file name, the chunk name in messages */
    char *name, *version, *description;
    char *source;        /* the file's text */
    size_t source_len;
    bool ok;
    char *error;         /* when !ok: "file.lua:LINE: message" */
    bool has_importer, has_detect;
    json_t *importer;    /* {"extensions":[...],"media_types":[...],"detect":bool} or NULL */
    json_t *exporter;    /* the exporter table's data fields, or NULL */
    json_t *check;       /* the check table's data fields ({"severity","description"}), or NULL */
} plugin_info;

typedef struct plugin_set {
    int refs;                   /* guarded by the host's mutex */
    plugin_info *v;
    size_t n;
    size_t mem_limit;
    int64_t instr_limit;
    char **import_dirs;         /* realpath'd */
    size_t n_import_dirs;
    int64_t import_max_bytes;
    int import_max_uploads;
} plugin_set;

/* Loads every plugin of cfg's directories into a new set and makes it current.
 * Runs on the loop thread. Returns the new set's counts through ok/failed. */
void plugin_host_load(const dsg_config *cfg, int *ok, int *failed);
/* The current set with one more reference (NULL before the first load). */
plugin_set *plugin_host_acquire(void);
void plugin_host_release(plugin_set *set);
/* Drops the current set (shutdown). */
void plugin_host_shutdown(void);

/* A plugin of the set by name, loaded or not; NULL if none. */
const plugin_info *plugin_set_find(const plugin_set *set, const char *name);
/* Picks the importer for an input: by extension of name, then detect(head).
 * NULL with a message in err when none fits or several fit equally. */
const plugin_info *plugin_set_choose(const plugin_set *set, const char *name, const char *head, size_t head_len,
                                     char *err, size_t errlen);
/* {"plugins":[...]} as plugins.list returns it. */
json_t *plugin_set_json(const plugin_set *set);
/* True if realpath path lies inside one of the set's import_dirs. */
bool plugin_set_path_allowed(const plugin_set *set, const char *real);

#endif
