/*
 * core/server.h - the listening socket, the clients, and shutdown.
 *
 * One libuv loop does all socket I/O. Each client's requests are framed into
 * lines (framing.h), queued, and executed one at a time in arrival order
 * (rpc.h + workers.h), so pipelined requests see each other's effects and get
 * their replies in order. Limits: max_clients, max_line_bytes,
 * max_pending_requests (reading pauses), max_output_bytes (disconnect).
 */
#ifndef DSGRAPH_SERVER_H
#define DSGRAPH_SERVER_H

#include "config.h"

/* Claims the socket path before anything else is touched: takes the lock file
 * (path + ".lock") and checks no live daemon answers there. Returns the lock
 * fd (held for the daemon's life), or -1 after logging why not. */
int server_claim_socket(const char *socket_path);

/* Binds a temporary name, listens, renames it into place, then serves until
 * SIGTERM/SIGINT and stops the workers. ready_fd >= 0 gets one byte once the
 * socket is in place (daemonizing). config_path is re-read on SIGHUP. Returns
 * the process exit status. */
int server_run(dsg_config *cfg, const char *config_path, const char *socket_path, int lock_fd,
               int ready_fd);

#endif
