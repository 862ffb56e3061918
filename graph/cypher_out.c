/* graph/cypher_out.c - the result encoding of the contract: JSON text with
 * floats as %.17g (".0" added when needed), NaN/Infinity/-Infinity as bare
 * tokens, entities as {"$node":..}, {"$rel":..}, {"$path":[..]}. */
#include "cypher_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON string escaping; the text is UTF-8 already and is kept as is. */
void cy_out_string(cy_buf *b, const char *s, size_t n)
{
    cy_buf_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cy_buf_add(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': cy_buf_puts(b, "\\\""); break;
        case '\\': cy_buf_puts(b, "\\\\"); break;
        case '\n': cy_buf_puts(b, "\\n"); break;
        case '\r': cy_buf_puts(b, "\\r"); break;
        case '\t': cy_buf_puts(b, "\\t"); break;
        case '\b': cy_buf_puts(b, "\\b"); break;
        case '\f': cy_buf_puts(b, "\\f"); break;
        default: cy_buf_printf(b, "\\u%04x", c); break;
        }
    }
    cy_buf_add(b, s + run, n - run);
    cy_buf_add(b, "\"", 1);
}

/* Floats of the contract: %.17g plus ".0" when needed; NaN/Infinity as bare tokens. */
void cy_out_float(cy_buf *b, double f)
{
    if (isnan(f)) {
        cy_buf_puts(b, "NaN");
        return;
    }
    if (isinf(f)) {
        cy_buf_puts(b, f > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.17g", f);
    cy_buf_puts(b, tmp);
    if (!strpbrk(tmp, ".eE"))
        cy_buf_puts(b, ".0");
}

/* Stored props text of an entity (canonical JSON, whose reals already have the output
 * encoding) is copied as is, unless it may hold a temporal value's stored form
 * ({"$date": ...}): then it is read and written as values, so that a date prints as
 * its ISO text here too. */
int cy_out_props_text(cy_q *q, cy_buf *b, const char *text, size_t len)
{
    if (!memmem(text, len, "{\"$", 3)) {
        cy_buf_add(b, text, len);
        return 0;
    }
    json_error_t jerr;
    json_t *j = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return cy_rt(q, -1, "InternalError", "", "corrupt stored properties (%s)", jerr.text);
    }
    cy_value v = cy_from_json(&q->arena, j);
    json_decref(j);
    return cy_out_value(q, b, &v);
}

/* A node entity, read from the store at output time. */
static int out_node(cy_q *q, cy_buf *b, int64_t id)
{
    cy_buf_printf(b, "{\"$node\":{\"id\":%lld", (long long)id);
    if (cy_out_node_body(q, id, b))
        return -1;
    cy_buf_puts(b, "}}");
    return 0;
}

/* A relationship entity; its props are read from the store. */
static int out_rel(cy_q *q, cy_buf *b, const cy_rel *r)
{
    cy_buf_printf(b, "{\"$rel\":{\"id\":%lld,\"type\":", (long long)r->id);
    cy_out_string(b, r->type, strlen(r->type));
    cy_buf_printf(b, ",\"start\":%lld,\"end\":%lld,\"properties\":", (long long)r->start, (long long)r->end);
    if (cy_out_rel_props(q, r->id, b))
        return -1;
    cy_buf_puts(b, "}}");
    return 0;
}

/* Serialises any value (recursively) in the result encoding. */
int cy_out_value(cy_q *q, cy_buf *b, const cy_value *v)
{
    switch (v->t) {
    case CV_NULL: cy_buf_puts(b, "null"); return 0;
    case CV_BOOL: cy_buf_puts(b, v->u.b ? "true" : "false"); return 0;
    case CV_INT: cy_buf_printf(b, "%lld", (long long)v->u.i); return 0;
    case CV_FLOAT: cy_out_float(b, v->u.f); return 0;
    case CV_STR: cy_out_string(b, v->u.s.p, v->u.s.len); return 0;
    case CV_TEMPORAL: {
        /* the contract has no temporal type: its ISO text, as the TCK expects */
        cy_buf t = {0};
        cy_temporal_text(&t, v->u.tm);
        cy_out_string(b, t.p, t.len);
        free(t.p);
        return 0;
    }
    case CV_LIST:
        cy_buf_puts(b, "[");
        for (size_t i = 0; i < v->u.l->n; i++) {
            if (i)
                cy_buf_puts(b, ",");
            if (cy_out_value(q, b, &v->u.l->v[i]))
                return -1;
        }
        cy_buf_puts(b, "]");
        return 0;
    case CV_MAP:
        cy_buf_puts(b, "{");
        for (size_t i = 0; i < v->u.m->n; i++) {
            if (i)
                cy_buf_puts(b, ",");
            cy_out_string(b, v->u.m->k[i], strlen(v->u.m->k[i]));
            cy_buf_puts(b, ":");
            if (cy_out_value(q, b, &v->u.m->v[i]))
                return -1;
        }
        cy_buf_puts(b, "}");
        return 0;
    case CV_NODE: return out_node(q, b, v->u.node);
    case CV_REL: return out_rel(q, b, v->u.rel);
    case CV_PATH:
        cy_buf_puts(b, "{\"$path\":[");
        for (size_t i = 0; i <= v->u.path->nrels; i++) {
            if (i) {
                cy_buf_puts(b, ",");
                if (out_rel(q, b, &v->u.path->rels[i - 1]))
                    return -1;
                cy_buf_puts(b, ",");
            }
            if (out_node(q, b, v->u.path->nodes[i]))
                return -1;
        }
        cy_buf_puts(b, "]}");
        return 0;
    }
    return 0;
}
