/*
 * bench/baseline.c - the yardstick of the benchmark suite: the same work as
 * the daemon does, directly with the SQLite C API on its own database file,
 * so every daemon figure can be shown as a ratio measured in the same run.
 *
 *   load       nodes.csv + rels.csv in ONE transaction with prepared statements,
 *              the UNIQUE name index and both edge indexes maintained during insert
 *   desc_*     recursive CTE: descendants (count; list of names) of a root
 *   anc_*      recursive CTE: ancestors of a leaf
 *   scan_*     one property of every model through SQLite's JSON reader (an
 *              author's models; the number of pipeline tags); first_edges: the
 *              first 10 (child, parent) name pairs; scan_relation_groups: the
 *              number of relation values over every edge
 *   lookup     prepared point lookup by name (random names, ops/s)
 *   floor      (--floor-db FILE) the same files loaded the leanest way SQLite
 *              allows with the daemon's journal settings, into a second file:
 *              ids from an in-memory name map, rows appended in id order, every
 *              index built once at the end. No labels, aliases, claims or search
 *              index: what no schema of a graph store could load faster, so issue
 *              6's load target can be read against it (docs/performance.md).
 * Prints one JSON object on stdout.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Monotonic seconds. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Exits with the connection's error message. */
static void die_db(sqlite3 *db, const char *what) {
    fprintf(stderr, "baseline: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

/* Runs SQL that returns nothing, or exits. */
static void exec(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "baseline: %s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

/* Prepares a statement, or exits. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die_db(db, sql);
    return st;
}

/* Splits a CSV line without quoting (the generator never needs it) into at most max fields. */
static int split(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') { *p = '\0'; f[n++] = p + 1; }
    return n;
}

typedef struct names { char **v; size_t len, cap; } names;

/* Keeps a copy of a loaded name for the lookup benchmark. */
static void names_add(names *ns, const char *s) {
    if (ns->len == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 1024;
        ns->v = realloc(ns->v, ns->cap * sizeof *ns->v);
        if (!ns->v) { perror("baseline"); exit(1); }
    }
    if (!(ns->v[ns->len++] = strdup(s))) { perror("baseline"); exit(1); }
}

/* Id of a model by name through the prepared lookup, or -1. */
static sqlite3_int64 id_of(sqlite3_stmt *st, const char *name) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_int64 id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return id;
}

/* Loads both CSV files in one transaction; returns nodes and edges loaded. */
static void load(sqlite3 *db, const char *dir, names *ns, long *nn, long *ne, double *t_nodes, double *t_total) {
    char path[4096], *line = NULL, *f[8], props[512];
    size_t cap = 0;
    ssize_t len;
    double t0 = now();
    exec(db, "BEGIN");
    sqlite3_stmt *ins = prep(db, "INSERT INTO models(name, props) VALUES (?1, ?2)");
    snprintf(path, sizeof path, "%s/nodes.csv", dir);
    FILE *in = fopen(path, "r");
    if (!in) { perror(path); exit(1); }
    *nn = *ne = 0;
    for (long lineno = 0; (len = getline(&line, &cap, in)) > 0; lineno++) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (lineno == 0 || split(line, f, 8) < 6) continue;
        int pl = snprintf(props, sizeof props, "{\"author\":\"%s\",\"created_at\":\"%s\",\"pipeline_tag\":\"%s\"%s%s%s}",
                          f[2], f[3], f[4], *f[5] ? ",\"relation\":\"" : "", f[5], *f[5] ? "\"" : "");
        sqlite3_bind_text(ins, 1, f[0], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, props, pl, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) die_db(db, "insert model");
        sqlite3_reset(ins);
        names_add(ns, f[0]);
        (*nn)++;
    }
    fclose(in);
    *t_nodes = now() - t0;
    sqlite3_stmt *find = prep(db, "SELECT id FROM models WHERE name = ?1");
    sqlite3_stmt *edge = prep(db, "INSERT INTO edges(child, parent, relation) VALUES (?1, ?2, ?3)");
    snprintf(path, sizeof path, "%s/rels.csv", dir);
    if (!(in = fopen(path, "r"))) { perror(path); exit(1); }
    for (long lineno = 0; (len = getline(&line, &cap, in)) > 0; lineno++) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (lineno == 0 || split(line, f, 8) < 4) continue;
        sqlite3_int64 c = id_of(find, f[0]), p = id_of(find, f[1]);
        if (c < 0 || p < 0) { fprintf(stderr, "baseline: rels.csv:%ld: unknown model\n", lineno + 1); exit(1); }
        sqlite3_bind_int64(edge, 1, c);
        sqlite3_bind_int64(edge, 2, p);
        sqlite3_bind_text(edge, 3, f[3], -1, SQLITE_STATIC);
        if (sqlite3_step(edge) != SQLITE_DONE) die_db(db, "insert edge");
        sqlite3_reset(edge);
        (*ne)++;
    }
    fclose(in);
    free(line);
    exec(db, "COMMIT");
    *t_total = now() - t0;
    sqlite3_finalize(ins);
    sqlite3_finalize(find);
    sqlite3_finalize(edge);
}

/* The floor load's name -> id map: open addressing over a power-of-two table,
 * FNV-1a hashes, names owned by the map. Grows at half full. */
typedef struct name_map {
    char **key;
    sqlite3_int64 *id;
    size_t cap, len;
} name_map;

/* FNV-1a of a NUL-terminated string. */
static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* The slot of key in m: where it is, or the empty slot where it would go. */
static size_t name_slot(const name_map *m, const char *key) {
    size_t i = (size_t)name_hash(key) & (m->cap - 1);
    while (m->key[i] && strcmp(m->key[i], key) != 0) i = (i + 1) & (m->cap - 1);
    return i;
}

/* Adds key -> id (a copy of key); false if key is there already. Exits on OOM. */
static int name_map_add(name_map *m, const char *key, sqlite3_int64 id) {
    if (2 * (m->len + 1) > m->cap) {
        name_map old = *m;
        m->cap = old.cap ? old.cap * 2 : 1 << 16;
        m->key = calloc(m->cap, sizeof *m->key);
        m->id = malloc(m->cap * sizeof *m->id);
        if (!m->key || !m->id) { perror("baseline"); exit(1); }
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.key[i]) continue;
            size_t j = name_slot(m, old.key[i]);
            m->key[j] = old.key[i];
            m->id[j] = old.id[i];
        }
        free(old.key);
        free(old.id);
    }
    size_t i = name_slot(m, key);
    if (m->key[i]) return 0;
    if (!(m->key[i] = strdup(key))) { perror("baseline"); exit(1); }
    m->id[i] = id;
    m->len++;
    return 1;
}

/* The id of key, or -1. */
static sqlite3_int64 name_map_get(const name_map *m, const char *key) {
    if (!m->cap) return -1;
    size_t i = name_slot(m, key);
    return m->key[i] ? m->id[i] : -1;
}

/* Opens a fresh database at path (the file and its WAL removed first) with the
 * settings of the daemon's writable connection (graph/store.c), or exits. */
static sqlite3 *fresh_db(const char *path) {
    char tmp[4200];
    unlink(path);
    snprintf(tmp, sizeof tmp, "%s-wal", path); unlink(tmp);
    snprintf(tmp, sizeof tmp, "%s-shm", path); unlink(tmp);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die_db(db, path);
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;");
    return db;
}

/* The floor load (see the top of the file) into a fresh database at path;
 * prints "floor":{...}, with the rows read back from the built file. */
static void floor_load(const char *dir, const char *path) {
    char tmp[4200], *line = NULL, *f[8], props[512];
    size_t cap = 0;
    ssize_t len;
    sqlite3 *db = fresh_db(path);
    exec(db, "CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT NOT NULL, props TEXT NOT NULL);"
             "CREATE TABLE edges(id INTEGER PRIMARY KEY, child INTEGER NOT NULL, parent INTEGER NOT NULL, "
             "props TEXT NOT NULL);");
    name_map m = {0};
    double t0 = now();
    exec(db, "BEGIN");
    sqlite3_stmt *ins = prep(db, "INSERT INTO models(id, name, props) VALUES (?1, ?2, ?3)");
    snprintf(tmp, sizeof tmp, "%s/nodes.csv", dir);
    FILE *in = fopen(tmp, "r");
    if (!in) { perror(tmp); exit(1); }
    sqlite3_int64 nn = 0, ne = 0;
    for (long lineno = 0; (len = getline(&line, &cap, in)) > 0; lineno++) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (lineno == 0 || split(line, f, 8) < 6) continue;
        if (!name_map_add(&m, f[0], nn + 1)) {
            fprintf(stderr, "baseline: nodes.csv:%ld: %s twice\n", lineno + 1, f[0]);
            exit(1);
        }
        int pl = snprintf(props, sizeof props, "{\"author\":\"%s\",\"created_at\":\"%s\",\"pipeline_tag\":\"%s\"}",
                          f[2], f[3], f[4]);
        sqlite3_bind_int64(ins, 1, ++nn);
        sqlite3_bind_text(ins, 2, f[0], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, props, pl, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) die_db(db, "floor: insert model");
        sqlite3_reset(ins);
    }
    fclose(in);
    double t1 = now();
    sqlite3_stmt *edge = prep(db, "INSERT INTO edges(id, child, parent, props) VALUES (?1, ?2, ?3, ?4)");
    snprintf(tmp, sizeof tmp, "%s/rels.csv", dir);
    if (!(in = fopen(tmp, "r"))) { perror(tmp); exit(1); }
    for (long lineno = 0; (len = getline(&line, &cap, in)) > 0; lineno++) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (lineno == 0 || split(line, f, 8) < 4) continue;
        sqlite3_int64 c = name_map_get(&m, f[0]), p = name_map_get(&m, f[1]);
        if (c < 0 || p < 0) { fprintf(stderr, "baseline: rels.csv:%ld: unknown model\n", lineno + 1); exit(1); }
        int pl = snprintf(props, sizeof props, "{\"relation\":\"%s\"}", f[3]);
        sqlite3_bind_int64(edge, 1, ++ne);
        sqlite3_bind_int64(edge, 2, c);
        sqlite3_bind_int64(edge, 3, p);
        sqlite3_bind_text(edge, 4, props, pl, SQLITE_STATIC);
        if (sqlite3_step(edge) != SQLITE_DONE) die_db(db, "floor: insert edge");
        sqlite3_reset(edge);
    }
    fclose(in);
    free(line);
    sqlite3_finalize(ins);
    sqlite3_finalize(edge);
    double t2 = now();
    exec(db, "CREATE UNIQUE INDEX models_name ON models(name);"
             "CREATE INDEX edges_parent ON edges(parent, child); CREATE INDEX edges_child ON edges(child, parent);");
    double t3 = now();
    exec(db, "COMMIT");
    double t4 = now();
    /* read back: the file holds what was read, and the name index answers */
    sqlite3_stmt *cnt = prep(db, "SELECT (SELECT count(*) FROM models INDEXED BY models_name), "
                                 "(SELECT count(*) FROM edges INDEXED BY edges_child)");
    if (sqlite3_step(cnt) != SQLITE_ROW) die_db(db, "floor: count");
    printf("  \"floor\":{\"nodes\":%lld,\"edges\":%lld,\"nodes_s\":%.3f,\"edges_s\":%.3f,\"indexes_s\":%.3f,"
           "\"commit_s\":%.3f,\"total_s\":%.3f,\"read_nodes\":%lld,\"read_edges\":%lld},\n",
           (long long)nn, (long long)ne, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0,
           (long long)sqlite3_column_int64(cnt, 0), (long long)sqlite3_column_int64(cnt, 1));
    sqlite3_finalize(cnt);
    sqlite3_close(db);
    for (size_t i = 0; i < m.cap; i++) free(m.key[i]);
    free(m.key);
    free(m.id);
}

/* floor_load in a child process, so the baseline's peak RSS (ru_maxrss, the
 * row next to the daemon's) does not include the floor's name map. Exits if
 * the child fails. */
static void floor_run(const char *dir, const char *path) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("baseline: fork"); exit(1); }
    if (pid == 0) {
        floor_load(dir, path);
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "baseline: the floor load failed\n");
        exit(1);
    }
}

/* Ascending double comparison for medians. */
static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints "name":{"median_ms":..,"min_ms":..,"max_ms":..,"result":N} from run times. */
static void print_stat(const char *name, double *ms, int runs, long long result, int last) {
    qsort(ms, (size_t)runs, sizeof *ms, cmp_d);
    printf("  \"%s\":{\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,\"runs\":%d,\"result\":%lld}%s\n", name,
           ms[runs / 2], ms[0], ms[runs - 1], runs, result, last ? "" : ",");
}

/* Runs a one-parameter query `runs` times; returns rows (or the first column of
 * the single row when count_col) and fills per-run milliseconds. */
static long long time_query(sqlite3 *db, const char *sql, const char *name, int count_col, double *ms, int runs) {
    sqlite3_stmt *st = prep(db, sql);
    long long result = -1;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        long long rows = 0, first = -1;
        size_t bytes = 0;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (rows == 0) first = sqlite3_column_int64(st, 0);
            else bytes += (size_t)sqlite3_column_bytes(st, 0);   /* touch the name text */
            rows++;
        }
        if (rc != SQLITE_DONE) die_db(db, sql);
        sqlite3_reset(st);
        ms[r] = (now() - t0) * 1000.0;
        (void)bytes;
        result = count_col ? first : rows;
    }
    sqlite3_finalize(st);
    return result;
}

#define DESC_CTE "WITH RECURSIVE d(id) AS (SELECT id FROM models WHERE name = ?1 UNION " \
                 "SELECT e.child FROM edges e JOIN d ON e.parent = d.id) "
#define ANC_CTE "WITH RECURSIVE a(id) AS (SELECT id FROM models WHERE name = ?1 UNION " \
                "SELECT e.parent FROM edges e JOIN a ON e.child = a.id) "

/* Parses options, runs, prints JSON (see the comment at the top of the file). */
int main(int argc, char **argv) {
    const char *floor_db = NULL, *dir = NULL, *dbpath = NULL, *big = NULL, *mid = NULL, *leaf = NULL, *author = NULL;
    int runs = 5;
    long lookups = 200000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--data")) dir = v;
        else if (!strcmp(a, "--db")) dbpath = v;
        else if (!strcmp(a, "--largest")) big = v;
        else if (!strcmp(a, "--mid")) mid = v;
        else if (!strcmp(a, "--leaf")) leaf = v;
        else if (!strcmp(a, "--author")) author = v;
        else if (!strcmp(a, "--runs")) runs = atoi(v);
        else if (!strcmp(a, "--lookups")) lookups = atol(v);
        else if (!strcmp(a, "--floor-db")) floor_db = v;
        else { fprintf(stderr, "baseline: unknown option %s\n", a); return 2; }
    }
    if (!dir || !dbpath || !big || !mid || !leaf || runs < 1 || runs > 100 || lookups < 1) {
        fprintf(stderr, "usage: baseline --data DIR --db FILE --largest NAME --mid NAME --leaf NAME "
                        "[--author A] [--runs R] [--lookups N] [--floor-db FILE]\n");
        return 2;
    }
    /* The same settings as the daemon's store (graph/store.c): no memory statistics, */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db = fresh_db(dbpath);   /* and those of its writable connection */
    exec(db, "CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, props TEXT NOT NULL);"
             "CREATE TABLE edges(child INTEGER NOT NULL, parent INTEGER NOT NULL, relation TEXT);"
             "CREATE INDEX edges_parent ON edges(parent, child); CREATE INDEX edges_child ON edges(child, parent);");
    names ns = {0};
    long nn, ne;
    double t_nodes, t_total;
    load(db, dir, &ns, &nn, &ne, &t_nodes, &t_total);
    double *ms = malloc((size_t)runs * sizeof *ms);
    if (!ms || ns.len == 0) { fprintf(stderr, "baseline: nothing loaded\n"); return 1; }
    printf("{\n  \"load\":{\"nodes\":%ld,\"edges\":%ld,\"nodes_s\":%.3f,\"total_s\":%.3f},\n", nn, ne, t_nodes, t_total);
    if (floor_db) floor_run(dir, floor_db);
    struct { const char *key, *sql, *name; int count_col; } q[] = {
        {"desc_count_largest", DESC_CTE "SELECT count(*) - 1 FROM d", big, 1},
        {"desc_list_largest", DESC_CTE "SELECT m.name FROM d JOIN models m ON m.id = d.id", big, 0},
        {"desc_count_mid", DESC_CTE "SELECT count(*) - 1 FROM d", mid, 1},
        {"desc_list_mid", DESC_CTE "SELECT m.name FROM d JOIN models m ON m.id = d.id", mid, 0},
        {"anc_count_leaf", ANC_CTE "SELECT count(*) - 1 FROM a", leaf, 1},
        {"anc_list_leaf", ANC_CTE "SELECT m.name FROM a JOIN models m ON m.id = a.id", leaf, 0},
        /* scans of one property of every model (the Cypher scan rows' baselines) */
        {"scan_author_count", "SELECT count(*) FROM models WHERE props ->> '$.author' = ?1", author ? author : "", 1},
        {"scan_tag_groups", "SELECT count(*) FROM (SELECT props ->> '$.pipeline_tag' AS t FROM models "
                            "WHERE ?1 IS NOT NULL GROUP BY t HAVING t IS NOT NULL)", "", 1},
        {"first_edges", "SELECT count(*) FROM (SELECT c.name, p.name FROM edges e JOIN models c ON c.id = e.child "
                        "JOIN models p ON p.id = e.parent WHERE ?1 IS NOT NULL LIMIT 10)", "", 1},
        /* relation is a column of edges here, not a member of a JSON text as in dsgraphd */
        {"scan_relation_groups", "SELECT count(*) FROM (SELECT relation FROM edges WHERE ?1 IS NOT NULL "
                                 "GROUP BY relation HAVING relation IS NOT NULL AND relation <> '')", "", 1},
    };
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        long long res = time_query(db, q[k].sql, q[k].name, q[k].count_col, ms, runs);
        print_stat(q[k].key, ms, runs, q[k].count_col ? res : res - 1, 0);   /* lists: minus the root row */
    }
    /* Point lookups of random loaded names (xorshift, fixed seed). */
    sqlite3_stmt *get = prep(db, "SELECT id, props FROM models WHERE name = ?1");
    uint64_t x = 88172645463325252ULL;
    long found = 0;
    double *ops = malloc((size_t)runs * sizeof *ops);
    for (int r = 0; r < runs && ops; r++) {
        double t0 = now();
        for (long i = 0; i < lookups; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            sqlite3_bind_text(get, 1, ns.v[x % ns.len], -1, SQLITE_STATIC);
            if (sqlite3_step(get) == SQLITE_ROW && sqlite3_column_bytes(get, 1) > 0) found++;
            sqlite3_reset(get);
        }
        ops[r] = (double)lookups / (now() - t0);
    }
    if (!ops) return 1;
    qsort(ops, (size_t)runs, sizeof *ops, cmp_d);
    sqlite3_finalize(get);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  \"lookup\":{\"ops_per_s_median\":%.0f,\"ops_per_s_min\":%.0f,\"ops_per_s_max\":%.0f,\"runs\":%d,"
           "\"lookups_per_run\":%ld,\"found\":%ld},\n", ops[runs / 2], ops[0], ops[runs - 1], runs, lookups, found);
    printf("  \"sqlite_version\":\"%s\",\"peak_rss_kib\":%ld,\"cpu_s\":%.3f\n}\n", sqlite3_libversion(), ru.ru_maxrss,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    sqlite3_close(db);
    for (size_t i = 0; i < ns.len; i++) free(ns.v[i]);
    free(ns.v); free(ms); free(ops);
    return 0;
}
