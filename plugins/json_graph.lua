-- plugins/json_graph.lua - imports a graph in JSON (the format the JSON exporter
-- writes) or in JSON Lines (one record per line, the same records).
--
-- JSON graph:
--   {"nodes": [{"id": 1, "labels": ["Model"], "properties": {"name": "DeepSeek-V3", ...},
--               "aliases": ["DeepSeek V3"]}, ...],
--    "relationships": [{"id": 1, "type": "BASED_ON", "start": 1, "end": 2, "properties": {...}}, ...]}
-- JSON Lines (.jsonl / .ndjson): one record per line,
--   {"type": "node", "id": 1, "labels": [...], "properties": {...}, "aliases": [...]}
--   {"type": "relationship", "id": 1, "label": "BASED_ON", "start": 1, "end": 2, "properties": {...}}
--   (the relationship type is "label" here, as "type" names the record kind; "rel_type" is accepted too)
--
-- Ids are the file's own: "start"/"end" refer to a node id of the same input. They
-- may also be {"label": "Model", "name": "DeepSeek-V3"}, which names a node by identity.
-- A node merges by its first label and properties.name (the store's identity rule);
-- a node without a name is an error (it could not be merged on re-import).
-- Property values keep their JSON types (1 and 1.0 differ, [] stays a list).
--
-- Provenance (the JSON graph only): a document with "imports" (as json_export writes it)
-- restores history. Each listed import is recreated (ctx:replay_import: same plugin, input,
-- sha256, times and counts; an identical row already there is reused) and every node and
-- relationship gets exactly the claims its "claims" lists, attributed to those imports
-- (ctx:replay_claims; a record without "claims" has none). This import itself then claims
-- nothing, so the daemon keeps no row of its own for it: the replayed imports are its record.

local function describe(what, idx, rec)
  local id = type(rec) == "table" and rec.id
  if id ~= nil and id ~= dsgraph.null then return string.format("%s[%d] (id %s)", what, idx, tostring(id)) end
  return string.format("%s[%d]", what, idx)
end

local function check_strings(ctx, list, where, what)
  if list == nil or list == dsgraph.null then return nil end
  if type(list) ~= "table" or not dsgraph.is_list(list) then ctx:error(where .. ": " .. what .. " must be a list of strings") end
  for i, s in ipairs(list) do
    if type(s) ~= "string" or s == "" then ctx:error(string.format("%s: %s[%d] must be a non-empty string", where, what, i)) end
  end
  return list
end

-- The document's imports, recreated in list order; returns file id -> import id (0 -> 0).
local function replay_imports(ctx, list)
  if type(list) ~= "table" or not dsgraph.is_list(list) then ctx:error("\"imports\" must be a list") end
  local map = { [0] = 0 }
  for i, rec in ipairs(list) do
    local where = describe("imports", i, rec)
    if type(rec) ~= "table" or dsgraph.is_list(rec) then ctx:error(where .. ": an import must be an object") end
    if math.type(rec.id) ~= "integer" or rec.id <= 0 or map[rec.id] then
      ctx:error(where .. ": id must be a positive integer, unique in the list")
    end
    local ok, h = pcall(ctx.replay_import, ctx, rec)
    if not ok then ctx:error(where .. ": " .. tostring(h)) end
    map[rec.id] = h.id
  end
  return map
end

-- Attributes the recorded claims of one entity to the recreated imports.
local function replay_claims(ctx, imports, kind, h, claims, where)
  if claims == nil or claims == dsgraph.null then claims = {} end
  if type(claims) ~= "table" or dsgraph.is_list(claims) then ctx:error(where .. ": claims must be an object") end
  local out = {}
  for _, list in ipairs({ "entity", "properties", "aliases" }) do
    local src = claims[list]
    if src ~= nil then
      if type(src) ~= "table" or not dsgraph.is_list(src) then ctx:error(where .. ": claims." .. list .. " must be a list") end
      local dst = {}
      for i, c in ipairs(src) do
        local imp = type(c) == "table" and imports[c.import]
        if not imp then
          ctx:error(string.format("%s: claims.%s[%d] names import %s, which is not in \"imports\"", where, list, i,
            tostring(type(c) == "table" and c.import)))
        end
        local copy = {}
        for k, v in pairs(c) do copy[k] = v end
        copy.import = imp
        dst[i] = copy
      end
      out[list] = dst
    end
  end
  local ok, err = pcall(ctx.replay_claims, ctx, kind, h, out)
  if not ok then ctx:error(where .. ": " .. tostring(err)) end
end

-- Puts one node record; remembers its handle under its file id.
local function put_node(ctx, ids, rec, where)
  if type(rec) ~= "table" or dsgraph.is_list(rec) then ctx:error(where .. ": a node must be an object") end
  local labels = check_strings(ctx, rec.labels, where, "labels")
  if not labels or #labels == 0 then ctx:error(where .. ": a node needs at least one label") end
  local props = rec.properties
  if props == nil or props == dsgraph.null then props = {} end
  if type(props) ~= "table" or dsgraph.is_list(props) then ctx:error(where .. ": properties must be an object") end
  local name = props.name
  if type(name) ~= "string" or name == "" then
    ctx:error(where .. ": the node has no properties.name (nodes merge on label + name)")
  end
  local h = ctx:node { labels = labels, name = name, props = props, aliases = check_strings(ctx, rec.aliases, where, "aliases") }
  local id = rec.id
  if id ~= nil and id ~= dsgraph.null then
    if type(id) ~= "number" and type(id) ~= "string" then ctx:error(where .. ": id must be a number or a string") end
    ids[tostring(id)] = h
  end
  return h
end

-- Resolves "start"/"end": a file id or {label, name}.
local function endpoint(ctx, ids, ref, where, which)
  if type(ref) == "number" or type(ref) == "string" then
    local h = ids[tostring(ref)]
    if not h then ctx:error(string.format("%s: %s %s is not a node of this input", where, which, tostring(ref))) end
    return h
  end
  if type(ref) == "table" and type(ref.label) == "string" and type(ref.name) == "string" then
    return ctx:node { labels = { ref.label }, name = ref.name }
  end
  ctx:error(string.format("%s: %s must be a node id or {\"label\", \"name\"}", where, which))
end

local function put_rel(ctx, ids, rec, rtype, where)
  if type(rec) ~= "table" or dsgraph.is_list(rec) then ctx:error(where .. ": a relationship must be an object") end
  if type(rtype) ~= "string" or not rtype:match("^[%a_][%w_]*$") then
    ctx:error(where .. ": the relationship type must be a name like BASED_ON, got " .. tostring(rtype))
  end
  local props = rec.properties
  if props == nil or props == dsgraph.null then props = {} end
  if type(props) ~= "table" or dsgraph.is_list(props) then ctx:error(where .. ": properties must be an object") end
  local a = endpoint(ctx, ids, rec.start, where, "start")
  local b = endpoint(ctx, ids, rec["end"], where, "end")
  return ctx:rel(a, rtype, b, props)
end

-- Whole-document JSON graph.
local function run_graph(ctx, input, first)
  local parts = { first }
  while true do
    local s = input:read(65536)
    if not s then break end
    parts[#parts + 1] = s
  end
  local doc, err = dsgraph.json.decode(table.concat(parts))
  if doc == nil then
    local at = err:match("^line (%d+)")
    if at then ctx:line(math.tointeger(tonumber(at))) end
    ctx:error("invalid JSON: " .. err)
  end
  if type(doc) ~= "table" or dsgraph.is_list(doc) then ctx:error("a JSON graph is an object with \"nodes\" and \"relationships\"") end
  local nodes, rels = doc.nodes or dsgraph.list {}, doc.relationships or dsgraph.list {}
  if type(nodes) ~= "table" or type(rels) ~= "table" then ctx:error("\"nodes\" and \"relationships\" must be lists") end
  local total, ids = #nodes + #rels, {}
  local imports = doc.imports ~= nil and replay_imports(ctx, doc.imports) or nil
  for i, n in ipairs(nodes) do
    local where = describe("nodes", i, n)
    local h = put_node(ctx, ids, n, where)
    if imports then replay_claims(ctx, imports, "node", h, n.claims, where) end
    if i % 1000 == 0 then ctx:progress(i, total) end
  end
  for i, r in ipairs(rels) do
    local where = describe("relationships", i, r)
    local h = put_rel(ctx, ids, r, type(r) == "table" and r.type or nil, where)
    if imports then replay_claims(ctx, imports, "rel", h, r.claims, where) end
    if i % 1000 == 0 then ctx:progress(#nodes + i, total) end
  end
  ctx:progress(total, total)
end

-- JSON Lines: one record per line; ctx.line is the line being read.
local function run_lines(ctx, input)
  local ids, n = {}, 0
  for line in input:lines() do
    if line:find("%S") then
      local rec, err = dsgraph.json.decode(line)
      if rec == nil then ctx:error("invalid JSON: " .. err:gsub("^line 1, ", "")) end
      if type(rec) ~= "table" or dsgraph.is_list(rec) then ctx:error("a record must be a JSON object") end
      if rec.type == "node" then
        put_node(ctx, ids, rec, "node record")
      elseif rec.type == "relationship" then
        put_rel(ctx, ids, rec, rec.label or rec.rel_type, "relationship record")
      else
        ctx:error("a record's \"type\" must be \"node\" or \"relationship\", got " .. tostring(rec.type))
      end
      n = n + 1
      if n % 10000 == 0 then ctx:progress(n, nil) end
    end
  end
end

local function run(ctx, input)
  local name = input.name or ""
  if name:match("%.jsonl$") or name:match("%.ndjson$") then return run_lines(ctx, input) end
  local first = input:read(65536) or ""
  -- without a telling extension: a JSON graph is one object with "nodes"; JSON Lines start with a record
  local head = first:match("^%s*(.-)\n") or first
  local rec = dsgraph.json.decode(head)
  if type(rec) == "table" and (rec.type == "node" or rec.type == "relationship") then
    ctx:error("this looks like JSON Lines: name the input *.jsonl")
  end
  return run_graph(ctx, input, first)
end

return {
  name = "json_graph",
  version = "1.1.0",
  description = "JSON graph ({nodes, relationships}) and JSON Lines of the same records",
  importer = {
    extensions = { "json", "jsonl", "ndjson" },
    media_types = { "application/json", "application/x-ndjson" },
    detect = function(head)
      return head:find('^%s*{%s*"nodes"%s*:') ~= nil or head:find('^%s*{%s*"relationships"%s*:') ~= nil
        or head:find('^%s*{%s*"imports"%s*:') ~= nil
        or head:find('^%s*{%s*"type"%s*:%s*"node"') ~= nil
    end,
    run = run,
  },
}
