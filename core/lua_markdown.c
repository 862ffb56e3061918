/*
 * core/lua_markdown.c - dsgraph.markdown.parse(text): CommonMark + GFM tables
 * (md4c) as a Lua tree, so importers walk headings, lists and tables instead
 * of matching lines with patterns.
 *
 *   {type="document", line=1, text=..., children={block...}}
 *   block: heading{level}, paragraph, list{ordered, start, tight, items={item...}},
 *          item{task, checked} (children: inline nodes and nested blocks),
 *          table{header={cell...}, rows={{cell...}...}}, cell{align},
 *          blockquote, code_block{lang, info}, html, hr
 *   inline: text, strong, em, code, link{href, title}, image{src, title}, del
 * Every node has `text`, its plain text (an item's text leaves out its nested
 * lists; blocks are joined by "\n"), and every block node has `line`, the
 * 1-based source line where it starts. md4c gives no positions, but the text
 * it passes points into the source buffer: a block's line is the line of its
 * first text; a thematic break (no text) is found by scanning forward.
 */
#include "lua_dsgraph_internal.h"

#include <lauxlib.h>
#include <md4c.h>
#include <stdlib.h>
#include <string.h>

#define MD_MAX_DEPTH 128

typedef struct md_frame {
    int is_span;
    int type;          /* MD_BLOCKTYPE or MD_SPANTYPE */
    int base;          /* stack index of the node; base+1 children, base+2 text parts */
    int nchildren;
    int nparts;
    long line;
    int last_is_text;  /* the last child is a text node that may be extended */
} md_frame;

typedef struct md_state {
    lua_State *L;
    const char *buf;
    size_t size;
    const size_t *line_starts; /* offsets where each line starts */
    long nlines;
    size_t last_off;           /* offset of the latest text seen */
    int seen_text;
    int depth;
    int thead;                 /* inside a table header */
    const char *error;         /* set when a callback aborts the parse */
    md_frame frames[MD_MAX_DEPTH];
} md_state;

/* Line number (1-based) of a byte offset, by binary search over line starts. */
static long line_of(const md_state *st, size_t off) {
    long lo = 0, hi = st->nlines - 1;
    while (lo < hi) {
        long mid = (lo + hi + 1) / 2;
        if (st->line_starts[mid] <= off) lo = mid;
        else hi = mid - 1;
    }
    return lo + 1;
}

/* True if line (1-based) is a thematic break: up to 3 spaces, then 3+ of one of - * _. */
static int is_hr_line(const md_state *st, long line) {
    size_t p = st->line_starts[line - 1];
    size_t end = line < st->nlines ? st->line_starts[line] : st->size;
    int spaces = 0, count = 0;
    char mark = 0;
    while (p < end && st->buf[p] == ' ' && spaces < 4) p++, spaces++;
    if (spaces > 3) return 0;
    for (; p < end; p++) {
        char c = st->buf[p];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        if (c != '-' && c != '*' && c != '_') return 0;
        if (mark && c != mark) return 0;
        mark = c;
        count++;
    }
    return count >= 3;
}

/* The line a block without text of its own starts on: the next line after the latest text. */
static long fallback_line(const md_state *st, int hr) {
    long from = st->seen_text ? line_of(st, st->last_off) + 1 : 1;
    if (hr)
        for (long l = from; l <= st->nlines; l++)
            if (is_hr_line(st, l)) return l;
    return from <= st->nlines ? from : st->nlines;
}

/* Name of a block type as the tree shows it. */
static const char *block_name(MD_BLOCKTYPE t) {
    switch (t) {
    case MD_BLOCK_DOC: return "document";
    case MD_BLOCK_QUOTE: return "blockquote";
    case MD_BLOCK_UL:
    case MD_BLOCK_OL: return "list";
    case MD_BLOCK_LI: return "item";
    case MD_BLOCK_HR: return "hr";
    case MD_BLOCK_H: return "heading";
    case MD_BLOCK_CODE: return "code_block";
    case MD_BLOCK_HTML: return "html";
    case MD_BLOCK_P: return "paragraph";
    case MD_BLOCK_TABLE: return "table";
    case MD_BLOCK_THEAD: return "thead";
    case MD_BLOCK_TBODY: return "tbody";
    case MD_BLOCK_TR: return "row";
    case MD_BLOCK_TH:
    case MD_BLOCK_TD: return "cell";
    }
    return "block";
}

/* Name of a span type as the tree shows it. */
static const char *span_name(MD_SPANTYPE t) {
    switch (t) {
    case MD_SPAN_EM: return "em";
    case MD_SPAN_STRONG: return "strong";
    case MD_SPAN_A: return "link";
    case MD_SPAN_IMG: return "image";
    case MD_SPAN_CODE: return "code";
    case MD_SPAN_DEL: return "del";
    case MD_SPAN_U: return "underline";
    default: return "span";
    }
}

/* Sets node[field] to an md4c attribute's raw text. */
static void set_attr(lua_State *L, int node, const char *field, const MD_ATTRIBUTE *a) {
    if (!a || !a->text) return;
    lua_pushlstring(L, a->text, a->size);
    lua_setfield(L, node, field);
}

/* Opens a frame: pushes node, children and text-parts tables. Returns non-zero to abort. */
static int push_frame(md_state *st, int is_span, int type, const char *name) {
    lua_State *L = st->L;
    if (st->depth >= MD_MAX_DEPTH) {
        st->error = "markdown nested too deeply";
        return 1;
    }
    if (!lua_checkstack(L, 8)) {
        st->error = "Lua stack exhausted";
        return 1;
    }
    md_frame *f = &st->frames[st->depth++];
    memset(f, 0, sizeof *f);
    f->is_span = is_span;
    f->type = type;
    lua_newtable(L);
    f->base = lua_gettop(L);
    lua_pushstring(L, name);
    lua_setfield(L, f->base, "type");
    lua_newtable(L);
    lua_dsgraph_marklist(L, -1);
    lua_newtable(L);
    return 0;
}

/* Appends the string on top of the stack to frame f's text parts (pops it). */
static void add_part(md_state *st, md_frame *f) {
    lua_rawseti(st->L, f->base + 2, ++f->nparts);
}

/* Appends text to the innermost frame: to its plain text and to a text child node. */
static void add_text(md_state *st, const char *s, size_t n) {
    lua_State *L = st->L;
    md_frame *f = &st->frames[st->depth - 1];
    lua_pushlstring(L, s, n);
    lua_pushvalue(L, -1);
    add_part(st, f);
    if (f->last_is_text) {
        lua_rawgeti(L, f->base + 1, f->nchildren);
        lua_getfield(L, -1, "text");
        lua_rotate(L, -3, -1);            /* node, old, new */
        lua_concat(L, 2);
        lua_setfield(L, -2, "text");
        lua_pop(L, 1);
        return;
    }
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "text");
    lua_setfield(L, -2, "type");
    lua_rotate(L, -2, 1);
    lua_setfield(L, -2, "text");
    lua_rawseti(L, f->base + 1, ++f->nchildren);
    f->last_is_text = 1;
}

/* Concatenates frame f's text parts into one string on top of the stack. */
static void frame_text(md_state *st, md_frame *f) {
    lua_State *L = st->L;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= f->nparts; i++) {
        lua_rawgeti(L, f->base + 2, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
}

/* Closes the innermost frame and hands its node to the parent (or keeps the document). */
static int pop_frame(md_state *st) {
    lua_State *L = st->L;
    md_frame *f = &st->frames[st->depth - 1];
    md_frame *parent = st->depth > 1 ? &st->frames[st->depth - 2] : NULL;
    int node = f->base;
    if (!f->is_span) {
        if (f->line == 0) f->line = f->type == MD_BLOCK_DOC ? 1 : fallback_line(st, f->type == MD_BLOCK_HR);
        lua_pushinteger(L, f->line);
        lua_setfield(L, node, "line");
    }
    const char *kids = f->type == MD_BLOCK_UL || f->type == MD_BLOCK_OL ? "items" : "children";
    if (f->is_span || (f->type != MD_BLOCK_TR && f->type != MD_BLOCK_THEAD && f->type != MD_BLOCK_TBODY &&
                       f->type != MD_BLOCK_TABLE && f->type != MD_BLOCK_HR)) {
        lua_pushvalue(L, node + 1);
        lua_setfield(L, node, kids);
    }
    frame_text(st, f);
    int text = lua_gettop(L);
    lua_pushvalue(L, text);
    lua_setfield(L, node, "text");
    if (parent && !f->is_span && f->type == MD_BLOCK_TR) {
        /* a row: the header or one more body row of the table two frames up */
        md_frame *table = st->depth > 2 ? &st->frames[st->depth - 3] : NULL;
        if (table) {
            if (st->thead) {
                lua_pushvalue(L, node + 1);
                lua_setfield(L, table->base, "header");
            } else {
                lua_getfield(L, table->base, "rows");
                lua_pushvalue(L, node + 1);
                lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
                lua_pop(L, 1);
            }
            if (table->nparts) {
                lua_pushliteral(L, "\n");
                add_part(st, table);
            }
            lua_pushvalue(L, text);
            add_part(st, table);
        }
    } else if (parent && (f->type == MD_BLOCK_THEAD || f->type == MD_BLOCK_TBODY) && !f->is_span) {
        /* transparent: rows were handed to the table directly */
    } else if (parent) {
        lua_pushvalue(L, node);
        lua_rawseti(L, parent->base + 1, ++parent->nchildren);
        parent->last_is_text = 0;
        int nested_list = parent->type == MD_BLOCK_LI && !parent->is_span &&
                          (f->type == MD_BLOCK_UL || f->type == MD_BLOCK_OL) && !f->is_span;
        if (!nested_list) {
            if (!f->is_span && parent->nparts) {
                lua_pushstring(L, parent->type == MD_BLOCK_TR ? "\t" : "\n");
                add_part(st, parent);
            }
            lua_pushvalue(L, text);
            add_part(st, parent);
        }
    }
    lua_pop(L, 1); /* text */
    st->depth--;
    if (st->depth > 0) lua_settop(L, node - 1);
    else lua_settop(L, node); /* the document stays */
    return 0;
}

/* md4c: a block starts. */
static int on_enter_block(MD_BLOCKTYPE type, void *detail, void *ud) {
    md_state *st = ud;
    lua_State *L = st->L;
    if (push_frame(st, 0, type, block_name(type))) return 1;
    md_frame *f = &st->frames[st->depth - 1];
    switch (type) {
    case MD_BLOCK_H:
        lua_pushinteger(L, ((MD_BLOCK_H_DETAIL *)detail)->level);
        lua_setfield(L, f->base, "level");
        break;
    case MD_BLOCK_UL:
        lua_pushboolean(L, 0);
        lua_setfield(L, f->base, "ordered");
        lua_pushboolean(L, ((MD_BLOCK_UL_DETAIL *)detail)->is_tight);
        lua_setfield(L, f->base, "tight");
        break;
    case MD_BLOCK_OL:
        lua_pushboolean(L, 1);
        lua_setfield(L, f->base, "ordered");
        lua_pushinteger(L, ((MD_BLOCK_OL_DETAIL *)detail)->start);
        lua_setfield(L, f->base, "start");
        lua_pushboolean(L, ((MD_BLOCK_OL_DETAIL *)detail)->is_tight);
        lua_setfield(L, f->base, "tight");
        break;
    case MD_BLOCK_LI: {
        MD_BLOCK_LI_DETAIL *d = detail;
        if (d->is_task) {
            lua_pushboolean(L, 1);
            lua_setfield(L, f->base, "task");
            lua_pushboolean(L, d->task_mark == 'x' || d->task_mark == 'X');
            lua_setfield(L, f->base, "checked");
        }
        break;
    }
    case MD_BLOCK_CODE: {
        MD_BLOCK_CODE_DETAIL *d = detail;
        set_attr(L, f->base, "info", &d->info);
        set_attr(L, f->base, "lang", &d->lang);
        if (d->fence_char) f->line = -1; /* starts one line before its first text */
        break;
    }
    case MD_BLOCK_TABLE:
        lua_newtable(L);
        lua_dsgraph_marklist(L, -1);
        lua_setfield(L, f->base, "rows");
        lua_newtable(L);
        lua_dsgraph_marklist(L, -1);
        lua_setfield(L, f->base, "header");
        break;
    case MD_BLOCK_THEAD:
        st->thead = 1;
        break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD: {
        static const char *aligns[] = {"default", "left", "center", "right"};
        MD_ALIGN a = ((MD_BLOCK_TD_DETAIL *)detail)->align;
        lua_pushstring(L, (unsigned)a < 4 ? aligns[a] : "default");
        lua_setfield(L, f->base, "align");
        break;
    }
    default:
        break;
    }
    return 0;
}

/* md4c: a block ends. */
static int on_leave_block(MD_BLOCKTYPE type, void *detail, void *ud) {
    md_state *st = ud;
    md_frame *f = &st->frames[st->depth - 1];
    if (f->line < 0) f->line = 0; /* an empty fenced block */
    if (type == MD_BLOCK_THEAD) st->thead = 0;
    return pop_frame(st);
}

/* md4c: a span starts. */
static int on_enter_span(MD_SPANTYPE type, void *detail, void *ud) {
    md_state *st = ud;
    lua_State *L = st->L;
    if (push_frame(st, 1, type, span_name(type))) return 1;
    md_frame *f = &st->frames[st->depth - 1];
    if (type == MD_SPAN_A) {
        set_attr(L, f->base, "href", &((MD_SPAN_A_DETAIL *)detail)->href);
        set_attr(L, f->base, "title", &((MD_SPAN_A_DETAIL *)detail)->title);
    } else if (type == MD_SPAN_IMG) {
        set_attr(L, f->base, "src", &((MD_SPAN_IMG_DETAIL *)detail)->src);
        set_attr(L, f->base, "title", &((MD_SPAN_IMG_DETAIL *)detail)->title);
    }
    return 0;
}

/* md4c: a span ends. */
static int on_leave_span(MD_SPANTYPE type, void *detail, void *ud) {
    return pop_frame(ud);
}

/* Decodes an entity md4c passes through ("&amp;", "&#20013;") into UTF-8; 0 if unknown. */
static size_t decode_entity(const char *s, size_t n, char out[8]) {
    static const struct { const char *name; const char *utf8; } named[] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&nbsp;", "\xC2\xA0"},
    };
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (n == strlen(named[i].name) && memcmp(s, named[i].name, n) == 0) {
            strcpy(out, named[i].utf8);
            return strlen(out);
        }
    if (n < 4 || n > 12 || s[1] != '#') return 0;
    char num[16];
    memcpy(num, s + 2, n - 3);
    num[n - 3] = '\0';
    int hex = num[0] == 'x' || num[0] == 'X';
    char *end;
    unsigned long cp = strtoul(num + hex, &end, hex ? 16 : 10);
    if (*end || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* md4c: text. Gives lines to the frames that have none yet, then adds the text. */
static int on_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size, void *ud) {
    md_state *st = ud;
    if (text >= st->buf && text < st->buf + st->size) {
        size_t off = (size_t)(text - st->buf);
        long line = line_of(st, off);
        for (int i = st->depth - 1; i >= 0; i--) {
            md_frame *f = &st->frames[i];
            if (f->is_span) continue;
            if (f->line < 0) f->line = line > 1 ? line - 1 : 1;
            else if (f->line == 0) f->line = line;
            else break;
        }
        st->last_off = off;
        st->seen_text = 1;
    }
    switch (type) {
    case MD_TEXT_NULLCHAR:
        add_text(st, "\xEF\xBF\xBD", 3);
        break;
    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
        add_text(st, "\n", 1);
        break;
    case MD_TEXT_ENTITY: {
        char out[8];
        size_t n = decode_entity(text, size, out);
        if (n) add_text(st, out, n);
        else add_text(st, text, size);
        break;
    }
    default:
        add_text(st, text, size);
        break;
    }
    return 0;
}

/* dsgraph.markdown.parse(text): the tree described at the top of this file. */
static int l_parse(lua_State *L) {
    size_t size;
    const char *buf = luaL_checklstring(L, 1, &size);
    if (size > 0xFFFFFFF0u) return luaL_error(L, "dsgraph.markdown.parse: text too large");
    lua_settop(L, 1);
    long nlines = 1;
    for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + size - p))) != NULL; p++) nlines++;
    /* both buffers are userdata, so a Lua error can't leak them */
    size_t *starts = lua_newuserdatauv(L, sizeof(size_t) * (size_t)nlines, 0);
    long i = 0;
    starts[i++] = 0;
    for (size_t o = 0; o < size; o++)
        if (buf[o] == '\n' && i < nlines) starts[i++] = o + 1;
    md_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    st->L = L;
    st->buf = buf;
    st->size = size;
    st->line_starts = starts;
    st->nlines = nlines;
    int top = lua_gettop(L);
    MD_PARSER parser = {
        .abi_version = 0,
        .flags = MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_TASKLISTS | MD_FLAG_PERMISSIVEWWWAUTOLINKS |
                 MD_FLAG_PERMISSIVEURLAUTOLINKS,
        .enter_block = on_enter_block,
        .leave_block = on_leave_block,
        .enter_span = on_enter_span,
        .leave_span = on_leave_span,
        .text = on_text,
    };
    int rc = md_parse(buf, (MD_SIZE)size, &parser, st);
    if (rc != 0 || st->depth != 0 || lua_gettop(L) != top + 1) {
        const char *why = st->error ? st->error : "parser failed";
        return luaL_error(L, "dsgraph.markdown.parse: %s", why);
    }
    return 1;
}

/* Sets dsgraph.markdown in the table on top of the stack. */
void lua_md_open(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_parse);
    lua_setfield(L, -2, "parse");
    lua_setfield(L, -2, "markdown");
}
