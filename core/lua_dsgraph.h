/*
 * core/lua_dsgraph.h - the `dsgraph` library that every plugin sees, backed by
 * real parsers rather than Lua patterns:
 *
 *   dsgraph.json.decode(text) / dsgraph.json.encode(value)   (jansson)
 *   dsgraph.csv.reader(input, opts)                          (libcsv, RFC 4180)
 *   dsgraph.markdown.parse(text)                             (md4c, CommonMark + GFM tables)
 *   dsgraph.normalize(name)                                  (utf8proc NFKC + casefold)
 *   dsgraph.parse_quantity(text)                             ("236B", "128K", "1.5万", "$5.576M")
 *   dsgraph.null, dsgraph.list(t), dsgraph.map(t)            (typed-value markers)
 *
 * Lua values <-> JSON values (used for properties and dsgraph.json):
 *   nil / dsgraph.null <-> null; boolean <-> true/false; Lua integer <-> JSON
 *   integer; Lua float <-> JSON real (1.0 stays a real); string <-> string
 *   (must be valid UTF-8); a table whose keys are exactly 1..n (n >= 1) <-> array;
 *   any other table (string keys) <-> object; an empty table is an object unless
 *   made with dsgraph.list{} (dsgraph.map{} forces an object). Cycles, functions,
 *   userdata and non-string non-sequence keys are errors naming the path ("props.tags[3]").
 */
#ifndef DSGRAPH_LUA_DSGRAPH_H
#define DSGRAPH_LUA_DSGRAPH_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

/* Creates the global table `dsgraph` in L with every function above. */
void lua_dsgraph_open(lua_State *L);

/* Converts the Lua value at idx to a new JSON value. NULL on error, with a
 * message naming the path under `what` ("props") written to err. */
json_t *lua_dsgraph_tojson(lua_State *L, int idx, const char *what, char *err, size_t errlen);

/* Pushes a JSON value as a Lua value (arrays made with dsgraph.list semantics,
 * so an empty array round-trips as an array; null as dsgraph.null). */
void lua_dsgraph_pushjson(lua_State *L, json_t *v);

#endif
