/*
 * core/dsgraphd.c - the daemon's entry point: arguments, config, the
 * database, seeding, daemonizing, then server_run() until a stop signal.
 */
#include "config.h"
#include "log.h"
#include "seed.h"
#include "server.h"
#include "sockpath.h"
#include "store.h"
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dsgraphd [--config FILE] [--socket PATH] [--db PATH] [--seed FILE]\n"
            "                [--foreground] [--log-level debug|info|warn|error]\n"
            "  --config FILE     Lua config file (see etc/dsgraph.conf)\n"
            "  --socket PATH     Unix socket (default: $DSGRAPH_SOCKET, $XDG_RUNTIME_DIR/dsgraph.sock,\n"
            "                    /tmp/dsgraph-$UID/dsgraph.sock)\n"
            "  --db PATH         SQLite database file (default: dsgraph.db)\n"
            "  --seed FILE       JSON-lines requests loaded when the database is created\n"
            "  --foreground      do not detach; log to stderr\n"
            "  --log-level L     debug, info, warn or error\n");
}

/* The default socket directory /tmp/dsgraph-$UID is ours to create, private. */
static void make_default_socket_dir(const char *path)
{
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/dsgraph-%u", (unsigned)getuid());
    if (strncmp(path, dir, strlen(dir)) == 0 && mkdir(dir, 0700) != 0 && errno != EEXIST)
        log_warn("cannot create %s: %s", dir, strerror(errno));
}

/* Removes a database this start created, so a failed seed leaves no empty
 * database behind that would never be seeded again. */
static void remove_new_db(const char *db)
{
    char p[4096];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
}

/* Forks; the parent waits for the child's "listening" byte so that, when
 * `dsgraphd` returns, the socket is there. Returns the fd the child writes to. */
static int daemonize(void)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("dsgraphd: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("dsgraphd: fork");
        exit(1);
    }
    if (pid > 0) {
        char ok = 0;
        close(fds[1]);
        ssize_t n = read(fds[0], &ok, 1);
        exit(n == 1 && ok == 1 ? 0 : 1);
    }
    close(fds[0]);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (null > 2)
            close(null);
    }
    return fds[1];
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"socket", required_argument, 0, 's'},
        {"db", required_argument, 0, 'd'},     {"seed", required_argument, 0, 'S'},
        {"foreground", no_argument, 0, 'f'},   {"log-level", required_argument, 0, 'l'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *config_path = NULL, *socket_arg = NULL, *db_arg = NULL, *seed_arg = NULL, *level_arg = NULL;
    int foreground = 0, c;
    while ((c = getopt_long(argc, argv, "c:s:d:S:fl:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 's': socket_arg = optarg; break;
        case 'd': db_arg = optarg; break;
        case 'S': seed_arg = optarg; break;
        case 'f': foreground = 1; break;
        case 'l': level_arg = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dsgraphd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    dsg_config cfg;
    char err[1024];
    int status = 1;
    graph_store *store = NULL;
    config_defaults(&cfg);
    if (config_path && config_load(&cfg, config_path, err, sizeof err) != 0) {
        fprintf(stderr, "dsgraphd: config: %s\n", err);
        goto out;
    }
    if (level_arg) {
        int l = log_level_parse(level_arg);
        if (l < 0) {
            fprintf(stderr, "dsgraphd: --log-level must be debug, info, warn or error\n");
            status = 2;
            goto out;
        }
        cfg.log_level = l;
    }
    log_set_level((log_level)cfg.log_level);
    if (socket_arg) { free(cfg.socket); cfg.socket = strdup(socket_arg); }
    if (db_arg) { free(cfg.db); cfg.db = strdup(db_arg); }
    if (seed_arg) { free(cfg.seed); cfg.seed = strdup(seed_arg); }
    if (!cfg.db)
        cfg.db = strdup("dsgraph.db");

    char sock[128];
    if (sockpath_resolve(cfg.socket, sock, sizeof sock) != 0) {
        fprintf(stderr, "dsgraphd: socket path too long (at most 107 bytes)\n");
        goto out;
    }
    make_default_socket_dir(sock);
    signal(SIGPIPE, SIG_IGN);
    int ready_fd = foreground ? -1 : daemonize();

    int lock_fd = server_claim_socket(sock);
    if (lock_fd < 0) {
        goto out;
    }
    /* Open (and create or migrate) the database before taking the socket, so a
     * client never sees a socket in front of a store that is not ready. */
    graph_store_options sopts = {.busy_timeout_ms = cfg.busy_timeout_ms, .sql_max_rows = cfg.sql_max_rows,
                                 .mmap_bytes = cfg.read_mmap_bytes, .cache_bytes = cfg.read_cache_bytes,
                                 .search_defer_nodes = cfg.search_defer_nodes ? cfg.search_defer_nodes : -1,
                                 .bulk_write_queue_bytes = cfg.bulk_write_queue_bytes ? cfg.bulk_write_queue_bytes : -1};
    gs_error gerr;
    if (graph_store_open(cfg.db, GS_OPEN_CREATE, &sopts, &store, &gerr) != GS_OK) {
        log_error("cannot open database %s: %s", cfg.db, gerr.msg);
        goto out;
    }
    if (graph_store_was_created(store) && cfg.seed) {
        long n = seed_apply(store, cfg.seed, err, sizeof err);
        if (n < 0) {
            log_error("seed failed, database not created: %s", err);
            graph_store_close(store);
            store = NULL;
            remove_new_db(cfg.db);
            goto out;
        }
        log_info("seeded new database %s with %ld requests from %s", cfg.db, n, cfg.seed);
    }

    char threads[16];
    snprintf(threads, sizeof threads, "%d", cfg.read_threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    workers_set_heap_trim(cfg.heap_trim_after_ms);
    workers_set_heap_thresholds(cfg.heap_trim_threshold_bytes);
    if (workers_start(uv_default_loop(), cfg.db, &sopts, store) != 0) {
        log_error("cannot start worker threads");
        goto out;
    }
    status = server_run(&cfg, config_path, sock, lock_fd, ready_fd);
    if (graph_store_checkpoint(store, &gerr) != GS_OK)
        log_warn("checkpoint at exit: %s", gerr.msg);
    graph_store_close(store);
    store = NULL;
    uv_loop_close(uv_default_loop());
    uv_library_shutdown();
    if (status == 0)
        log_info("stopped");
out:
    /* Every exit after the config is loaded comes through here, so nothing leaks. */
    graph_store_close(store);
    config_free(&cfg);
    return status;
}
