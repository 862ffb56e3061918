/*
 * core/dsctl_conn.c - dsctl's connection to dsgraphd: connect to the Unix
 * socket, write one request per line, read reply lines of any size with a
 * growing buffer, and turn them into JSON-RPC results or reported errors.
 * Blocking I/O throughout: dsctl does one thing at a time.
 */
#include "dsctl_conn.h"
#include "sockpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DSCTL_READ_CHUNK (64u * 1024u)
#define DSCTL_MAX_LINE ((size_t)1 << 31) /* 2 GiB: far above the daemon's own limits */

/* Why: every command connects the same way, and only when it is about to
 * send (so usage errors never need a daemon); a failure is exit status 3
 * with the message the issue prescribes. */
int dsctl_conn_connect(struct dsctl *d)
{
    struct sockaddr_un sa;
    int fd, err;

    if (d->connected)
        return 0;
    if (sockpath_resolve(d->socket_opt, d->sock_path, sizeof d->sock_path) != 0) {
        const char *p = d->socket_opt && *d->socket_opt ? d->socket_opt : "(default path)";
        fprintf(stderr, "dsctl: cannot connect to dsgraphd at %s: %s; start one with: "
                "dsgraphd --socket PATH  (or: make run)\n", p, strerror(ENAMETOOLONG));
        return DSCTL_EXIT_NOCONN;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1); /* fits: sockpath checked */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        err = errno;
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "dsctl: cannot connect to dsgraphd at %s: %s; start one with: "
                "dsgraphd --socket %s  (or: make run)\n", d->sock_path, strerror(err), d->sock_path);
        return DSCTL_EXIT_NOCONN;
    }
    d->conn.fd = fd;
    d->conn.buf = NULL;
    d->conn.pos = d->conn.len = d->conn.cap = 0;
    d->connected = 1;
    return 0;
}

/* Why: close the socket and free the receive buffer at exit, so LSan stays quiet. */
void dsctl_close(struct dsctl *d)
{
    if (!d->connected)
        return;
    close(d->conn.fd);
    free(d->conn.buf);
    d->conn.buf = NULL;
    d->connected = 0;
}

/* Why: write all of a buffer despite short writes and EINTR, without dying
 * of SIGPIPE when the daemon hangs up (MSG_NOSIGNAL). */
static int dsctl_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Why: the protocol frames every message as one line; this sends data (which
 * must hold no newline) and the terminating '\n'. Returns 0, or -1 with errno. */
int dsctl_conn_send_line(struct dsctl_conn *c, const char *data, size_t len)
{
    if (dsctl_send_all(c->fd, data, len) != 0)
        return -1;
    return dsctl_send_all(c->fd, "\n", 1);
}

/* Why: a line that is empty or only blanks is ignored by the protocol. */
static int dsctl_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Why: replies can be many MiB, so lines are assembled in a buffer that
 * doubles as needed; bytes after the line stay buffered for the next call
 * (pipelining). Sets *line (NUL-terminated, '\n' and a trailing '\r'
 * removed, valid until the next call) and returns 1; returns 0 at EOF and
 * -1 with errno on a read error. A final line without '\n' still counts. */
int dsctl_conn_read_line(struct dsctl_conn *c, char **line, size_t *len)
{
    size_t scanned = c->pos;

    for (;;) {
        char *nl = scanned < c->len ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
        if (nl) {
            char *start = c->buf + c->pos;
            size_t n = (size_t)(nl - start);
            *nl = '\0';
            c->pos += n + 1;
            scanned = c->pos;
            if (n > 0 && start[n - 1] == '\r')
                start[--n] = '\0';
            if (dsctl_is_blank(start, n))
                continue;
            *line = start;
            *len = n;
            return 1;
        }
        if (c->pos > 0) { /* keep only the unconsumed tail */
            memmove(c->buf, c->buf + c->pos, c->len - c->pos);
            c->len -= c->pos;
            c->pos = 0;
        }
        scanned = c->len;
        if (c->cap - c->len < DSCTL_READ_CHUNK / 2 + 1) {
            size_t ncap = c->cap ? c->cap * 2 : DSCTL_READ_CHUNK;
            char *nb;
            if (ncap > DSCTL_MAX_LINE) {
                errno = EMSGSIZE;
                return -1;
            }
            nb = realloc(c->buf, ncap);
            if (!nb) {
                errno = ENOMEM;
                return -1;
            }
            c->buf = nb;
            c->cap = ncap;
        }
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1); /* room for a NUL */
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            if (c->len == 0 || dsctl_is_blank(c->buf, c->len))
                return 0;
            c->buf[c->len] = '\0'; /* unterminated last line */
            *line = c->buf;
            *len = c->len;
            c->pos = c->len = 0;
            return 1;
        }
        c->len += (size_t)r;
    }
}

/* Why: one place that prints a JSON value for --json: compact, UTF-8 kept,
 * floats round-tripping, then a newline. */
int dsctl_print_json(json_t *value)
{
    char *s = json_dumps(value, DSCTL_DUMP_FLAGS);
    if (!s) {
        fprintf(stderr, "dsctl: out of memory\n");
        return DSCTL_EXIT_FAILED;
    }
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    return DSCTL_EXIT_OK;
}

/* Why: a JSON-RPC error is reported the same way by every command: its
 * message on stderr, and with --json {"error":{...}} on stdout. */
void dsctl_report_rpc_error(struct dsctl *d, json_t *error)
{
    const char *msg = json_string_value(json_object_get(error, "message"));
    fprintf(stderr, "dsctl: %s\n", msg ? msg : "request failed (error without a message)");
    if (d->json) {
        json_t *w = json_pack("{s:O}", "error", error);
        if (w)
            dsctl_print_json(w);
        json_decref(w);
    }
}

/* Why: a connection that drops or answers garbage mid-request is a failed
 * request (exit 1), reported with the socket path so the user knows which
 * daemon. err 0 means the daemon closed the connection. */
int dsctl_lost(struct dsctl *d, const char *what, int err)
{
    if (err)
        fprintf(stderr, "dsctl: %s dsgraphd at %s: %s\n", what, d->sock_path, strerror(err));
    else
        fprintf(stderr, "dsctl: %s dsgraphd at %s: connection closed\n", what, d->sock_path);
    return DSCTL_EXIT_FAILED;
}

/* Why: sends one request line and reads lines until the reply that carries
 * one of our ids (or id null: the daemon could not parse our line). Shared by
 * single calls and batches. *reply gets a new reference. If sending fails the
 * reply is still read: the daemon may have answered (e.g. line too long)
 * before closing. */
static int dsctl_roundtrip(struct dsctl *d, json_t *request, json_int_t lo, json_int_t hi, json_t **reply)
{
    char *text, *line;
    size_t len;
    int send_err = 0, rc;

    text = json_dumps(request, DSCTL_DUMP_FLAGS);
    if (!text) {
        fprintf(stderr, "dsctl: out of memory\n");
        return DSCTL_EXIT_FAILED;
    }
    if (dsctl_conn_send_line(&d->conn, text, strlen(text)) != 0)
        send_err = errno;
    free(text);
    for (;;) {
        json_error_t jerr;
        json_t *r, *id;
        rc = dsctl_conn_read_line(&d->conn, &line, &len);
        if (rc <= 0)
            return dsctl_lost(d, send_err ? "cannot send to" : "lost connection to",
                              send_err ? send_err : (rc < 0 ? errno : 0));
        r = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
        if (!r) {
            fprintf(stderr, "dsctl: bad reply from dsgraphd at %s: %s\n", d->sock_path, jerr.text);
            return DSCTL_EXIT_FAILED;
        }
        if (json_is_array(r)) {
            json_t *first = json_array_get(r, 0);
            id = json_object_get(first, "id");
        } else {
            id = json_object_get(r, "id");
        }
        if (!id || json_is_null(id) ||
            (json_is_integer(id) && json_integer_value(id) >= lo && json_integer_value(id) <= hi)) {
            *reply = r;
            return 0;
        }
        json_decref(r); /* not ours (cannot happen with one request in flight) */
    }
}

/* Why: the common case: call one method, get its result (a new reference)
 * or have the error reported. params is stolen (may be NULL). Returns an exit
 * status: 0, 1 (reported failure) or 3 (no daemon). */
int dsctl_call(struct dsctl *d, const char *method, json_t *params, json_t **result)
{
    json_t *req, *reply = NULL, *err, *res;
    json_int_t id;
    int rc;

    *result = NULL;
    rc = dsctl_conn_connect(d);
    if (rc) {
        json_decref(params);
        return rc;
    }
    id = ++d->next_id;
    req = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", id, "method", method);
    if (params)
        json_object_set_new(req, "params", params);
    rc = dsctl_roundtrip(d, req, id, id, &reply);
    json_decref(req);
    if (rc)
        return rc;
    if (!json_is_object(reply)) {
        json_decref(reply);
        fprintf(stderr, "dsctl: bad reply from dsgraphd at %s: not an object\n", d->sock_path);
        return DSCTL_EXIT_FAILED;
    }
    err = json_object_get(reply, "error");
    res = json_object_get(reply, "result");
    if (err) {
        dsctl_report_rpc_error(d, err);
        rc = DSCTL_EXIT_FAILED;
    } else if (!res) {
        fprintf(stderr, "dsctl: bad reply from dsgraphd at %s: no result\n", d->sock_path);
        rc = DSCTL_EXIT_FAILED;
    } else {
        *result = json_incref(res);
    }
    json_decref(reply);
    return rc;
}

/* Why: `show` needs node.get for every other end of the node's relationships;
 * sending them as one JSON-RPC batch costs one round trip instead of one per
 * relationship. results[i] gets the result for params_array[i] (a new
 * reference), or NULL when that entry failed. params_array is borrowed.
 * Returns an exit status for transport failures only. */
int dsctl_call_batch(struct dsctl *d, const char *method, json_t *params_array, json_t **results)
{
    size_t n = json_array_size(params_array), i;
    json_t *batch, *reply = NULL, *p, *e;
    json_int_t base;
    int rc;

    for (i = 0; i < n; i++)
        results[i] = NULL;
    if (n == 0)
        return 0;
    rc = dsctl_conn_connect(d);
    if (rc)
        return rc;
    base = d->next_id + 1;
    d->next_id += (json_int_t)n;
    batch = json_array();
    json_array_foreach(params_array, i, p)
        json_array_append_new(batch, json_pack("{s:s,s:I,s:s,s:O}", "jsonrpc", "2.0", "id",
                                               base + (json_int_t)i, "method", method, "params", p));
    rc = dsctl_roundtrip(d, batch, base, base + (json_int_t)n - 1, &reply);
    json_decref(batch);
    if (rc)
        return rc;
    if (!json_is_array(reply)) { /* the whole line was refused */
        e = json_object_get(reply, "error");
        if (e)
            dsctl_report_rpc_error(d, e);
        else
            fprintf(stderr, "dsctl: bad reply from dsgraphd at %s: expected an array\n", d->sock_path);
        json_decref(reply);
        return DSCTL_EXIT_FAILED;
    }
    json_array_foreach(reply, i, e) {
        json_t *id = json_object_get(e, "id"), *res = json_object_get(e, "result");
        json_int_t k;
        if (!json_is_integer(id) || !res)
            continue;
        k = json_integer_value(id) - base;
        if (k >= 0 && (size_t)k < n && !results[k])
            results[k] = json_incref(res);
    }
    json_decref(reply);
    return 0;
}
