/*
 * core/lua_csv.c - dsgraph.csv.reader(input, opts): a streaming RFC 4180
 * reader on libcsv (quoted fields, embedded newlines, "" escapes), strict about
 * bad quoting, that knows on which input line each record started.
 *
 *   for row, line in dsgraph.csv.reader(input, {header=true}) do ... end
 *
 * input is a string or anything with input:read(n) (the host's input object).
 * Without a header a row is {field1, field2, ...}; with header=true it is keyed
 * by column name. Either way row.line (unless a column is called "line") and
 * the iterator's second value give the line where the record started.
 * Errors raise "csv: line L (byte B): reason".
 *
 * Lines: libcsv reports no positions, so the data is fed to it one line at a
 * time (each piece ends at a '\n'); a record starts on the first non-blank
 * line fed after the previous record ended.
 */
#include "lua_dsgraph_internal.h"

#include <csv.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define CSV_CHUNK 65536
#define CSV_MAX_RECORD_DEFAULT (64u << 20)

/* Uservalue slots of the reader userdata. */
enum { UV_QUEUE = 1, UV_ROW, UV_HEADER, UV_INPUT, UV_COUNT = UV_INPUT };

typedef struct csv_reader {
    struct csv_parser p;
    int inited;
    lua_State *L;          /* valid only inside a parse call */
    int uv;                /* stack index of the uservalue table during a parse call */
    long long line;        /* line number of the byte being fed */
    long long rec_line;    /* line where the record being parsed started; 0 between records */
    long long byte;        /* bytes fed so far */
    lua_Integer nfields;   /* fields in the record being parsed */
    lua_Integer qhead, qtail;
    int header, want_header, eof, failed, string_input;
    size_t str_pos;
    size_t max_record;
    size_t record_bytes;
    lua_Integer ncols;
} csv_reader;

/* libcsv field callback: appends the field to the current record (uservalue slot UV_ROW). */
static void on_field(void *data, size_t len, void *ctx) {
    csv_reader *r = ctx;
    lua_State *L = r->L;
    lua_rawgeti(L, r->uv, UV_ROW);
    lua_pushlstring(L, data ? data : "", data ? len : 0);
    lua_rawseti(L, -2, ++r->nfields);
    lua_pop(L, 1);
}

/* libcsv record callback: moves the finished record, with its start line, to the queue. */
static void on_record(int term, void *ctx) {
    csv_reader *r = ctx;
    lua_State *L = r->L;
    lua_rawgeti(L, r->uv, UV_QUEUE);
    lua_rawgeti(L, r->uv, UV_ROW);
    lua_pushinteger(L, r->rec_line ? r->rec_line : r->line);
    lua_rawseti(L, -2, 0); /* the start line travels in slot 0 */
    lua_rawseti(L, -2, ++r->qtail);
    lua_pop(L, 1);
    lua_newtable(L);
    lua_rawseti(L, r->uv, UV_ROW);
    r->nfields = 0;
    r->rec_line = 0;
    r->record_bytes = 0;
}

/* RFC 4180 keeps spaces: libcsv would trim them without this. */
static int no_space(unsigned char c) { return 0; }

/* Raises the reader's error with the position; marks the reader failed first. */
static int csv_fail(lua_State *L, csv_reader *r, long long byte, const char *what) {
    r->failed = 1;
    return luaL_error(L, "csv: line %d (byte %d): %s", (int)r->line, (int)byte, what);
}

/* Feeds one piece (ending at a '\n' or at the end of the chunk) to libcsv. */
static void feed_piece(lua_State *L, csv_reader *r, const char *s, size_t n) {
    if (r->rec_line == 0 && n > 0 && s[0] != '\n' && !(s[0] == '\r' && (n == 1 || s[1] == '\n')))
        r->rec_line = r->line;
    size_t done = csv_parse(&r->p, s, n, on_field, on_record, r);
    if (done < n) {
        long long at = r->byte + (long long)done + 1;
        const char *why = csv_error(&r->p) == CSV_EPARSE ? "malformed quoting (a quote inside an unquoted field, "
                                                           "or text after a closing quote)"
                                                         : csv_strerror(csv_error(&r->p));
        csv_fail(L, r, at, why);
    }
    r->byte += (long long)n;
    r->record_bytes = r->rec_line ? r->record_bytes + n : 0;
    if (r->rec_line && r->record_bytes > r->max_record) {
        r->line = r->rec_line;
        csv_fail(L, r, r->byte, "record too large (an unterminated quote?)");
    }
    if (n > 0 && s[n - 1] == '\n') r->line++;
}

/* Feeds a chunk, cut into pieces at each '\n' so line numbers stay exact. */
static void feed(lua_State *L, csv_reader *r, const char *s, size_t n) {
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t piece = nl ? (size_t)(nl - s) + 1 : n;
        feed_piece(L, r, s, piece);
        s += piece;
        n -= piece;
    }
}

/* Reads the next chunk from the input (string or input:read) and parses it; at EOF finishes libcsv. */
static void pump(lua_State *L, csv_reader *r) {
    lua_rawgeti(L, r->uv, UV_INPUT);
    size_t n = 0;
    const char *s = NULL;
    if (r->string_input) {
        size_t total;
        const char *all = lua_tolstring(L, -1, &total);
        if (r->str_pos < total) {
            s = all + r->str_pos;
            n = total - r->str_pos < CSV_CHUNK ? total - r->str_pos : CSV_CHUNK;
            r->str_pos += n;
        }
        lua_pop(L, 1);
        if (s) {
            lua_rawgeti(L, r->uv, UV_INPUT); /* keep the string alive while parsing */
            feed(L, r, s, n);
            lua_pop(L, 1);
        }
    } else {
        int in = lua_gettop(L);
        if (lua_getfield(L, in, "read") != LUA_TFUNCTION) {
            r->failed = 1;
            luaL_error(L, "csv: input has no read method");
        }
        lua_pushvalue(L, in);
        lua_pushinteger(L, CSV_CHUNK);
        lua_call(L, 2, 1);
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING) {
                r->failed = 1;
                luaL_error(L, "csv: input:read returned a %s", luaL_typename(L, -1));
            }
            s = lua_tolstring(L, -1, &n);
            if (n == 0) s = NULL;
            else feed(L, r, s, n);
        }
        lua_settop(L, in - 1);
    }
    if (!s) {
        r->eof = 1;
        if (csv_fini(&r->p, on_field, on_record, r) != 0) {
            if (r->rec_line) r->line = r->rec_line;
            csv_fail(L, r, r->byte, "unterminated quoted field at end of input");
        }
    }
}

/* Builds the row the plugin sees from a raw record (on top), replacing it. */
static void shape_row(lua_State *L, csv_reader *r, lua_Integer line) {
    if (!r->header) {
        lua_pushnil(L);
        lua_rawseti(L, -2, 0);
        lua_getfield(L, -1, "line");
        int has = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!has) {
            lua_pushinteger(L, line);
            lua_setfield(L, -2, "line");
        }
        return;
    }
    int raw = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, raw);
    if (n != r->ncols) {
        r->line = line;
        lua_pushfstring(L, "record has %d fields, the header has %d", (int)n, (int)r->ncols);
        csv_fail(L, r, r->byte, lua_tostring(L, -1));
    }
    lua_createtable(L, 0, (int)n + 1);
    lua_rawgeti(L, r->uv, UV_HEADER);
    int has_line = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (strcmp(lua_tostring(L, -1), "line") == 0) has_line = 1;
        lua_rawgeti(L, raw, i);
        lua_rawset(L, raw + 1);
    }
    lua_pop(L, 1);
    if (!has_line) {
        lua_pushinteger(L, line);
        lua_setfield(L, -2, "line");
    }
    lua_replace(L, raw);
}

/* The iterator: returns the next row and its start line, or nothing at the end. */
static int reader_next(lua_State *L) {
    csv_reader *r = lua_touserdata(L, lua_upvalueindex(1));
    if (r->failed) return luaL_error(L, "csv: reader used after an error");
    lua_settop(L, 0);
    lua_getiuservalue(L, lua_upvalueindex(1), 1);
    r->uv = lua_gettop(L);
    r->L = L;
    for (;;) {
        while (r->qhead == r->qtail && !r->eof) pump(L, r);
        if (r->qhead == r->qtail) return 0;
        lua_rawgeti(L, r->uv, UV_QUEUE);
        lua_rawgeti(L, -1, ++r->qhead);
        lua_pushnil(L);
        lua_rawseti(L, -3, r->qhead);
        lua_remove(L, -2);
        lua_rawgeti(L, -1, 0);
        lua_Integer line = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (r->want_header) {
            /* the first record names the columns */
            r->want_header = 0;
            r->ncols = (lua_Integer)lua_rawlen(L, -1);
            lua_pushnil(L);
            lua_rawseti(L, -2, 0);
            lua_rawseti(L, r->uv, UV_HEADER);
            continue;
        }
        shape_row(L, r, line);
        lua_pushinteger(L, line);
        return 2;
    }
}

/* __gc of the reader: frees libcsv's buffers. */
static int reader_gc(lua_State *L) {
    csv_reader *r = lua_touserdata(L, 1);
    if (r && r->inited) {
        csv_free(&r->p);
        r->inited = 0;
    }
    return 0;
}

/* Reads a one-character option (delimiter, quote). */
static unsigned char char_opt(lua_State *L, int opts, const char *name, unsigned char def) {
    unsigned char c = def;
    if (lua_getfield(L, opts, name) != LUA_TNIL) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (!s || n != 1 || s[0] == '\n' || s[0] == '\r')
            luaL_error(L, "dsgraph.csv.reader: opts.%s must be one character (not a line break)", name);
        c = (unsigned char)s[0];
    }
    lua_pop(L, 1);
    return c;
}

/* dsgraph.csv.reader(input [, opts]): makes the iterator (see the top of this file). */
static int l_reader(lua_State *L) {
    int t = lua_type(L, 1);
    if (t != LUA_TSTRING && t != LUA_TTABLE && t != LUA_TUSERDATA)
        return luaL_error(L, "dsgraph.csv.reader: input must be a string or have input:read(n), got %s",
                          luaL_typename(L, 1));
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    else {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    unsigned char delim = char_opt(L, 2, "delimiter", CSV_COMMA);
    unsigned char quote = char_opt(L, 2, "quote", CSV_QUOTE);
    if (delim == quote) return luaL_error(L, "dsgraph.csv.reader: delimiter and quote must differ");
    lua_getfield(L, 2, "header");
    int header = lua_toboolean(L, -1);
    lua_getfield(L, 2, "max_record_bytes");
    lua_Integer maxrec = lua_isnil(L, -1) ? (lua_Integer)CSV_MAX_RECORD_DEFAULT : luaL_checkinteger(L, -1);
    if (maxrec < 1) return luaL_error(L, "dsgraph.csv.reader: max_record_bytes must be positive");
    lua_pop(L, 2);

    csv_reader *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI) != 0) return luaL_error(L, "dsgraph.csv.reader: out of memory");
    r->inited = 1;
    csv_set_delim(&r->p, delim);
    csv_set_quote(&r->p, quote);
    csv_set_space_func(&r->p, no_space);
    r->line = 1;
    r->header = r->want_header = header;
    r->string_input = t == LUA_TSTRING;
    r->max_record = (size_t)maxrec;
    /* __gc must be in the metatable before it is set, or Lua never finalizes */
    lua_newtable(L);
    lua_pushcfunction(L, reader_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);

    lua_createtable(L, UV_COUNT, 0);
    lua_newtable(L);
    lua_rawseti(L, -2, UV_QUEUE);
    lua_newtable(L);
    lua_rawseti(L, -2, UV_ROW);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, UV_INPUT);
    lua_setiuservalue(L, -2, 1);
    lua_pushcclosure(L, reader_next, 1);
    return 1;
}

/* Sets dsgraph.csv in the table on top of the stack. */
void lua_csv_open(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_reader);
    lua_setfield(L, -2, "reader");
    lua_setfield(L, -2, "csv");
}
