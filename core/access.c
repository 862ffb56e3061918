/* core/access.c - write permission from peer credentials. */
#include "access.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

peer_cred access_peer(int fd)
{
    peer_cred p = {0};
    struct ucred uc;
    socklen_t len = sizeof uc;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && len == sizeof uc) {
        p.pid = uc.pid;
        p.uid = uc.uid;
        p.gid = uc.gid;
        p.known = true;
    }
    return p;
}

/* Supplementary groups of the peer's user, so a write_gids entry works for
 * members of that group, not only for processes whose primary gid it is. */
static bool access_user_in_groups(const dsg_config *cfg, uid_t uid, gid_t gid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res)
        return false;
    gid_t groups[256];
    int n = 256;
    if (getgrouplist(pw.pw_name, gid, groups, &n) < 0)
        n = 256;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < cfg->n_write_gids; j++)
            if (groups[i] == cfg->write_gids[j])
                return true;
    return false;
}

bool access_may_write(const dsg_config *cfg, const peer_cred *peer)
{
    if (!peer->known)
        return false;
    if (peer->uid == 0 || peer->uid == geteuid())
        return true;
    for (int i = 0; i < cfg->n_write_uids; i++)
        if (cfg->write_uids[i] == peer->uid)
            return true;
    for (int i = 0; i < cfg->n_write_gids; i++)
        if (cfg->write_gids[i] == peer->gid)
            return true;
    return cfg->n_write_gids > 0 && access_user_in_groups(cfg, peer->uid, peer->gid);
}
