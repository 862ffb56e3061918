/*
 * core/dsctl_render.h - how dsctl shows things to a person: display text for
 * JSON values, column widths that count East Asian wide characters as two,
 * aligned tables, and node/relationship display.
 */
#ifndef DSGRAPH_DSCTL_RENDER_H
#define DSGRAPH_DSCTL_RENDER_H
#include <stdio.h>
#include <jansson.h>

/* A growable string. */
struct dsctl_buf {
    char *p;
    size_t len, cap;
};
void dsctl_buf_add(struct dsctl_buf *b, const char *s, size_t n);
void dsctl_buf_puts(struct dsctl_buf *b, const char *s);
void dsctl_buf_printf(struct dsctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *dsctl_buf_take(struct dsctl_buf *b);
void *dsctl_xcalloc(size_t n, size_t size);

size_t dsctl_text_width(const char *s);
char *dsctl_sanitize(const char *s, size_t len);
char *dsctl_value_text(json_t *v);
char *dsctl_labels_text(json_t *labels, const char *sep);
void dsctl_put_padded(FILE *out, const char *s, size_t width, int right);

/* A table of display cells, filled row by row. */
struct dsctl_table;
struct dsctl_table *dsctl_table_new(size_t ncols);
void dsctl_table_add(struct dsctl_table *t, char *cell);
void dsctl_table_add_copy(struct dsctl_table *t, const char *cell);
void dsctl_table_align_right(struct dsctl_table *t, size_t col);
size_t dsctl_table_rows(const struct dsctl_table *t);
void dsctl_table_print(const struct dsctl_table *t, FILE *out, int header, const char *indent);
void dsctl_table_free(struct dsctl_table *t);

json_t *dsctl_node_body(json_t *wrapped);
json_t *dsctl_rel_body(json_t *wrapped);
char *dsctl_node_name(json_t *node);
void dsctl_print_node(FILE *out, json_t *node);

#endif
