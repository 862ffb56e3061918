/* graph/cypher_lex.c - the Cypher tokenizer: identifiers (plain and `quoted`),
 * numbers, strings with escapes, parameters, operators, comments; and the
 * byte offset → line/column mapping used by every error. */
#include "cypher_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

/* Errors carry line and column (columns count characters, not bytes). */
void cy_position(const char *text, int pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (int i = 0; i < pos && text[i]; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            (*line)++;
            *col = 1;
        } else if ((c & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static bool ident_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool ident_char(unsigned char c) { return isalnum(c) || c == '_' || c >= 0x80; }

/* May the non-ASCII character at p start a name? Letters, letter-like numbers
 * and connector punctuation may; dashes, quotes, spaces and symbols (`42 — 41`)
 * may not, and an invalid UTF-8 sequence may not either. */
static bool unicode_ident_start(const char *p)
{
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &cp) < 1)
        return false;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
        return true;
    default:
        return false;
    }
}

/* Appends code point cp as UTF-8. */
static void put_utf8(cy_buf *b, uint32_t cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    cy_buf_add(b, o, n);
}

/* A quoted string starting at s[*i] (the quote); unescapes into the token. */
static int lex_string(cy_q *q, const char *s, size_t *i, cy_tok *t)
{
    char quote = s[*i];
    size_t j = *i + 1;
    cy_buf b = {0};
    for (;;) {
        char c = s[j];
        if (!c) {
            free(b.p);
            return cy_fail(q, t->pos, "SyntaxError", "UnexpectedEndOfInput", "unterminated string literal");
        }
        if (c == quote) {
            j++;
            break;
        }
        if (c != '\\') {
            cy_buf_add(&b, &s[j++], 1);
            continue;
        }
        char e = s[j + 1];
        j += 2;
        switch (e) {
        case '\\': cy_buf_add(&b, "\\", 1); break;
        case '\'': cy_buf_add(&b, "'", 1); break;
        case '"': cy_buf_add(&b, "\"", 1); break;
        case 'b': case 'B': cy_buf_add(&b, "\b", 1); break;
        case 'f': case 'F': cy_buf_add(&b, "\f", 1); break;
        case 'n': case 'N': cy_buf_add(&b, "\n", 1); break;
        case 'r': case 'R': cy_buf_add(&b, "\r", 1); break;
        case 't': case 'T': cy_buf_add(&b, "\t", 1); break;
        case 'u': case 'U': {
            int nd = e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (int k = 0; k < nd; k++) {
                char h = s[j + (size_t)k];
                if (!isxdigit((unsigned char)h)) {
                    free(b.p);
                    return cy_fail(q, (int)j - 2, "SyntaxError", "InvalidUnicodeLiteral",
                                   "invalid unicode escape in string literal");
                }
                cp = cp * 16 + (uint32_t)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
            }
            j += (size_t)nd;
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                free(b.p);
                return cy_fail(q, t->pos, "SyntaxError", "InvalidUnicodeLiteral", "invalid unicode code point");
            }
            put_utf8(&b, cp);
            break;
        }
        default:
            free(b.p);
            return cy_fail(q, (int)j - 2, "SyntaxError", "InvalidEscapeSequence", "invalid escape sequence \\%c", e ? e : ' ');
        }
    }
    t->k = T_STRING;
    t->s = cy_strndup(&q->arena, b.p ? b.p : "", b.len);
    t->slen = b.len;
    free(b.p);
    *i = j;
    return 0;
}

/* Does a name-like word followed by ':' start at p (digits and letters mixed,
 * as in `{1B2c3e67: 1}`, where a map key is expected)? A plain number before
 * ':' (`{1: 2}`) is left to the parser. */
static bool map_key_at(const char *p)
{
    size_t j = 0;
    bool letter = false;
    while (ident_char((unsigned char)p[j]))
        letter |= !isdigit((unsigned char)p[j++]);
    while (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r')
        j++;
    return letter && p[j] == ':';
}

/* Numbers: decimal, 0x hex, 0o octal integers; floats with '.' and/or exponent. */
static int lex_number(cy_q *q, const char *s, size_t *i, cy_tok *t)
{
    size_t j = *i;
    if (s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X' || s[j + 1] == 'o' || s[j + 1] == 'O')) {
        int base = (s[j + 1] == 'x' || s[j + 1] == 'X') ? 16 : 8;
        j += 2;
        size_t start = j;
        while (ident_char((unsigned char)s[j]))
            j++;
        char *end;
        char *digits = cy_strndup(&q->arena, s + start, j - start);
        errno = 0;
        unsigned long long v = strtoull(digits, &end, base);
        if (j == start || *end)
            return cy_fail(q, t->pos, "SyntaxError", "InvalidNumberLiteral", "invalid number literal");
        t->k = T_INT;
        t->int_overflow = errno == ERANGE || v > (unsigned long long)INT64_MAX + 1;
        t->i = v > (unsigned long long)INT64_MAX ? INT64_MIN : (int64_t)v;
        if (v == (unsigned long long)INT64_MAX + 1)
            t->f = 1; /* marks exactly 2^63: valid only after unary minus */
        *i = j;
        return 0;
    }
    bool is_float = false;
    while (isdigit((unsigned char)s[j]))
        j++;
    if (s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
        is_float = true;
        j++;
        while (isdigit((unsigned char)s[j]))
            j++;
    }
    if ((s[j] == 'e' || s[j] == 'E') &&
        (isdigit((unsigned char)s[j + 1]) || ((s[j + 1] == '-' || s[j + 1] == '+') && isdigit((unsigned char)s[j + 2])))) {
        is_float = true;
        j += 2;
        while (isdigit((unsigned char)s[j]))
            j++;
    }
    if (ident_char((unsigned char)s[j]))
        return cy_fail(q, t->pos, "SyntaxError", "InvalidNumberLiteral", "invalid number literal");
    char *txt = cy_strndup(&q->arena, s + *i, j - *i);
    if (is_float) {
        t->k = T_FLOAT;
        t->f = strtod(txt, NULL);
        if (isinf(t->f))
            return cy_fail(q, t->pos, "SyntaxError", "FloatingPointOverflow", "floating point literal is too large");
    } else {
        errno = 0;
        unsigned long long v = strtoull(txt, NULL, 10);
        t->k = T_INT;
        t->int_overflow = errno == ERANGE || v > (unsigned long long)INT64_MAX + 1;
        t->i = v > (unsigned long long)INT64_MAX ? INT64_MIN : (int64_t)v;
        if (!t->int_overflow && v == (unsigned long long)INT64_MAX + 1)
            t->f = 1;
    }
    *i = j;
    return 0;
}

/* Tokenizes all of q->text into an arena array ending with T_EOF. */
int cy_lex(cy_q *q, cy_tok **toks, size_t *ntoks)
{
    const char *s = q->text;
    size_t n = 0, cap = 64, i = 0;
    cy_tok *v = malloc(cap * sizeof *v);
    if (!v)
        abort();
    for (;;) {
        while (s[i]) {   /* white space and comments */
            if (isspace((unsigned char)s[i]))
                i++;
            else if (s[i] == '/' && s[i + 1] == '/') {
                while (s[i] && s[i] != '\n')
                    i++;
            } else if (s[i] == '/' && s[i + 1] == '*') {
                const char *e = strstr(s + i + 2, "*/");
                if (!e) {
                    free(v);
                    return cy_fail(q, (int)i, "SyntaxError", "UnexpectedEndOfInput", "unterminated comment");
                }
                i = (size_t)(e - s) + 2;
            } else
                break;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            cy_tok *nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                abort();
            v = nv;
        }
        cy_tok *t = &v[n];
        memset(t, 0, sizeof *t);
        t->pos = (int)i;
        unsigned char c = (unsigned char)s[i];
        if (!c) {
            t->k = T_EOF;
            t->end = (int)i;
            n++;
            break;
        }
        int rc = 0;
        if (c >= 0x80 && !unicode_ident_start(s + i)) {
            free(v);
            return cy_fail(q, (int)i, "SyntaxError", "InvalidUnicodeCharacter",
                           "this Unicode character is not allowed here (a dash or quote pasted from a document?)");
        }
        if (ident_start(c)) {
            size_t j = i;
            while (ident_char((unsigned char)s[j]))
                j++;
            t->k = T_IDENT;
            t->s = cy_strndup(&q->arena, s + i, j - i);
            t->slen = j - i;
            i = j;
        } else if (c == '`') {
            cy_buf b = {0};
            size_t j = i + 1;
            for (;;) {
                if (!s[j]) {
                    free(b.p);
                    free(v);
                    return cy_fail(q, (int)i, "SyntaxError", "UnexpectedEndOfInput", "unterminated `quoted` identifier");
                }
                if (s[j] == '`' && s[j + 1] == '`') {
                    cy_buf_add(&b, "`", 1);
                    j += 2;
                } else if (s[j] == '`') {
                    j++;
                    break;
                } else
                    cy_buf_add(&b, &s[j++], 1);
            }
            t->k = T_QIDENT;
            t->s = cy_strndup(&q->arena, b.p ? b.p : "", b.len);
            t->slen = b.len;
            free(b.p);
            i = j;
        } else if (isdigit(c) && n > 0 && (v[n - 1].k == T_LBRACE || v[n - 1].k == T_COMMA) && map_key_at(s + i)) {
            free(v);   /* `{1B2c3e67: 1}`: a map key, not a number, and keys cannot start with a digit */
            return cy_fail(q, (int)i, "SyntaxError", "UnexpectedSyntax", "a map key cannot start with a digit");
        } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
            rc = lex_number(q, s, &i, t);
        } else if (c == '\'' || c == '"') {
            rc = lex_string(q, s, &i, t);
        } else if (c == '$') {
            size_t j = i + 1;
            if (s[j] == '`') {
                const char *e = strchr(s + j + 1, '`');
                if (!e) {
                    free(v);
                    return cy_fail(q, (int)i, "SyntaxError", "UnexpectedEndOfInput", "unterminated parameter name");
                }
                t->s = cy_strndup(&q->arena, s + j + 1, (size_t)(e - s) - j - 1);
                i = (size_t)(e - s) + 1;
            } else {
                while (ident_char((unsigned char)s[j]))
                    j++;
                if (j == i + 1) {
                    free(v);
                    return cy_fail(q, (int)i, "SyntaxError", "InvalidParameterName", "'$' must be followed by a parameter name");
                }
                t->s = cy_strndup(&q->arena, s + i + 1, j - i - 1);
                i = j;
            }
            t->k = T_PARAM;
        } else {
            static const struct { const char *op; cy_tok_kind k; } ops[] = {
                {"..", T_DOTDOT}, {"<>", T_NE}, {"!=", T_NE}, {"<=", T_LE}, {">=", T_GE}, {"=~", T_REGEX},
                {"+=", T_PLUSEQ}, {"(", T_LPAREN}, {")", T_RPAREN}, {"[", T_LBRACK}, {"]", T_RBRACK},
                {"{", T_LBRACE}, {"}", T_RBRACE}, {",", T_COMMA}, {".", T_DOT}, {":", T_COLON}, {"|", T_PIPE},
                {";", T_SEMI}, {"+", T_PLUS}, {"-", T_MINUS}, {"*", T_STAR}, {"/", T_SLASH}, {"%", T_PERCENT},
                {"^", T_CARET}, {"=", T_EQ}, {"<", T_LT}, {">", T_GT}};
            size_t k;
            for (k = 0; k < sizeof ops / sizeof ops[0]; k++) {
                size_t l = strlen(ops[k].op);
                if (strncmp(s + i, ops[k].op, l) == 0) {
                    t->k = ops[k].k;
                    i += l;
                    break;
                }
            }
            if (k == sizeof ops / sizeof ops[0]) {
                free(v);
                return cy_fail(q, (int)i, "SyntaxError", "UnexpectedSyntax", "unexpected character '%c'",
                               c >= 0x20 && c < 0x7f ? c : '?');
            }
        }
        if (rc) {
            free(v);
            return -1;
        }
        t->end = (int)i;
        n++;
    }
    *toks = cy_alloc(&q->arena, n * sizeof **toks);
    cy_memcpy(*toks, v, n * sizeof *v);
    *ntoks = n;
    free(v);
    return 0;
}
