/* core/framing.c - line framing with a hard per-line limit. */
#include "framing.h"

#include <stdlib.h>
#include <string.h>

void framer_init(framer *f, size_t max_line)
{
    memset(f, 0, sizeof *f);
    f->max_line = max_line;
}

void framer_free(framer *f)
{
    free(f->buf);
    f->buf = NULL;
    f->len = f->cap = 0;
}

/* Appends to the partial line, growing geometrically but never past max_line+1. */
static int framer_append(framer *f, const char *data, size_t n)
{
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->len + n + 1)
            cap *= 2;
        if (cap > f->max_line + 1)
            cap = f->max_line + 1;
        char *nb = realloc(f->buf, cap);
        if (!nb)
            return FRAMER_NOMEM;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return 0;
}

/* Hands one complete line to cb, stripping a trailing '\r'. */
static int framer_emit(char *line, size_t len, framer_line_cb cb, void *ud)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    char saved = line[len];
    line[len] = '\0';
    int rc = cb(ud, line, len);
    line[len] = saved;
    return rc;
}

/* Buffers the partial line and hands each complete one to cb. The limit
 * counts every byte before the '\n' (a '\r' included). Invariant between
 * calls: f->len <= f->max_line, so memory per connection is bounded. */
int framer_feed(framer *f, const char *data, size_t n, framer_line_cb cb, void *ud)
{
    if (f->failed)
        return FRAMER_TOO_LONG;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (f->len + take > f->max_line) {
            f->failed = 1;
            return FRAMER_TOO_LONG;
        }
        int rc = framer_append(f, data, take);
        if (rc || !nl)
            return rc;
        rc = framer_emit(f->buf, f->len, cb, ud);
        f->len = 0;
        if (rc)
            return rc;
        data += take + 1;
        n -= take + 1;
    }
    return 0;
}
