/*
 * core/sockpath.h - where the daemon's socket is, decided the same way by
 * dsgraphd and dsctl: --socket, else $DSGRAPH_SOCKET, else
 * $XDG_RUNTIME_DIR/dsgraph.sock, else /tmp/dsgraph-$UID/dsgraph.sock.
 */
#ifndef DSGRAPH_SOCKPATH_H
#define DSGRAPH_SOCKPATH_H
#include <stddef.h>

/* Writes the socket path into buf. explicit_path (from --socket) wins when
 * non-NULL and non-empty. Returns 0, or -1 if the path does not fit in buf or
 * in a sockaddr_un (108 bytes), with errno = ENAMETOOLONG. */
int sockpath_resolve(const char *explicit_path, char *buf, size_t size);

#endif
