/* core/methods_plugins.c - plugins.list and plugins.reload (docs/protocol.md,
 * "Plugins"). Both run on the loop thread: the set is in memory, and a reload
 * swaps in a new set without disturbing imports that hold the old one. */
#include "log.h"
#include "plugin_host.h"
#include "rpc.h"

/* plugins.list -> {"plugins":[{"name","version","description","file","status",...}]} */
int m_plugins_list(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    plugin_set *set = plugin_host_acquire();
    *result = plugin_set_json(set);
    plugin_host_release(set);
    return *result ? 0 : rpc_fail(err, RPC_INTERNAL_ERROR, "plugins.list: out of memory");
}

/* plugins.reload -> {"loaded":N,"failed":M,"plugins":[...]} */
int m_plugins_reload(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    if (!ctx->cfg)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "plugins.reload: no configuration");
    int ok = 0, failed = 0;
    log_info("%s: reloading plugins", ctx->peer ? ctx->peer : "plugins.reload");
    plugin_host_load(ctx->cfg, &ok, &failed);
    plugin_set *set = plugin_host_acquire();
    *result = plugin_set_json(set);
    plugin_host_release(set);
    if (!*result)
        return rpc_fail(err, RPC_INTERNAL_ERROR, "plugins.reload: out of memory");
    json_object_set_new(*result, "loaded", json_integer(ok));
    json_object_set_new(*result, "failed", json_integer(failed));
    return 0;
}
