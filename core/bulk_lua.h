/*
 * core/bulk_lua.h - ctx:bulk(): a row-batch loader for importers that parse
 * their own format in Lua (plugins/hf_models.lua). The plugin keeps its row
 * loop; each bulk:node / bulk:rel merges exactly like ctx:node / ctx:rel (the
 * same argument rules, conversions and errors; the node table is read by the
 * one helper below that ctx:node uses too) but writes through the store's
 * bulk load (graph/bulk_load.h): identity in memory, prepared INSERTs,
 * deferred indexes, search rows staged. docs/plugins.md, "Bulk loads", is the
 * reference.
 */
#ifndef DSGRAPH_BULK_LUA_H
#define DSGRAPH_BULK_LUA_H

#include <jansson.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define LUA_NODE_MAX_LABELS 32   /* more labels in a node table are ignored (as ctx:node always did) */

/* The arguments of a node table {labels=, name=, props=, aliases=}. The label and
 * name strings belong to values the reader leaves on the Lua stack; props and
 * aliases (NULL when absent) are the caller's to json_decref. props_raw is set
 * by the caller: true leaves props NULL (bulk:node read them itself). */
typedef struct lua_node_args {
    const char *labels[LUA_NODE_MAX_LABELS];
    size_t nlabels;
    const char *name;
    json_t *props, *aliases;
    bool props_raw;
} lua_node_args;

/* Reads the node table at idx with ctx:node's rules; a bad argument raises a
 * Lua error prefixed with fn ("ctx:node"). Pushes two values (kept alive for
 * the strings). */
void lua_node_args_read(lua_State *L, int idx, const char *fn, lua_node_args *a);

/* A node reference: a handle {id=N} or an integer id; else a Lua error naming fn and what. */
int64_t lua_node_ref(lua_State *L, int idx, const char *fn, const char *what);

/* ctx:bulk(): pushes a loader over s (an import must be running). *open is the
 * run's flag: true from here until bulk:finish() succeeds (a failed bulk call
 * leaves it true: the load is undone and the run must fail). Returns 1 or raises. */
int bulk_lua_open(lua_State *L, graph_store *s, bool *open);

#endif
