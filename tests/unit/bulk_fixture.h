/*
 * tests/unit/bulk_fixture.h - what the bulk-load tests share on top of
 * store_fixture.h: bulk_start, a transaction, an import and a load begun on
 * a store, in the order core/bulk_csv.c begins them.
 */
#ifndef DSGRAPH_TEST_BULK_FIXTURE_H
#define DSGRAPH_TEST_BULK_FIXTURE_H

#include "bulk_load.h"
#include "provenance.h"
#include "store_fixture.h"

/* Starts a transaction and an import, then a load. */
static inline graph_bulk *bulk_start(graph_store *s)
{
    gs_error err;
    int64_t imp = 0;
    graph_bulk *b = NULL;
    assert_int_equal(graph_store_begin(s, &err), GS_OK);
    assert_int_equal(prov_import_begin(s, "test", "in.csv", "aa", &imp, &err), GS_OK);
    assert_int_equal(graph_bulk_begin(s, &b, &err), GS_OK);
    return b;
}

#endif
