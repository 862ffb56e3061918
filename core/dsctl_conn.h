/*
 * core/dsctl_conn.h - dsctl's side of the wire: one blocking Unix-socket
 * connection to dsgraphd, newline-framed JSON, and JSON-RPC calls on it.
 */
#ifndef DSGRAPH_DSCTL_CONN_H
#define DSGRAPH_DSCTL_CONN_H
#include <stddef.h>
#include <jansson.h>

/* Exit statuses, as the issue fixes them. */
enum {
    DSCTL_EXIT_OK = 0,
    DSCTL_EXIT_FAILED = 1, /* the request failed (JSON-RPC error, lost connection, bad reply) */
    DSCTL_EXIT_USAGE = 2,
    DSCTL_EXIT_NOCONN = 3 /* no daemon reachable */
};

/* Flags every JSON text dsctl prints or sends is dumped with: compact,
 * round-trip floats, UTF-8 kept as is (no \u escapes for Chinese). */
#define DSCTL_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

/* One connection: the socket and the bytes received but not yet consumed. */
struct dsctl_conn {
    int fd;
    char *buf;    /* received bytes; [pos, len) not yet handed out */
    size_t pos, len, cap;
};

/* Per-invocation state shared by every command. */
struct dsctl {
    const char *socket_opt; /* --socket, or NULL */
    char sock_path[512];    /* resolved on first connect */
    int json;               /* --json */
    int connected;
    struct dsctl_conn conn;
    json_int_t next_id;     /* request ids are small integers we assign */
};

int dsctl_conn_connect(struct dsctl *d);
int dsctl_conn_send_line(struct dsctl_conn *c, const char *data, size_t len);
int dsctl_conn_read_line(struct dsctl_conn *c, char **line, size_t *len);
void dsctl_close(struct dsctl *d);

int dsctl_call(struct dsctl *d, const char *method, json_t *params, json_t **result);
int dsctl_call_batch(struct dsctl *d, const char *method, json_t *params_array, json_t **results);
void dsctl_report_rpc_error(struct dsctl *d, json_t *error);
int dsctl_lost(struct dsctl *d, const char *what, int err);
int dsctl_print_json(json_t *value);

#endif
