-- plugins/json_export.lua - the lossless JSON graph: exactly the format that
-- plugins/json_graph.lua imports,
--   {"imports":[{"finished_at":...,"id":1,"input":"deepseek.jsonl","nodes":56,"plugin":"...",
--                "properties":503,"relationships":131,"retracted_at":null,"sha256":"...",
--                "started_at":"...","warnings":0}, ...],
--    "nodes":[{"aliases":[...],"claims":{...},"id":1,"labels":[...],"properties":{...}}, ...],
--    "relationships":[{"claims":{...},"end":2,"id":1,"properties":{...},"start":1,"type":"T"}, ...]}
-- one record per line, keys sorted, imports, nodes and relationships in id order.
-- Ids are renumbered 1..N in that order (imports too), so importing an export into an
-- empty daemon and exporting again gives the same bytes (the importer creates the
-- nodes in file order and recreates the imports in list order). Property values keep
-- their JSON types (1 vs 1.0, [] vs {}).
--
-- Provenance: "imports" lists every import (retracted ones too); an entity's "claims" say
-- who asserted what: "entity" [{"effect":"created"|"updated"|"asserted","import":N}]
-- (import 0 is a direct write), "properties" [{"import","key","value"}] by key, oldest
-- first (the last is what reads show unless a direct write changed it since), "aliases"
-- [{"alias","import"}]. Empty lists are left out, and so is "claims" when there are none.
-- --opt provenance=false leaves out "imports" and "claims" (the format before provenance).

local function encode(v)
  return dsgraph.json.encode(v, { sort_keys = true })
end

-- Renumbers the import ids of one entity's claims (canonical ids, 0 stays 0),
-- in place: the tables are this entity's own (ctx:nodes hands out fresh ones),
-- and copying them cost a tenth of the export's time.
local function renumber(claims, imports)
  for _, list in ipairs({ "entity", "properties", "aliases" }) do
    local src = claims[list]
    if src then
      for _, c in ipairs(src) do
        local imp = c.import == 0 and 0 or imports[c.import]
        if imp == nil then error("a claim names import " .. tostring(c.import) .. ", which is not listed") end
        c.import = imp
      end
    end
  end
  return claims
end

-- The "imports" list; fills imports[real id] = canonical id.
local function write_imports(ctx, imports)
  ctx:write('{"imports":[')
  local k = 0
  for _, imp in ipairs(ctx:imports()) do
    k = k + 1
    imports[imp.id] = k
    imp.id = k
    ctx:write(k == 1 and "\n" or ",\n", encode(dsgraph.map(imp)))
  end
  ctx:write(k == 0 and '],"nodes":[' or '\n],"nodes":[')
end

local function run(ctx, opts)
  local with_prov = opts.provenance ~= "false"
  local ids, n, imports = {}, 0, {}
  if with_prov then write_imports(ctx, imports) else ctx:write('{"nodes":[') end
  local iter_opts = { claims = with_prov }
  for node in ctx:nodes(nil, iter_opts) do
    n = n + 1
    ids[node.id] = n
    local rec = {
      id = n,
      labels = dsgraph.list(node.labels),
      properties = dsgraph.map(node.props),
      aliases = dsgraph.list(node.aliases),
    }
    if node.claims then rec.claims = renumber(node.claims, imports) end
    ctx:write(n == 1 and "\n" or ",\n", encode(rec))
  end
  ctx:write(n == 0 and '],"relationships":[' or '\n],"relationships":[')
  local m = 0
  for rel in ctx:rels(nil, iter_opts) do
    m = m + 1
    local rec = {
      id = m,
      type = rel.type,
      start = ids[rel.start],
      ["end"] = ids[rel["end"]],
      properties = dsgraph.map(rel.props),
    }
    if rel.claims then rec.claims = renumber(rel.claims, imports) end
    ctx:write(m == 1 and "\n" or ",\n", encode(rec))
  end
  ctx:write(m == 0 and "]}\n" or "\n]}\n")
end

return {
  name = "json_export",
  version = "1.1.0",
  description = "the whole graph as lossless JSON, provenance included (read back by json_graph)",
  exporter = { extension = "json", media_type = "application/json", run = run },
}
