/*
 * graph/provenance.h - where facts came from: imports and their claims.
 *
 * Every import is a row of `imports`. While an import runs (between
 * prov_import_begin() and prov_import_finish()/prov_import_stop()) every
 * node.put, rel.put and alias added through the store is *claimed* by it:
 *   node_claims(node_id, import_id, created)   the import asserted the node
 *   rel_claims(rel_id, import_id, created)     ... the relationship
 *   alias_claims(node_id, alias_key, import_id) ... an alias
 *   prop_claims(seq, kind, entity_id, key, value, import_id)
 *                                              ... a property value (canonical JSON;
 *                                                  a node's "name" is identity, not claimed)
 * node_claims and rel_claims are views (schema version 5): claims stored
 * one per row, plus the id ranges bulk loads claim (graph/claim_ranges.c).
 * prop_claims is a view (schema version 4): the stored rows of
 * prop_claim_rows, plus the implicit claims of entities a bulk load created
 * (props_implicit = 1 on their claim: their values are the entity's props
 * until those first change, when triggers write them out as rows; see
 * graph/README.md). Readers use the view; writers write prop_claim_rows.
 * Writes outside an import (node.put, rel.put over the protocol, seeding) are
 * the implicit "direct" source: they claim nodes and relationships with
 * import_id 0, which is never retracted. Their property values are not claimed.
 *
 * Conflicts: two imports asserting different values for one property both keep
 * their claim; the stored value is the one written last (highest seq), which is
 * what reads show.
 *
 * Retracting an import removes exactly what only it asserted:
 *   - each of its property claims is dropped; if the entity's current value is
 *     the one it claimed, the value goes back to the most recent remaining claim,
 *     or the property is removed when none is left (a value someone else wrote
 *     since is left alone; "name" is identity and is never changed);
 *   - aliases no other import claims are removed;
 *   - relationships and nodes that an import created and that no other source
 *     (another import or a direct write) claims any more are deleted; a node that
 *     still has relationships is kept.
 * All of it in one transaction (a savepoint inside the caller's).
 */
#ifndef DSGRAPH_GRAPH_PROVENANCE_H
#define DSGRAPH_GRAPH_PROVENANCE_H

#include "store.h"

/* What the running import changed; counts are of claims that were new or changed. */
typedef struct prov_counts {
    int64_t nodes_created, nodes_updated;
    int64_t rels_created, rels_updated;
    int64_t props_set;
    int64_t aliases_added;
} prov_counts;

/* The id of a finished, not retracted import of the same input (plugin +
 * sha256), or 0 in *id_out. Used to make re-imports no-ops. */
gs_status prov_import_find(graph_store *s, const char *plugin, const char *sha256, int64_t *id_out, gs_error *err);

/* Records a new import and attributes every following write to it. Must run
 * inside the caller's transaction (graph_store_begin). */
gs_status prov_import_begin(graph_store *s, const char *plugin, const char *input_name, const char *sha256,
                            int64_t *id_out, gs_error *err);
/* Stores the counts and finished_at, stops attributing; *out gets the counts. */
gs_status prov_import_finish(graph_store *s, int64_t warnings, prov_counts *out, gs_error *err);
/* Stops attributing writes (error paths; the caller rolls back). */
void prov_import_stop(graph_store *s);
/* The counts of the running import so far. */
prov_counts prov_current(const graph_store *s);

/* [{"id","plugin","input","sha256","started_at","finished_at","retracted_at",
 *   "nodes","relationships","properties","warnings"}, ...] by id. */
gs_status prov_imports_list(graph_store *s, json_t **out, gs_error *err);
/* {"import":{...}, "nodes":[{"id","created"}], "relationships":[...],
 *  "aliases":[{"node","alias"}], "properties":[{"kind","id","key","value","current"}],
 *  "truncated":bool}; at most limit entries per list. GS_NOT_FOUND if no such import. */
gs_status prov_import_show(graph_store *s, int64_t id, int64_t limit, json_t **out, gs_error *err);
/* Retracts an import (see above). GS_NOT_FOUND: no such import; GS_CONFLICT:
 * already retracted. *out: counts of what was undone. */
gs_status prov_retract(graph_store *s, int64_t id, json_t **out, gs_error *err);
/* Tests only: off, retracts on s undo every property claim one by one, even
 * on entities they then delete (prov_retract.c, prov_find_sole); on by
 * default. Both ways give the same graph and counts. */
void prov_retract_set_shortcut(graph_store *s, bool on);
/* Every claim on one entity ("node" or "rel"):
 * {"imports":[{"import":N,"created":bool}], "properties":[{"key","value","import","current"}]}
 * import 0 is the direct source. */
gs_status prov_claims_of(graph_store *s, const char *kind, int64_t id, json_t **out, gs_error *err);

/* ---- replaying recorded history (an import restoring an export's provenance) ----
 * Only the running import may replay (plugin_import.c: ctx:replay_import, ctx:replay_claims). */
/* Recreates a historical import row from rec {"plugin","input","sha256","started_at" (required),
 * "finished_at","retracted_at" (string or null), "nodes","relationships","properties","warnings"}.
 * An identical row (same plugin, input, sha256 and started_at) is reused instead (*reused). */
gs_status prov_replay_import(graph_store *s, const json_t *rec, int64_t *id_out, bool *reused, gs_error *err);
/* Replaces the running import's own claims on node/rel id with the recorded ones, in order:
 * {"entity":[{"import":N,"effect":"created"|"updated"|"asserted"}],
 *  "properties":[{"key","value","import"}] (oldest first per key; the last is what reads show),
 *  "aliases":[{"alias","import"}]} (nodes only; each alias must be one of the node's).
 * Import ids are real ids (the caller checks they are replayed ones, or 0 for direct writes,
 * which claim entities only). An identical claim already there is kept as it is. */
gs_status prov_replay_claims(graph_store *s, const char *kind, int64_t id, const json_t *claims, gs_error *err);
/* Deletes import id's row if it claims nothing (*dropped): an import that only replayed history
 * leaves the replayed imports as its record, not an empty row of its own. */
gs_status prov_import_drop_unclaimed(graph_store *s, int64_t id, bool *dropped, gs_error *err);

#endif
