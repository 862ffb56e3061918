/* core/import_upload.c - the registry of uploads in progress (see import_upload.h). */
#include "import_upload.h"
#include "log.h"
#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct import_upload {
    import_upload *next;
    char token[IMPORT_TOKEN_LEN + 1];
    char *owner, *name, *plugin;
    bool dry_run;
    int fd;
    int64_t bytes, declared, max_bytes;
    struct sha256_ctx sha;
};

static struct {
    pthread_mutex_t mu;
    import_upload *head;
    int n;
} U = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

void import_upload_free(import_upload *u)
{
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    free(u->owner);
    free(u->name);
    free(u->plugin);
    free(u);
}

/* A token nobody can guess, so one client cannot feed another's upload. */
static void import_new_token(char out[IMPORT_TOKEN_LEN + 1])
{
    unsigned char raw[IMPORT_TOKEN_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        static unsigned long n;
        memset(raw, 0, sizeof raw);
        snprintf((char *)raw, sizeof raw, "%lx%d", ++n, (int)getpid());
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Creates the spool file and unlinks it at once: it lives as long as its fd. */
static int import_spool(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.dsgraph-import-XXXXXX", dir && *dir ? dir : ".");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a spool file in %s: %s", dir, strerror(errno));
        return -1;
    }
    unlink(path);
    return fd;
}

int import_upload_begin(const char *owner, const char *spool_dir, const char *plugin, const char *name,
                        int64_t size, bool dry_run, int max_uploads, int64_t max_bytes,
                        char token[IMPORT_TOKEN_LEN + 1], char *err, size_t errlen)
{
    if (size > max_bytes) {
        snprintf(err, errlen, "import.begin: %s is %lld bytes; import_max_bytes is %lld", name, (long long)size,
                 (long long)max_bytes);
        return RPC_LIMIT_EXCEEDED;
    }
    pthread_mutex_lock(&U.mu);
    int n = U.n;
    pthread_mutex_unlock(&U.mu);
    if (n >= max_uploads) {
        snprintf(err, errlen, "import.begin: %d uploads are in progress (import_max_uploads); try again later", n);
        return RPC_LIMIT_EXCEEDED;
    }
    import_upload *u = calloc(1, sizeof *u);
    if (!u || !(u->owner = strdup(owner)) || !(u->name = strdup(name)) || (plugin && !(u->plugin = strdup(plugin)))) {
        if (u)
            u->fd = -1;
        import_upload_free(u);
        snprintf(err, errlen, "import.begin: out of memory");
        return RPC_INTERNAL_ERROR;
    }
    u->fd = import_spool(spool_dir, err, errlen);
    if (u->fd < 0) {
        import_upload_free(u);
        return RPC_INTERNAL_ERROR;
    }
    u->dry_run = dry_run;
    u->declared = size;
    u->max_bytes = max_bytes;
    sha256_init(&u->sha);
    import_new_token(u->token);
    memcpy(token, u->token, sizeof u->token);
    pthread_mutex_lock(&U.mu);
    u->next = U.head;
    U.head = u;
    U.n++;
    pthread_mutex_unlock(&U.mu);
    return 0;
}

/* Finds an upload by token for its owner; call with the mutex held. */
static import_upload **import_find(const char *owner, const char *token)
{
    for (import_upload **pp = &U.head; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->token, token) == 0 && strcmp((*pp)->owner, owner) == 0)
            return pp;
    return NULL;
}

int import_upload_chunk(const char *owner, const char *token, const uint8_t *data, size_t len, int64_t *total,
                        char *err, size_t errlen)
{
    pthread_mutex_lock(&U.mu);
    import_upload **pp = import_find(owner, token);
    import_upload *u = pp ? *pp : NULL;
    int rc = 0;
    if (!u) {
        snprintf(err, errlen, "import.chunk: no upload %.40s on this connection", token);
        rc = RPC_NOT_FOUND;
    } else if (u->bytes + (int64_t)len > u->max_bytes) {
        snprintf(err, errlen, "import.chunk: %s: more than import_max_bytes=%lld", u->name, (long long)u->max_bytes);
        rc = RPC_LIMIT_EXCEEDED;
    } else if (u->declared >= 0 && u->bytes + (int64_t)len > u->declared) {
        snprintf(err, errlen, "import.chunk: %s: more bytes than the declared size %lld", u->name,
                 (long long)u->declared);
        rc = RPC_INVALID_PARAMS;
    } else {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(u->fd, data + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(err, errlen, "import.chunk: writing the spool file: %s", strerror(errno));
                rc = RPC_INTERNAL_ERROR;
                break;
            }
            off += (size_t)w;
        }
        if (rc == 0) {
            sha256_update(&u->sha, len, data);
            u->bytes += (int64_t)len;
            *total = u->bytes;
        }
    }
    pthread_mutex_unlock(&U.mu);
    return rc;
}

import_upload *import_upload_take(const char *owner, const char *token, char *err, size_t errlen)
{
    pthread_mutex_lock(&U.mu);
    import_upload **pp = import_find(owner, token);
    import_upload *u = pp ? *pp : NULL;
    if (u) {
        *pp = u->next;
        U.n--;
    }
    pthread_mutex_unlock(&U.mu);
    if (!u)
        snprintf(err, errlen, "no upload %.40s on this connection", token);
    return u;
}

int import_upload_abort(const char *owner, const char *token, char *err, size_t errlen)
{
    import_upload *u = import_upload_take(owner, token, err, errlen);
    if (!u)
        return RPC_NOT_FOUND;
    import_upload_free(u);
    return 0;
}

void import_upload_drop_owner(const char *owner)
{
    pthread_mutex_lock(&U.mu);
    for (import_upload **pp = &U.head; *pp;) {
        import_upload *u = *pp;
        if (strcmp(u->owner, owner) == 0) {
            *pp = u->next;
            U.n--;
            log_debug("%s went away: dropping its upload of %s", owner, u->name);
            import_upload_free(u);
        } else {
            pp = &u->next;
        }
    }
    pthread_mutex_unlock(&U.mu);
}

const char *import_upload_name(const import_upload *u) { return u->name; }
const char *import_upload_plugin(const import_upload *u) { return u->plugin; }
bool import_upload_dry_run(const import_upload *u) { return u->dry_run; }
int64_t import_upload_bytes(const import_upload *u) { return u->bytes; }
int64_t import_upload_declared(const import_upload *u) { return u->declared; }

int import_upload_finish(import_upload *u, char sha256_hex[65])
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&u->sha, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(sha256_hex + 2 * i, 3, "%02x", digest[i]);
    lseek(u->fd, 0, SEEK_SET);
    return u->fd;
}
