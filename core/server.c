/* core/server.c - sockets, clients, request queues, limits and shutdown. */
#include "server.h"
#include "server_int.h"
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
    client *flush_head;       /* clients with buffered output, flushed in the check phase */
    uv_check_t flush_check;
    uint64_t next_no;
    bool stopping;
    bool interrupted;         /* the deadline passed with requests running: they are being interrupted */
    uint64_t stop_deadline;
} S;

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* The live config (limits change on SIGHUP), for server_jobs.c. */
const dsg_config *server_config(void) { return S.cfg; }

/* True once SIGTERM/SIGINT started the shutdown. */
bool server_is_stopping(void) { return S.stopping; }

/* ---- output ---- */

typedef struct write_req {
    uv_write_t req;
    client *c;
    char *data;
} write_req;

/* Frees the client once the handle, every job, write and flush entry let go. */
void client_unref(client *c)
{
    if (--c->refs > 0)
        return;
    framer_free(&c->fr);
    free(c->out);
    free(c);
}

/* Output the kernel has not taken yet: queued writes plus the buffered replies. */
static size_t client_unflushed(client *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) + c->out_len;
}

/* True when nothing of this client is queued, planned, running or unwritten. */
bool client_idle(client *c)
{
    return !c->running && !c->head && !c->next_job && client_unflushed(c) == 0;
}

static void client_on_written(uv_write_t *req, int status)
{
    write_req *wr = (write_req *)req;
    client *c = wr->c;
    free(wr->data);
    free(wr);
    if (status < 0 && !c->closing)
        log_debug("%s: write failed: %s", c->name, uv_strerror(status));
    if (!c->closing && c->close_when_flushed && client_idle(c))
        client_close(c);
    client_unref(c);
    if (S.stopping)
        server_check_drained();
}

/* Hands the buffered replies to the kernel: one write(2) for everything this
 * loop iteration produced; what the socket does not take goes to uv_write,
 * behind any earlier queued write, so order is kept. */
static void client_flush(client *c)
{
    if (c->out_len == 0)
        return;
    if (c->closing) {
        c->out_len = 0;
        return;
    }
    size_t off = 0;
    uv_buf_t buf = uv_buf_init(c->out, (unsigned)c->out_len);
    int n = uv_try_write((uv_stream_t *)&c->pipe, &buf, 1);   /* UV_EAGAIN if writes are queued */
    if (n > 0)
        off = (size_t)n;
    else if (n < 0 && n != UV_EAGAIN) {
        log_debug("%s: write failed: %s", c->name, uv_strerror(n));
        c->out_len = 0;
        client_close(c);
        return;
    }
    if (off == c->out_len) {
        c->out_len = 0;
        if (c->out_cap > 64 * 1024) {   /* keep a small buffer, not the largest reply ever sent */
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
        return;
    }
    write_req *wr = malloc(sizeof *wr);
    if (!wr) {
        c->out_len = 0;
        client_close(c);
        return;
    }
    wr->c = c;
    wr->data = c->out;   /* the rest is written from the same buffer; it changes owner */
    buf = uv_buf_init(c->out + off, (unsigned)(c->out_len - off));
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    c->refs++;
    if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &buf, 1, client_on_written) != 0) {
        free(wr->data);
        free(wr);
        c->refs--;
        client_close(c);
    }
}

/* Check phase, once per loop iteration after all I/O callbacks: submits the
 * quick jobs gathered in this iteration, then flushes every client that got
 * replies in it. */
static void server_flush_all(uv_check_t *h)
{
    jobs_submit_quick();
    while (S.flush_head) {
        client *c = S.flush_head;
        S.flush_head = c->flush_next;
        c->flush_next = NULL;
        c->flush_listed = false;
        client_flush(c);
        if (!c->closing && c->close_when_flushed && client_idle(c))
            client_close(c);
        client_unref(c);
    }
    if (S.stopping)
        server_check_drained();
}

/* Queues one reply (takes ownership of data) in the client's output buffer;
 * it is written at the end of the client's read callback or of this loop
 * iteration, with the other replies buffered by then.
 * Enforces max_output_bytes on what the kernel has not taken: a client that
 * does not read its replies is disconnected, so its unread output can never
 * grow without bound. */
void client_send(client *c, char *data, size_t len)
{
    if (c->closing) {
        free(data);
        return;
    }
    if (c->out_len == 0 && c->out_cap < len) {   /* adopt the reply: no copy */
        free(c->out);
        c->out = data;
        c->out_cap = c->out_len = len;
    } else {
        if (c->out_len + len > c->out_cap) {
            size_t ncap = c->out_cap ? c->out_cap * 2 : 4096;
            while (ncap < c->out_len + len)
                ncap *= 2;
            char *np = realloc(c->out, ncap);
            if (!np) {
                free(data);
                log_error("%s: out of memory for output; closing", c->name);
                client_close(c);
                return;
            }
            c->out = np;
            c->out_cap = ncap;
        }
        memcpy(c->out + c->out_len, data, len);
        c->out_len += len;
        free(data);
    }
    if (!c->flush_listed) {
        c->flush_listed = true;
        c->flush_next = S.flush_head;
        S.flush_head = c;
        c->refs++;
    }
    if (client_unflushed(c) > S.cfg->max_output_bytes) {
        client_flush(c);   /* what the socket takes now does not count */
        size_t queued = client_unflushed(c);
        if (!c->closing && queued > S.cfg->max_output_bytes) {
            log_warn("disconnecting %s: %zu bytes of unread output exceed max_output_bytes=%zu", c->name,
                     queued, S.cfg->max_output_bytes);
            client_close(c);
        }
    }
}

/* Runs what it can of the client's queue (server_jobs.c), then resumes reading
 * once the queue has drained (back-pressure) and closes a client that asked to
 * be closed once everything is answered and flushed. */
void client_pump(client *c)
{
    client_run_queue(c);
    /* Back-pressure: resume reading once the queue has drained to half. */
    if (!c->closing && !c->reading && !S.stopping && !c->close_when_flushed &&
        c->nqueued <= S.cfg->max_pending_requests / 2 && c->queued_bytes <= S.cfg->max_line_bytes / 2) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
    }
    if (!c->closing && c->close_when_flushed && client_idle(c))
        client_close(c);
}


/* ---- input ---- */

/* The framer's callback: queues one request line of the client (or answers a
 * plain ping at once when nothing of the client is ahead of it). */
static int client_queue_line(void *ud, char *line, size_t len)
{
    client *c = ud;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return 0; /* blank lines are ignored */
    /* A plain ping or node.get by name with nothing of this client before it
     * still unanswered is answered here, without a queue entry, a jansson
     * parse or a plan (core/rpc_fast.c); a node.get only if the loop may read
     * now and the store answers it (a miss or an error: the general path). */
    rpc_fast_call fc;
    if (!c->head && !c->next_job && !c->running && !c->closing && len <= RPC_FAST_MAX_LINE &&
        rpc_fast_parse(line, len, &fc)) {
        size_t n = 0;
        char *reply = NULL;
        if (fc.method == RPC_FAST_PING)
            reply = rpc_fast_ping_reply(&fc, &n);
        else
            reply = jobs_fast_node_get(&fc, &n);
        if (reply) {
            client_send(c, reply, n);
            return 0;
        }
    }
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
    /* Why now and not only in the check phase: a client's replies leave as
     * soon as its input is answered, so it can send its next request while
     * the loop is still answering the other clients that woke it with this
     * one (with every flush at the end of the iteration, the daemon and its
     * clients took turns: 16 waiting ping clients got 0.4x of an echo
     * server). Still one write per client per read; replies of jobs run
     * elsewhere are flushed in the check phase. */
    client_flush(c);
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
    if (c->next_job) {
        job_free(c->next_job);
        c->next_job = NULL;
    }
    client_unref(c);
    if (S.stopping)
        server_check_drained();
}

void client_close(client *c)
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
void server_check_drained(void)
{
    bool force = now_ms() >= S.stop_deadline;
    for (client *c = S.clients, *next; c; c = next) {
        next = c->next;
        bool idle = client_idle(c);
        if (idle || force) {
            if (force && !idle)
                log_warn("%s: closing with work pending (shutdown_timeout_ms reached)", c->name);
            client_close(c);
        }
    }
    if (S.nclients == 0 && workers_in_flight() == 0) {
        uv_timer_stop(&S.drain_timer);
        uv_stop(S.loop);
    } else if (force && workers_in_flight() > 0) {
        /* A long write (an import, a retract) or read would otherwise hold
         * the exit for as long as it runs: it is interrupted and rolled back
         * instead, on every tick until it has stopped (workers_interrupt). */
        if (!S.interrupted)
            log_warn("interrupting %d request(s) still running (shutdown_timeout_ms reached); "
                     "their writes are rolled back", workers_in_flight());
        S.interrupted = true;
        workers_interrupt();
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
    S.cfg->query_memory_limit = fresh.query_memory_limit;
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
    uv_check_init(S.loop, &S.flush_check);
    uv_check_start(&S.flush_check, server_flush_all);
    uv_unref((uv_handle_t *)&S.flush_check);
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
