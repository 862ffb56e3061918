/* core/plugin_choose.c - which importer reads an input: by the file name's
 * extension first, then by sniffing the first bytes with importer.detect(head). */
#include "log.h"
#include "plugin_host.h"
#include "plugin_sandbox.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* True if the importer lists the extension of name ("csv" or ".csv", any case). */
static bool plugin_ext_match(const plugin_info *p, const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot || !dot[1] || !p->importer)
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(p->importer, "extensions"), i, e) {
        const char *x = json_string_value(e);
        if (x && *x == '.')
            x++;
        if (x && strcasecmp(x, dot + 1) == 0)
            return true;
    }
    return false;
}

/* Runs p's detect(head) in a fresh, small sandbox (this runs on the event
 * loop, hence the load-time budget). Any error counts as "no". */
static bool plugin_detect(const plugin_info *p, const char *head, size_t head_len)
{
    plugin_sandbox sb;
    char err[600], chunk[300];
    if (!p->has_detect || plugin_sandbox_open(&sb, PLUGIN_LOAD_MEMORY, PLUGIN_LOAD_INSTRUCTIONS, p->name) != 0)
        return false;
    snprintf(chunk, sizeof chunk, "@%s", p->base);
    bool yes = false;
    if (plugin_sandbox_dochunk(&sb, p->source, p->source_len, chunk, err, sizeof err) == 0 &&
        lua_istable(sb.L, -1) && lua_getfield(sb.L, -1, "importer") == LUA_TTABLE &&
        lua_getfield(sb.L, -1, "detect") == LUA_TFUNCTION) {
        lua_pushlstring(sb.L, head, head_len);
        if (plugin_sandbox_call(&sb, 1, 1, err, sizeof err) == 0)
            yes = lua_toboolean(sb.L, -1);
        else
            log_debug("plugins: %s: detect failed: %s", p->name, err);
    }
    plugin_sandbox_close(&sb);
    return yes;
}

const plugin_info *plugin_set_choose(const plugin_set *set, const char *name, const char *head, size_t head_len,
                                     char *err, size_t errlen)
{
    const plugin_info *by_ext[64];
    size_t n_ext = 0;
    for (size_t i = 0; set && i < set->n && n_ext < 64; i++)
        if (set->v[i].ok && set->v[i].has_importer && plugin_ext_match(&set->v[i], name))
            by_ext[n_ext++] = &set->v[i];
    if (n_ext == 1)
        return by_ext[0];
    if (n_ext > 1) {
        for (size_t i = 0; head && i < n_ext; i++)
            if (plugin_detect(by_ext[i], head, head_len))
                return by_ext[i];
        size_t used = (size_t)snprintf(err, errlen, "several importers read %s (", name);
        for (size_t i = 0; i < n_ext && used < errlen; i++)
            used += (size_t)snprintf(err + used, errlen - used, "%s%s", i ? ", " : "", by_ext[i]->name);
        if (used < errlen)
            snprintf(err + used, errlen - used, ") and none recognised its first bytes; name one with \"plugin\"");
        return NULL;
    }
    for (size_t i = 0; head && set && i < set->n; i++)
        if (set->v[i].ok && set->v[i].has_importer && plugin_detect(&set->v[i], head, head_len))
            return &set->v[i];
    snprintf(err, errlen, "no importer reads %s (by its extension%s); name one with \"plugin\" (see plugins.list)",
             name ? name : "this input", head ? " or its first bytes" : "");
    return NULL;
}
