/*
 * core/lua_dsgraph_internal.h - what the parts of the `dsgraph` Lua library
 * (lua_dsgraph.c, lua_dsgraph_quantity.c, lua_json.c, lua_csv.c, lua_markdown.c) share.
 * Not for the rest of core/: use lua_dsgraph.h.
 */
#ifndef DSGRAPH_LUA_DSGRAPH_INTERNAL_H
#define DSGRAPH_LUA_DSGRAPH_INTERNAL_H

#include <lua.h>

/* Registry keys of the typed-value markers. */
#define LUA_DSGRAPH_NULL_KEY "dsgraph.null"
#define LUA_DSGRAPH_LIST_MT "dsgraph.list"
#define LUA_DSGRAPH_MAP_MT "dsgraph.map"

/* Deepest nesting a value may have when converted either way (JSON and Lua). */
#define LUA_DSGRAPH_MAX_DEPTH 512

/* Each pushes its sub-table (json, csv, markdown) or sets its functions
 * into the table on top of the stack. */
void lua_json_open(lua_State *L);
void lua_csv_open(lua_State *L);
void lua_md_open(lua_State *L);
void lua_dsgraph_quantity_open(lua_State *L);

/* Pushes dsgraph.null. */
void lua_dsgraph_pushnull(lua_State *L);
/* True if the value at idx is dsgraph.null. */
int lua_dsgraph_isnull(lua_State *L, int idx);
/* Sets the list marker metatable on the table at idx (for arrays made in C). */
void lua_dsgraph_marklist(lua_State *L, int idx);

#endif
