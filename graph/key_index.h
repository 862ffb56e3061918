/*
 * graph/key_index.h - which node ids have a given name key (nodes.name_key),
 * in memory, for the adjacency index (adjacency.h) to answer reader lookups by
 * name without a descent of the nodes_name_key B-tree. Internal to graph/.
 *
 * It keeps 32-bit hashes, not the keys: a lookup says which node (if any) has
 * a key with the same hash, and the caller compares that node's stored key.
 * Invariant: every node with a name key is in it, under its key's hash; so
 * when exactly one node has the hash and its stored key is the key, no other
 * node has that key. Two nodes sharing a hash (a collision, or two nodes with
 * one name) make a lookup answer KEY_INDEX_MANY: ask SQLite.
 *
 * Memory: 4 bytes per slot (load at most 3/4) plus 4 bytes per node id, so
 * about 12 MiB at a million named nodes. Not thread-safe: the adjacency
 * index's lock guards it.
 */
#ifndef DSGRAPH_KEY_INDEX_H
#define DSGRAPH_KEY_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct key_index {
    uint32_t *slot;      /* 0: empty; else node id + 1; linear probing from hash & (cap - 1) */
    size_t cap, len;
    uint32_t *hash_of;   /* node id -> 0 (no key) or the hash of its key (top bit always set) */
    size_t nodes_cap;
} key_index;

#define KEY_INDEX_NONE 0   /* no node has a key with this hash: none has the key */
#define KEY_INDEX_ONE 1    /* exactly one node (*node) has a key with this hash */
#define KEY_INDEX_MANY 2   /* several do: the index cannot tell */

/* The hash a key is kept under (top bit set); exposed for tests that need
 * two keys sharing one. */
uint32_t key_index_hash(const char *key, size_t len);
/* Sets node's key (key NULL: it has none, or is gone); false on OOM, with the
 * index then missing this node (the caller must stop trusting it). Node ids
 * must be below UINT32_MAX. */
bool key_index_set(key_index *k, uint32_t node, const char *key, size_t len);
/* Which node has key; see KEY_INDEX_*. */
int key_index_find(const key_index *k, const char *key, size_t len, uint32_t *node);
/* Forgets every node (keeps the memory for a rebuild). */
void key_index_clear(key_index *k);
void key_index_free(key_index *k);

#endif
