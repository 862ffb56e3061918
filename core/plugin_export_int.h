/*
 * core/plugin_export_int.h - what the exporter context's files share
 * (plugin_export.c: ctx and the runs; plugin_export_iter.c: ctx:nodes and
 * ctx:rels). Not for other modules: their API is plugin_export.h.
 */
#ifndef DSGRAPH_CORE_PLUGIN_EXPORT_INT_H
#define DSGRAPH_CORE_PLUGIN_EXPORT_INT_H

#include "plugin_export.h"
#include "plugin_sandbox.h"

#include <jansson.h>
#include <lua.h>

#define EXPORT_HELD 4

/* One run of an exporter (or of a part run the same way); ctx's upvalue 1. */
typedef struct export_run {
    plugin_sandbox sb;
    graph_store *s;
    const plugin_info *p;
    const export_limits *lim;
    char *buf;                 /* the output so far (malloc'd, outside the Lua cap) */
    size_t len, cap;
    bool over_limit;           /* the output passed max_bytes (sticky) */
    json_t *held[EXPORT_HELD]; /* JSON being turned into Lua: freed even if a push longjmps */
    const char *part;          /* "exporter", or another part run the same way ("check") */
    plugin_ctx_hook hook;      /* adds that part's members to ctx (or NULL) */
    void *hook_ud;
    size_t chunk;              /* streaming: ctx:write yields once len reaches this (0: one-shot) */
} export_run;

/* The run of the ctx closure being called (its upvalue 1). */
export_run *export_run_of(lua_State *L);
/* Keeps v (JSON being pushed into Lua) until export_release, so a push that
 * longjmps (a Lua error, the memory cap) cannot leak it; returns v. */
json_t *export_hold(export_run *r, json_t *v);
/* Frees everything export_hold kept. */
void export_release(export_run *r);
/* Raises "<fn>: <message>" as a Lua error after releasing held JSON; does not return. */
int export_fail_store(lua_State *L, export_run *r, const char *fn, const gs_error *gerr);

/* ctx:nodes([label [, opts]]) and ctx:rels([type [, opts]]) (plugin_export_iter.c). */
int export_ctx_nodes(lua_State *L);
int export_ctx_rels(lua_State *L);

#endif
