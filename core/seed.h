/*
 * core/seed.h - loads a JSON-lines file of JSON-RPC requests (node.put,
 * rel.put, ...) into a new database, all in one transaction.
 */
#ifndef DSGRAPH_SEED_H
#define DSGRAPH_SEED_H
#include <stddef.h>
#include "store.h"

/* Applies every line of path to store in one transaction. On any error the
 * transaction is rolled back and err says "FILE:LINE: message". Returns the
 * number of requests applied, or -1. */
long seed_apply(graph_store *store, const char *path, char *err, size_t errlen);

#endif
