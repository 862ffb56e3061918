/* core/server.c - sockets, clients, request queues, limits and shutdown. */
#include "server.h"
#include "access.h"
#include "framing.h"
#include "export_stream.h"
#include "import_upload.h"
#include "plugin_host.h"
#include "log.h"
#include "rpc.h"
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

typedef struct client client;

/* A framed request line waiting its turn. len == LINE_TOO_LONG marks the
 * point where an oversized line was refused: answer, then close. */
typedef struct pending_line {
    struct pending_line *next;
    size_t len;
    char data[];
} pending_line;
#define LINE_TOO_LONG ((size_t)-1)

struct client {
    uv_pipe_t pipe;
    uint64_t no;              /* for log lines */
    peer_cred peer;
    bool may_write;
    char name[64];            /* "client 7 (uid 1000)" */
    framer fr;
    pending_line *head, *tail;
    int nqueued;
    size_t queued_bytes;      /* bytes of the lines in the queue */
    bool running;             /* a job of this client is on a worker */
    bool reading;
    bool closing;
    bool close_when_flushed;  /* after an oversized line or a refused connection */
    int refs;                 /* the handle + each job in flight */
    client *prev, *next;
};

/* One request line on its way through a worker. */
typedef struct job {
    work_item w;
    client *c;
    rpc_plan plan;
    method_ctx ctx;
    char *reply;
    size_t reply_len;
    pending_line *line;       /* a large line still to be parsed, off the loop */
    bool to_writer;           /* parsed off the loop and found to need the writer */
} job;

/* Lines longer than this are parsed on a pool thread, not on the loop, so a
 * client uploading megabytes never delays another client's ping. */
#define PARSE_OFF_LOOP_BYTES (64 * 1024)

static struct {
    uv_loop_t *loop;
    dsg_config *cfg;
    const char *config_path;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lock_fd;
    uv_pipe_t listener;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t drain_timer;
    client *clients;
    int nclients;
    uint64_t next_no;
    bool stopping;
    uint64_t stop_deadline;
} S;

static void client_pump(client *c);
static void client_close(client *c);
static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void server_check_drained(void);

/* ---- output ---- */

typedef struct write_req {
    uv_write_t req;
    client *c;
    char *data;
} write_req;

static void client_unref(client *c)
{
    if (--c->refs > 0)
        return;
    framer_free(&c->fr);
    free(c);
}

static void client_on_written(uv_write_t *req, int status)
{
    write_req *wr = (write_req *)req;
    client *c = wr->c;
    free(wr->data);
    free(wr);
    if (status < 0 && !c->closing)
        log_debug("%s: write failed: %s", c->name, uv_strerror(status));
    if (!c->closing && c->close_when_flushed && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) == 0 &&
        !c->running && !c->head)
        client_close(c);
    client_unref(c);
    if (S.stopping)
        server_check_drained();
}

/* Queues one reply line (takes ownership of data) and enforces max_output_bytes:
 * a client that does not read its replies is disconnected, so its unread
 * output can never grow without bound. */
static void client_send(client *c, char *data, size_t len)
{
    if (c->closing) {
        free(data);
        return;
    }
    write_req *wr = malloc(sizeof *wr);
    if (!wr) {
        free(data);
        client_close(c);
        return;
    }
    wr->c = c;
    wr->data = data;
    uv_buf_t buf = uv_buf_init(data, (unsigned)len);
    c->refs++;
    if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &buf, 1, client_on_written) != 0) {
        free(data);
        free(wr);
        c->refs--;
        client_close(c);
        return;
    }
    size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
    if (queued > S.cfg->max_output_bytes) {
        log_warn("disconnecting %s: %zu bytes of unread output exceed max_output_bytes=%zu", c->name,
                 queued, S.cfg->max_output_bytes);
        client_close(c);
    }
}

/* ---- jobs ---- */

static void job_run(work_item *w, graph_store *store)
{
    job *j = (job *)w;
    j->ctx.store = store;
    rpc_plan_run(&j->plan, &j->ctx);
    j->reply = rpc_plan_reply(&j->plan, &j->reply_len);
    rpc_plan_free(&j->plan);
}

/* Pool thread: parses a large line; runs it here unless it needs the writer. */
static void job_parse_run(work_item *w, graph_store *store)
{
    job *j = (job *)w;
    int rc = rpc_plan_line(&j->plan, j->line->data, j->line->len);
    free(j->line);
    j->line = NULL;
    if (rc != 0) {
        j->reply = rpc_error_line(RPC_INTERNAL_ERROR, "out of memory while parsing the request", &j->reply_len);
        return;
    }
    if (j->plan.needs & METHOD_WRITE) {
        j->to_writer = true;
        return;
    }
    job_run(w, store);
}

static void job_done(work_item *w);

/* Loop: a parsed large line that writes moves on to the writer thread. */
static void job_parse_done(work_item *w)
{
    job *j = (job *)w;
    if (j->to_writer) {
        j->to_writer = false;
        j->w.run = job_run;
        j->w.done = job_done;
        workers_submit_write(&j->w);
        return;
    }
    job_done(w);
}

static void job_done(work_item *w)
{
    job *j = (job *)w;
    client *c = j->c;
    c->running = false;
    if (j->reply)
        client_send(c, j->reply, j->reply_len);
    free(j);
    if (!c->closing)
        client_pump(c);
    client_unref(c);
    if (S.stopping)
        server_check_drained();
}

/* Executes queued lines in order until one needs a worker. Cheap lines (parse
 * errors, ping, unknown methods) are answered right here on the loop. */
static void client_pump(client *c)
{
    while (!c->running && c->head && !c->closing) {
        pending_line *pl = c->head;
        c->head = pl->next;
        if (!c->head)
            c->tail = NULL;
        c->nqueued--;
        if (pl->len != LINE_TOO_LONG)
            c->queued_bytes -= pl->len;
        if (pl->len == LINE_TOO_LONG) {
            size_t n;
            char msg[160];
            snprintf(msg, sizeof msg, "request line longer than max_line_bytes=%zu; closing the connection",
                     S.cfg->max_line_bytes);
            char *line = rpc_error_line(RPC_LIMIT_EXCEEDED, msg, &n);
            free(pl);
            log_warn("%s: %s", c->name, msg);
            c->close_when_flushed = true;
            if (line)
                client_send(c, line, n);
            else
                client_close(c);
            continue;
        }
        job *j = calloc(1, sizeof *j);
        bool off_loop = pl->len > PARSE_OFF_LOOP_BYTES;
        if (!j || (!off_loop && rpc_plan_line(&j->plan, pl->data, pl->len) != 0)) {
            free(j);
            free(pl);
            log_error("%s: out of memory; closing", c->name);
            client_close(c);
            return;
        }
        j->c = c;
        j->ctx.may_write = c->may_write;
        j->ctx.peer_uid = c->peer.uid;
        j->ctx.peer = c->name;
        j->ctx.cfg = S.cfg;
        if (off_loop) {
            j->line = pl;
            c->running = true;
            c->refs++;
            j->w.run = job_parse_run;
            j->w.done = job_parse_done;
            workers_submit_read(&j->w);
            break;
        }
        free(pl);
        if (j->plan.needs & METHOD_STORE) {
            c->running = true;
            c->refs++;
            j->w.run = job_run;
            j->w.done = job_done;
            if (j->plan.needs & METHOD_WRITE)
                workers_submit_write(&j->w);
            else
                workers_submit_read(&j->w);
            break;
        }
        job_run(&j->w, NULL);
        if (j->reply)
            client_send(c, j->reply, j->reply_len);
        free(j);
    }
    /* Back-pressure: resume reading once the queue has drained to half. */
    if (!c->closing && !c->reading && !S.stopping && !c->close_when_flushed &&
        c->nqueued <= S.cfg->max_pending_requests / 2 && c->queued_bytes <= S.cfg->max_line_bytes / 2) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
    }
    if (!c->closing && c->close_when_flushed && !c->running && !c->head &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) == 0)
        client_close(c);
}

/* ---- input ---- */

static int client_queue_line(void *ud, char *line, size_t len)
{
    client *c = ud;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return 0; /* blank lines are ignored */
    pending_line *pl = malloc(sizeof *pl + len + 1);
    if (!pl)
        return FRAMER_NOMEM;
    pl->next = NULL;
    pl->len = len;
    memcpy(pl->data, line, len + 1);
    if (c->tail)
        c->tail->next = pl;
    else
        c->head = pl;
    c->tail = pl;
    c->nqueued++;
    c->queued_bytes += len;
    return 0;
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char slab[64 * 1024]; /* the loop is single-threaded; framer copies what it keeps */
    *buf = uv_buf_init(slab, sizeof slab);
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client *c = s->data;
    if (nread < 0) {
        if (nread != UV_EOF)
            log_debug("%s: read error: %s", c->name, uv_strerror((int)nread));
        /* The client is gone (or half-closed): answer what it sent, then close. */
        uv_read_stop(s);
        c->reading = false;
        c->close_when_flushed = true;
        client_pump(c);
        return;
    }
    if (nread == 0)
        return;
    int rc = framer_feed(&c->fr, buf->base, (size_t)nread, client_queue_line, c);
    if (rc == FRAMER_TOO_LONG) {
        pending_line *pl = malloc(sizeof *pl);
        uv_read_stop(s);
        c->reading = false;
        c->close_when_flushed = true;
        if (!pl) {
            client_close(c);
            return;
        }
        pl->next = NULL;
        pl->len = LINE_TOO_LONG;
        if (c->tail)
            c->tail->next = pl;
        else
            c->head = pl;
        c->tail = pl;
        c->nqueued++;
    } else if (rc != 0) {
        log_error("%s: out of memory while framing; closing", c->name);
        client_close(c);
        return;
    }
    /* Back-pressure: queued input is bounded by count and by bytes (one maximal line). */
    if (c->reading && (c->nqueued >= S.cfg->max_pending_requests || c->queued_bytes >= S.cfg->max_line_bytes)) {
        uv_read_stop(s);
        c->reading = false;
    }
    client_pump(c);
}

static void client_on_close(uv_handle_t *h)
{
    client *c = h->data;
    while (c->head) {
        pending_line *pl = c->head;
        c->head = pl->next;
        free(pl);
    }
    c->tail = NULL;
    client_unref(c);
    if (S.stopping)
        server_check_drained();
}

static void client_close(client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        S.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    S.nclients--;
    import_upload_drop_owner(c->name);   /* its unfinished uploads and their spool files go */
    export_stream_drop_owner(c->name);   /* and its streamed exports (snapshot, Lua state) */
    log_debug("%s: closed", c->name);
    uv_close((uv_handle_t *)&c->pipe, client_on_close);
}

static void server_on_connection(uv_stream_t *listener, int status)
{
    if (status < 0) {
        log_warn("accept: %s", uv_strerror(status));
        return;
    }
    client *c = calloc(1, sizeof *c);
    if (!c || uv_pipe_init(S.loop, &c->pipe, 0) != 0) {
        free(c);
        log_error("accept: out of memory");
        return;
    }
    c->pipe.data = c;
    c->refs = 1;
    if (uv_accept(listener, (uv_stream_t *)&c->pipe) != 0) {
        uv_close((uv_handle_t *)&c->pipe, client_on_close);
        return;
    }
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t *)&c->pipe, &fd);
    c->no = ++S.next_no;
    c->peer = access_peer(fd);
    c->may_write = access_may_write(S.cfg, &c->peer);
    snprintf(c->name, sizeof c->name, "client %llu (uid %u)", (unsigned long long)c->no, (unsigned)c->peer.uid);
    framer_init(&c->fr, S.cfg->max_line_bytes);
    c->next = S.clients;
    if (S.clients)
        S.clients->prev = c;
    S.clients = c;
    S.nclients++;
    if (S.nclients > S.cfg->max_clients) {
        char msg[120];
        size_t n;
        snprintf(msg, sizeof msg, "too many clients (max_clients=%d); try again later", S.cfg->max_clients);
        log_warn("refusing %s: %s", c->name, msg);
        c->close_when_flushed = true;
        char *line = rpc_error_line(RPC_LIMIT_EXCEEDED, msg, &n);
        if (line)
            client_send(c, line, n);
        else
            client_close(c);
        return;
    }
    log_debug("%s: connected (pid %d, %s)", c->name, (int)c->peer.pid, c->may_write ? "read-write" : "read-only");
    c->reading = true;
    uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
}

/* ---- the socket ---- */

/* Refuses to start while another live daemon serves the path: the lock file
 * (path + ".lock", flock) is held for the daemon's whole life and released by
 * the kernel when it dies, so a leftover socket from a dead daemon is stale. */
int server_claim_socket(const char *path)
{
    char lock[sizeof S.path + 8];
    if (strlen(path) >= sizeof S.path) {
        log_error("socket path %s is too long", path);
        return -1;
    }
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("cannot open lock file %s: %s", lock, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        log_error("another dsgraphd is already serving %s (lock %s is held); not starting", path, lock);
        close(fd);
        return -1;
    }
    /* A daemon of another build might serve the path without our lock: ask the socket. */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
        log_error("another process is accepting connections on %s; not starting", path);
        close(s);
        close(fd);
        return -1;
    }
    if (s >= 0)
        close(s);
    return fd;
}

/* Binds a temporary name, listens, then renames it into place: the path only
 * appears once connections are accepted, and a stale socket is replaced atomically. */
static int server_listen(const char *path)
{
    char tmp[sizeof S.path];
    int n = snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        log_error("socket path %s is too long (a Unix socket path has at most %zu bytes)", path, sizeof tmp - 12);
        return -1;
    }
    unlink(tmp);
    int rc;
    if ((rc = uv_pipe_init(S.loop, &S.listener, 0)) != 0 || (rc = uv_pipe_bind(&S.listener, tmp)) != 0) {
        log_error("cannot bind %s: %s", tmp, uv_strerror(rc));
        return -1;
    }
    if (chmod(tmp, S.cfg->socket_mode) != 0) {
        log_error("cannot chmod %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if ((rc = uv_listen((uv_stream_t *)&S.listener, 511, server_on_connection)) != 0) {
        log_error("cannot listen on %s: %s", tmp, uv_strerror(rc));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        log_error("cannot move socket into place at %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- signals and shutdown ---- */

static uint64_t now_ms(void) { return uv_hrtime() / 1000000u; }

/* Shutdown completes once every client is answered and flushed, or at the deadline. */
static void server_check_drained(void)
{
    bool force = now_ms() >= S.stop_deadline;
    for (client *c = S.clients, *next; c; c = next) {
        next = c->next;
        bool idle = !c->running && !c->head &&
                    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) == 0;
        if (idle || force) {
            if (force && !idle)
                log_warn("%s: closing with work pending (shutdown_timeout_ms reached)", c->name);
            client_close(c);
        }
    }
    if (S.nclients == 0 && workers_in_flight() == 0) {
        uv_timer_stop(&S.drain_timer);
        uv_stop(S.loop);
    }
}

static void server_drain_tick(uv_timer_t *t) { server_check_drained(); }

static void server_on_stop_signal(uv_signal_t *h, int signum)
{
    if (S.stopping)
        return;
    log_info("received %s: no longer accepting; finishing %d in-flight request(s)",
             signum == SIGTERM ? "SIGTERM" : "SIGINT", workers_in_flight());
    S.stopping = true;
    S.stop_deadline = now_ms() + (uint64_t)S.cfg->shutdown_timeout_ms;
    uv_close((uv_handle_t *)&S.listener, NULL);
    unlink(S.path);
    for (client *c = S.clients; c; c = c->next) {
        if (c->reading)
            uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = false;
    }
    uv_timer_start(&S.drain_timer, server_drain_tick, 10, 10);
    server_check_drained();
}

/* Moves the plugin and import settings of a freshly read config into the
 * live one (the lists change owner; the old ones are freed). */
static void server_take_plugin_settings(dsg_config *fresh)
{
    for (int i = 0; i < S.cfg->n_plugin_dirs; i++)
        free(S.cfg->plugin_dirs[i]);
    free(S.cfg->plugin_dirs);
    for (int i = 0; i < S.cfg->n_import_dirs; i++)
        free(S.cfg->import_dirs[i]);
    free(S.cfg->import_dirs);
    S.cfg->plugin_dirs = fresh->plugin_dirs;
    S.cfg->n_plugin_dirs = fresh->n_plugin_dirs;
    S.cfg->import_dirs = fresh->import_dirs;
    S.cfg->n_import_dirs = fresh->n_import_dirs;
    fresh->plugin_dirs = fresh->import_dirs = NULL;
    fresh->n_plugin_dirs = fresh->n_import_dirs = 0;
    S.cfg->plugin_memory_limit = fresh->plugin_memory_limit;
    S.cfg->plugin_instruction_limit = fresh->plugin_instruction_limit;
    S.cfg->import_max_bytes = fresh->import_max_bytes;
    S.cfg->import_max_uploads = fresh->import_max_uploads;
}

/* SIGHUP re-reads the config; limits and write permissions apply at once,
 * socket and database paths only at the next start. */
static void server_on_hup(uv_signal_t *h, int signum)
{
    if (!S.config_path) {
        log_info("SIGHUP: no config file to reload; reloading plugins");
        plugin_host_load(S.cfg, NULL, NULL);
        return;
    }
    dsg_config fresh;
    char err[600];
    config_defaults(&fresh);
    if (config_load(&fresh, S.config_path, err, sizeof err) != 0) {
        log_error("SIGHUP: keeping the current config: %s", err);
        config_free(&fresh);
        return;
    }
    S.cfg->log_level = fresh.log_level;
    log_set_level((log_level)fresh.log_level);
    S.cfg->max_clients = fresh.max_clients;
    S.cfg->max_output_bytes = fresh.max_output_bytes;
    S.cfg->max_pending_requests = fresh.max_pending_requests;
    S.cfg->sql_max_rows = fresh.sql_max_rows;
    S.cfg->query_timeout_ms = fresh.query_timeout_ms;
    S.cfg->query_max_rows = fresh.query_max_rows;
    memcpy(S.cfg->write_uids, fresh.write_uids, sizeof fresh.write_uids);
    S.cfg->n_write_uids = fresh.n_write_uids;
    memcpy(S.cfg->write_gids, fresh.write_gids, sizeof fresh.write_gids);
    S.cfg->n_write_gids = fresh.n_write_gids;
    for (client *c = S.clients; c; c = c->next)
        c->may_write = access_may_write(S.cfg, &c->peer);
    server_take_plugin_settings(&fresh);
    config_free(&fresh);
    log_info("SIGHUP: reloaded %s", S.config_path);
    plugin_host_load(S.cfg, NULL, NULL);   /* a new plugin set; running imports keep the old one */
}

static void server_close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int server_run(dsg_config *cfg, const char *config_path, const char *socket_path, int lock_fd,
               int ready_fd)
{
    memset(&S, 0, sizeof S);
    S.loop = uv_default_loop();
    S.cfg = cfg;
    S.config_path = config_path;
    snprintf(S.path, sizeof S.path, "%s", socket_path);
    S.lock_fd = lock_fd;
    plugin_host_load(cfg, NULL, NULL);   /* before the socket: the first client sees the plugins */
    if (server_listen(S.path) != 0) {
        plugin_host_shutdown();
        workers_stop();
        uv_walk(S.loop, server_close_walk, NULL);
        uv_run(S.loop, UV_RUN_DEFAULT);
        return 1;
    }
    uv_signal_init(S.loop, &S.sig_term);
    uv_signal_init(S.loop, &S.sig_int);
    uv_signal_init(S.loop, &S.sig_hup);
    uv_signal_start(&S.sig_term, server_on_stop_signal, SIGTERM);
    uv_signal_start(&S.sig_int, server_on_stop_signal, SIGINT);
    uv_signal_start(&S.sig_hup, server_on_hup, SIGHUP);
    uv_timer_init(S.loop, &S.drain_timer);
    log_info("dsgraphd %s listening on %s (mode %04o)", DSGRAPH_VERSION, S.path, cfg->socket_mode);
    if (ready_fd >= 0) {
        char ok = 1;
        if (write(ready_fd, &ok, 1) != 1) { /* the parent is gone; keep serving */ }
        close(ready_fd);
    }
    uv_run(S.loop, UV_RUN_DEFAULT);
    /* Stopped: every client is answered. Stop the writer, close what is left. */
    workers_stop();
    plugin_host_shutdown();
    uv_walk(S.loop, server_close_walk, NULL);
    uv_run(S.loop, UV_RUN_DEFAULT);
    close(S.lock_fd);
    return 0;
}
