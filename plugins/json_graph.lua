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
--
-- Size: a document laid out as json_export writes it (first line '{"imports":[' or
-- '{"nodes":[', then one record per line) is read one record at a time, so memory stays
-- flat however big the graph; any other JSON graph is decoded whole, within
-- plugin_memory_limit (64 MiB by default: tens of thousands of nodes).

-- The key of a file's node id in the ids map (file id -> node id): integers (and strings
-- spelling one, as tostring would) are integer keys, so a million ids fill the table's
-- array part (16 MiB), not its hash; any other id is its tostring. Two ids meet exactly
-- when their tostring is equal.
local function idkey(v)
  if math.type(v) == "integer" then return v end
  local s = tostring(v)
  local i = math.tointeger(tonumber(s))
  if i and tostring(i) == s then return i end
  return s
end

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
      for i, c in ipairs(src) do
        local imp = type(c) == "table" and imports[c.import]
        if not imp then
          ctx:error(string.format("%s: claims.%s[%d] names import %s, which is not in \"imports\"", where, list, i,
            tostring(type(c) == "table" and c.import)))
        end
      end
      for _, c in ipairs(src) do c.import = imports[c.import] end   -- the record's own tables, read once
      out[list] = src
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
    ids[idkey(id)] = h.id   -- the id, not the handle table: 16 bytes a node, not ~100
  end
  return h
end

-- Resolves "start"/"end": a file id or {label, name}.
local function endpoint(ctx, ids, ref, where, which)
  if type(ref) == "number" or type(ref) == "string" then
    local h = ids[idkey(ref)]
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

-- A whole-document JSON graph, decoded at once (any layout); memory grows with it
-- (plugin_memory_limit).
local function run_document(ctx, input, first)
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

-- The layout json_export writes, read one record at a time so that memory stays flat
-- however big the graph:
--   {"imports":[            (or {"nodes":[ without provenance)
--   {...},                  one record per line, a comma after all but a section's last
--   ],"nodes":[
--   ...
--   ],"relationships":[
--   ...
--   ]}
-- A line is either structure (braces, brackets, commas and the three section names) or
-- one record. Sections come in that order, each at most once.
local SECTIONS = { imports = 1, nodes = 2, relationships = 3 }

-- The tokens of a structure line ("{", "[", "]", "}", ",", or a section name), or nil.
local function structure(line)
  local toks, pos, n = {}, 1, #line
  while pos <= n do
    local c = line:sub(pos, pos)
    if c == "{" or c == "}" or c == "[" or c == "]" or c == "," then
      toks[#toks + 1] = c
      pos = pos + 1
    elseif c:find("%s") then
      pos = pos + 1
    else
      local key, after = line:match('^"(%a+)"%s*:()', pos)
      if not SECTIONS[key] then return nil end
      toks[#toks + 1] = key
      pos = after
    end
  end
  return toks
end

-- True if the first line is json_export's own (compact, no spaces): '{"imports":[' or
-- '{"nodes":[', with what an empty section adds. Any other document, pretty-printed or on
-- one line, is read whole.
local function streamable(first_line)
  return (first_line:find('^{"imports":%[') or first_line:find('^{"nodes":%[')) and not first_line:find("%s")
    and structure(first_line) ~= nil
end

local function run_stream(ctx, input, first)
  local ids, imports, list = {}, nil, dsgraph.list {}
  local state, section, last_section = "start", nil, 0
  local counts, done = { imports = 0, nodes = 0, relationships = 0 }, 0
  local more = false       -- the last record ended with a comma: another record must follow
  local lineno = 0
  local function fail(msg) ctx:error(msg) end
  local function record(text)
    local rec, err = dsgraph.json.decode(text)
    if rec == nil then fail("invalid JSON: " .. err:gsub("^line 1, ", "")) end
    local i = counts[section] + 1
    counts[section] = i
    local where = describe(section, i, rec)
    if section == "imports" then
      list[i] = rec
    elseif section == "nodes" then
      local h = put_node(ctx, ids, rec, where)
      if imports then replay_claims(ctx, imports, "node", h, rec.claims, where) end
    else
      local h = put_rel(ctx, ids, rec, type(rec) == "table" and rec.type or nil, where)
      if imports then replay_claims(ctx, imports, "rel", h, rec.claims, where) end
    end
    done = done + 1
    if done % 1000 == 0 then ctx:progress(done, nil) end
  end
  local function close_section()
    if more then fail("invalid JSON: a comma after the last record of \"" .. section .. "\"") end
    if section == "imports" then imports = replay_imports(ctx, list) end
    state, section = "object", nil
  end
  local function line_of(text)
    lineno = lineno + 1
    ctx:line(lineno)
    if state == "array" and text:find("^%s*{") then   -- a record
      local body, comma = text:match("^(.-)%s*(,?)%s*$")
      if not more and counts[section] > 0 then fail("invalid JSON: a comma missing after the previous record") end
      more = comma == ","
      return record(body)
    end
    if not text:find("%S") then return end
    if state == "done" then fail("invalid JSON: text after the end of the JSON graph") end
    local toks = structure(text)
    if not toks then
      fail("invalid JSON: expected a record or the end of a section here (a JSON graph that starts as json_export writes it is read one record per line)")
    end
    for _, t in ipairs(toks) do
      if state == "start" and t == "{" then state = "object"
      elseif (state == "object" or state == "comma") and SECTIONS[t] then
        if state == "object" and last_section > 0 then fail("invalid JSON: a comma missing before \"" .. t .. "\"") end
        if SECTIONS[t] <= last_section then
          fail("\"" .. t .. "\" after another section: read one record per line, a JSON graph lists imports, nodes and relationships in that order, each once")
        end
        section, last_section, state = t, SECTIONS[t], "key"
      elseif state == "key" and t == "[" then state, more = "array", false
      elseif state == "array" and t == "]" then close_section()
      elseif state == "object" and t == "," and last_section > 0 then state = "comma"
      elseif state == "object" and t == "}" then state = "done"
      else fail("invalid JSON: unexpected \"" .. t .. "\" in the structure of the JSON graph") end
    end
  end
  -- the lines of the chunk run() has read, then the rest of the input
  local pos, carry = 1, ""
  while true do
    local nl = first:find("\n", pos, true)
    if not nl then carry = first:sub(pos) break end
    line_of((first:sub(pos, nl - 1):gsub("\r$", "")))
    pos = nl + 1
  end
  local started = false
  for line in input:lines() do
    if not started then line, started = carry .. line, true end
    line_of(line)
  end
  if not started and carry ~= "" then line_of((carry:gsub("\r$", ""))) end
  if state ~= "done" then
    ctx:line(lineno)
    fail("invalid JSON: the JSON graph ends before its closing \"]}\"")
  end
  ctx:progress(done, done)
end

local function run_graph(ctx, input, first)
  if streamable(first:match("^([^\n]*)") or first) then return run_stream(ctx, input, first) end
  return run_document(ctx, input, first)
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
  version = "1.2.0",
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
