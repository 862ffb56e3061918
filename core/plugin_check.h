/*
 * core/plugin_check.h - running one check plugin (docs/plugins.md, "Check
 * plugins"): p.check.run(ctx, opts) with the exporter's read-only ctx
 * (core/plugin_export.c: same snapshot, sandbox, budget and memory cap) plus
 *   ctx:finding{message=, nodes={ids}, imports={ids}, severity=}
 *   ctx:claims(kind, id)   -> property claims, entity claims
 *   ctx:imports()          -> the imports, as imports.list lists them
 * Findings are collected in C (outside the Lua memory cap), at most
 * PLUGIN_CHECK_MAX_FINDINGS per check.
 */
#ifndef DSGRAPH_PLUGIN_CHECK_H
#define DSGRAPH_PLUGIN_CHECK_H

#include "plugin_export.h"

#define PLUGIN_CHECK_MAX_FINDINGS 10000

/* Runs p's check over s; appends to findings one object per ctx:finding,
 * {"check":NAME,"severity":S,"message":M,"nodes":[ids],"imports":[ids]}
 * (ids as the plugin gave them; methods_check.c resolves them). Returns a
 * PLUGIN_EXPORT_* code; on failure err holds "plugin: message" and the
 * findings of this check are not appended. */
int plugin_check_run(graph_store *s, const plugin_set *set, const plugin_info *p, json_t *opts,
                     const export_limits *lim, json_t *findings, char *err, size_t errlen);

#endif
