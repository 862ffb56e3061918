/*
 * graph/bulk_map.c - hash tables for bulk loads (see bulk_map.h).
 */
#include "bulk_map.h"

#include <stdlib.h>
#include <string.h>

#define BULK_ARENA_BLOCK (1u << 20)
/* A table grows (doubles) past 5/8 full. At 1/2, an HF import's 1,064,922 names
 * crossed 2^20 and took 4M slots (128 MiB, and 192 MiB while growing); at 5/8
 * they fit in 2M (64 MiB), and a probe still reads ~2 slots, next to each other. */
#define BULK_MAP_FULL(n, cap) ((size_t)(n) * 8 > (size_t)(cap) * 5)

struct bulk_arena_block {
    bulk_arena_block *next;
    size_t used, cap;
    char data[];
};

struct bulk_name_slot {
    uint64_t hash;       /* 0 = empty slot */
    const char *key;     /* in the arena, not NUL-terminated */
    uint32_t len;
    int64_t id;
};

struct bulk_rel_slot {
    int64_t start, end, id;   /* id 0 = empty slot */
    int32_t type;
};

/* FNV-1a over the key, never 0 (0 marks an empty slot). */
static uint64_t bulk_hash_str(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

/* A 64-bit mixer (splitmix64's finaliser) for integer keys. */
static uint64_t bulk_mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Copies a key into the arena; NULL on OOM. */
static const char *bulk_arena_copy(bulk_arena_block **arena, const char *s, size_t n) {
    bulk_arena_block *b = *arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BULK_ARENA_BLOCK ? n : BULK_ARENA_BLOCK;
        bulk_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        *arena = b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    b->used += n;
    return p;
}

/* Finds the slot of key, or the empty slot where it would go. */
static struct bulk_name_slot *bulk_names_slot(struct bulk_name_slot *slots, size_t cap, uint64_t h, const char *key,
                                              size_t len) {
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        struct bulk_name_slot *sl = &slots[i];
        if (sl->hash == 0 || (sl->hash == h && sl->len == len && memcmp(sl->key, key, len) == 0)) return sl;
        i = (i + 1) & (cap - 1);
    }
}

/* Doubles the table (or makes the first one). */
static bool bulk_names_grow(bulk_names *m) {
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    struct bulk_name_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < m->cap; i++) {
        struct bulk_name_slot *o = &m->slots[i];
        if (o->hash) *bulk_names_slot(ns, ncap, o->hash, o->key, o->len) = *o;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return true;
}

/* See bulk_map.h. */
int64_t bulk_names_get(const bulk_names *m, const char *key, size_t len) {
    if (!m->cap) return 0;
    struct bulk_name_slot *sl = bulk_names_slot(m->slots, m->cap, bulk_hash_str(key, len), key, len);
    return sl->hash ? sl->id : 0;
}

/* See bulk_map.h; keys are copied into the arena. */
bool bulk_names_add(bulk_names *m, const char *key, size_t len, int64_t id) {
    if (BULK_MAP_FULL(m->n + 1, m->cap) && !bulk_names_grow(m)) return false;
    uint64_t h = bulk_hash_str(key, len);
    struct bulk_name_slot *sl = bulk_names_slot(m->slots, m->cap, h, key, len);
    if (sl->hash) {
        if (sl->id != id) sl->id = BULK_AMBIGUOUS;
        return true;
    }
    const char *k = bulk_arena_copy(&m->arena, key, len);
    if (!k) return false;
    *sl = (struct bulk_name_slot){.hash = h, .key = k, .len = (uint32_t)len, .id = id};
    m->n++;
    return true;
}

/* Frees the slots and the arena. */
void bulk_names_free(bulk_names *m) {
    free(m->slots);
    while (m->arena) {
        bulk_arena_block *next = m->arena->next;
        free(m->arena);
        m->arena = next;
    }
    memset(m, 0, sizeof *m);
}

/* Hash of a relationship's identity triple. */
static uint64_t bulk_rel_hash(int64_t start, int32_t type, int64_t end) {
    return bulk_mix((uint64_t)start * 0x9e3779b97f4a7c15ull ^ bulk_mix((uint64_t)end) ^ (uint64_t)(uint32_t)type);
}

/* Finds the slot of the triple, or the empty slot where it would go. */
static struct bulk_rel_slot *bulk_rels_slot(struct bulk_rel_slot *slots, size_t cap, int64_t start, int32_t type,
                                            int64_t end) {
    size_t i = (size_t)bulk_rel_hash(start, type, end) & (cap - 1);
    for (;;) {
        struct bulk_rel_slot *sl = &slots[i];
        if (sl->id == 0 || (sl->start == start && sl->end == end && sl->type == type)) return sl;
        i = (i + 1) & (cap - 1);
    }
}

/* See bulk_map.h. */
int64_t bulk_rels_get(const bulk_rels *m, int64_t start, int32_t type, int64_t end) {
    if (!m->cap) return 0;
    return bulk_rels_slot(m->slots, m->cap, start, type, end)->id;
}

/* See bulk_map.h; grows the table past 5/8 full. */
bool bulk_rels_add(bulk_rels *m, int64_t start, int32_t type, int64_t end, int64_t id) {
    if (BULK_MAP_FULL(m->n + 1, m->cap)) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        struct bulk_rel_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns) return false;
        for (size_t i = 0; i < m->cap; i++) {
            struct bulk_rel_slot *o = &m->slots[i];
            if (o->id) *bulk_rels_slot(ns, ncap, o->start, o->type, o->end) = *o;
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    struct bulk_rel_slot *sl = bulk_rels_slot(m->slots, m->cap, start, type, end);
    if (sl->id) return true;
    *sl = (struct bulk_rel_slot){.start = start, .end = end, .id = id, .type = type};
    m->n++;
    return true;
}

/* Frees the slots. */
void bulk_rels_free(bulk_rels *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* Finds id's slot, or the empty slot where it would go. */
static int64_t *bulk_ids_slot(int64_t *slots, size_t cap, int64_t id) {
    size_t i = (size_t)bulk_mix((uint64_t)id) & (cap - 1);
    while (slots[i] != 0 && slots[i] != id) i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* See bulk_map.h. */
bool bulk_ids_has(const bulk_ids *m, int64_t id) {
    return m->cap && *bulk_ids_slot(m->slots, m->cap, id) == id;
}

/* See bulk_map.h; grows the table past 5/8 full. */
bool bulk_ids_add(bulk_ids *m, int64_t id) {
    if (BULK_MAP_FULL(m->n + 1, m->cap)) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        int64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) return false;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i]) *bulk_ids_slot(ns, ncap, m->slots[i]) = m->slots[i];
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    int64_t *sl = bulk_ids_slot(m->slots, m->cap, id);
    if (*sl != id) {
        *sl = id;
        m->n++;
    }
    return true;
}

/* Frees the slots. */
void bulk_ids_free(bulk_ids *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* See bulk_map.h. */
bool bulk_memo_has(const bulk_memo *m, int64_t id, const char *text, size_t len) {
    if (id < m->base || (uint64_t)(id - m->base) >= m->n || m->at[id - m->base] == 0) return false;
    const char *p = m->arena + m->at[id - m->base] - 1;
    uint32_t n;
    memcpy(&n, p, sizeof n);
    return n == len && memcmp(p + sizeof n, text, len) == 0;
}

/* See bulk_map.h; the per-id array grows to cover id, the arena up to its cap. */
void bulk_memo_set(bulk_memo *m, int64_t id, const char *text, size_t len) {
    if (id < m->base || len > UINT32_MAX) return;
    size_t i = (size_t)(id - m->base), need = m->len + sizeof(uint32_t) + len;
    if (need > BULK_MEMO_MAX_BYTES) return;
    if (i >= m->n) {
        size_t nn = m->n ? m->n : 1024;
        while (nn <= i) nn *= 2;
        uint32_t *na = realloc(m->at, nn * sizeof *na);
        if (!na) return;
        memset(na + m->n, 0, (nn - m->n) * sizeof *na);
        m->at = na;
        m->n = nn;
    }
    if (need > m->cap) {
        size_t nc = m->cap ? m->cap : 4096;
        while (nc < need) nc *= 2;
        char *np = realloc(m->arena, nc);
        if (!np) return;
        m->arena = np;
        m->cap = nc;
    }
    uint32_t n32 = (uint32_t)len;
    memcpy(m->arena + m->len, &n32, sizeof n32);
    memcpy(m->arena + m->len + sizeof n32, text, len);
    m->at[i] = (uint32_t)m->len + 1;
    m->len = need;
}

/* See bulk_map.h. */
void bulk_memo_forget(bulk_memo *m, int64_t id) {
    if (id >= m->base && (uint64_t)(id - m->base) < m->n) m->at[id - m->base] = 0;
}

/* Frees the array and the arena. */
void bulk_memo_free(bulk_memo *m) {
    free(m->at);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

struct bulk_recent_slot {
    int64_t id;     /* 0: empty */
    uint64_t pos;   /* where the text starts, in bytes ever put */
    uint32_t len;
};

/* See bulk_map.h. A text is stored in one piece: one that would cross the end
 * of the ring starts again at its beginning (the skipped bytes count as put). */
void bulk_recent_put(bulk_recent *r, int64_t id, const char *text, size_t len) {
    if (!r->slots) {
        r->slots = calloc(BULK_RECENT_SLOTS, sizeof *r->slots);
        r->buf = malloc(BULK_RECENT_BYTES);
        if (!r->slots || !r->buf) {
            bulk_recent_free(r);
            return;
        }
    }
    struct bulk_recent_slot *sl = &r->slots[(uint64_t)id % BULK_RECENT_SLOTS];
    if (len > BULK_RECENT_BYTES / 4) {
        if (sl->id == id) sl->id = 0;
        return;
    }
    size_t at = (size_t)(r->written % BULK_RECENT_BYTES);
    if (at + len > BULK_RECENT_BYTES) r->written += BULK_RECENT_BYTES - at;
    *sl = (struct bulk_recent_slot){.id = id, .pos = r->written, .len = (uint32_t)len};
    memcpy(r->buf + r->written % BULK_RECENT_BYTES, text, len);
    r->written += len;
}

/* See bulk_map.h: a slot's text is intact until BULK_RECENT_BYTES more bytes were put after its start. */
const char *bulk_recent_get(const bulk_recent *r, int64_t id, size_t *len) {
    if (!r->slots) return NULL;
    const struct bulk_recent_slot *sl = &r->slots[(uint64_t)id % BULK_RECENT_SLOTS];
    if (sl->id != id || r->written - sl->pos > BULK_RECENT_BYTES) return NULL;
    *len = sl->len;
    return r->buf + sl->pos % BULK_RECENT_BYTES;
}

/* See bulk_map.h. */
void bulk_recent_forget(bulk_recent *r, int64_t id) {
    if (r->slots && r->slots[(uint64_t)id % BULK_RECENT_SLOTS].id == id) r->slots[(uint64_t)id % BULK_RECENT_SLOTS].id = 0;
}

/* See bulk_map.h. */
void bulk_recent_free(bulk_recent *r) {
    free(r->slots);
    free(r->buf);
    memset(r, 0, sizeof *r);
}
