/* core/config.c - the Lua config file. It is real Lua (so it can compute and
 * read the environment), run in a fresh state with only base, string, table,
 * math and os.getenv, and read back through its globals. */
#include "config.h"
#include "log.h"

#include <grp.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(dsg_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->socket_mode = 0660;
    cfg->log_level = LOG_INFO;
    cfg->max_clients = 1024;
    cfg->max_line_bytes = 16u << 20;
    cfg->max_output_bytes = 64u << 20;
    cfg->max_pending_requests = 1024;
    cfg->read_threads = 4;
    cfg->busy_timeout_ms = 5000;
    cfg->sql_max_rows = 100000;
    cfg->query_timeout_ms = 30000;
    cfg->query_max_rows = 10000000;
    cfg->query_memory_limit = 1LL << 30;
    cfg->read_mmap_bytes = 0;
    cfg->read_cache_bytes = 2LL << 20;
    cfg->search_defer_nodes = 65536;
    cfg->bulk_write_queue_bytes = 4LL << 20;
    cfg->heap_trim_after_ms = 1000;
    cfg->heap_trim_threshold_bytes = 16 << 20;
    cfg->shutdown_timeout_ms = 10000;
    cfg->plugin_memory_limit = 64 << 20;
    cfg->plugin_instruction_limit = 1000000000;
    cfg->import_max_bytes = 4LL << 30;
    cfg->import_max_uploads = 16;
    cfg->export_max_bytes = 256LL << 20;
    cfg->export_idle_timeout_ms = 60000;
}

/* Frees a list of strings read by config_strs. */
static void config_strs_free(char ***v, int *n)
{
    for (int i = 0; *v && i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

void config_free(dsg_config *cfg)
{
    free(cfg->socket);
    free(cfg->db);
    free(cfg->seed);
    cfg->socket = cfg->db = cfg->seed = NULL;
    config_strs_free(&cfg->plugin_dirs, &cfg->n_plugin_dirs);
    config_strs_free(&cfg->import_dirs, &cfg->n_import_dirs);
}

/* The settings a config file may set; anything else it defines is a typo. */
static const char *const config_keys[] = {
    "socket", "db", "seed", "socket_mode", "log_level", "max_clients", "max_line_bytes",
    "max_output_bytes", "max_pending_requests", "read_threads", "busy_timeout_ms",
    "sql_max_rows", "query_timeout_ms", "query_max_rows", "query_memory_limit", "read_mmap_bytes", "read_cache_bytes", "search_defer_nodes", "bulk_write_queue_bytes", "heap_trim_after_ms", "heap_trim_threshold_bytes", "shutdown_timeout_ms", "write_uids", "write_gids",
    "plugin_dirs", "import_dirs", "plugin_memory_limit", "plugin_instruction_limit", "import_max_bytes",
    "import_max_uploads", "export_max_bytes", "export_idle_timeout_ms", NULL};

/* Reads global `key` as a list of strings (directories); replaces *out if set. */
static int config_strs(lua_State *L, const char *key, char ***out, int *n, char *err, size_t errlen)
{
    int t = lua_getglobal(L, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) {
        snprintf(err, errlen, "setting %s: expected a list of strings, got a %s", key, lua_typename(L, t));
        lua_pop(L, 1);
        return -1;
    }
    lua_Integer len = (lua_Integer)luaL_len(L, -1);
    char **v = calloc((size_t)len + 1, sizeof *v);
    int k = 0;
    for (lua_Integer i = 1; v && i <= len; i++) {
        if (lua_geti(L, -1, i) != LUA_TSTRING || !*lua_tostring(L, -1)) {
            snprintf(err, errlen, "setting %s[%lld]: expected a non-empty string", key, (long long)i);
            lua_pop(L, 2);
            config_strs_free(&v, &k);
            return -1;
        }
        v[k++] = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    config_strs_free(out, n);
    *out = v;
    *n = k;
    return 0;
}

/* Reads global `key` as an integer in [lo, hi]; leaves *out alone if unset. */
static int config_int(lua_State *L, const char *key, long long lo, long long hi, long long *out,
                      char *err, size_t errlen)
{
    int t = lua_getglobal(L, key);
    int rc = 0;
    if (t != LUA_TNIL) {
        int isint = 0;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < lo || v > hi) {
            snprintf(err, errlen, "setting %s: expected an integer in [%lld, %lld], got %s", key,
                     lo, hi, luaL_tolstring(L, -1, NULL));
            lua_pop(L, 1);
            rc = -1;
        } else {
            *out = v;
        }
    }
    lua_pop(L, 1);
    return rc;
}

/* Reads global `key` as a string; replaces *out (malloc'd) if set. */
static int config_str(lua_State *L, const char *key, char **out, char *err, size_t errlen)
{
    int t = lua_getglobal(L, key);
    int rc = 0;
    if (t == LUA_TSTRING) {
        free(*out);
        *out = strdup(lua_tostring(L, -1));
    } else if (t != LUA_TNIL) {
        snprintf(err, errlen, "setting %s: expected a string, got a %s", key, lua_typename(L, t));
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

/* Reads a list of uids or gids, given as numbers or user/group names. */
static int config_ids(lua_State *L, const char *key, int is_gid, unsigned *ids, int *n,
                      char *err, size_t errlen)
{
    int t = lua_getglobal(L, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) {
        snprintf(err, errlen, "setting %s: expected a list of %s", key, is_gid ? "gids or group names" : "uids or user names");
        lua_pop(L, 1);
        return -1;
    }
    lua_Integer len = (lua_Integer)luaL_len(L, -1);
    for (lua_Integer i = 1; i <= len; i++) {
        lua_geti(L, -1, i);
        unsigned id = 0;
        int ok = 0;
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0) {
            id = (unsigned)lua_tointeger(L, -1);
            ok = 1;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            const char *name = lua_tostring(L, -1);
            if (is_gid) {
                struct group *g = getgrnam(name);
                if (g) { id = g->gr_gid; ok = 1; }
            } else {
                struct passwd *p = getpwnam(name);
                if (p) { id = p->pw_uid; ok = 1; }
            }
        }
        if (!ok || *n >= CONFIG_MAX_IDS) {
            snprintf(err, errlen, "setting %s[%lld]: %s", key, (long long)i,
                     *n >= CONFIG_MAX_IDS ? "too many entries (at most 64)" : "not a known id or name");
            lua_pop(L, 2);
            return -1;
        }
        ids[(*n)++] = id;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

int config_load(dsg_config *cfg, const char *path, char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 1);
    lua_pop(L, 5);
    /* Only os.getenv survives from os: a config file has no business running programs. */
    lua_getglobal(L, "os");
    lua_getfield(L, -1, "getenv");
    lua_newtable(L);
    lua_insert(L, -2);
    lua_setfield(L, -2, "getenv");
    lua_setglobal(L, "os");
    lua_pop(L, 1);
    /* Remember which globals are the standard library's, to tell settings from typos. */
    lua_newtable(L);
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_settable(L, -5);
    }
    lua_pop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "dsgraph.builtin_globals");

    int rc = -1;
    char sub[400];
    if (luaL_loadfilex(L, path, "t") != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        goto out;
    }
    /* Unknown globals: `max_line_byte = 10` must not silently leave the default in force. */
    lua_getfield(L, LUA_REGISTRYINDEX, "dsgraph.builtin_globals");
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        const char *k = lua_tostring(L, -1);
        lua_pushvalue(L, -1);
        int builtin = lua_gettable(L, -4) != LUA_TNIL;
        lua_pop(L, 1);
        int known = 0;
        for (int i = 0; config_keys[i]; i++)
            if (strcmp(k, config_keys[i]) == 0)
                known = 1;
        if (!builtin && !known) {
            snprintf(err, errlen, "%s: unknown setting '%s' (see etc/dsgraph.conf for the list)", path, k);
            goto out;
        }
    }
    lua_pop(L, 2);

    long long v;
    char *mode = NULL;
    sub[0] = 0;
    if (config_str(L, "socket", &cfg->socket, sub, sizeof sub) ||
        config_str(L, "db", &cfg->db, sub, sizeof sub) ||
        config_str(L, "seed", &cfg->seed, sub, sizeof sub) ||
        config_str(L, "socket_mode", &mode, sub, sizeof sub))
        goto bad;
    if (mode) {
        char *end;
        unsigned long m = strtoul(mode, &end, 8);
        int ok = *mode && !*end && m <= 0777;
        free(mode);
        if (!ok) {
            snprintf(sub, sizeof sub, "setting socket_mode: expected an octal string like \"0660\"");
            goto bad;
        }
        cfg->socket_mode = (unsigned)m;
    }
    char *lvl = NULL;
    if (config_str(L, "log_level", &lvl, sub, sizeof sub))
        goto bad;
    if (lvl) {
        int l = log_level_parse(lvl);
        free(lvl);
        if (l < 0) {
            snprintf(sub, sizeof sub, "setting log_level: expected debug, info, warn or error");
            goto bad;
        }
        cfg->log_level = l;
    }
#define INT_SETTING(name, lo, hi, field)                                   \
    v = (long long)cfg->field;                                             \
    if (config_int(L, name, lo, hi, &v, sub, sizeof sub)) goto bad;        \
    cfg->field = (__typeof__(cfg->field))v;
    INT_SETTING("max_clients", 1, 1000000, max_clients)
    INT_SETTING("max_line_bytes", 64, 1LL << 32, max_line_bytes)
    INT_SETTING("max_output_bytes", 4096, 1LL << 40, max_output_bytes)
    INT_SETTING("max_pending_requests", 1, 1000000, max_pending_requests)
    INT_SETTING("read_threads", 1, 128, read_threads)
    INT_SETTING("busy_timeout_ms", 0, 3600000, busy_timeout_ms)
    INT_SETTING("sql_max_rows", 1, 1LL << 40, sql_max_rows)
    INT_SETTING("query_timeout_ms", 1, 86400000, query_timeout_ms)
    INT_SETTING("query_max_rows", 1, 1LL << 40, query_max_rows)
    INT_SETTING("query_memory_limit", 1LL << 20, 1LL << 40, query_memory_limit)
    INT_SETTING("read_mmap_bytes", 0, 1LL << 40, read_mmap_bytes)
    INT_SETTING("read_cache_bytes", 64LL << 10, 1LL << 40, read_cache_bytes)
    INT_SETTING("search_defer_nodes", 0, 1LL << 40, search_defer_nodes)
    INT_SETTING("bulk_write_queue_bytes", 0, 1LL << 32, bulk_write_queue_bytes)
    INT_SETTING("heap_trim_after_ms", 0, 86400000, heap_trim_after_ms)
    INT_SETTING("heap_trim_threshold_bytes", 128LL << 10, 1LL << 30, heap_trim_threshold_bytes)
    INT_SETTING("shutdown_timeout_ms", 0, 3600000, shutdown_timeout_ms)
    INT_SETTING("plugin_memory_limit", 1LL << 20, 1LL << 40, plugin_memory_limit)
    INT_SETTING("plugin_instruction_limit", 1000, 1LL << 50, plugin_instruction_limit)
    INT_SETTING("import_max_bytes", 1, 1LL << 50, import_max_bytes)
    INT_SETTING("import_max_uploads", 1, 100000, import_max_uploads)
    INT_SETTING("export_max_bytes", 1, 1LL << 50, export_max_bytes)
    INT_SETTING("export_idle_timeout_ms", 100, 86400000, export_idle_timeout_ms)
    if (config_strs(L, "plugin_dirs", &cfg->plugin_dirs, &cfg->n_plugin_dirs, sub, sizeof sub) ||
        config_strs(L, "import_dirs", &cfg->import_dirs, &cfg->n_import_dirs, sub, sizeof sub))
        goto bad;
#undef INT_SETTING
    cfg->n_write_uids = cfg->n_write_gids = 0;
    if (config_ids(L, "write_uids", 0, (unsigned *)cfg->write_uids, &cfg->n_write_uids, sub, sizeof sub) ||
        config_ids(L, "write_gids", 1, (unsigned *)cfg->write_gids, &cfg->n_write_gids, sub, sizeof sub))
        goto bad;
    rc = 0;
    goto out;
bad:
    snprintf(err, errlen, "%s: %s", path, sub);
out:
    lua_close(L);
    return rc;
}
