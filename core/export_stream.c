/* core/export_stream.c - the registry of streamed exports (see export_stream.h). */
#include "export_stream.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

typedef struct export_entry {
    struct export_entry *next;
    char token[EXPORT_TOKEN_LEN + 1];
    char *owner;
    plugin_export_stream *x;
    bool busy;         /* a call is running it */
    bool dropped;      /* its owner left while busy: close it at put */
    int64_t idle_ms;
    int64_t last_ms;   /* when the last call ended (monotonic) */
} export_entry;

static struct {
    pthread_mutex_t mu;
    export_entry *head;
    int n;
} X = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

/* Why monotonic: idle timeouts must not jump with the wall clock. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why unguessable: one client must not read another's export by its token. */
static void new_token(char out[EXPORT_TOKEN_LEN + 1])
{
    unsigned char raw[EXPORT_TOKEN_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        static unsigned long n;
        memset(raw, 0, sizeof raw);
        snprintf((char *)raw, sizeof raw, "%lx%d", ++n, (int)getpid());
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Why outside the mutex: closing an export closes a Lua state and a SQLite
 * connection, which must not hold up other threads' registry calls. */
static void entries_free(export_entry *e, const char *why)
{
    while (e) {
        export_entry *next = e->next;
        log_info("export %.8s of %s closed (%s)", e->token, e->owner, why);
        plugin_export_stream_close(e->x);
        free(e->owner);
        free(e);
        e = next;
    }
}

/* Unlinks the idle-too-long entries onto *out; call with the mutex held.
 * Why lazily: every export call and disconnect sweeps, so no timer is needed. */
static void sweep_locked(export_entry **out)
{
    int64_t now = now_ms();
    for (export_entry **pp = &X.head; *pp;) {
        export_entry *e = *pp;
        if (!e->busy && now - e->last_ms > e->idle_ms) {
            *pp = e->next;
            X.n--;
            e->next = *out;
            *out = e;
        } else
            pp = &e->next;
    }
}

/* Why the cap: each export may hold a Lua state up to plugin_memory_limit. */
int export_stream_add(const char *owner, plugin_export_stream *x, int64_t idle_ms, char token[EXPORT_TOKEN_LEN + 1],
                      char *err, size_t errlen)
{
    export_entry *e = calloc(1, sizeof *e), *gone = NULL;
    char *own = strdup(owner);
    if (!e || !own) {
        free(e);
        free(own);
        plugin_export_stream_close(x);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->owner = own;
    e->x = x;
    e->idle_ms = idle_ms;
    e->last_ms = now_ms();
    new_token(e->token);
    memcpy(token, e->token, sizeof e->token);
    pthread_mutex_lock(&X.mu);
    sweep_locked(&gone);
    bool full = X.n >= EXPORT_MAX_STREAMS;
    if (!full) {
        e->next = X.head;
        X.head = e;
        X.n++;
    }
    pthread_mutex_unlock(&X.mu);
    entries_free(gone, "idle");
    if (full) {
        snprintf(err, errlen, "%d streamed exports are in progress; try again later", EXPORT_MAX_STREAMS);
        e->next = NULL;
        free(e->owner);
        free(e);
        plugin_export_stream_close(x);
        return -1;
    }
    return 0;
}

/* Why busy: a Lua state and a SQLite connection must never run on two
 * threads at once, and a pipelined client could send two export.next. */
plugin_export_stream *export_stream_take(const char *owner, const char *token, char *err, size_t errlen)
{
    export_entry *gone = NULL, *found = NULL;
    plugin_export_stream *x = NULL;
    pthread_mutex_lock(&X.mu);
    sweep_locked(&gone);
    for (export_entry *e = X.head; e; e = e->next)
        if (strcmp(e->token, token) == 0 && strcmp(e->owner, owner) == 0)
            found = e;
    if (!found)
        snprintf(err, errlen, "no export in progress with token %s (finished, aborted, or idle too long)", token);
    else if (found->busy)
        snprintf(err, errlen, "export %s is busy: wait for the previous call's reply", token);
    else {
        found->busy = true;
        x = found->x;
    }
    pthread_mutex_unlock(&X.mu);
    entries_free(gone, "idle");
    return x;
}

/* Why closing may wait until here: an export running when its owner left
 * cannot be freed under the thread running it. */
void export_stream_put(const char *token, bool finish)
{
    export_entry *gone = NULL;
    pthread_mutex_lock(&X.mu);
    for (export_entry **pp = &X.head; *pp; pp = &(*pp)->next) {
        export_entry *e = *pp;
        if (strcmp(e->token, token) != 0 || !e->busy)
            continue;
        e->busy = false;
        e->last_ms = now_ms();
        if (finish || e->dropped) {
            *pp = e->next;
            X.n--;
            e->next = NULL;
            gone = e;
        }
        break;
    }
    pthread_mutex_unlock(&X.mu);
    entries_free(gone, finish ? "finished" : "its client left");
}

/* Why on disconnect: nobody else can ever ask for these exports' chunks. */
void export_stream_drop_owner(const char *owner)
{
    export_entry *gone = NULL, *idle = NULL;
    pthread_mutex_lock(&X.mu);
    for (export_entry **pp = &X.head; *pp;) {
        export_entry *e = *pp;
        if (strcmp(e->owner, owner) != 0) {
            pp = &e->next;
            continue;
        }
        if (e->busy) {
            e->dropped = true;
            pp = &e->next;
            continue;
        }
        *pp = e->next;
        X.n--;
        e->next = gone;
        gone = e;
    }
    sweep_locked(&idle);
    pthread_mutex_unlock(&X.mu);
    entries_free(gone, "its client left");
    entries_free(idle, "idle");
}

/* Why a separate sweep: export.begin frees idle exports before opening one more. */
void export_stream_sweep(void)
{
    export_entry *gone = NULL;
    pthread_mutex_lock(&X.mu);
    sweep_locked(&gone);
    pthread_mutex_unlock(&X.mu);
    entries_free(gone, "idle");
}
