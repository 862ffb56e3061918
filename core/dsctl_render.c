/*
 * core/dsctl_render.c - display text and aligned tables for dsctl.
 * Widths are in terminal columns: each code point counts
 * utf8proc_charwidth() columns, so 中文 is 4 columns wide and tables with
 * Chinese names stay aligned. Control characters are shown escaped so a
 * newline in a property cannot break a table.
 */
#include "dsctl_render.h"
#include "dsctl_conn.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Why: abort cleanly instead of writing through NULL when memory runs out. */
static void *dsctl_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("dsctl: out of memory\n", stderr);
        exit(DSCTL_EXIT_FAILED);
    }
    return q;
}

/* Why: zeroed arrays that cannot come back NULL (out of memory exits 1). */
void *dsctl_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("dsctl: out of memory\n", stderr);
        exit(DSCTL_EXIT_FAILED);
    }
    return p;
}

/* Why: display text is built piecewise (escapes, joins); this appends n bytes
 * and keeps the buffer NUL-terminated. */
void dsctl_buf_add(struct dsctl_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = dsctl_xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Why: the NUL-terminated convenience form of dsctl_buf_add. */
void dsctl_buf_puts(struct dsctl_buf *b, const char *s)
{
    dsctl_buf_add(b, s, strlen(s));
}

/* Why: formatted pieces (ids, escapes) without a fixed-size scratch buffer. */
void dsctl_buf_printf(struct dsctl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[128];

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        dsctl_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = dsctl_xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    dsctl_buf_add(b, big, (size_t)n);
    free(big);
}

/* Why: hands the built string to the caller (never NULL, "" when empty). */
char *dsctl_buf_take(struct dsctl_buf *b)
{
    char *p = b->p;
    if (!p) {
        p = dsctl_xrealloc(NULL, 1);
        p[0] = '\0';
    }
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* Why: tables must line up on a terminal: the width of a UTF-8 string in
 * columns, East Asian wide characters counting two. An invalid byte counts
 * one (it shows as one replacement character). */
size_t dsctl_text_width(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t w = 0;

    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        if (n <= 0) {
            w += 1;
            p += 1;
            continue;
        }
        w += (size_t)utf8proc_charwidth(cp);
        p += n;
    }
    return w;
}

/* Why: values can hold newlines, tabs, escape sequences or NULs; shown raw
 * they would break alignment or drive the terminal. Escapes C0/C1 controls
 * and DEL, replaces invalid UTF-8 with U+FFFD. Returns a malloc'd string. */
char *dsctl_sanitize(const char *s, size_t len)
{
    struct dsctl_buf b = {0};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(s ? s : "");
    size_t i = 0;

    if (!s)
        len = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            dsctl_buf_puts(&b, "\xEF\xBF\xBD");
            i++;
            continue;
        }
        if (cp == '\n')
            dsctl_buf_puts(&b, "\\n");
        else if (cp == '\t')
            dsctl_buf_puts(&b, "\\t");
        else if (cp == '\r')
            dsctl_buf_puts(&b, "\\r");
        else if (cp < 0x20 || cp == 0x7f)
            dsctl_buf_printf(&b, "\\x%02x", (unsigned)cp);
        else if (cp >= 0x80 && cp < 0xa0)
            dsctl_buf_printf(&b, "\\u%04x", (unsigned)cp);
        else
            dsctl_buf_add(&b, (const char *)p + i, (size_t)n);
        i += (size_t)n;
    }
    return dsctl_buf_take(&b);
}

/* Why: one rule for showing any JSON value in a table or a key/value list:
 * strings as their text, null as NULL, {"$blob":hex} as x'hex', everything
 * else as compact JSON (numbers exactly as jansson dumps them). */
char *dsctl_value_text(json_t *v)
{
    json_t *blob;
    char *dumped, *out;

    if (json_is_string(v))
        return dsctl_sanitize(json_string_value(v), json_string_length(v));
    if (!v || json_is_null(v))
        return dsctl_sanitize("NULL", 4);
    if (json_is_object(v) && json_object_size(v) == 1 && json_is_string(blob = json_object_get(v, "$blob"))) {
        struct dsctl_buf b = {0};
        dsctl_buf_printf(&b, "x'%s'", json_string_value(blob));
        dumped = dsctl_buf_take(&b);
    } else {
        dumped = json_dumps(v, DSCTL_DUMP_FLAGS);
        if (!dumped)
            return dsctl_sanitize("?", 1);
    }
    out = dsctl_sanitize(dumped, strlen(dumped));
    free(dumped);
    return out;
}

/* Why: labels appear in show, search and lineage; joined with sep. */
char *dsctl_labels_text(json_t *labels, const char *sep)
{
    struct dsctl_buf b = {0};
    size_t i;
    json_t *l;

    json_array_foreach(labels, i, l) {
        char *t = dsctl_value_text(l);
        if (i > 0)
            dsctl_buf_puts(&b, sep);
        dsctl_buf_puts(&b, t);
        free(t);
    }
    return dsctl_buf_take(&b);
}

/* Why: prints s padded with spaces to width columns, on the left or right. */
void dsctl_put_padded(FILE *out, const char *s, size_t width, int right)
{
    size_t w = dsctl_text_width(s);
    size_t pad = w < width ? width - w : 0;

    if (!right)
        fputs(s, out);
    while (pad--)
        fputc(' ', out);
    if (right)
        fputs(s, out);
}

struct dsctl_table {
    size_t ncols, ncells, cap;
    char **cells;         /* row-major */
    unsigned char *right; /* per column: right-aligned */
};

/* Why: every tabular output (sql, search, stats, properties) goes through one
 * aligner so they all look alike. */
struct dsctl_table *dsctl_table_new(size_t ncols)
{
    struct dsctl_table *t = dsctl_xrealloc(NULL, sizeof *t);
    t->ncols = ncols ? ncols : 1;
    t->ncells = t->cap = 0;
    t->cells = NULL;
    t->right = dsctl_xrealloc(NULL, t->ncols);
    memset(t->right, 0, t->ncols);
    return t;
}

/* Why: appends the next cell (row by row); takes ownership of cell. */
void dsctl_table_add(struct dsctl_table *t, char *cell)
{
    if (t->ncells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = dsctl_xrealloc(t->cells, t->cap * sizeof *t->cells);
    }
    t->cells[t->ncells++] = cell;
}

/* Why: for literal cells (headers, fixed words); sanitizes a copy. */
void dsctl_table_add_copy(struct dsctl_table *t, const char *cell)
{
    dsctl_table_add(t, dsctl_sanitize(cell, strlen(cell)));
}

/* Why: numeric columns read better right-aligned. */
void dsctl_table_align_right(struct dsctl_table *t, size_t col)
{
    if (col < t->ncols)
        t->right[col] = 1;
}

/* Why: callers print "(N rows)" footers. Counts complete rows. */
size_t dsctl_table_rows(const struct dsctl_table *t)
{
    return t->ncells / t->ncols;
}

/* Why: prints the rows aligned: columns separated by two spaces, the last
 * left-aligned column not padded (no trailing blanks). With header, row 0 is
 * the header and a rule of dashes follows it. */
void dsctl_table_print(const struct dsctl_table *t, FILE *out, int header, const char *indent)
{
    size_t rows = dsctl_table_rows(t), *width, r, c;

    width = dsctl_xrealloc(NULL, t->ncols * sizeof *width);
    for (c = 0; c < t->ncols; c++)
        width[c] = 0;
    for (r = 0; r < rows; r++)
        for (c = 0; c < t->ncols; c++) {
            size_t w = dsctl_text_width(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (r = 0; r < rows; r++) {
        fputs(indent ? indent : "", out);
        for (c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            int last = c + 1 == t->ncols;
            if (c > 0)
                fputs("  ", out);
            if (last && !t->right[c])
                fputs(cell, out);
            else
                dsctl_put_padded(out, cell, width[c], t->right[c]);
        }
        fputc('\n', out);
        if (r == 0 && header) {
            fputs(indent ? indent : "", out);
            for (c = 0; c < t->ncols; c++) {
                if (c > 0)
                    fputs("  ", out);
                for (size_t k = 0; k < width[c]; k++)
                    fputc('-', out);
            }
            fputc('\n', out);
        }
    }
    free(width);
}

/* Why: tables own their cells; frees them all. */
void dsctl_table_free(struct dsctl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->right);
    free(t);
}

/* Why: nodes come wrapped as {"$node":{...}}; accept the bare object too. */
json_t *dsctl_node_body(json_t *wrapped)
{
    json_t *n = json_object_get(wrapped, "$node");
    return n ? n : wrapped;
}

/* Why: relationships come wrapped as {"$rel":{...}}; accept the bare object too. */
json_t *dsctl_rel_body(json_t *wrapped)
{
    json_t *r = json_object_get(wrapped, "$rel");
    return r ? r : wrapped;
}

/* Why: a node is shown by its name property; a node without one by "#id". */
char *dsctl_node_name(json_t *node)
{
    json_t *name = json_object_get(json_object_get(node, "properties"), "name");
    if (name && !json_is_null(name))
        return dsctl_value_text(name);
    struct dsctl_buf b = {0};
    dsctl_buf_printf(&b, "#%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(node, "id")));
    return dsctl_buf_take(&b);
}

/* Why: show, node get and node put display a node the same way: a title line
 * (name and id), its labels, then its properties as an aligned key/value list. */
void dsctl_print_node(FILE *out, json_t *node)
{
    json_t *props = json_object_get(node, "properties"), *v;
    const char *key;
    char *name = dsctl_node_name(node), *labels = dsctl_labels_text(json_object_get(node, "labels"), ", ");

    fprintf(out, "%s  (id %" JSON_INTEGER_FORMAT ")\n", name, json_integer_value(json_object_get(node, "id")));
    fprintf(out, "labels: %s\n", labels);
    free(name);
    free(labels);
    if (json_object_size(props) > 0) {
        struct dsctl_table *t = dsctl_table_new(2);
        fputs("properties:\n", out);
        json_object_foreach(props, key, v) {
            dsctl_table_add_copy(t, key);
            dsctl_table_add(t, dsctl_value_text(v));
        }
        dsctl_table_print(t, out, 0, "  ");
        dsctl_table_free(t);
    }
}
