/*
 * core/bulk_csv.c - ctx:bulk_csv{...} (see bulk_csv.h): the C loop over a CSV
 * input for plugins/csv.lua. It reproduces the Lua row loop of csv.lua (cell
 * checks in column order, the same conversions and messages) and
 * dsgraph.csv.reader's parsing (core/lua_csv.c: libcsv strict, fed one line at
 * a time so every record knows its line), and writes through
 * graph/bulk_load.h.
 */
#include "bulk_csv.h"
#include "bulk_load.h"
#include "log.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BCSV_CHUNK 65536
#define BCSV_MAX_RECORD (64u << 20)
#define BCSV_MAX_COLS 4096
#define BCSV_MAX_LABELS 32
#define BCSV_STATE_MT "dsgraph.bulk_csv"

typedef enum { K_PROP, K_LABEL, K_ID, K_START, K_END, K_TYPE, K_IGNORE } bcsv_kind;
typedef enum { T_STRING, T_INT, T_REAL, T_BOOL } bcsv_type;

typedef struct bcsv_col {
    bcsv_kind kind;
    char *prop;     /* property key (K_PROP; K_ID with a key), else NULL */
    bcsv_type type;
    bool array;     /* "[]": ';'-separated values */
    char *space;    /* ID space (K_ID, K_START, K_END): the label */
    char *header;   /* the header cell, for messages */
} bcsv_col;


/* One run; a Lua userdata, so a Lua error while reading the spec frees it (__gc). */
typedef struct bcsv {
    graph_store *s;
    graph_bulk *bulk;
    bcsv_col *cols;
    size_t ncols;
    size_t *order;   /* property columns sorted by (key, column) */
    size_t norder;
    bool is_rels;
    char *default_label, *fixed_type;
    unsigned char delim;
    struct csv_parser p;
    bool parser_inited, header_done, failed;
    long long line, rec_line, byte;
    size_t record_bytes;
    graph_bulk_buf fields;        /* the record's cells, each NUL-terminated */
    size_t *foff, nfields, cfields;
    graph_bulk_buf json;          /* this row's converted values */
    size_t *joff, *jlen;          /* per column: where its JSON is (jlen 0: no value) */
    graph_bulk_prop *props;
    const char **strings;
    size_t nstrings, cstrings;
    int64_t rows;
    bool store_error;   /* err comes from the store: the message gets the plugin's file:line, as ctx:node's */
    char err[700];
} bcsv;


/* Frees everything the run holds (and rolls back an unfinished load). */
static void bcsv_free(bcsv *c) {
    if (c->bulk) graph_bulk_end(c->bulk, false, NULL);
    c->bulk = NULL;
    for (size_t i = 0; c->cols && i < c->ncols; i++) {
        free(c->cols[i].prop);
        free(c->cols[i].space);
        free(c->cols[i].header);
    }
    free(c->cols);
    c->cols = NULL;
    free(c->order);
    free(c->default_label);
    free(c->fixed_type);
    if (c->parser_inited) csv_free(&c->p);
    c->parser_inited = false;
    free(c->fields.p);
    free(c->foff);
    free(c->json.p);
    free(c->joff);
    free(c->jlen);
    free(c->props);
    free(c->strings);
    memset(c, 0, sizeof *c);
}

/* __gc: a Lua error while the spec was read leaves the run to the collector. */
static int bcsv_gc(lua_State *L) {
    bcsv_free(luaL_checkudata(L, 1, BCSV_STATE_MT));
    return 0;
}

/* Reads an optional string field of the table on top into a malloc'd copy. */
static char *spec_string(lua_State *L, const char *key) {
    char *out = NULL;
    if (lua_getfield(L, -1, key) == LUA_TSTRING) out = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return out;
}

/* Turns the spec's column list into c->cols; a message on the Lua stack's error otherwise. */
static void spec_read(lua_State *L, int spec, bcsv *c) {
    if (lua_getfield(L, spec, "columns") != LUA_TTABLE) luaL_error(L, "ctx:bulk_csv: columns must be a list");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n < 1 || n > BCSV_MAX_COLS) luaL_error(L, "ctx:bulk_csv: between 1 and %d columns", BCSV_MAX_COLS);
    c->cols = calloc((size_t)n, sizeof *c->cols);
    c->order = calloc((size_t)n, sizeof *c->order);
    c->joff = calloc((size_t)n, sizeof *c->joff);
    c->jlen = calloc((size_t)n, sizeof *c->jlen);
    c->props = calloc((size_t)n, sizeof *c->props);
    if (!c->cols || !c->order || !c->joff || !c->jlen || !c->props) luaL_error(L, "ctx:bulk_csv: out of memory");
    c->ncols = (size_t)n;
    bool has_start = false, has_end = false;
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, -1, i) != LUA_TTABLE) luaL_error(L, "ctx:bulk_csv: columns[%d] must be a table", (int)i);
        bcsv_col *col = &c->cols[i - 1];
        char *kind = spec_string(L, "kind"), *type = spec_string(L, "type");
        static const char *const kinds[] = {"prop", "label", "id", "start_id", "end_id", "type", "ignore"};
        int k = -1;
        for (int j = 0; kind && j < 7; j++)
            if (strcmp(kind, kinds[j]) == 0) k = j;
        free(kind);
        col->kind = (bcsv_kind)(k < 0 ? K_IGNORE : k);
        col->type = T_STRING;
        if (type && (!strcmp(type, "long") || !strcmp(type, "int") || !strcmp(type, "short") || !strcmp(type, "byte")))
            col->type = T_INT;
        else if (type && (!strcmp(type, "double") || !strcmp(type, "float"))) col->type = T_REAL;
        else if (type && !strcmp(type, "boolean")) col->type = T_BOOL;
        free(type);
        lua_getfield(L, -1, "array");
        col->array = lua_toboolean(L, -1);
        lua_pop(L, 1);
        col->prop = spec_string(L, "prop");
        col->space = spec_string(L, "space");
        col->header = spec_string(L, "header");
        lua_pop(L, 1);
        if (k < 0) luaL_error(L, "ctx:bulk_csv: columns[%d].kind is not a column kind", (int)i);
        if (!col->header && !(col->header = strdup("?"))) luaL_error(L, "ctx:bulk_csv: out of memory");
        if (col->kind == K_PROP && (!col->prop || !*col->prop))
            luaL_error(L, "ctx:bulk_csv: column %d \"%s\": an empty property name", (int)i, col->header);
        has_start |= col->kind == K_START;
        has_end |= col->kind == K_END;
        if ((col->kind == K_PROP || (col->kind == K_ID && col->prop && *col->prop))) c->order[c->norder++] = (size_t)(i - 1);
    }
    lua_pop(L, 1);
    c->is_rels = has_start && has_end;
}

/* Property columns in key order; a key's columns in column order (the last value wins). */
static int order_cmp(const void *a, const void *b, void *arg) {
    const bcsv *c = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int d = strcmp(c->cols[x].prop, c->cols[y].prop);
    return d ? d : (x < y ? -1 : x > y);
}

/* Lua's %s (the C locale's isspace), for the integer pattern csv.lua uses. */
static bool is_lua_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

/* One value of type t as JSON into c->json; NULL or the reason it is not one (csv.lua's words). */
static const char *convert_one(bcsv *c, const char *s, size_t n, bcsv_type t) {
    char tmp[64];
    switch (t) {
    case T_STRING: return graph_bulk_buf_quote(&c->json, s, n) ? NULL : "out of memory";
    case T_BOOL:
        if (n == 4 && strncasecmp(s, "true", 4) == 0) return graph_bulk_buf_add(&c->json, "true", 4) ? NULL : "out of memory";
        if (n == 5 && strncasecmp(s, "false", 5) == 0) return graph_bulk_buf_add(&c->json, "false", 5) ? NULL : "out of memory";
        return "not true or false";
    case T_INT: {
        size_t a = 0, z = n;
        while (a < z && is_lua_space(s[a])) a++;
        while (z > a && is_lua_space(s[z - 1])) z--;
        size_t d = a + (a < z && (s[a] == '+' || s[a] == '-'));
        if (d == z) return "not an integer";
        for (size_t i = d; i < z; i++)
            if (s[i] < '0' || s[i] > '9') return "not an integer";
        if (z - a >= sizeof tmp) return "integer out of range";
        memcpy(tmp, s + a, z - a);
        tmp[z - a] = '\0';
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) return "integer out of range";
        int w = snprintf(tmp, sizeof tmp, "%lld", v);
        return graph_bulk_buf_add(&c->json, tmp, (size_t)w) ? NULL : "out of memory";
    }
    case T_REAL: {
        size_t a = 0;
        while (a < n && is_lua_space(s[a])) a++;
        if (a < n && s[a] == '0' && a + 1 < n && (s[a + 1] == 'x' || s[a + 1] == 'X')) return "not a number";
        if (memchr(s, 'n', n) || memchr(s, 'N', n) || a == n) return "not a number";   /* Lua: no inf / nan */
        char small[128], *num = n < sizeof small ? small : malloc(n + 1);   /* the part may be followed by ';' */
        if (!num) return "out of memory";
        memcpy(num, s, n);
        num[n] = '\0';
        char *end = NULL;
        errno = 0;
        double v = strtod(num, &end);
        while (end && *end && is_lua_space(*end)) end++;
        bool bad = !end || *end || errno == ERANGE;
        if (num != small) free(num);
        if (bad) return "not a number";
        json_t *j = json_real(v);
        char *txt = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(j);
        bool ok = txt && graph_bulk_buf_add(&c->json, txt, strlen(txt));
        free(txt);
        return ok ? NULL : "not a number";
    }
    }
    return "not a value";
}

/* Converts a non-empty cell of col into c->json; NULL or the reason. */
static const char *convert_cell(bcsv *c, const bcsv_col *col, const char *s, size_t n) {
    if (!col->array) return convert_one(c, s, n, col->type);
    if (!graph_bulk_buf_add(&c->json, "[", 1)) return "out of memory";
    for (size_t a = 0, i = 0; i <= n; i++) {
        if (i < n && s[i] != ';') continue;
        if (a > 0 && !graph_bulk_buf_add(&c->json, ",", 1)) return "out of memory";
        const char *why = convert_one(c, s + a, i - a, col->type);
        if (why) return why;
        a = i + 1;
    }
    return graph_bulk_buf_add(&c->json, "]", 1) ? NULL : "out of memory";
}

/* Records a row error (the first one wins) and stops the run. */
static void row_fail(bcsv *c, long long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void row_fail(bcsv *c, long long line, const char *fmt, ...) {
    if (c->failed) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->failed = true;
    c->line = line;
}

/* Adds a raw string value to the search strings of the row. */
static bool add_string(bcsv *c, const char *s) {
    if (c->nstrings == c->cstrings) {
        size_t ncap = c->cstrings ? c->cstrings * 2 : 16;
        const char **ns = realloc(c->strings, ncap * sizeof *ns);
        if (!ns) return false;
        c->strings = ns;
        c->cstrings = ncap;
    }
    c->strings[c->nstrings++] = s;
    return true;
}

/* Collects the row's properties (sorted, the last value of a key wins); for a
 * node "name" is left out and *name_out gets it when it is a non-empty string. */
static size_t row_props(bcsv *c, char **cells, const char **name_out) {
    size_t np = 0;
    c->nstrings = 0;
    for (size_t k = 0; k < c->norder;) {
        const char *key = c->cols[c->order[k]].prop;
        size_t end = k, win = SIZE_MAX;
        while (end < c->norder && strcmp(c->cols[c->order[end]].prop, key) == 0) {
            if (c->jlen[c->order[end]]) win = c->order[end];
            end++;
        }
        k = end;
        if (win == SIZE_MAX) continue;
        const bcsv_col *col = &c->cols[win];
        bool str = col->type == T_STRING && !col->array;
        if (!c->is_rels && strcmp(key, "name") == 0) {
            if (str && cells[win][0]) *name_out = cells[win];
            continue;
        }
        c->props[np++] = (graph_bulk_prop){.key = key, .json = c->json.p + c->joff[win], .json_len = c->jlen[win]};
        if (col->type != T_STRING || c->is_rels) continue;
        if (!col->array) add_string(c, cells[win]);
        else
            for (char *p = cells[win], *part = p;; p++)
                if (*p == ';' || !*p) {
                    bool last = !*p;
                    *p = '\0';
                    add_string(c, part);
                    if (last) break;
                    part = p + 1;
                }
    }
    return np;
}

/* True for a relationship type csv.lua accepts: ^[%a_][%w_]*$ */
static bool type_ok(const char *t) {
    if (!t || !(*t == '_' || (*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z'))) return false;
    for (t++; *t; t++)
        if (!(*t == '_' || (*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9')))
            return false;
    return true;
}

/* One data record: checks and converts the cells in column order, then writes the node or relationship. */
static void row_run(bcsv *c, long long line) {
    if (c->nfields != c->ncols) {
        row_fail(c, line, "%zu fields, the header has %zu", c->nfields, c->ncols);
        return;
    }
    char *cells[BCSV_MAX_COLS];
    c->json.len = 0;
    for (size_t i = 0; i < c->ncols; i++) {
        cells[i] = c->fields.p + c->foff[i];
        size_t n = strlen(cells[i]);
        const bcsv_col *col = &c->cols[i];
        c->jlen[i] = 0;
        if (!graph_utf8_valid(cells[i], n)) {
            row_fail(c, line, "column \"%s\": not valid UTF-8", col->header);
            return;
        }
        if ((col->kind == K_PROP && n > 0) || (col->kind == K_ID && col->prop && *col->prop)) {
            size_t at = c->json.len;
            const char *why = col->kind == K_ID ? convert_one(c, cells[i], n, T_STRING) : convert_cell(c, col, cells[i], n);
            if (why) {
                row_fail(c, line, "column \"%s\": \"%s\" is %s", col->header, cells[i], why);
                return;
            }
            c->joff[i] = at;
            c->jlen[i] = c->json.len - at;
        }
    }
    const char *labels[BCSV_MAX_LABELS], *id = NULL, *type = c->fixed_type, *start = NULL, *end = NULL;
    const char *start_label = c->default_label, *end_label = c->default_label, *id_space = NULL;
    size_t nlabels = 0;
    for (size_t i = 0; i < c->ncols; i++) {
        const bcsv_col *col = &c->cols[i];
        if (col->kind == K_ID) {
            id = cells[i];
            if (!id_space && col->space) id_space = col->space;
        } else if (col->kind == K_START) {
            start = cells[i];
            start_label = col->space ? col->space : c->default_label;
        } else if (col->kind == K_END) {
            end = cells[i];
            end_label = col->space ? col->space : c->default_label;
        } else if (col->kind == K_TYPE) {
            type = cells[i];
        } else if (col->kind == K_LABEL) {
            for (char *p = cells[i], *part = p;; p++)
                if (*p == ';' || !*p) {
                    bool last = !*p;
                    *p = '\0';
                    if (*part && nlabels == BCSV_MAX_LABELS) {
                        row_fail(c, line, "more than %d labels", BCSV_MAX_LABELS);
                        return;
                    }
                    if (*part) labels[nlabels++] = part;
                    if (last) break;
                    part = p + 1;
                }
        }
    }
    const char *name = NULL;
    size_t np = row_props(c, cells, &name);
    gs_error gerr;
    int64_t a = 0, b = 0;
    if (c->is_rels) {
        if (!type_ok(type)) {
            row_fail(c, line, "\"%s\" is not a relationship type", type ? type : "nil");
            return;
        }
        if (!start || !end || !*start || !*end) {
            row_fail(c, line, "an empty start or end id");
            return;
        }
        graph_bulk_node_row sr = {.labels = &start_label, .nlabels = 1, .name = start};
        graph_bulk_node_row er = {.labels = &end_label, .nlabels = 1, .name = end};
        if (graph_bulk_node(c->bulk, &sr, &a, &gerr) != GS_OK || graph_bulk_node(c->bulk, &er, &b, &gerr) != GS_OK)
            {
            c->store_error = true;
            row_fail(c, line, "ctx:node: %s", gerr.msg);
            return;
        }
        if (graph_bulk_rel(c->bulk, a, type, b, c->props, np, NULL, &gerr) != GS_OK)
            {
            c->store_error = true;
            row_fail(c, line, "ctx:rel: %s", gerr.msg);
            return;
        }
    } else {
        if (!id || !*id) {
            row_fail(c, line, "the ID is empty");
            return;
        }
        if (nlabels == 0) labels[nlabels++] = id_space ? id_space : c->default_label;
        if (!name) name = id;
        const char *alias = id;
        graph_bulk_node_row nr = {.labels = labels, .nlabels = nlabels, .name = name, .props = c->props,
                                  .nprops = np, .strings = c->strings, .nstrings = c->nstrings,
                                  .aliases = strcmp(name, id) != 0 ? &alias : NULL,
                                  .naliases = strcmp(name, id) != 0 ? 1 : 0};
        if (graph_bulk_node(c->bulk, &nr, &a, &gerr) != GS_OK) {
            c->store_error = true;
            row_fail(c, line, "ctx:node: %s", gerr.msg);
            return;
        }
    }
    c->rows++;
}

/* libcsv field callback: appends the cell (NUL-terminated) to the record. */
static void on_field(void *data, size_t len, void *ctx) {
    bcsv *c = ctx;
    if (c->failed) return;
    if (c->nfields == c->cfields) {
        size_t ncap = c->cfields ? c->cfields * 2 : 64;
        size_t *nf = realloc(c->foff, ncap * sizeof *nf);
        if (!nf) {
            row_fail(c, c->line, "out of memory");
            return;
        }
        c->foff = nf;
        c->cfields = ncap;
    }
    c->foff[c->nfields++] = c->fields.len;
    if (!graph_bulk_buf_add(&c->fields, data ? data : "", data ? len : 0)) {
        row_fail(c, c->line, "out of memory");
        return;
    }
    c->fields.len++;   /* keep the NUL graph_bulk_buf_add wrote after the cell */
}

/* libcsv record callback: the header is skipped, every other record is a row. */
static void on_record(int term, void *ctx) {
    bcsv *c = ctx;
    long long line = c->rec_line ? c->rec_line : c->line;
    if (!c->failed) {
        if (!c->header_done) c->header_done = true;
        else row_run(c, line);
    }
    c->nfields = 0;
    c->fields.len = 0;
    c->rec_line = 0;
    c->record_bytes = 0;
}

/* A CSV syntax error at the current line, worded as dsgraph.csv.reader words it. */
static void csv_syntax_fail(bcsv *c, long long byte, const char *what) {
    if (c->failed) return;
    snprintf(c->err, sizeof c->err, "csv: line %d (byte %d): %s", (int)c->line, (int)byte, what);
    c->failed = true;
}

/* Feeds one piece (ending at a '\n' or at the end of the chunk) to libcsv. */
static void feed_piece(bcsv *c, const char *s, size_t n) {
    if (c->rec_line == 0 && n > 0 && s[0] != '\n' && !(s[0] == '\r' && (n == 1 || s[1] == '\n'))) c->rec_line = c->line;
    size_t done = csv_parse(&c->p, s, n, on_field, on_record, c);
    if (c->failed) return;
    if (done < n) {
        csv_syntax_fail(c, c->byte + (long long)done + 1,
                        csv_error(&c->p) == CSV_EPARSE
                            ? "malformed quoting (a quote inside an unquoted field, or text after a closing quote)"
                            : csv_strerror(csv_error(&c->p)));
        return;
    }
    c->byte += (long long)n;
    c->record_bytes = c->rec_line ? c->record_bytes + n : 0;
    if (c->rec_line && c->record_bytes > BCSV_MAX_RECORD) {
        c->line = c->rec_line;
        csv_syntax_fail(c, c->byte, "record too large (an unterminated quote?)");
        return;
    }
    if (n > 0 && s[n - 1] == '\n') c->line++;
}

/* RFC 4180 keeps spaces: libcsv would trim them without this. */
static int no_space(unsigned char ch) { return 0; }

/* Reads the whole input and runs every record; false with c->err on failure. */
static bool bcsv_read(bcsv *c, FILE *f) {
    if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return false;
    }
    c->parser_inited = true;
    csv_set_delim(&c->p, c->delim);
    csv_set_space_func(&c->p, no_space);
    c->line = 1;
    if (fseek(f, 0, SEEK_SET) != 0) {
        snprintf(c->err, sizeof c->err, "cannot read the input again: %s", strerror(errno));
        return false;
    }
    char *chunk = malloc(BCSV_CHUNK);
    if (!chunk) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return false;
    }
    size_t n;
    while (!c->failed && (n = fread(chunk, 1, BCSV_CHUNK, f)) > 0) {
        for (const char *s = chunk; !c->failed && n > 0;) {
            const char *nl = memchr(s, '\n', n);
            size_t piece = nl ? (size_t)(nl - s) + 1 : n;
            feed_piece(c, s, piece);
            s += piece;
            n -= piece;
        }
    }
    free(chunk);
    if (!c->failed && ferror(f)) snprintf(c->err, sizeof c->err, "reading the input: %s", strerror(errno)), c->failed = true;
    if (!c->failed && csv_fini(&c->p, on_field, on_record, c) != 0) {
        if (c->rec_line) c->line = c->rec_line;
        csv_syntax_fail(c, c->byte, "unterminated quoted field at end of input");
    }
    return !c->failed;
}

/* Monotonic seconds, for the timing line in the log. */
static double bcsv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this thread (the machine may be shared: wall time alone misleads). */
static double bcsv_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* See bulk_csv.h: reads the spec, runs the load, reports the rows or raises the error. */
int bulk_csv_lua(lua_State *L, int spec_idx, graph_store *s, FILE *f, int64_t *line) {
    luaL_checktype(L, spec_idx, LUA_TTABLE);
    spec_idx = lua_absindex(L, spec_idx);
    bcsv *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    if (luaL_newmetatable(L, BCSV_STATE_MT)) {
        lua_pushcfunction(L, bcsv_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, spec_idx);
    spec_read(L, lua_gettop(L), c);
    c->default_label = spec_string(L, "default_label");
    c->fixed_type = spec_string(L, "type");
    char *delim = spec_string(L, "delimiter");
    c->delim = delim && strlen(delim) == 1 && delim[0] != '"' && delim[0] != '\n' && delim[0] != '\r' ? (unsigned char)delim[0]
                                                                                                      : 0;
    free(delim);
    lua_pop(L, 1);
    if (!c->delim) return luaL_error(L, "ctx:bulk_csv: delimiter must be one character (not a quote or line break)");
    if (!c->default_label && !(c->default_label = strdup("Model"))) return luaL_error(L, "ctx:bulk_csv: out of memory");
    qsort_r(c->order, c->norder, sizeof *c->order, order_cmp, c);
    /* from here on no Lua call until the end: the run is plain C */
    gs_error gerr;
    double t0 = bcsv_now(), cpu0 = bcsv_cpu();
    bool ok = graph_bulk_begin(s, &c->bulk, &gerr) == GS_OK;
    if (!ok) snprintf(c->err, sizeof c->err, "%s", gerr.msg);
    double t1 = bcsv_now();
    if (ok) ok = bcsv_read(c, f);
    double t2 = bcsv_now();
    graph_bulk *b = c->bulk;
    c->bulk = NULL;
    double wcpu = 0;
    unsigned long waits = 0;
    if (b) graph_bulk_write_stats(b, &wcpu, &waits);
    if (b && graph_bulk_end(b, ok, &gerr) != GS_OK && ok) {
        ok = false;
        snprintf(c->err, sizeof c->err, "%s", gerr.msg);
    }
    log_info("bulk csv: %lld rows%s: begin %.0f ms, rows %.0f ms, end (indexes) %.0f ms; writer CPU %.0f ms, "
             "write thread CPU %.0f ms (%lu waits for it)",
             (long long)c->rows, ok ? "" : " (failed, undone)", (t1 - t0) * 1e3, (t2 - t1) * 1e3,
             (bcsv_now() - t2) * 1e3, (bcsv_cpu() - cpu0) * 1e3, wcpu * 1e3, waits);
    if (c->line > 0 && c->failed) *line = c->line;
    lua_Integer rows = c->rows;
    if (!ok) {
        if (c->store_error) luaL_where(L, 1);
        lua_pushstring(L, c->err);
        if (c->store_error) lua_concat(L, 2);
    }
    bcsv_free(c);
    if (!ok) return lua_error(L);
    lua_pushinteger(L, rows);
    return 1;
}
