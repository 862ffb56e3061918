/*
 * core/import_upload.h - uploads in progress (import.begin / import.chunk /
 * import.end / import.abort). Each upload belongs to one connection (its
 * owner name), spools its bytes to an already-unlinked temporary file next to
 * the database (so nothing is left behind, whatever happens) and hashes them
 * (SHA-256, nettle) as they arrive. Memory per upload is constant.
 * The registry is shared by the loop (begin/chunk/abort/disconnect) and the
 * writer thread (end), so it is guarded by a mutex.
 */
#ifndef DSGRAPH_IMPORT_UPLOAD_H
#define DSGRAPH_IMPORT_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_TOKEN_LEN 32
#define IMPORT_MAX_CHUNK (1u << 20)   /* decoded bytes per import.chunk */

typedef struct import_upload import_upload;

/* Starts an upload. Returns 0, or an RPC error code with a message in err. */
int import_upload_begin(const char *owner, const char *spool_dir, const char *plugin, const char *name,
                        int64_t size, bool dry_run, int max_uploads, int64_t max_bytes,
                        char token[IMPORT_TOKEN_LEN + 1], char *err, size_t errlen);
/* Appends decoded bytes. *total gets the bytes received so far. 0 or an RPC code. */
int import_upload_chunk(const char *owner, const char *token, const uint8_t *data, size_t len, int64_t *total,
                        char *err, size_t errlen);
/* Removes the upload from the registry and hands it to the caller (import.end). */
import_upload *import_upload_take(const char *owner, const char *token, char *err, size_t errlen);
/* Drops one upload (import.abort). 0 or an RPC code. */
int import_upload_abort(const char *owner, const char *token, char *err, size_t errlen);
/* Drops every upload of a connection that went away. */
void import_upload_drop_owner(const char *owner);

/* Accessors of a taken upload. */
const char *import_upload_name(const import_upload *u);
const char *import_upload_plugin(const import_upload *u);   /* may be NULL */
bool import_upload_dry_run(const import_upload *u);
int64_t import_upload_bytes(const import_upload *u);
int64_t import_upload_declared(const import_upload *u);     /* -1 if not given */
/* Finishes the hash (hex, 64 chars + NUL) and returns the spool fd rewound to 0. */
int import_upload_finish(import_upload *u, char sha256_hex[65]);
void import_upload_free(import_upload *u);

#endif
