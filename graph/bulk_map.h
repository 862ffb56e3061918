/*
 * graph/bulk_map.h - the in-memory hash tables a bulk load resolves identity
 * with, instead of one index probe per row (graph/bulk_load.c):
 *   - bulk_names: string key (label + '\x1f' + name key) -> node id, with
 *     BULK_AMBIGUOUS when two different nodes share a key;
 *   - bulk_rels:  (start, type id, end) -> relationship id;
 *   - bulk_ids:   a set of ids (nodes this load already claimed).
 * Open addressing, linear probing, power-of-two capacities, grown past 5/8 full.
 * Keys are copied into an arena that is freed with the table.
 */
#ifndef DSGRAPH_GRAPH_BULK_MAP_H
#define DSGRAPH_GRAPH_BULK_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BULK_AMBIGUOUS (-1)

typedef struct bulk_arena_block bulk_arena_block;

typedef struct bulk_names {
    struct bulk_name_slot *slots;
    size_t cap, n;
    bulk_arena_block *arena;
} bulk_names;

typedef struct bulk_rels {
    struct bulk_rel_slot *slots;
    size_t cap, n;
} bulk_rels;

typedef struct bulk_ids {
    int64_t *slots;   /* 0 = empty (ids are positive) */
    size_t cap, n;
} bulk_ids;

/* 0 if absent, BULK_AMBIGUOUS, or the node id. */
int64_t bulk_names_get(const bulk_names *m, const char *key, size_t len);
/* Adds key -> id; a different id already there makes the key BULK_AMBIGUOUS. False on OOM. */
bool bulk_names_add(bulk_names *m, const char *key, size_t len, int64_t id);
void bulk_names_free(bulk_names *m);

/* 0 if absent, else the relationship id. */
int64_t bulk_rels_get(const bulk_rels *m, int64_t start, int32_t type, int64_t end);
/* Adds (start, type, end) -> id unless present (the lowest id stays). False on OOM. */
bool bulk_rels_add(bulk_rels *m, int64_t start, int32_t type, int64_t end, int64_t id);
void bulk_rels_free(bulk_rels *m);

/* bulk_memo: for node ids from `base` on (the nodes a load creates), the one
 * row text last found to change nothing on that node (bulk_node_unchanged in
 * bulk_load.c), so that the same row naming the same node again needs no read.
 * The texts live in one arena of at most BULK_MEMO_MAX_BYTES; past that,
 * nothing more is remembered (callers read, as without the memo). */
#define BULK_MEMO_MAX_BYTES ((size_t)16 << 20)

typedef struct bulk_memo {
    int64_t base;     /* id of at[0] */
    uint32_t *at;     /* per id: 1 + the text's offset in arena, 0 = nothing remembered */
    size_t n;
    char *arena;      /* [uint32 length][bytes] per text */
    size_t len, cap;
} bulk_memo;

/* True if text (len bytes) is what is remembered for id. */
bool bulk_memo_has(const bulk_memo *m, int64_t id, const char *text, size_t len);
/* Remembers text for id (ids below base are ignored); does nothing when the arena is full or on OOM. */
void bulk_memo_set(bulk_memo *m, int64_t id, const char *text, size_t len);
/* Forgets what is remembered for id (the node changed). */
void bulk_memo_forget(bulk_memo *m, int64_t id);
void bulk_memo_free(bulk_memo *m);

/* bulk_recent: the props text of the last nodes a load created (at most
 * BULK_RECENT_SLOTS nodes, BULK_RECENT_BYTES of text, oldest overwritten
 * first), kept while the load has a write thread: a row naming a node whose
 * INSERT may still be queued is compared with this text instead of waiting
 * for the thread to write the node and reading it back (bulk_load.c). Sized
 * to cover what the write queue usually holds; a node not here is read back
 * (after a wait when its INSERT is still queued). */
#define BULK_RECENT_SLOTS 32768
#define BULK_RECENT_BYTES ((size_t)8 << 20)

typedef struct bulk_recent {
    struct bulk_recent_slot *slots;   /* by id % BULK_RECENT_SLOTS; NULL until the first put */
    char *buf;                        /* BULK_RECENT_BYTES, used as a ring */
    uint64_t written;                 /* bytes ever put (positions are offsets into this count) */
} bulk_recent;

/* Keeps text for id, replacing the oldest; a text over a quarter of the ring, or no memory, keeps nothing. */
void bulk_recent_put(bulk_recent *r, int64_t id, const char *text, size_t len);
/* The text kept for id (*len bytes), or NULL when none is kept. */
const char *bulk_recent_get(const bulk_recent *r, int64_t id, size_t *len);
/* Forgets id's text (the node changed). */
void bulk_recent_forget(bulk_recent *r, int64_t id);
void bulk_recent_free(bulk_recent *r);

/* True if id is in the set. */
bool bulk_ids_has(const bulk_ids *m, int64_t id);
/* Adds id (> 0). False on OOM. */
bool bulk_ids_add(bulk_ids *m, int64_t id);
void bulk_ids_free(bulk_ids *m);

#endif
