/* core/plugin_host.c - loading plugin files into a reference-counted set (see plugin_host.h). */
#include "plugin_host.h"
#include "log.h"
#include "lua_dsgraph.h"
#include "plugin_sandbox.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PLUGIN_MAX_SOURCE (4u << 20)

static struct {
    pthread_mutex_t mu;
    plugin_set *current;
} H = {PTHREAD_MUTEX_INITIALIZER, NULL};

/* Frees a set once nobody holds it any more. */
static void plugin_set_free(plugin_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        plugin_info *p = &set->v[i];
        free(p->file);
        free(p->base);
        free(p->name);
        free(p->version);
        free(p->description);
        free(p->source);
        free(p->error);
        json_decref(p->importer);
        json_decref(p->exporter);
        json_decref(p->check);
    }
    for (size_t i = 0; i < set->n_import_dirs; i++)
        free(set->import_dirs[i]);
    free(set->import_dirs);
    free(set->v);
    free(set);
}

plugin_set *plugin_host_acquire(void)
{
    pthread_mutex_lock(&H.mu);
    plugin_set *set = H.current;
    if (set)
        set->refs++;
    pthread_mutex_unlock(&H.mu);
    return set;
}

void plugin_host_release(plugin_set *set)
{
    if (!set)
        return;
    pthread_mutex_lock(&H.mu);
    bool last = --set->refs == 0;
    pthread_mutex_unlock(&H.mu);
    if (last)
        plugin_set_free(set);
}

/* Makes `set` current; the previous set lives on while an import holds it. */
static void plugin_host_swap(plugin_set *set)
{
    pthread_mutex_lock(&H.mu);
    plugin_set *old = H.current;
    H.current = set;
    pthread_mutex_unlock(&H.mu);
    plugin_host_release(old);
}

void plugin_host_shutdown(void) { plugin_host_swap(NULL); }

/* Reads a whole plugin file (they are small; the cap keeps them so). */
static char *plugin_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(PLUGIN_MAX_SOURCE + 1);
    size_t n = buf ? fread(buf, 1, PLUGIN_MAX_SOURCE + 1, f) : 0;
    fclose(f);
    if (!buf || n > PLUGIN_MAX_SOURCE) {
        free(buf);
        snprintf(err, errlen, "%s", buf ? "file larger than 4 MiB" : "out of memory");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* An optional string field of the table on top; error if present with another type. */
static int plugin_str_field(lua_State *L, const char *key, bool required, char **out, char *err, size_t errlen)
{
    int t = lua_getfield(L, -1, key);
    int rc = 0;
    if (t == LUA_TSTRING)
        *out = strdup(lua_tostring(L, -1));
    else if (t != LUA_TNIL || required) {
        snprintf(err, errlen, "the returned table's \"%s\" must be a string%s", key, required ? " (required)" : "");
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

/* Copies the data (non-function) fields of the table on top into JSON, for listing. */
static json_t *plugin_descriptor(lua_State *L, const char *what, char *err, size_t errlen)
{
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) != LUA_TFUNCTION) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, -4);
        } else {
            lua_pop(L, 1);
        }
    }
    json_t *j = lua_dsgraph_tojson(L, -1, what, err, errlen);
    lua_pop(L, 1);
    return j;
}

/* Checks the importer part of the table on top and records it. */
static int plugin_check_importer(lua_State *L, plugin_info *p, char *err, size_t errlen)
{
    int t = lua_getfield(L, -1, "importer");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) {
        snprintf(err, errlen, "\"importer\" must be a table");
        lua_pop(L, 1);
        return -1;
    }
    if (lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        snprintf(err, errlen, "importer.run must be a function");
        lua_pop(L, 2);
        return -1;
    }
    lua_pop(L, 1);
    int dt = lua_getfield(L, -1, "detect");
    lua_pop(L, 1);
    if (dt != LUA_TNIL && dt != LUA_TFUNCTION) {
        snprintf(err, errlen, "importer.detect must be a function");
        lua_pop(L, 1);
        return -1;
    }
    p->importer = plugin_descriptor(L, "importer", err, errlen);
    lua_pop(L, 1);
    if (!p->importer)
        return -1;
    json_t *ext = json_object_get(p->importer, "extensions");
    if (!ext)
        json_object_set_new(p->importer, "extensions", json_array());
    else if (!json_is_array(ext)) {
        snprintf(err, errlen, "importer.extensions must be a list of strings");
        return -1;
    }
    p->has_importer = true;
    p->has_detect = dt == LUA_TFUNCTION;
    json_object_set_new(p->importer, "detect", json_boolean(p->has_detect));
    return 0;
}

/* Checks the optional check part of the table on top (core/plugin_check.c
 * runs it) and records its data fields. Why here: a bad severity or a missing
 * run should show in plugins.list as a load error, not at the first check. */
static int plugin_check_part(lua_State *L, plugin_info *p, char *err, size_t errlen)
{
    int t = lua_getfield(L, -1, "check");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    int rc = -1;
    if (t != LUA_TTABLE)
        snprintf(err, errlen, "\"check\" must be a table");
    else if (lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        snprintf(err, errlen, "check.run must be a function");
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        p->check = plugin_descriptor(L, "check", err, errlen);
        json_t *sev = p->check ? json_object_get(p->check, "severity") : NULL;
        if (p->check && !sev)
            json_object_set_new(p->check, "severity", json_string("warning"));
        if (p->check && sev && (!json_is_string(sev) || (strcmp(json_string_value(sev), "error") != 0 &&
                                                         strcmp(json_string_value(sev), "warning") != 0)))
            snprintf(err, errlen, "check.severity must be \"error\" or \"warning\"");
        else if (p->check)
            rc = 0;
    }
    lua_pop(L, 1);
    return rc;
}

/* Loads one file in a fresh sandbox and fills p (ok, or error with file:line). */
static void plugin_load_one(plugin_info *p, const char *dir, const char *fname)
{
    char path[PATH_MAX], err[600] = "", chunk[300];
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    p->file = strdup(path);
    p->base = strdup(fname);
    p->source = plugin_read_file(path, &p->source_len, err, sizeof err);
    plugin_sandbox sb;
    if (!p->source)
        goto fail;
    snprintf(chunk, sizeof chunk, "@%s", fname);
    if (plugin_sandbox_open(&sb, PLUGIN_LOAD_MEMORY, PLUGIN_LOAD_INSTRUCTIONS, fname) != 0) {
        snprintf(err, sizeof err, "cannot create a Lua state");
        goto fail;
    }
    if (plugin_sandbox_dochunk(&sb, p->source, p->source_len, chunk, err, sizeof err) != 0) {
        plugin_sandbox_close(&sb);
        goto fail;
    }
    lua_State *L = sb.L;
    int rc = -1;
    if (!lua_istable(L, -1))
        snprintf(err, sizeof err, "the file must return a table, not a %s", luaL_typename(L, -1));
    else if (plugin_str_field(L, "name", true, &p->name, err, sizeof err) == 0 &&
             plugin_str_field(L, "version", false, &p->version, err, sizeof err) == 0 &&
             plugin_str_field(L, "description", false, &p->description, err, sizeof err) == 0 &&
             plugin_check_importer(L, p, err, sizeof err) == 0) {
        rc = 0;
        if (lua_getfield(L, -1, "exporter") == LUA_TTABLE) {
            p->exporter = plugin_descriptor(L, "exporter", err, sizeof err);
            if (!p->exporter)
                rc = -1;
        } else if (!lua_isnil(L, -1)) {
            snprintf(err, sizeof err, "\"exporter\" must be a table");
            rc = -1;
        }
        lua_pop(L, 1);
        if (rc == 0 && plugin_check_part(L, p, err, sizeof err) != 0)
            rc = -1;
        if (rc == 0 && !*p->name) {
            snprintf(err, sizeof err, "the returned table's \"name\" must not be empty");
            rc = -1;
        }
        if (rc == 0 && !p->has_importer && !p->exporter && !p->check) {
            snprintf(err, sizeof err, "the returned table has no \"importer\", \"exporter\" or \"check\"");
            rc = -1;
        }
    }
    plugin_sandbox_close(&sb);
    if (rc == 0) {
        p->ok = true;
        return;
    }
fail:
    /* Lua messages already start with "file.lua:LINE:"; others get the file name. */
    if (strncmp(err, fname, strlen(fname)) == 0)
        p->error = strdup(err);
    else {
        char msg[900];
        snprintf(msg, sizeof msg, "%s: %s", fname, err);
        p->error = strdup(msg);
    }
    p->ok = false;
}

/* readdir filter: regular *.lua names. */
static int plugin_is_lua(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".lua") == 0;
}

/* Loads one directory's plugins (sorted by file name) into set. */
static void plugin_load_dir(plugin_set *set, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, plugin_is_lua, alphasort);
    if (n < 0) {
        log_warn("plugins: cannot read directory %s: %s", dir, strerror(errno));
        return;
    }
    plugin_info *v = realloc(set->v, (set->n + (size_t)n + 1) * sizeof *v);
    if (v)
        set->v = v;
    for (int i = 0; i < n; i++) {
        if (v) {
            plugin_info *p = &set->v[set->n++];
            memset(p, 0, sizeof *p);
            plugin_load_one(p, dir, names[i]->d_name);
            const plugin_info *dup = NULL;
            for (size_t k = 0; p->ok && k + 1 < set->n; k++)
                if (set->v[k].ok && strcmp(set->v[k].name, p->name) == 0)
                    dup = &set->v[k];
            if (dup) {
                char msg[PATH_MAX + 200];
                snprintf(msg, sizeof msg, "%s: plugin name \"%s\" is already used by %s", p->base, p->name,
                         dup->file);
                p->ok = false;
                p->error = strdup(msg);
            }
            if (p->ok)
                log_info("plugins: loaded %s %s from %s", p->name, p->version ? p->version : "", p->file);
            else
                log_warn("plugins: %s not loaded: %s", p->file, p->error);
        }
        free(names[i]);
    }
    free(names);
}

void plugin_host_load(const dsg_config *cfg, int *ok, int *failed)
{
    plugin_set *set = calloc(1, sizeof *set);
    if (!set) {
        log_error("plugins: out of memory");
        return;
    }
    set->refs = 1;
    set->mem_limit = (size_t)cfg->plugin_memory_limit;
    set->instr_limit = cfg->plugin_instruction_limit;
    set->import_max_bytes = cfg->import_max_bytes;
    set->import_max_uploads = cfg->import_max_uploads;
    if (cfg->plugin_dirs)
        for (int i = 0; i < cfg->n_plugin_dirs; i++)
            plugin_load_dir(set, cfg->plugin_dirs[i]);
    else
        plugin_load_dir(set, DSGRAPH_PLUGIN_DIR);
    set->import_dirs = calloc((size_t)cfg->n_import_dirs + 1, sizeof *set->import_dirs);
    for (int i = 0; set->import_dirs && i < cfg->n_import_dirs; i++) {
        char *real = realpath(cfg->import_dirs[i], NULL);
        if (!real)
            log_warn("import_dirs: %s: %s (ignored)", cfg->import_dirs[i], strerror(errno));
        else
            set->import_dirs[set->n_import_dirs++] = real;
    }
    int nok = 0, nfail = 0;
    for (size_t i = 0; i < set->n; i++)
        set->v[i].ok ? nok++ : nfail++;
    log_info("plugins: %d loaded, %d failed", nok, nfail);
    if (ok)
        *ok = nok;
    if (failed)
        *failed = nfail;
    plugin_host_swap(set);
}

const plugin_info *plugin_set_find(const plugin_set *set, const char *name)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (set->v[i].name && strcmp(set->v[i].name, name) == 0)
            return &set->v[i];
    return NULL;
}

bool plugin_set_path_allowed(const plugin_set *set, const char *real)
{
    for (size_t i = 0; i < set->n_import_dirs; i++) {
        size_t n = strlen(set->import_dirs[i]);
        if (strncmp(real, set->import_dirs[i], n) == 0 && (real[n] == '/' || set->import_dirs[i][n - 1] == '/'))
            return true;
    }
    return false;
}

json_t *plugin_set_json(const plugin_set *set)
{
    json_t *arr = json_array();
    for (size_t i = 0; set && i < set->n; i++) {
        const plugin_info *p = &set->v[i];
        json_t *o = json_pack("{s:s?,s:s?,s:s?,s:s,s:s}", "name", p->name, "version", p->version, "description",
                              p->description, "file", p->file, "status", p->ok ? "ok" : "error");
        if (!o)
            continue;
        if (!p->ok)
            json_object_set_new(o, "error", json_string(p->error ? p->error : "unknown error"));
        if (p->ok) {
            json_object_set(o, "importer", p->importer ? p->importer : json_null());
            json_object_set(o, "exporter", p->exporter ? p->exporter : json_null());
            json_object_set(o, "check", p->check ? p->check : json_null());
        }
        json_array_append_new(arr, o);
    }
    return json_pack("{s:o}", "plugins", arr);
}
