-- plugins/csv_export.lua - the graph as CSV in the neo4j-admin import convention,
-- exactly what plugins/csv.lua reads back. An export is one stream, so the graph
-- is written as several files, one per export, chosen with --opt part=...:
--
--   part=nodes (default)   every node, in id order:
--                            :ID,:LABEL,name:string,<key>:<type>,...
--                          :ID is the node's name, :LABEL its labels joined with ';'.
--   part=relationships     the relationships whose start node's first label is
--                          start=LABEL and whose end node's first label is end=LABEL
--                          (csv.lua finds a relationship's ends by label + ID, and a
--                          file has one ID space per end), in id order:
--                            :START_ID(LABEL),:END_ID(LABEL),:TYPE,<key>:<type>,...
--                          Without start/end: the only label pair there is (an error
--                          naming the pairs if there are several).
--   part=parts             the list of the exports that make up the graph, one per
--                          line: "part=nodes", then "part=relationships start=A end=B"
--                          for each label pair, sorted.
--   aliases=rows           (nodes only) also one row per alias: :ID = the alias, the
--                          same :LABEL and name, the other cells empty; csv.lua makes
--                          the ID an alias of the named node. Off by default: for
--                          neo4j-admin each row is a node of its own.
--
-- Importing the nodes file, then the relationship files, into an empty daemon with
-- the csv plugin and exporting again gives the same bytes.
--
-- Typed columns: one per property key (sorted), with a type that fits all its
-- values: boolean, long (integers, all of int64), double (reals, or integers and
-- reals mixed: the integers come back as reals), string, and the arrays boolean[],
-- long[], double[], string[] (';'-separated). What does not round-trip (csv.lua has
-- no JSON type), written in a string column and read back as a string: objects;
-- lists that are empty, mix types, hold objects/lists/null, or hold strings that
-- are empty or contain ';'; keys whose values have different types (each value as
-- text: lists/objects as JSON). Empty strings are empty cells, i.e. absent after
-- import; null is absent. Keys containing ':' cannot be named in a header and are
-- left out. Aliases only with aliases=rows. Provenance is not exported.

local function is_list(v)
  return dsgraph.json.encode(v):sub(1, 1) == "["
end

local function number_text(v, as_double)
  if math.type(v) == "integer" then
    return as_double and string.format("%d.0", v) or string.format("%d", v)
  end
  local s
  for p = 15, 17 do
    s = string.format("%." .. p .. "g", v)
    if tonumber(s) == v then break end
  end
  if not s:find("[%.eEni]") then s = s .. ".0" end
  return s
end

local SCALAR = { boolean = true, long = true, double = true, string = true }

-- The column kind of one value: boolean, long, double, string, T[] or json.
local function kind(v)
  local t = type(v)
  if t == "boolean" then return "boolean" end
  if t == "number" then return math.type(v) == "integer" and "long" or "double" end
  if t == "string" then return "string" end
  if t ~= "table" or v == dsgraph.null or not is_list(v) or #v == 0 then return "json" end
  local k
  for _, e in ipairs(v) do
    local ek = kind(e)
    if not SCALAR[ek] then return "json" end
    if ek == "string" and (e == "" or e:find(";", 1, true)) then return "json" end
    if k == nil or k == ek then k = ek
    elseif (k == "long" and ek == "double") or (k == "double" and ek == "long") then k = "double"
    else return "json" end
  end
  return k .. "[]"
end

local function merge(a, b)
  if a == nil or a == b then return b end
  local num = { long = "double", double = "double", ["long[]"] = "double[]", ["double[]"] = "double[]" }
  if num[a] and num[a] == num[b] then return num[a] end
  return "string"
end

-- The column type (as written in the header) of a kind.
local function column_type(k)
  if k == "json" then return "string" end
  return k
end

local function text(v, k)
  if k == "boolean" then return v and "true" or "false" end
  if k == "long" then return number_text(v, false) end
  if k == "double" then return number_text(v, true) end
  if k:find("%[%]$") then
    local ek, parts = k:sub(1, -3), {}
    for i, e in ipairs(v) do parts[i] = text(e, ek) end
    return table.concat(parts, ";")
  end
  -- string (and json, mixed): each value as text
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then return number_text(v, false) end
  return dsgraph.json.encode(v, { sort_keys = true })
end

local function cell(s)
  if s:find('[,"\r\n]') or s:find("^[ \t]") or s:find("[ \t]$") then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

local function row(cells)
  for i, c in ipairs(cells) do cells[i] = cell(c) end
  return table.concat(cells, ",") .. "\n"
end

local function absent(v)
  return v == nil or v == dsgraph.null
end

-- Collects {key -> kind} over property tables (keys with ':' or empty are skipped).
local function collect(keys, props, skip)
  for key, v in pairs(props) do
    if not absent(v) and key ~= "" and not key:find(":", 1, true) and not (skip and skip[key]) then
      keys[key] = merge(keys[key], kind(v))
    end
  end
end

local function sorted(keys)
  local names = {}
  for name in pairs(keys) do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function prop_cells(cells, names, keys, props)
  for _, key in ipairs(names) do
    local v = props[key]
    cells[#cells + 1] = absent(v) and "" or text(v, keys[key])
  end
  return cells
end

local function node_name(n)
  return type(n.props.name) == "string" and n.props.name or nil
end

local function export_nodes(ctx, opts)
  local keys = {}
  for n in ctx:nodes() do collect(keys, n.props, { name = true }) end
  local names = sorted(keys)
  local header = { ":ID", ":LABEL", "name:string" }
  for _, key in ipairs(names) do header[#header + 1] = key .. ":" .. column_type(keys[key]) end
  ctx:write(row(header))
  local with_aliases = opts.aliases == "rows"
  for n in ctx:nodes() do
    local name = node_name(n)
    if name and name ~= "" then
      local labels = table.concat(n.labels, ";")
      ctx:write(row(prop_cells({ name, labels, name }, names, keys, n.props)))
      if with_aliases and n.aliases then
        local seen = { [dsgraph.normalize(name)] = true }
        for _, a in ipairs(n.aliases) do
          local key = dsgraph.normalize(a)
          if a ~= "" and not seen[key] then
            seen[key] = true
            local cells = { a, labels, name }
            for _ = 1, #names do cells[#cells + 1] = "" end
            ctx:write(row(cells))
          end
        end
      end
    end
  end
end

-- {node id -> {label=, name=}} of every node.
local function node_index(ctx)
  local index = {}
  for n in ctx:nodes() do
    index[n.id] = { label = n.labels[1] or "Model", name = node_name(n) }
  end
  return index
end

local function pairs_of(ctx, index)
  local seen, list = {}, {}
  for r in ctx:rels() do
    local a, b = index[r.start], index[r["end"]]
    local k = a.label .. "\0" .. b.label
    if not seen[k] then
      seen[k] = true
      list[#list + 1] = { a.label, b.label }
    end
  end
  table.sort(list, function(x, y) return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2]) end)
  return list
end

local function export_rels(ctx, opts)
  local index = node_index(ctx)
  local from, to = opts.start, opts["end"]
  if (from == nil) ~= (to == nil) then error("part=relationships: give both start=LABEL and end=LABEL, or neither", 0) end
  if from == nil then
    local list = pairs_of(ctx, index)
    if #list > 1 then
      local names = {}
      for i, p in ipairs(list) do names[i] = p[1] .. "->" .. p[2] end
      error("part=relationships: the relationships join several label pairs (" .. table.concat(names, ", ") ..
        "): choose one with --opt start=LABEL --opt end=LABEL (part=parts lists them)", 0)
    end
    from, to = list[1] and list[1][1] or "Model", list[1] and list[1][2] or "Model"
  end
  local function wanted(r)
    local a, b = index[r.start], index[r["end"]]
    return a.label == from and b.label == to and a.name and b.name
  end
  local keys = {}
  for r in ctx:rels() do
    if wanted(r) then collect(keys, r.props) end
  end
  local names = sorted(keys)
  local header = { ":START_ID(" .. from .. ")", ":END_ID(" .. to .. ")", ":TYPE" }
  for _, key in ipairs(names) do header[#header + 1] = key .. ":" .. column_type(keys[key]) end
  ctx:write(row(header))
  for r in ctx:rels() do
    if wanted(r) then
      ctx:write(row(prop_cells({ index[r.start].name, index[r["end"]].name, r.type }, names, keys, r.props)))
    end
  end
end

local function run(ctx, opts)
  opts = opts or {}
  local part = opts.part or "nodes"
  if part == "nodes" then
    export_nodes(ctx, opts)
  elseif part == "relationships" then
    export_rels(ctx, opts)
  elseif part == "parts" then
    ctx:write("part=nodes\n")
    for _, p in ipairs(pairs_of(ctx, node_index(ctx))) do
      ctx:write("part=relationships start=", p[1], " end=", p[2], "\n")
    end
  else
    error("part must be nodes, relationships or parts, not \"" .. tostring(part) .. "\"", 0)
  end
end

return {
  name = "csv_export",
  version = "1.0.0",
  description = "CSV node and relationship files in the neo4j-admin import convention (read back by csv)",
  exporter = { extension = "csv", media_type = "text/csv", run = run },
}
