/*
 * graph/schema.c - the schema, as the migration steps that build it: step v
 * takes a database from user_version v to v + 1 (store.c runs them at open).
 * graph/README.md describes the tables; the comment atop each step says why
 * it exists.
 */
#include "store_internal.h"

#include <stdio.h>

/* The prop_claims view and the triggers that write implicit claims out (step 4; step 5
 * recreates them over the claim views). */
#define GS_PROP_CLAIMS_SQL \
    "CREATE VIEW prop_claims(seq, kind, entity_id, key, value, import_id) AS\n" \
    "  SELECT seq, kind, entity_id, key, value, import_id FROM prop_claim_rows\n" \
    "  UNION ALL\n" \
    "  SELECT 0, 'node', c.node_id, j.key, j.value, c.import_id\n" \
    "    FROM node_claims c JOIN nodes n ON n.id = c.node_id JOIN dsg_props(n.props) j\n" \
    "   WHERE c.props_implicit = 1 AND j.key <> 'name' AND j.value <> 'null'\n" \
    "  UNION ALL\n" \
    "  SELECT 0, 'rel', c.rel_id, j.key, j.value, c.import_id\n" \
    "    FROM rel_claims c JOIN rels r ON r.id = c.rel_id JOIN dsg_props(r.props) j\n" \
    "   WHERE c.props_implicit = 1 AND j.value <> 'null';\n" \
    "CREATE TRIGGER nodes_props_claims BEFORE UPDATE OF props ON nodes\n" \
    "  WHEN old.props IS NOT new.props AND\n" \
    "       EXISTS (SELECT 1 FROM node_claims WHERE node_id = old.id AND props_implicit = 1) BEGIN\n" \
    "  INSERT OR IGNORE INTO prop_claim_rows(seq, kind, entity_id, key, value, import_id)\n" \
    "    SELECT (SELECT min(0, coalesce(min(seq), 0)) FROM prop_claim_rows) - row_number() OVER (),\n" \
    "           'node', old.id, j.key, j.value, c.import_id\n" \
    "      FROM node_claims c JOIN dsg_props(old.props) j\n" \
    "     WHERE c.node_id = old.id AND c.props_implicit = 1 AND j.key <> 'name' AND j.value <> 'null';\n" \
    "  UPDATE node_claims SET props_implicit = 0 WHERE node_id = old.id AND props_implicit = 1;\n" \
    "END;\n" \
    "CREATE TRIGGER rels_props_claims BEFORE UPDATE OF props ON rels\n" \
    "  WHEN old.props IS NOT new.props AND\n" \
    "       EXISTS (SELECT 1 FROM rel_claims WHERE rel_id = old.id AND props_implicit = 1) BEGIN\n" \
    "  INSERT OR IGNORE INTO prop_claim_rows(seq, kind, entity_id, key, value, import_id)\n" \
    "    SELECT (SELECT min(0, coalesce(min(seq), 0)) FROM prop_claim_rows) - row_number() OVER (),\n" \
    "           'rel', old.id, j.key, j.value, c.import_id\n" \
    "      FROM rel_claims c JOIN dsg_props(old.props) j\n" \
    "     WHERE c.rel_id = old.id AND c.props_implicit = 1 AND j.value <> 'null';\n" \
    "  UPDATE rel_claims SET props_implicit = 0 WHERE rel_id = old.id AND props_implicit = 1;\n" \
    "END;\n"

/* Step 5's statements that take id x out of the ranges of table rng (those of
 * every import, or only's): the part after x becomes a range of its own, a
 * range starting at x goes, one containing x ends before it. In this order:
 * the tail is copied before hi is cut. */
#define GS_CLAIM_SPLIT_SQL(rng, x, only) \
    "  INSERT INTO " rng "(lo, hi, import_id, created, props_implicit)\n" \
    "    SELECT " x " + 1, hi, import_id, created, props_implicit FROM " rng "\n" \
    "     WHERE lo BETWEEN " x " - 4095 AND " x " AND hi > " x only ";\n" \
    "  DELETE FROM " rng " WHERE lo = " x only ";\n" \
    "  UPDATE " rng " SET hi = " x " - 1 WHERE lo BETWEEN " x " - 4095 AND " x " - 1 AND hi >= " x only ";\n"

/* Step 5 for one kind of claim ("node" over nodes.node_id, "rel" over rels.rel_id):
 * the ranges table, the view over rows and ranges, and its INSTEAD OF triggers. */
#define GS_CLAIM_KIND_SQL(kind, entities, col) \
    "CREATE TABLE " kind "_claim_ranges(\n" \
    "  lo             INTEGER NOT NULL,\n" \
    "  hi             INTEGER NOT NULL,\n" \
    "  import_id      INTEGER NOT NULL,\n" \
    "  created        INTEGER NOT NULL,\n" \
    "  props_implicit INTEGER NOT NULL,\n" \
    "  PRIMARY KEY (lo, import_id),\n" \
    "  CHECK (hi >= lo AND hi - lo < 4096)\n" \
    ") WITHOUT ROWID;\n" \
    "CREATE INDEX " kind "_claim_ranges_import ON " kind "_claim_ranges(import_id, lo);\n" \
    "CREATE VIEW " kind "_claims(" col ", import_id, created, props_implicit) AS\n" \
    "  SELECT " col ", import_id, created, props_implicit FROM " kind "_claim_rows\n" \
    "  UNION ALL\n" \
    "  SELECT e.id, r.import_id, r.created, r.props_implicit FROM " kind "_claim_ranges r\n" \
    "    JOIN " entities " e ON e.id BETWEEN r.lo AND r.hi AND r.lo BETWEEN e.id - 4095 AND e.id;\n" \
    "CREATE TRIGGER " kind "_claims_update INSTEAD OF UPDATE ON " kind "_claims BEGIN\n" \
    "  SELECT RAISE(ABORT, '" kind "_claims: only created and props_implicit can change')\n" \
    "   WHERE new." col " IS NOT old." col " OR new.import_id IS NOT old.import_id;\n" \
    "  INSERT INTO " kind "_claim_rows(" col ", import_id, created, props_implicit)\n" \
    "    SELECT old." col ", old.import_id, old.created, old.props_implicit FROM " kind "_claim_ranges\n" \
    "     WHERE lo BETWEEN old." col " - 4095 AND old." col " AND hi >= old." col " AND import_id = old.import_id;\n" \
    GS_CLAIM_SPLIT_SQL(kind "_claim_ranges", "old." col, " AND import_id = old.import_id") \
    "  UPDATE " kind "_claim_rows SET created = new.created, props_implicit = new.props_implicit\n" \
    "   WHERE " col " = old." col " AND import_id = old.import_id;\n" \
    "END;\n" \
    "CREATE TRIGGER " kind "_claims_delete INSTEAD OF DELETE ON " kind "_claims BEGIN\n" \
    "  DELETE FROM " kind "_claim_rows WHERE " col " = old." col " AND import_id = old.import_id;\n" \
    GS_CLAIM_SPLIT_SQL(kind "_claim_ranges", "old." col, " AND import_id = old.import_id") \
    "END;\n"

/* Migration steps: gs_schema_steps[v] takes a database from user_version v to
 * v + 1. All pending steps run in one transaction with the version bump, so a
 * database is always at exactly one version. Never edit a released step; add one. */
const char *const gs_schema_steps[GRAPH_SCHEMA_VERSION] = {
    /* 0 -> 1: the initial schema (see graph/README.md). */
    "CREATE TABLE nodes(\n"
    "  id       INTEGER PRIMARY KEY,\n"
    "  name_key TEXT,\n"
    "  props    TEXT NOT NULL DEFAULT '{}' CHECK (json_type(props) = 'object')\n"
    ");\n"
    "CREATE INDEX nodes_name_key ON nodes(name_key);\n"
    "CREATE TABLE node_labels(\n"
    "  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,\n"
    "  pos     INTEGER NOT NULL,\n"
    "  label   TEXT NOT NULL CHECK (label <> ''),\n"
    "  PRIMARY KEY (node_id, label)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX node_labels_label ON node_labels(label, node_id);\n"
    "CREATE TABLE aliases(\n"
    "  node_id   INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,\n"
    "  alias     TEXT NOT NULL,\n"
    "  alias_key TEXT NOT NULL CHECK (alias_key <> ''),\n"
    "  PRIMARY KEY (node_id, alias_key)\n"
    ");\n"
    "CREATE INDEX aliases_key ON aliases(alias_key);\n"
    "CREATE TABLE rels(\n"
    "  id    INTEGER PRIMARY KEY,\n"
    "  type  TEXT NOT NULL CHECK (type <> ''),\n"
    "  start INTEGER NOT NULL REFERENCES nodes(id),\n"
    "  end   INTEGER NOT NULL REFERENCES nodes(id),\n"
    "  props TEXT NOT NULL DEFAULT '{}' CHECK (json_type(props) = 'object')\n"
    ");\n"
    "CREATE INDEX rels_start ON rels(start, type, end);\n"
    "CREATE INDEX rels_end ON rels(end, type, start);\n"
    "CREATE VIRTUAL TABLE node_fts USING fts5(name, aliases, body, tokenize = 'trigram');\n",
    /* 1 -> 2: provenance: imports and the claims each one made (graph/provenance.c).
     * import_id 0 in the claim tables is the implicit "direct" source (node.put/rel.put). */
    "CREATE TABLE imports(\n"
    "  id           INTEGER PRIMARY KEY,\n"
    "  plugin       TEXT NOT NULL,\n"
    "  input_name   TEXT NOT NULL,\n"
    "  sha256       TEXT NOT NULL,\n"
    "  started_at   TEXT NOT NULL,\n"
    "  finished_at  TEXT,\n"
    "  retracted_at TEXT,\n"
    "  nodes        INTEGER NOT NULL DEFAULT 0,\n"
    "  relationships INTEGER NOT NULL DEFAULT 0,\n"
    "  properties   INTEGER NOT NULL DEFAULT 0,\n"
    "  warnings     INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX imports_input ON imports(sha256, plugin);\n"
    "CREATE TABLE node_claims(\n"
    "  node_id   INTEGER NOT NULL,\n"
    "  import_id INTEGER NOT NULL,\n"
    "  created   INTEGER NOT NULL DEFAULT 0,\n"
    "  PRIMARY KEY (node_id, import_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX node_claims_import ON node_claims(import_id, node_id);\n"
    "CREATE TABLE rel_claims(\n"
    "  rel_id    INTEGER NOT NULL,\n"
    "  import_id INTEGER NOT NULL,\n"
    "  created   INTEGER NOT NULL DEFAULT 0,\n"
    "  PRIMARY KEY (rel_id, import_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX rel_claims_import ON rel_claims(import_id, rel_id);\n"
    "CREATE TABLE alias_claims(\n"
    "  node_id   INTEGER NOT NULL,\n"
    "  alias_key TEXT NOT NULL,\n"
    "  import_id INTEGER NOT NULL,\n"
    "  PRIMARY KEY (node_id, alias_key, import_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX alias_claims_import ON alias_claims(import_id);\n"
    "CREATE TABLE prop_claims(\n"
    "  seq       INTEGER PRIMARY KEY,\n"
    "  kind      TEXT NOT NULL CHECK (kind IN ('node', 'rel')),\n"
    "  entity_id INTEGER NOT NULL,\n"
    "  key       TEXT NOT NULL,\n"
    "  value     TEXT NOT NULL,\n"
    "  import_id INTEGER NOT NULL,\n"
    "  UNIQUE (kind, entity_id, key, import_id)\n"
    ");\n"
    "CREATE INDEX prop_claims_import ON prop_claims(import_id);\n"
    "CREATE TRIGGER nodes_claims_gc AFTER DELETE ON nodes BEGIN\n"
    "  DELETE FROM node_claims WHERE node_id = old.id;\n"
    "  DELETE FROM alias_claims WHERE node_id = old.id;\n"
    "  DELETE FROM prop_claims WHERE kind = 'node' AND entity_id = old.id;\n"
    "END;\n"
    "CREATE TRIGGER rels_claims_gc AFTER DELETE ON rels BEGIN\n"
    "  DELETE FROM rel_claims WHERE rel_id = old.id;\n"
    "  DELETE FROM prop_claims WHERE kind = 'rel' AND entity_id = old.id;\n"
    "END;\n",
    /* 2 -> 3: the search backlog (graph/search.c): node id ranges whose search rows a
     * bulk load left to be filled after its commit. */
    "CREATE TABLE search_backlog(\n"
    "  lo INTEGER PRIMARY KEY,\n"
    "  hi INTEGER NOT NULL CHECK (hi >= lo)\n"
    ");\n",
    /* 3 -> 4: implicit property claims (graph/provenance.h). A bulk load that creates an
     * entity no longer writes one prop_claim_rows row per property: its claim row says
     * props_implicit = 1, meaning "this import claims the entity's properties as they are".
     * That holds until the properties first change: the *_props_claims triggers then write
     * the claims out as rows (with seqs below every other claim: they are the oldest) and
     * clear the flag. prop_claims, the view every reader uses, shows both kinds alike;
     * an implicit claim has seq 0 (stored seqs are never 0). dsg_props(props) (graph/props.c)
     * lists an entity's properties with their values as a stored claim would hold them. */
    "ALTER TABLE prop_claims RENAME TO prop_claim_rows;\n"
    "ALTER TABLE node_claims ADD COLUMN props_implicit INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE rel_claims ADD COLUMN props_implicit INTEGER NOT NULL DEFAULT 0;\n"
    GS_PROP_CLAIMS_SQL,
    /* 4 -> 5: claim ranges (graph/claim_ranges.c). A bulk load claims the entities it
     * creates (and the known nodes its relationships name) as runs of consecutive ids:
     * one *_claim_ranges row per run of at most 4096 ids (GS_CLAIM_SPAN), instead of one
     * claim row each. node_claims and rel_claims become views over both kinds, with the
     * same columns as the tables they were. Invariants: a claim (entity, import) is in
     * the rows or in one range, never both; the ranges of one import never overlap; every
     * id in a range is a live entity (deleting one splits its ranges, so a reused id is
     * never claimed by accident). Changing or dropping one claim through the view moves
     * it out of its range first (the INSTEAD OF triggers). The 4096 is part of the
     * schema: lookups by id search lo in [id - 4095, id]. */
    "DROP TRIGGER nodes_props_claims;\n"
    "DROP TRIGGER rels_props_claims;\n"
    "DROP TRIGGER nodes_claims_gc;\n"
    "DROP TRIGGER rels_claims_gc;\n"
    "DROP VIEW prop_claims;\n"
    "ALTER TABLE node_claims RENAME TO node_claim_rows;\n"
    "ALTER TABLE rel_claims RENAME TO rel_claim_rows;\n"
    GS_CLAIM_KIND_SQL("node", "nodes", "node_id")
    GS_CLAIM_KIND_SQL("rel", "rels", "rel_id")
    "CREATE TRIGGER nodes_claims_gc AFTER DELETE ON nodes BEGIN\n"
    "  DELETE FROM node_claim_rows WHERE node_id = old.id;\n"
    GS_CLAIM_SPLIT_SQL("node_claim_ranges", "old.id", "")
    "  DELETE FROM alias_claims WHERE node_id = old.id;\n"
    "  DELETE FROM prop_claim_rows WHERE kind = 'node' AND entity_id = old.id;\n"
    "END;\n"
    "CREATE TRIGGER rels_claims_gc AFTER DELETE ON rels BEGIN\n"
    "  DELETE FROM rel_claim_rows WHERE rel_id = old.id;\n"
    GS_CLAIM_SPLIT_SQL("rel_claim_ranges", "old.id", "")
    "  DELETE FROM prop_claim_rows WHERE kind = 'rel' AND entity_id = old.id;\n"
    "END;\n"
    /* as in step 4, now over the views */
    GS_PROP_CLAIMS_SQL,
};

/* See store.h: tests build an old database with it, to check the steps after. */
gs_status graph_store_create_at(const char *path, int version, gs_error *err) {
    if (version < 1 || version >= GRAPH_SCHEMA_VERSION)
        return gs_fail(err, GS_INVALID, "version %d: not an old schema version", version);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) rc = gs_props_register_sql(db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int v = 0; rc == SQLITE_OK && v < version; v++) rc = sqlite3_exec(db, gs_schema_steps[v], NULL, NULL, NULL);
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; COMMIT", version);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    gs_status r = rc == SQLITE_OK ? GS_OK : gs_fail(err, GS_IO, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return r;
}
