/*
 * core/access.h - who may write: the peer's credentials (SO_PEERCRED) checked
 * against the daemon's own uid, root, and the config's write_uids/write_gids.
 */
#ifndef DSGRAPH_ACCESS_H
#define DSGRAPH_ACCESS_H
#include <stdbool.h>
#include <sys/types.h>
#include "config.h"

typedef struct peer_cred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
    bool known; /* false if SO_PEERCRED failed: treated as a reader */
} peer_cred;

/* Reads the credentials of the peer on a connected Unix socket. */
peer_cred access_peer(int fd);
/* True if this peer may call write methods. */
bool access_may_write(const dsg_config *cfg, const peer_cred *peer);

#endif
