/*
 * bench/echo_server.c - the ceiling of the socket benchmarks: one thread, one
 * epoll loop, a Unix socket, and every byte read written straight back. A
 * client sending one JSON line per request gets one line back, so loadgen's
 * ping mode against it measures the round trips/s the kernel and a minimal C
 * server allow on this machine, in the same run as the daemon's figures.
 * Exits on SIGTERM/SIGINT or after --max-seconds (default 900): never left running.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct client {
    int fd;
    char *pend;                 /* bytes the peer has not taken yet */
    size_t len, off, cap;
} client;

static volatile sig_atomic_t g_stop;

/* Stops the loop. */
static void on_signal(int sig) { (void)sig; g_stop = 1; }

/* Drops a client. */
static void drop(client *c) {
    close(c->fd);
    free(c->pend);
    free(c);
}

/* Writes what c still owes; returns 1 if all is written, 0 if blocked, -1 on error. */
static int flush_pending(client *c) {
    while (c->off < c->len) {
        ssize_t w = write(c->fd, c->pend + c->off, c->len - c->off);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c->off += (size_t)w;
    }
    c->off = c->len = 0;
    return 1;
}

/* Keeps the unwritten tail of an echo for later. */
static int keep(client *c, const char *p, size_t n) {
    if (c->len + n > c->cap) {
        size_t nc = c->cap ? c->cap : 65536;
        while (nc < c->len + n) nc *= 2;
        char *np = realloc(c->pend, nc);
        if (!np) return -1;
        c->pend = np;
        c->cap = nc;
    }
    memcpy(c->pend + c->len, p, n);
    c->len += n;
    return 0;
}

/* Reads what is there and echoes it; returns -1 when the client is gone. */
static int serve(client *c, int ep) {
    char buf[65536];
    if (c->len > 0) {
        int r = flush_pending(c);
        if (r < 0) return -1;
        if (r == 0) return 0;   /* still blocked: do not read more (back-pressure) */
    }
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        size_t off = 0;
        while (off < (size_t)n) {
            ssize_t w = write(c->fd, buf + off, (size_t)n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (w <= 0) return -1;
            off += (size_t)w;
        }
        if (off < (size_t)n) {
            if (keep(c, buf + off, (size_t)n - off)) return -1;
            break;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->len ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

/* Parses options and serves until a signal or --max-seconds. */
int main(int argc, char **argv) {
    const char *path = NULL;
    int max_s = 900;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--socket")) path = argv[i + 1];
        else if (!strcmp(argv[i], "--max-seconds")) max_s = atoi(argv[i + 1]);
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || strlen(path) >= sizeof sa.sun_path || max_s < 1) {
        fprintf(stderr, "usage: echo_server --socket PATH [--max-seconds S]\n");
        return 2;
    }
    strcpy(sa.sun_path, path);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    unlink(path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1024) != 0) {
        perror("echo_server");
        return 1;
    }
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("echo_server: pid %ld listening on %s\n", (long)getpid(), path);
    fflush(stdout);
    time_t end = time(NULL) + max_s;
    while (!g_stop && time(NULL) < end) {
        struct epoll_event evs[128];
        int n = epoll_wait(ep, evs, 128, 500);
        for (int k = 0; k < n; k++) {
            client *c = evs[k].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    client *nc = calloc(1, sizeof *nc);
                    if (!nc) { close(fd); continue; }
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (serve(c, ep) != 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                drop(c);
            }
        }
    }
    close(lfd);
    unlink(path);
    return 0;
}
