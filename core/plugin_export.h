/*
 * core/plugin_export.h - running one exporter over the graph, on a reader
 * thread, against one read-only snapshot (BEGIN ... COMMIT around the run).
 *
 * The exporter sees (docs/plugins.md, "The exporter API", has the reference):
 *   ctx:nodes([label])  ctx:rels([type])        iterators, by id
 *   ctx:node(id)  ctx:lineage(id, dir, types, depth)  ctx:search(text, limit)
 *   ctx:query(cypher, params)                   read-only openCypher
 *   ctx:write(text)                             appends to the output
 *   ctx.plugin  and opts: the client's {key = "value"} table
 * One-shot runs collect the output in memory, capped at export_max_bytes;
 * streaming runs (plugin_export_stream_*) hand it out chunk by chunk.
 */
#ifndef DSGRAPH_PLUGIN_EXPORT_H
#define DSGRAPH_PLUGIN_EXPORT_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_host.h"
#include "store.h"

enum { PLUGIN_EXPORT_OK = 0, PLUGIN_EXPORT_FAILED = 1, PLUGIN_EXPORT_LIMIT = 2, PLUGIN_EXPORT_INTERNAL = 3 };

typedef struct export_limits {
    int64_t max_bytes;        /* output cap (export_max_bytes) */
    int64_t query_timeout_ms; /* for ctx:query */
    int64_t query_max_rows;
    int64_t query_max_memory; /* bytes (query_memory_limit); 0: graph/cypher's default */
} export_limits;

/* Runs p's exporter.run(ctx, opts) on the read-only store s. On success *out
 * is the malloc'd output (NUL-terminated, *out_len bytes, valid UTF-8). On
 * failure err holds "plugin: message" (the message starts with file.lua:LINE:
 * for Lua errors) and the return value is a PLUGIN_EXPORT_* code. */
int plugin_export_run(graph_store *s, const plugin_set *set, const plugin_info *p, json_t *opts,
                      const export_limits *lim, char **out, size_t *out_len, char *err, size_t errlen);

/* Adds members to ctx (the table on top of L) before the part's run is called. */
typedef void (*plugin_ctx_hook)(lua_State *L, void *ud);
/* The same run for another part of the plugin table (e.g. "check", see
 * core/plugin_check.c): calls p.<part>.run(ctx, opts) with the exporter's ctx
 * plus whatever hook(L, ud) adds to it (hook may be NULL). */
int plugin_export_run_part(graph_store *s, const plugin_set *set, const plugin_info *p, const char *part,
                           json_t *opts, const export_limits *lim, plugin_ctx_hook hook, void *ud, char **out,
                           size_t *out_len, char *err, size_t errlen);

/* A streaming run (export.begin / export.next): exporter.run is a Lua
 * coroutine that yields from ctx:write whenever a chunk's worth of output is
 * buffered, so the daemon holds at most about one chunk plus the Lua state.
 * The stream owns s (a read-only connection of its own; its read
 * transaction is the snapshot of every chunk) and the reference to set, even
 * when opening fails. Calls may come from different threads, never two at once. */
typedef struct plugin_export_stream plugin_export_stream;
plugin_export_stream *plugin_export_stream_open(graph_store *s, plugin_set *set, const plugin_info *p,
                                                json_t *opts, const export_limits *lim, char *err,
                                                size_t errlen);
/* Runs the exporter until max_bytes of output are buffered or it returns;
 * *out (malloc'd, NUL-terminated, valid UTF-8) holds at most max_bytes.
 * *done once everything was handed out. A PLUGIN_EXPORT_* code; after an
 * error the stream is finished (close it). */
int plugin_export_stream_next(plugin_export_stream *x, size_t max_bytes, char **out, size_t *out_len,
                              bool *done, char *err, size_t errlen);
void plugin_export_stream_close(plugin_export_stream *x);

#endif
