/*
 * tests/unit/test_bulk_behind.c - a bulk load's write thread (graph/bulk_behind.c
 * and its use in graph/bulk_load.c): the same rows give the same ids and the
 * same tables with the thread (a queue small enough to fill) and without it,
 * through every path that must wait for it (rows naming nodes whose INSERT
 * may still be queued, merges that create rows themselves, aliases); an
 * INSERT that fails on the thread fails the load at its next wait and the
 * undo leaves the graph as it was; and bulk_recent, the ring of recent texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "bulk_load.h"
#include "bulk_map.h"
#include "provenance.h"
#include "bulk_fixture.h"

/* Every table a load writes, for tables_dump. */
static const char *const load_tables[] = {"nodes", "node_labels", "aliases", "alias_claims", "rels", "node_claims",
                                          "rel_claims", "node_claim_ranges", "rel_claim_ranges", "prop_claims", "node_fts",
                                          "(SELECT id, nodes, relationships, properties FROM imports)"};
#define DUMP(s) tables_dump((s), load_tables, sizeof load_tables / sizeof *load_tables)

/* Ends the load, the import and the transaction, keeping everything. */
static void finish(graph_store *s, graph_bulk *b)
{
    gs_error err;
    assert_int_equal(graph_bulk_end(b, true, &err), GS_OK);
    prov_counts c;
    assert_int_equal(prov_import_finish(s, 0, &c, &err), GS_OK);
    assert_int_equal(graph_store_commit(s, &err), GS_OK);
}

/* Node "m<i>" with prop x (a JSON text) and, when alias is set, that alias. */
static int64_t put_node(graph_bulk *b, int i, const char *x, const char *alias)
{
    static const char *const labels[] = {"Model"};
    char name[32];
    snprintf(name, sizeof name, "m%d", i);
    graph_bulk_prop prop = {"x", x, strlen(x)};
    graph_bulk_node_row row = {.labels = labels, .nlabels = 1, .name = name, .props = &prop, .nprops = 1,
                               .aliases = alias ? &alias : NULL, .naliases = alias ? 1 : 0};
    int64_t id = 0;
    gs_error err;
    if (graph_bulk_node(b, &row, &id, &err) != GS_OK) fail_msg("node m%d: %s", i, err.msg);
    return id;
}

/* The script both stores run: a stored graph (one load, committed), then a
 * second load whose rows take every path (created, unchanged while maybe still
 * queued, changed through graph_node_put, aliased, relationships new and
 * existing). Returns every id handed out, as text. */
static char *run_script(graph_store *s, double *thread_cpu)
{
    size_t cap = 1 << 16, len = 0;
    char *ids = calloc(1, cap);
    char big[160];   /* long enough that the rows overflow a 64 KiB queue many times */
    memset(big, 'v', sizeof big);
    big[0] = big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    gs_error err;

    graph_bulk *b = bulk_start(s);
    for (int i = 0; i < 50; i++) put_node(b, i, "0", NULL);
    finish(s, b);

    b = bulk_start(s);
    graph_bulk_set_probe_rows(b, 0);   /* maps at once: the thread starts with the first row */
    int64_t prev = 0;
    for (int i = 0; i < 3000; i++) {
        const char *x = big;
        char changed[32];
        int who = i;
        if (i % 7 == 3) who = i - 2;   /* the same row as two rows ago: unchanged, its INSERT maybe still queued */
        if (i % 11 == 5) {             /* an earlier node changed: graph_node_put, which may create nothing */
            who = i - 4;
            snprintf(changed, sizeof changed, "%d", i);
            x = changed;
        }
        if (i % 11 == 7) who = i - 6;   /* the node changed two rows ago, changed back (not from a stale text) */
        if (i % 97 == 1) who = i % 50;   /* a node of the first load changed */
        char alias[32];
        snprintf(alias, sizeof alias, "alias-%d", i);
        int64_t id = put_node(b, who, x, i % 13 == 0 ? alias : NULL);
        if (i % 23 == 11) {   /* a node created by graph_node_put (ctx:bulk's general case): the ids move on */
            char pname[32];
            snprintf(pname, sizeof pname, "p%d", i);
            json_t *props = json_pack("{s:i}", "y", i);
            int64_t pid = 0;
            if (graph_bulk_node_put(b, (const char *const[]){"Model"}, 1, pname, props, NULL, &pid, &err) != GS_OK)
                fail_msg("node_put %d: %s", i, err.msg);
            json_decref(props);
            len += (size_t)snprintf(ids + len, cap - len, "p%lld ", (long long)pid);
        }
        int64_t rid = 0;
        if (prev && graph_bulk_rel(b, prev, "BASED_ON", id, NULL, 0, &rid, &err) != GS_OK)
            fail_msg("rel %d: %s", i, err.msg);
        if (i % 17 == 9) {   /* the same relationship again, with a property: a merge */
            graph_bulk_prop p = {"w", "1", 1};
            if (graph_bulk_rel(b, prev, "BASED_ON", id, &p, 1, &rid, &err) != GS_OK) fail_msg("rel again %d: %s", i, err.msg);
        }
        if (i % 29 == 0) {   /* a relationship through graph_bulk_rel_put: may create one */
            if (graph_bulk_rel_put(b, id, "CITES", prev ? prev : id, NULL, &rid, &err) != GS_OK)
                fail_msg("rel_put %d: %s", i, err.msg);
        }
        len += (size_t)snprintf(ids + len, cap - len, "%lld/%lld ", (long long)id, (long long)rid);
        prev = id;
    }
    unsigned long waits = 0;
    graph_bulk_write_stats(b, thread_cpu, &waits);
    finish(s, b);
    return ids;
}

/* The same script on a store with a write thread (and a queue of the least
 * size, so the load also waits for room) and on one without: the same ids
 * for every row, the same tables. */
static void same_rows_with_and_without_the_thread(void **state)
{
    (void)state;
    void *with = NULL, *without = NULL;
    graph_store_options on = {.bulk_write_queue_bytes = 1}, off = {.bulk_write_queue_bytes = -1};
    assert_int_equal(fixture_open(&with, &on), 0);
    assert_int_equal(fixture_open(&without, &off), 0);
    double cpu_on = 0, cpu_off = 0;
    char *ids_on = run_script(((fixture *)with)->s, &cpu_on);
    char *ids_off = run_script(((fixture *)without)->s, &cpu_off);
    assert_true(cpu_on > 0);      /* the rows did go through a thread */
    assert_true(cpu_off == 0);    /* and here they did not */
    assert_string_equal(ids_on, ids_off);
    char *dump_on = DUMP(((fixture *)with)->s), *dump_off = DUMP(((fixture *)without)->s);
    assert_string_equal(dump_on, dump_off);
    assert_true(strlen(dump_on) > 100000);   /* the script did write what it meant to */
    free(ids_on);
    free(ids_off);
    free(dump_on);
    free(dump_off);
    fixture_close(&with);
    fixture_close(&without);
}

/* An INSERT the thread runs fails (a trigger refuses one relationship): the
 * call that queued it succeeded, the next wait reports it (naming the write
 * thread), graph_bulk_end fails, and the undo leaves the graph as it was. */
static void a_failed_insert_fails_the_load(void **state)
{
    void *fx = NULL;
    graph_store_options on = {.bulk_write_queue_bytes = 1};
    assert_int_equal(fixture_open(&fx, &on), 0);
    graph_store *s = ((fixture *)fx)->s;
    (void)state;
    gs_error err;
    graph_bulk *b = bulk_start(s);
    for (int i = 0; i < 10; i++) put_node(b, i, "0", NULL);
    finish(s, b);
    char *before = DUMP(s);
    char *msg = NULL;
    assert_int_equal(sqlite3_exec(graph_store_db(s),
                                  "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.rels WHEN NEW.props LIKE '%boom%' "
                                  "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                                  NULL, NULL, &msg),
                     SQLITE_OK);

    b = bulk_start(s);
    graph_bulk_set_probe_rows(b, 0);
    int64_t a = put_node(b, 100, "1", NULL), c = put_node(b, 101, "1", NULL), id = 0;
    graph_bulk_prop p = {"x", "\"boom\"", 6};
    assert_int_equal(graph_bulk_rel(b, a, "BASED_ON", c, &p, 1, &id, &err), GS_OK);   /* queued */
    for (int i = 200; i < 400; i++) {   /* queued, or refused once the failure is known */
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        graph_bulk_node_row row = {.labels = (const char *const[]){"Model"}, .nlabels = 1, .name = name};
        graph_bulk_node(b, &row, &id, &err);
    }
    assert_int_not_equal(graph_bulk_node_put(b, (const char *const[]){"Model"}, 1, "m3", NULL, NULL, &id, &err), GS_OK);
    assert_non_null(strstr(err.msg, "refused by the test"));
    assert_non_null(strstr(err.msg, "write thread"));
    memset(&err, 0, sizeof err);
    assert_int_not_equal(graph_bulk_end(b, true, &err), GS_OK);   /* sticky: the end fails too, and undoes */
    assert_non_null(strstr(err.msg, "refused by the test"));
    prov_import_stop(s);
    graph_store_rollback(s);
    char *after = DUMP(s);
    assert_string_equal(after, before);
    free(before);
    free(after);
    fixture_close(&fx);
}

/* bulk_recent keeps the latest texts exactly, forgets on request, and never
 * hands out a text that later puts overwrote (ring wrap, slot reuse, size cap). */
static void recent_texts_are_exact_or_absent(void **state)
{
    (void)state;
    bulk_recent r = {0};
    size_t len = 0;
    assert_null(bulk_recent_get(&r, 1, &len));
    char text[1000];
    int64_t id = 1;
    size_t total = 0;
    for (; total < 3 * BULK_RECENT_BYTES; id++) {   /* wraps the ring three times */
        int n = snprintf(text, sizeof text, "{\"x\":%lld,\"pad\":\"%0*d\"}", (long long)id, (int)(id % 700), 0);
        bulk_recent_put(&r, id, text, (size_t)n);
        total += (size_t)n;
    }
    int64_t last = id - 1, held = 0;
    for (int64_t k = 1; k <= last; k++) {
        const char *t = bulk_recent_get(&r, k, &len);
        if (!t) continue;
        held++;
        int n = snprintf(text, sizeof text, "{\"x\":%lld,\"pad\":\"%0*d\"}", (long long)k, (int)(k % 700), 0);
        if ((size_t)n != len || memcmp(t, text, len) != 0) fail_msg("id %lld: a stale or wrong text", (long long)k);
    }
    assert_true(held > 1000 && held <= BULK_RECENT_SLOTS);
    assert_non_null(bulk_recent_get(&r, last, &len));   /* the latest is always held */
    bulk_recent_forget(&r, last);
    assert_null(bulk_recent_get(&r, last, &len));
    assert_null(bulk_recent_get(&r, last - BULK_RECENT_SLOTS, &len));   /* its slot was reused */
    static char huge[BULK_RECENT_BYTES / 4 + 1];
    bulk_recent_put(&r, last + 1, huge, sizeof huge);   /* over the cap: not kept */
    assert_null(bulk_recent_get(&r, last + 1, &len));
    bulk_recent_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_rows_with_and_without_the_thread),
        cmocka_unit_test(a_failed_insert_fails_the_load),
        cmocka_unit_test(recent_texts_are_exact_or_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
