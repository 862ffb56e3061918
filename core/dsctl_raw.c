/*
 * core/dsctl_raw.c - `dsctl raw`: one JSON-RPC request from stdin, sent as
 * one line, and the reply line printed verbatim. For poking at the
 * protocol by hand and from scripts.
 */
#include "dsctl_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Why: the request may span several lines (pretty-printed JSON), so all of
 * stdin is read. Returns a malloc'd buffer and its length, or NULL. */
static char *dsctl_read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);

    while (buf) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* Why: a notification gets no response, so waiting for one would hang. A
 * single object without "id" is one; so is a non-empty batch made only of
 * objects without "id". Anything else (including text that is not JSON,
 * which gets a parse error) is answered. */
static int dsctl_expects_reply(json_t *req)
{
    size_t i;
    json_t *e;

    if (!req)
        return 1;
    if (json_is_object(req))
        return json_object_get(req, "id") != NULL;
    if (!json_is_array(req) || json_array_size(req) == 0)
        return 1;
    json_array_foreach(req, i, e)
        if (!json_is_object(e) || json_object_get(e, "id"))
            return 1;
    return 0;
}

/* Why: after a notification, a ping on the same connection is answered only
 * once the notification has been executed (requests on one connection run in
 * order), so dsctl exits after the write took effect, not before. The ping's
 * reply is not printed. */
static void dsctl_raw_sync(struct dsctl *d)
{
    static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    char *line;
    size_t len;

    if (dsctl_conn_send_line(&d->conn, ping, sizeof ping - 1) != 0)
        return;
    while (dsctl_conn_read_line(&d->conn, &line, &len) == 1) {
        json_t *r = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
        int ours = json_integer_value(json_object_get(r, "id")) == 1;
        json_decref(r);
        if (ours)
            return;
    }
}

/* Why: raw's exit status follows the other commands: 1 when the reply is an
 * error (or a batch holding one), with the message on stderr. */
static int dsctl_raw_status(const char *line, size_t len)
{
    json_t *r = json_loadb(line, len, JSON_ALLOW_NUL, NULL), *e, *item;
    size_t i;
    int rc = DSCTL_EXIT_OK;

    if (json_is_array(r)) {
        json_array_foreach(r, i, item) {
            if ((e = json_object_get(item, "error"))) {
                const char *m = json_string_value(json_object_get(e, "message"));
                fprintf(stderr, "dsctl: %s\n", m ? m : "request failed");
                rc = DSCTL_EXIT_FAILED;
            }
        }
    } else if ((e = json_object_get(r, "error"))) {
        const char *m = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "dsctl: %s\n", m ? m : "request failed");
        rc = DSCTL_EXIT_FAILED;
    } else if (!r) {
        fprintf(stderr, "dsctl: the reply is not valid JSON\n");
        rc = DSCTL_EXIT_FAILED;
    }
    json_decref(r);
    return rc;
}

/* Why: `raw` sends exactly what the user wrote (line breaks turned into
 * spaces, which in valid JSON can only sit between tokens), so malformed
 * requests reach the daemon unchanged and its error comes back verbatim. */
int dsctl_cmd_raw(struct dsctl *d, int argc, char **argv)
{
    static const struct dsctl_opt specs[] = {{NULL, 0}};
    struct dsctl_args a;
    size_t len, start = 0, i;
    char *buf, *line;
    json_t *req;
    int rc = dsctl_args_parse(&a, "raw", argc, argv, specs);

    if (!rc && a.npos)
        rc = dsctl_usage_error("raw: takes no arguments; the request is read from stdin");
    dsctl_args_free(&a);
    if (rc)
        return rc;
    buf = dsctl_read_stdin(&len);
    if (!buf) {
        fprintf(stderr, "dsctl: raw: cannot read stdin: %s\n", strerror(errno));
        return DSCTL_EXIT_FAILED;
    }
    while (start < len && strchr(" \t\r\n", buf[start]) && buf[start])
        start++;
    while (len > start && strchr(" \t\r\n", buf[len - 1]) && buf[len - 1])
        len--;
    if (len == start) {
        free(buf);
        return dsctl_usage_error("raw: no request on stdin");
    }
    for (i = start; i < len; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    req = json_loadb(buf + start, len - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int expect = dsctl_expects_reply(req);
    json_decref(req);
    if ((rc = dsctl_conn_connect(d))) {
        free(buf);
        return rc;
    }
    int send_err = dsctl_conn_send_line(&d->conn, buf + start, len - start) ? errno : 0;
    free(buf);
    if (!expect) {
        if (send_err)
            return dsctl_lost(d, "cannot send to", send_err);
        dsctl_raw_sync(d);
        return DSCTL_EXIT_OK;
    }
    rc = dsctl_conn_read_line(&d->conn, &line, &len);
    if (rc <= 0)
        return dsctl_lost(d, send_err ? "cannot send to" : "lost connection to",
                          send_err ? send_err : (rc < 0 ? errno : 0));
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    return dsctl_raw_status(line, len);
}
