/*
 * core/framing.h - splits a byte stream into '\n'-terminated lines.
 *
 * The protocol frames one JSON value per line. A framer buffers a partial
 * line across reads and refuses a line longer than its limit as soon as the
 * limit is passed (without waiting for the newline), so a client cannot make
 * the daemon buffer without bound.
 */
#ifndef DSGRAPH_FRAMING_H
#define DSGRAPH_FRAMING_H
#include <stddef.h>

typedef struct framer {
    char *buf;        /* the partial line so far */
    size_t len, cap;
    size_t max_line;  /* longest line accepted, excluding the '\n' */
    int failed;       /* set after an oversized line: the stream cannot be framed further */
} framer;

/* Called for each complete line, without its '\n' (and without a trailing '\r').
 * line is NUL-terminated and valid only during the call. Return nonzero to stop. */
typedef int (*framer_line_cb)(void *ud, char *line, size_t len);

void framer_init(framer *f, size_t max_line);
void framer_free(framer *f);
/* Feeds bytes. Returns 0, FRAMER_TOO_LONG once a line passes max_line,
 * FRAMER_NOMEM, or the callback's nonzero value. */
int framer_feed(framer *f, const char *data, size_t n, framer_line_cb cb, void *ud);

#define FRAMER_TOO_LONG (-1)
#define FRAMER_NOMEM (-2)

#endif
