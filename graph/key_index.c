/*
 * graph/key_index.c - name key hashes -> node ids (design: key_index.h).
 * An open-addressing table with linear probing; deletions shift later
 * entries back, so there are no tombstones and a probe ends at the first
 * empty slot.
 */
#include "key_index.h"
#include "store_internal.h"   /* gs_cover */

#include <stdlib.h>
#include <string.h>

#define KEY_HASH_TAG 0x80000000u   /* set in every stored hash, so 0 means "no key" */

/* FNV-1a over the key, finished with a 64-bit mixer so the low bits (the home
 * slot) depend on every byte; folded to 32 bits with the tag set. */
uint32_t key_index_hash(const char *key, size_t len) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (uint32_t)h | KEY_HASH_TAG;
}

/* Puts node (whose hash_of is set) into the first free slot of its probe run. */
static void key_place(uint32_t *slot, size_t cap, uint32_t h, uint32_t node) {
    size_t j = h & (cap - 1);
    while (slot[j]) j = (j + 1) & (cap - 1);
    slot[j] = node + 1;
}

/* Doubles the table (or makes the first one); false on OOM. */
static bool key_grow(key_index *k) {
    size_t ncap = k->cap ? k->cap * 2 : 1024;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < k->cap; i++)
        if (k->slot[i]) key_place(ns, ncap, k->hash_of[k->slot[i] - 1], k->slot[i] - 1);
    free(k->slot);
    k->slot = ns;
    k->cap = ncap;
    return true;
}

/* Takes node (stored under hash h) out of the table, shifting back the
 * entries after it that may live closer to their home slot. */
static void key_remove(key_index *k, uint32_t h, uint32_t node) {
    size_t mask = k->cap - 1, i = h & mask;
    while (k->slot[i] != node + 1) {
        if (!k->slot[i]) return;   /* not there: cannot happen while hash_of and slot agree */
        i = (i + 1) & mask;
    }
    k->len--;
    for (;;) {
        k->slot[i] = 0;
        size_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            if (!k->slot[j]) return;
            size_t home = k->hash_of[k->slot[j] - 1] & mask;
            /* the entry at j may move to i unless its home lies cyclically in (i, j] */
            bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!stays) break;
        }
        k->slot[i] = k->slot[j];
        i = j;
    }
}

/* See key_index.h. */
bool key_index_set(key_index *k, uint32_t node, const char *key, size_t len) {
    if (node == UINT32_MAX) return false;
    if (node >= k->nodes_cap) {
        if (!key) return true;   /* never had a key */
        uint32_t *nh = gs_cover(k->hash_of, &k->nodes_cap, node, sizeof *nh);
        if (!nh) return false;
        k->hash_of = nh;
    }
    if (k->hash_of[node]) {
        key_remove(k, k->hash_of[node], node);
        k->hash_of[node] = 0;
    }
    if (!key) return true;
    if ((k->len + 1) * 4 > k->cap * 3 && !key_grow(k)) return false;
    uint32_t h = key_index_hash(key, len);
    k->hash_of[node] = h;
    key_place(k->slot, k->cap, h, node);
    k->len++;
    return true;
}

/* See key_index.h. */
int key_index_find(const key_index *k, const char *key, size_t len, uint32_t *node) {
    if (!k->len) return KEY_INDEX_NONE;
    uint32_t h = key_index_hash(key, len);
    int found = KEY_INDEX_NONE;
    for (size_t j = h & (k->cap - 1); k->slot[j]; j = (j + 1) & (k->cap - 1)) {
        if (k->hash_of[k->slot[j] - 1] != h) continue;
        if (found == KEY_INDEX_ONE) return KEY_INDEX_MANY;
        found = KEY_INDEX_ONE;
        *node = k->slot[j] - 1;
    }
    return found;
}

/* See key_index.h. */
void key_index_clear(key_index *k) {
    if (k->slot) memset(k->slot, 0, k->cap * sizeof *k->slot);
    if (k->hash_of) memset(k->hash_of, 0, k->nodes_cap * sizeof *k->hash_of);
    k->len = 0;
}

/* See key_index.h. */
void key_index_free(key_index *k) {
    free(k->slot);
    free(k->hash_of);
    memset(k, 0, sizeof *k);
}
