/*
 * core/export_stream.h - the registry of streamed exports in progress
 * (export.begin / export.next / export.abort, docs/protocol.md "Exports").
 *
 * Each export belongs to the client that began it (its owner name) and is
 * found by an unguessable token. A call takes the export (marking it busy, so
 * two calls never run it at once), runs it on its reader thread, and puts it
 * back. The loop drops a client's exports when it disconnects; exports idle
 * for longer than their timeout are aborted by the next sweep (every export
 * call and every disconnect sweeps). Thread-safe.
 */
#ifndef DSGRAPH_EXPORT_STREAM_H
#define DSGRAPH_EXPORT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_export.h"

#define EXPORT_TOKEN_LEN 32
#define EXPORT_MAX_STREAMS 16   /* streamed exports open at once, daemon-wide */

/* Registers x (taking ownership) for owner. Returns 0 and fills token, or -1
 * (x is closed) when EXPORT_MAX_STREAMS are open. */
int export_stream_add(const char *owner, plugin_export_stream *x, int64_t idle_ms, char token[EXPORT_TOKEN_LEN + 1],
                      char *err, size_t errlen);
/* Takes owner's export by token and marks it busy; NULL with err when there
 * is none (finished, aborted, idle too long) or a call is already running it. */
plugin_export_stream *export_stream_take(const char *owner, const char *token, char *err, size_t errlen);
/* Ends a take: the export is closed when finish is set or its owner left in
 * the meantime; otherwise it is idle again from now. */
void export_stream_put(const char *token, bool finish);
/* Closes every export of owner (a client that disconnected); one running
 * right now is closed when its call puts it back. */
void export_stream_drop_owner(const char *owner);
/* Closes the exports idle for longer than their timeout. */
void export_stream_sweep(void);

#endif
