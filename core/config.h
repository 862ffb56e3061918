/*
 * core/config.h - dsgraphd's settings: defaults, the Lua config file, and
 * command-line overrides, in that order. etc/dsgraph.conf documents each one.
 */
#ifndef DSGRAPH_CONFIG_H
#define DSGRAPH_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_MAX_IDS 64

typedef struct dsg_config {
    char *socket;              /* NULL: the sockpath rule */
    char *db;                  /* database file */
    char *seed;                /* JSON-lines file applied when the database is created */
    unsigned socket_mode;      /* permission bits of the socket, default 0660 */
    int log_level;             /* log_level */
    int max_clients;           /* connections at once */
    size_t max_line_bytes;     /* longest request line */
    size_t max_output_bytes;   /* unread output per client before it is disconnected */
    int max_pending_requests;  /* queued requests per client before reading pauses */
    int read_threads;          /* size of the reader pool (UV_THREADPOOL_SIZE) */
    int busy_timeout_ms;
    int64_t sql_max_rows;
    int64_t query_timeout_ms;  /* a Cypher query's wall-clock limit */
    int64_t query_max_rows;    /* rows of any intermediate or final Cypher result */
    int64_t query_memory_limit; /* bytes of a Cypher query's working memory */
    int64_t read_mmap_bytes;   /* PRAGMA mmap_size of each reader connection; 0: no mmap */
    int64_t read_cache_bytes;  /* page cache of each reader connection (PRAGMA cache_size in KiB) */
    int64_t search_defer_nodes; /* bulk loads creating more nodes fill their search rows after the commit; 0: never */
    int64_t bulk_write_queue_bytes; /* a bulk load's rows queued for its write thread at most; 0: no thread */
    int64_t heap_trim_after_ms; /* the idle writer returns freed heap after this much time in writes; 0: never */
    int64_t heap_trim_threshold_bytes; /* free() gives the top of a heap back past this (mallopt M_TRIM_THRESHOLD) */
    int shutdown_timeout_ms;   /* how long SIGTERM waits for in-flight work */
    uid_t write_uids[CONFIG_MAX_IDS];
    int n_write_uids;
    gid_t write_gids[CONFIG_MAX_IDS];
    int n_write_gids;
    /* plugins and imports (core/plugin_host.c, core/import_*.c) */
    char **plugin_dirs;        /* NULL: the compiled-in DSGRAPH_PLUGIN_DIR */
    int n_plugin_dirs;
    char **import_dirs;        /* directories import.path may read; none by default */
    int n_import_dirs;
    int64_t plugin_memory_limit;      /* bytes per plugin Lua state, default 64 MiB */
    int64_t plugin_instruction_limit; /* Lua instructions per run, default 1e9 */
    int64_t import_max_bytes;         /* largest import input, default 4 GiB */
    int import_max_uploads;           /* uploads in progress at once, default 16 */
    int64_t export_max_bytes;         /* largest output of one export run, default 256 MiB */
    int64_t export_idle_timeout_ms;   /* a streamed export nobody asked for in this long is aborted */
} dsg_config;

/* Fills cfg with the built-in defaults. */
void config_defaults(dsg_config *cfg);
/* Runs the Lua file at path and copies the globals it sets into cfg. Unknown
 * globals are an error (a typo must not be silently ignored). Returns 0, or -1
 * with a message naming the file, line and setting in err. */
int config_load(dsg_config *cfg, const char *path, char *err, size_t errlen);
void config_free(dsg_config *cfg);

#endif
