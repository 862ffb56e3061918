/*
 * graph/cypher.h - openCypher queries over the store (docs/query.md).
 *
 * graph_query() parses, checks and runs one query on a store connection and
 * returns the result as serialised JSON text, because Cypher values include
 * NaN and infinities that jansson cannot hold:
 *   {"columns":[...],"rows":[[...],...],"stats":{"nodes_created":N,...}}
 * A query that writes must run inside a transaction the caller controls
 * (graph_store_begin) or graph_query opens one itself; on any error nothing
 * the query did remains (the caller rolls back, or graph_query does).
 */
#ifndef DSGRAPH_GRAPH_CYPHER_H
#define DSGRAPH_GRAPH_CYPHER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"

/* Limits of one query; 0 means "no limit". */
typedef struct graph_query_limits {
    int64_t timeout_ms;   /* wall-clock time */
    int64_t max_rows;     /* rows of any intermediate or final result */
    int64_t max_memory;   /* bytes of the query's working memory (0: CY_MAX_MEMORY, 1 GiB) */
} graph_query_limits;

/* A failed query: the openCypher error class and TCK detail code. */
typedef struct graph_query_error {
    char type[32];        /* SyntaxError, SemanticError, TypeError, ArgumentError,
                           * EntityNotFound, ConstraintVerificationFailed, LimitExceeded,
                           * InternalError */
    char code[48];        /* UndefinedVariable, ... or "" */
    char phase[8];        /* "compile" or "runtime" */
    char message[512];
    int line, column;     /* 1-based position in the query text; 0 when unknown */
    gs_status status;     /* the store status behind the error (GS_INVALID for query errors,
                           * GS_LIMIT for limits, GS_READONLY, GS_IO, ...) */
} graph_query_error;

/* Runs text with params (NULL or a JSON object). On success *result_json is
 * malloc'd JSON text and GS_OK is returned; otherwise err is filled. */
gs_status graph_query(graph_store *s, const char *text, json_t *params, const graph_query_limits *limits,
                      char **result_json, graph_query_error *err);

/* True when text may write (CREATE, MERGE, SET, REMOVE, DELETE outside strings and
 * comments): such a query needs the writer connection and write permission. */
bool graph_query_writes(const char *text);

/* How often this connection found a query's compiled plan in its cache (a
 * repeated text whose $parameters are all given) and how often it compiled. */
void graph_query_cache_counts(graph_store *s, uint64_t *hits, uint64_t *misses);

#endif
