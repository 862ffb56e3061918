/*
 * core/plugin_sandbox.h - one sandboxed Lua state for one plugin load or run.
 *
 * The state has its own allocator (a hard memory cap), a count hook (an
 * instruction budget), and only the safe parts of the standard library:
 * base (without dofile/loadfile; load only of text; collectgarbage only
 * "count"; pcall/xpcall cannot swallow a budget or memory abort), string,
 * table, math, utf8, os.time/os.clock/os.date, and the `dsgraph` library
 * (core/lua_dsgraph.h). No io, debug, package/require or coroutine.
 */
#ifndef DSGRAPH_PLUGIN_SANDBOX_H
#define DSGRAPH_PLUGIN_SANDBOX_H

#include "plugin_pool.h"

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct plugin_sandbox {
    lua_State *L;
    size_t mem_used, mem_limit;
    int64_t instr_used, instr_limit;
    bool budget_exceeded;   /* sticky: every later pcall rethrows */
    bool mem_exceeded;      /* sticky, likewise, once a pcall saw LUA_ERRMEM */
    bool cancelled;         /* sticky, likewise: plugin_sandbox_cancel_all stopped it */
    const char *who;        /* plugin name for print() log lines */
    plugin_pool pool;       /* the state's small blocks (plugin_pool.h) */
} plugin_sandbox;

/* Stops every running plugin at its next instruction-budget check (within
 * microseconds of Lua code) with the error "the daemon is stopping", which no
 * pcall inside the plugin can catch; plugins started later fail the same way.
 * Any thread; for shutdown (server.c), so it cannot be undone. */
void plugin_sandbox_cancel_all(void);

/* Creates the state. Returns 0, or -1 (out of memory / limit too small). */
int plugin_sandbox_open(plugin_sandbox *sb, size_t mem_limit, int64_t instr_limit, const char *who);
void plugin_sandbox_close(plugin_sandbox *sb);

/* Compiles text (never binary) named chunkname ("@file.lua") and runs it with
 * no arguments, leaving one result on the stack. Returns 0 or -1 with err. */
int plugin_sandbox_dochunk(plugin_sandbox *sb, const char *src, size_t len, const char *chunkname,
                           char *err, size_t errlen);

/* lua_pcall of the function below nargs arguments, one result; on failure
 * formats the error: "memory limit of N bytes exceeded", "instruction budget
 * of N exceeded", or the Lua message. Returns 0 or -1. */
int plugin_sandbox_call(plugin_sandbox *sb, int nargs, int nresults, char *err, size_t errlen);

/* The sandbox of a state (stored in its extra space). */
plugin_sandbox *plugin_sandbox_of(lua_State *L);

#endif
