/* core/sockpath.c - the socket-path rule shared by dsgraphd and dsctl. */
#include "sockpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

/* Why one function: the daemon and the client must agree on the default path
 * without either guessing, so both call this. */
int sockpath_resolve(const char *explicit_path, char *buf, size_t size)
{
    const char *env;
    int n;

    if (explicit_path && *explicit_path)
        n = snprintf(buf, size, "%s", explicit_path);
    else if ((env = getenv("DSGRAPH_SOCKET")) && *env)
        n = snprintf(buf, size, "%s", env);
    else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
        n = snprintf(buf, size, "%s/dsgraph.sock", env);
    else
        n = snprintf(buf, size, "/tmp/dsgraph-%u/dsgraph.sock", (unsigned)getuid());
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}
