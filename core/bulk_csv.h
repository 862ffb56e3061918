/*
 * core/bulk_csv.h - ctx:bulk_csv{...}: an importer maps the columns of a CSV
 * input once (neo4j-admin convention, as plugins/csv.lua parses its header)
 * and this C loop reads every record (libcsv, the same strictness and line
 * tracking as dsgraph.csv.reader), converts the cells and feeds them to the
 * store's bulk load (graph/bulk_load.h): no Lua call, JSON tree or reply per
 * row. Errors name the record's line ("csv: line L (byte B): ..." for the CSV
 * syntax, the column and the cell for values), exactly as the Lua path does.
 * docs/plugins.md, "Bulk loads", is the reference.
 */
#ifndef DSGRAPH_BULK_CSV_H
#define DSGRAPH_BULK_CSV_H

#include <lua.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* The Lua function body: spec is the table at stack index spec_idx, the input
 * is f (read again from its start: the header record is skipped), *line is
 * the import's current line (set to the failing record's line on error).
 * Returns 1 (the number of data rows, pushed) or raises a Lua error; a failed
 * call leaves the store as it was. */
int bulk_csv_lua(lua_State *L, int spec_idx, graph_store *s, FILE *f, int64_t *line);

#endif
