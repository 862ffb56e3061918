/* core/plugin_sandbox.c - the sandboxed Lua state plugins run in (see plugin_sandbox.h). */
#include "plugin_sandbox.h"
#include "log.h"
#include "lua_dsgraph.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Instructions between two budget checks; small enough to stop within microseconds. */
#define SB_HOOK_STEP 1000

plugin_sandbox *plugin_sandbox_of(lua_State *L)
{
    plugin_sandbox *sb;
    memcpy(&sb, lua_getextraspace(L), sizeof sb);
    return sb;
}

/* The allocator: refuses to grow past mem_limit, so a memory bomb fails inside
 * Lua (LUA_ERRMEM) instead of taking the daemon's memory; small blocks come
 * from the state's pool (plugin_pool.h). */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    plugin_sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        sb->mem_used -= old;
        return plugin_pool_realloc(&sb->pool, ptr, old, 0);
    }
    if (nsize > old && sb->mem_used - old + nsize > sb->mem_limit)
        return NULL;
    void *p = plugin_pool_realloc(&sb->pool, ptr, old, nsize);
    if (p)
        sb->mem_used = sb->mem_used - old + nsize;
    return p;
}

/* Set once by plugin_sandbox_cancel_all; read by every sandbox's hook. */
static atomic_bool sb_cancel_requested;

void plugin_sandbox_cancel_all(void) { atomic_store(&sb_cancel_requested, true); }

/* The count hook: charges SB_HOOK_STEP instructions and aborts past the
 * budget, or once the daemon is stopping (plugin_sandbox_cancel_all). */
static void sb_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    plugin_sandbox *sb = plugin_sandbox_of(L);
    if (atomic_load_explicit(&sb_cancel_requested, memory_order_relaxed)) {
        sb->cancelled = true;
        luaL_error(L, "the daemon is stopping");
    }
    sb->instr_used += SB_HOOK_STEP;
    if (sb->instr_used > sb->instr_limit) {
        sb->budget_exceeded = true;
        luaL_error(L, "instruction budget of %lld exceeded", (long long)sb->instr_limit);
    }
}

/* pcall that cannot swallow an abort: after a budget or memory failure the
 * error is rethrown, so a plugin cannot loop on pcall past its limits. */
static int sb_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    plugin_sandbox *sb = plugin_sandbox_of(L);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (status == LUA_ERRMEM)
        sb->mem_exceeded = true;
    if (status != LUA_OK && (sb->mem_exceeded || sb->budget_exceeded || sb->cancelled))
        return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* xpcall with the same rule as sb_pcall. */
static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    plugin_sandbox *sb = plugin_sandbox_of(L);
    lua_pushvalue(L, 1);
    lua_copy(L, 2, 1);
    lua_replace(L, 2);   /* msgh, f, args... */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    if (status == LUA_ERRMEM)
        sb->mem_exceeded = true;
    if (status != LUA_OK && (sb->mem_exceeded || sb->budget_exceeded || sb->cancelled))
        return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* load() of text only: binary chunks (string.dump) bypass the compiler's checks. */
static int sb_load(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    if (n >= 2)
        lua_pushvalue(L, 2);
    else
        lua_pushnil(L);
    lua_pushliteral(L, "t");
    int nargs = 3;
    if (n >= 4) {
        lua_pushvalue(L, 4);
        nargs = 4;
    }
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L) - n;
}

/* collectgarbage("count") only: stopping or tuning the collector is the host's business. */
static int sb_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed in a plugin (only \"count\")", opt);
    lua_pushnumber(L, (lua_Number)plugin_sandbox_of(L)->mem_used / 1024.0);
    return 1;
}

/* print() goes to the daemon's debug log, never to its stdout. */
static int sb_print(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= lua_gettop(L); i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    log_debug("plugin %s: %s", plugin_sandbox_of(L)->who ? plugin_sandbox_of(L)->who : "?", lua_tostring(L, -1));
    return 0;
}

/* Opens the allowed libraries and removes or wraps what could escape. */
static int sb_setup(lua_State *L)
{
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_newtable(L); /* the plugin's os: time, clock, date */
    static const char *const os_ok[] = {"time", "clock", "date", NULL};
    for (int i = 0; os_ok[i]; i++) {
        lua_getfield(L, -2, os_ok[i]);
        lua_setfield(L, -2, os_ok[i]);
    }
    lua_setglobal(L, "os");
    lua_settop(L, 0);
    static const char *const removed[] = {"dofile", "loadfile", "require", "package", "io", "debug",
                                          "coroutine", NULL};
    for (int i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, "load");
    lua_pushcclosure(L, sb_load, 1);
    lua_setglobal(L, "load");
    lua_register(L, "pcall", sb_pcall);
    lua_register(L, "xpcall", sb_xpcall);
    lua_register(L, "collectgarbage", sb_collectgarbage);
    lua_register(L, "print", sb_print);
    lua_dsgraph_open(L);
    return 0;
}

int plugin_sandbox_open(plugin_sandbox *sb, size_t mem_limit, int64_t instr_limit, const char *who)
{
    memset(sb, 0, sizeof *sb);
    sb->mem_limit = mem_limit;
    sb->instr_limit = instr_limit;
    sb->who = who;
    sb->L = lua_newstate(sb_alloc, sb);
    if (!sb->L) {
        plugin_pool_release(&sb->pool);
        return -1;
    }
    memcpy(lua_getextraspace(sb->L), &sb, sizeof sb);
    lua_pushcfunction(sb->L, sb_setup);
    if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
        plugin_sandbox_close(sb);
        return -1;
    }
    lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, SB_HOOK_STEP);
    return 0;
}

void plugin_sandbox_close(plugin_sandbox *sb)
{
    if (sb->L)
        lua_close(sb->L);
    sb->L = NULL;
    plugin_pool_release(&sb->pool);
}

/* Turns a failed call's status and error value into one message line. */
static void sb_format_error(plugin_sandbox *sb, int status, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    if (status == LUA_ERRMEM || sb->mem_exceeded)
        snprintf(err, errlen, "memory limit of %zu bytes exceeded", sb->mem_limit);
    else if (sb->budget_exceeded)
        snprintf(err, errlen, "instruction budget of %lld exceeded", (long long)sb->instr_limit);
    else if (sb->cancelled)
        snprintf(err, errlen, "the daemon is stopping");
    else if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
    else
        snprintf(err, errlen, "(error object is a %s value)", luaL_typename(L, -1));
}

int plugin_sandbox_call(plugin_sandbox *sb, int nargs, int nresults, char *err, size_t errlen)
{
    int status = lua_pcall(sb->L, nargs, nresults, 0);
    if (status == LUA_OK)
        return 0;
    sb_format_error(sb, status, err, errlen);
    lua_pop(sb->L, 1);
    return -1;
}

int plugin_sandbox_dochunk(plugin_sandbox *sb, const char *src, size_t len, const char *chunkname,
                           char *err, size_t errlen)
{
    int status = luaL_loadbufferx(sb->L, src, len, chunkname, "t");
    if (status != LUA_OK) {
        sb_format_error(sb, status, err, errlen);
        lua_pop(sb->L, 1);
        return -1;
    }
    return plugin_sandbox_call(sb, 0, 1, err, errlen);
}
