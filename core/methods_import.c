/* core/methods_import.c - the import methods (docs/protocol.md, "Imports"):
 * import.begin/chunk run on the reader pool (spool file I/O, detect()), abort on the loop,
 * import.end and import.path run the importer on the writer thread in the
 * request's transaction; imports.list/show/retract read and undo provenance. */
#include "import_upload.h"
#include "log.h"
#include "plugin_host.h"
#include "plugin_import.h"
#include "provenance.h"
#include "rpc.h"

#include <errno.h>
#include <limits.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The connection an upload belongs to (see import_upload.h). */
static const char *import_owner(const method_ctx *ctx) { return ctx->peer ? ctx->peer : "local"; }

/* import.begin and import.chunk run on the reader pool (file I/O and detect()
 * never block the event loop), where rpc_run_call does not check write
 * permission: they check it here. */
static int import_may_write(const method_ctx *ctx, const char *m, rpc_error *err)
{
    if (ctx->may_write)
        return 0;
    log_warn("permission denied: %s may not write (method %s)", ctx->peer ? ctx->peer : "peer", m);
    return rpc_fail(err, RPC_PERMISSION_DENIED,
                    "%s: permission denied: uid %lu may not write (see write_uids/write_gids in the config)", m,
                    ctx->peer_uid);
}

/* Member key as a string (or NULL when absent/null); an error for another type. */
static int import_str(const char *m, json_t *p, const char *key, bool required, const char **out, rpc_error *err)
{
    json_t *v = json_object_get(p, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? rpc_fail(err, RPC_INVALID_PARAMS, "%s: missing member \"%s\" (a string)", m, key) : 0;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" must be a non-empty string", m, key);
    *out = json_string_value(v);
    return 0;
}

/* Decodes base64 text into a malloc'd buffer of at most max bytes. */
static uint8_t *import_b64(const char *m, const char *key, json_t *v, size_t max, size_t *len, rpc_error *err)
{
    if (!json_is_string(v)) {
        rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"%s\" must be a base64 string", m, key);
        return NULL;
    }
    size_t in = json_string_length(v);
    if (BASE64_DECODE_LENGTH(in) > max + 3) {
        rpc_fail(err, RPC_LIMIT_EXCEEDED, "%s: \"%s\" decodes to more than %zu bytes", m, key, max);
        return NULL;
    }
    uint8_t *out = malloc(BASE64_DECODE_LENGTH(in) + 1);
    struct base64_decode_ctx b;
    base64_decode_init(&b);
    size_t n = BASE64_DECODE_LENGTH(in);
    if (!out || !base64_decode_update(&b, &n, out, in, json_string_value(v)) || !base64_decode_final(&b) || n > max) {
        free(out);
        rpc_fail(err, n > max ? RPC_LIMIT_EXCEEDED : RPC_INVALID_PARAMS, "%s: \"%s\" is not valid base64%s", m, key,
                 n > max ? " of an allowed size" : "");
        return NULL;
    }
    *len = n;
    return out;
}

/* The current plugin set or an error (before the first load). */
static plugin_set *import_set(const char *m, rpc_error *err)
{
    plugin_set *set = plugin_host_acquire();
    if (!set)
        rpc_fail(err, RPC_INTERNAL_ERROR, "%s: plugins are not loaded", m);
    return set;
}

/* A plugin named by the client must exist, be loaded and import. */
static const plugin_info *import_named(const char *m, const plugin_set *set, const char *name, rpc_error *err)
{
    const plugin_info *p = plugin_set_find(set, name);
    if (!p)
        rpc_fail(err, RPC_NOT_FOUND, "%s: no plugin named \"%s\" (see plugins.list)", m, name);
    else if (!p->ok)
        rpc_fail(err, RPC_CONFLICT, "%s: plugin \"%s\" did not load: %s", m, name, p->error);
    else if (!p->has_importer)
        rpc_fail(err, RPC_INVALID_PARAMS, "%s: plugin \"%s\" has no importer", m, name);
    else
        return p;
    return NULL;
}

/* import.begin {"plugin","name","size","head","dry_run"} -> {"import","plugin"} */
int m_import_begin(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "import.begin", *plugin, *name;
    if (import_may_write(ctx, M, err))
        return -1;
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    if (import_str(M, params, "plugin", false, &plugin, err) || import_str(M, params, "name", true, &name, err))
        return -1;
    json_t *jsize = json_object_get(params, "size"), *jhead = json_object_get(params, "head"),
           *jdry = json_object_get(params, "dry_run");
    if (jsize && !json_is_null(jsize) && (!json_is_integer(jsize) || json_integer_value(jsize) < 0))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"size\" must be a non-negative integer", M);
    if (jdry && !json_is_null(jdry) && !json_is_boolean(jdry))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"dry_run\" must be true or false", M);
    uint8_t *head = NULL;
    size_t head_len = 0;
    if (jhead && !json_is_null(jhead) && !(head = import_b64(M, "head", jhead, 4096, &head_len, err)))
        return -1;
    plugin_set *set = import_set(M, err);
    const plugin_info *p = NULL;
    int rc = -1;
    char msg[600];
    if (set)
        p = plugin ? import_named(M, set, plugin, err)
                   : plugin_set_choose(set, name, (const char *)head, head_len, msg, sizeof msg);
    if (set && !p && !plugin)
        rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s", M, msg);
    if (p) {
        char dir[PATH_MAX], token[IMPORT_TOKEN_LEN + 1];
        snprintf(dir, sizeof dir, "%s", ctx->cfg && ctx->cfg->db ? ctx->cfg->db : "./x");
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        int code = import_upload_begin(import_owner(ctx), dir, p->name, name,
                                       jsize && json_is_integer(jsize) ? json_integer_value(jsize) : -1,
                                       json_is_true(jdry), set->import_max_uploads, set->import_max_bytes, token,
                                       msg, sizeof msg);
        if (code)
            rpc_fail(err, code, "%s", msg);
        else {
            *result = json_pack("{s:s,s:s}", "import", token, "plugin", p->name);
            rc = 0;
        }
    }
    free(head);
    plugin_host_release(set);
    return rc;
}

/* import.chunk {"import","data"} -> {"received":N} */
int m_import_chunk(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "import.chunk", *token;
    if (import_may_write(ctx, M, err))
        return -1;
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    if (import_str(M, params, "import", true, &token, err))
        return -1;
    size_t len = 0;
    uint8_t *data = import_b64(M, "data", json_object_get(params, "data"), IMPORT_MAX_CHUNK, &len, err);
    if (!data)
        return -1;
    int64_t total = 0;
    char msg[600];
    int code = import_upload_chunk(import_owner(ctx), token, data, len, &total, msg, sizeof msg);
    free(data);
    if (code)
        return rpc_fail(err, code, "%s", msg);
    *result = json_pack("{s:I}", "received", (json_int_t)total);
    return 0;
}

/* import.abort {"import"} -> {"aborted":true} */
int m_import_abort(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "import.abort", *token;
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    if (import_str(M, params, "import", true, &token, err))
        return -1;
    char msg[300];
    int code = import_upload_abort(import_owner(ctx), token, msg, sizeof msg);
    if (code)
        return rpc_fail(err, code, "%s: %s", M, msg);
    *result = json_pack("{s:b}", "aborted", 1);
    return 0;
}

/* Runs the importer and maps its outcome to the reply. */
static int import_run_common(method_ctx *ctx, const char *M, plugin_set *set, const plugin_info *p,
                             const import_input *in, bool dry, json_t **result, rpc_error *err)
{
    char msg[900];
    int rc = plugin_import_run(ctx->store, set, p, in, dry, result, msg, sizeof msg);
    if (rc == PLUGIN_IMPORT_OK)
        return 0;
    return rpc_fail(err, rc == PLUGIN_IMPORT_LIMIT    ? RPC_LIMIT_EXCEEDED
                         : rc == PLUGIN_IMPORT_FAILED ? RPC_INVALID_PARAMS
                                                      : RPC_INTERNAL_ERROR,
                    "%s", msg);
}

/* import.end {"import"} -> the import result (plugin_import.h) */
int m_import_end(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "import.end", *token;
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    if (import_str(M, params, "import", true, &token, err))
        return -1;
    char msg[300];
    import_upload *u = import_upload_take(import_owner(ctx), token, msg, sizeof msg);
    if (!u)
        return rpc_fail(err, RPC_NOT_FOUND, "%s: %s", M, msg);
    int rc = -1;
    plugin_set *set = import_set(M, err);
    const plugin_info *p = set ? import_named(M, set, import_upload_plugin(u), err) : NULL;
    if (p && import_upload_declared(u) >= 0 && import_upload_declared(u) != import_upload_bytes(u)) {
        rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s: received %lld bytes of the declared %lld", M, import_upload_name(u),
                 (long long)import_upload_bytes(u), (long long)import_upload_declared(u));
        p = NULL;
    }
    if (p) {
        char sha[65];
        int fd = dup(import_upload_finish(u, sha));
        FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
        if (!f) {
            if (fd >= 0)
                close(fd);
            rpc_fail(err, RPC_INTERNAL_ERROR, "%s: cannot read the spool file: %s", M, strerror(errno));
        } else {
            import_input in = {.name = import_upload_name(u), .f = f, .size = import_upload_bytes(u), .sha256 = sha};
            rc = import_run_common(ctx, M, set, p, &in, import_upload_dry_run(u), result, err);
            fclose(f);
        }
    }
    import_upload_free(u);
    plugin_host_release(set);
    return rc;
}

/* SHA-256 of a whole file, streaming (import.path). */
static int import_hash_file(FILE *f, char hex[65], int64_t *size)
{
    struct sha256_ctx sha;
    uint8_t buf[65536], digest[SHA256_DIGEST_SIZE];
    size_t n;
    sha256_init(&sha);
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        sha256_update(&sha, n, buf);
        *size += (int64_t)n;
    }
    if (ferror(f))
        return -1;
    sha256_digest(&sha, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    rewind(f);
    return 0;
}

/* import.path {"path","plugin","dry_run"}: a file in one of the import_dirs. */
int m_import_path(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "import.path", *path, *plugin;
    if (!json_is_object(params))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: params must be an object", M);
    if (import_str(M, params, "path", true, &path, err) || import_str(M, params, "plugin", false, &plugin, err))
        return -1;
    json_t *jdry = json_object_get(params, "dry_run");
    if (jdry && !json_is_null(jdry) && !json_is_boolean(jdry))
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"dry_run\" must be true or false", M);
    plugin_set *set = import_set(M, err);
    if (!set)
        return -1;
    int rc = -1;
    char *real = realpath(path, NULL);
    FILE *f = NULL;
    if (!real || !plugin_set_path_allowed(set, real)) {
        /* the same answer whether or not the file exists: no probing outside import_dirs */
        rpc_fail(err, RPC_PERMISSION_DENIED, "%s: %s is not inside a directory listed in import_dirs", M, path);
    } else if (!(f = fopen(real, "rb"))) {
        rpc_fail(err, RPC_NOT_FOUND, "%s: cannot open %s: %s", M, path, strerror(errno));
    } else {
        char sha[65], msg[600], head[4096];
        int64_t size = 0;
        size_t head_len = fread(head, 1, sizeof head, f);
        rewind(f);
        const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
        const plugin_info *p = plugin ? import_named(M, set, plugin, err)
                                      : plugin_set_choose(set, base, head, head_len, msg, sizeof msg);
        if (!p && !plugin)
            rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s", M, msg);
        if (p && import_hash_file(f, sha, &size) != 0)
            rpc_fail(err, RPC_INTERNAL_ERROR, "%s: reading %s failed", M, path);
        else if (p && size > set->import_max_bytes)
            rpc_fail(err, RPC_LIMIT_EXCEEDED, "%s: %s is larger than import_max_bytes=%lld", M, path,
                     (long long)set->import_max_bytes);
        else if (p) {
            import_input in = {.name = base, .f = f, .size = size, .sha256 = sha};
            rc = import_run_common(ctx, M, set, p, &in, json_is_true(jdry), result, err);
        }
        fclose(f);
    }
    free(real);
    plugin_host_release(set);
    return rc;
}

/* imports.list -> {"imports":[...]} */
int m_imports_list(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    json_t *list = NULL;
    gs_error gerr;
    gs_status st = prov_imports_list(ctx->store, &list, &gerr);
    if (st != GS_OK)
        return rpc_fail_store(err, st, "imports.list", &gerr);
    *result = json_pack("{s:o}", "imports", list);
    return 0;
}

/* The "id" member of imports.show / imports.retract. */
static int import_id_param(const char *M, json_t *params, json_int_t *id, rpc_error *err)
{
    json_t *v = json_is_object(params) ? json_object_get(params, "id") : NULL;
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"id\" must be a positive integer", M);
    *id = json_integer_value(v);
    return 0;
}

/* imports.show {"id","limit"} -> what the import asserted */
int m_imports_show(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "imports.show";
    json_int_t id = 0, limit = 1000;
    if (import_id_param(M, params, &id, err))
        return -1;
    json_t *jl = json_object_get(params, "limit");
    if (jl && !json_is_null(jl)) {
        if (!json_is_integer(jl) || json_integer_value(jl) < 0 || json_integer_value(jl) > 1000000)
            return rpc_fail(err, RPC_INVALID_PARAMS, "%s: member \"limit\" must be an integer in [0, 1000000]", M);
        limit = json_integer_value(jl);
    }
    gs_error gerr;
    gs_status st = prov_import_show(ctx->store, id, limit, result, &gerr);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
}

/* imports.retract {"id"} -> counts of what was undone */
int m_imports_retract(method_ctx *ctx, json_t *params, json_t **result, rpc_error *err)
{
    const char *M = "imports.retract";
    json_int_t id = 0;
    if (import_id_param(M, params, &id, err))
        return -1;
    gs_error gerr;
    gs_status st = prov_retract(ctx->store, id, result, &gerr);
    if (st == GS_OK)
        log_info("%s retracted import %lld", ctx->peer ? ctx->peer : "someone", (long long)id);
    return st == GS_OK ? 0 : rpc_fail_store(err, st, M, &gerr);
}
