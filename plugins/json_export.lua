-- plugins/json_export.lua - the lossless JSON graph: exactly the format that
-- plugins/json_graph.lua imports,
--   {"nodes":[{"aliases":[...],"id":1,"labels":[...],"properties":{...}}, ...],
--    "relationships":[{"end":2,"id":1,"properties":{...},"start":1,"type":"T"}, ...]}
-- one record per line, keys sorted, nodes and relationships in id order.
-- Ids are renumbered 1..N in that order, so importing an export into an empty
-- daemon and exporting again gives the same bytes (the importer creates the
-- nodes in file order). Property values keep their JSON types (1 vs 1.0, [] vs {}).
-- Not exported: provenance (which import asserted what).

local function encode(v)
  return dsgraph.json.encode(v, { sort_keys = true })
end

local function run(ctx, opts)
  local ids, n = {}, 0
  ctx:write('{"nodes":[')
  for node in ctx:nodes() do
    n = n + 1
    ids[node.id] = n
    local rec = {
      id = n,
      labels = dsgraph.list(node.labels),
      properties = dsgraph.map(node.props),
      aliases = dsgraph.list(node.aliases),
    }
    ctx:write(n == 1 and "\n" or ",\n", encode(rec))
  end
  ctx:write(n == 0 and '],"relationships":[' or '\n],"relationships":[')
  local m = 0
  for rel in ctx:rels() do
    m = m + 1
    local rec = {
      id = m,
      type = rel.type,
      start = ids[rel.start],
      ["end"] = ids[rel["end"]],
      properties = dsgraph.map(rel.props),
    }
    ctx:write(m == 1 and "\n" or ",\n", encode(rec))
  end
  ctx:write(m == 0 and "]}\n" or "\n]}\n")
end

return {
  name = "json_export",
  version = "1.0.0",
  description = "the whole graph as lossless JSON (read back by json_graph)",
  exporter = { extension = "json", media_type = "application/json", run = run },
}
