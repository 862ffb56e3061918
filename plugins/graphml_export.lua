-- plugins/graphml_export.lua - the graph as GraphML (Gephi, yEd, Cytoscape).
--
-- Every property key becomes a typed <key> (attr.type boolean, long, double or
-- string; a key whose values have several types, and lists/objects, are
-- strings, the latter holding JSON). A node's labels are the data "labels"
-- (":Model", joined with ":" as in Cypher) and a relationship's type the data
-- "type", both declared by typed <key>s (attr.type="string") like every property;
-- aliases are "aliases" (JSON list). <node> and <edge> carry only the schema's
-- attributes (id, source, target): no extra labels=/label= attributes, so the
-- file validates against graphml.xsd. Keys are sorted by name; nodes and edges
-- are in id order, so the output is deterministic.

local function xml(s)
  s = tostring(s):gsub("[%z\1-\8\11\12\14-\31]", "")
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function kind(v)
  local t = type(v)
  if t == "boolean" then return "boolean" end
  if t == "number" then return math.type(v) == "integer" and "long" or "double" end
  return "string"
end

local function text(v, k)
  if k == "string" then
    if type(v) == "table" then return dsgraph.json.encode(v, { sort_keys = true }) end
    if v == dsgraph.null then return "null" end
    return tostring(v)
  end
  if k == "double" then return string.format("%.17g", v) end
  return tostring(v)
end

-- Collects {name -> type} over a domain's property tables.
local function collect(keys, props)
  for name, v in pairs(props) do
    local k = kind(v)
    if keys[name] == nil then keys[name] = k
    elseif keys[name] ~= k then
      if (keys[name] == "long" and k == "double") or (keys[name] == "double" and k == "long") then
        keys[name] = "double"
      else
        keys[name] = "string"
      end
    end
  end
end

local function sorted_names(keys)
  local names = {}
  for name in pairs(keys) do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function run(ctx, opts)
  local nkeys, ekeys = {}, {}
  for n in ctx:nodes() do collect(nkeys, n.props) end
  for r in ctx:rels() do collect(ekeys, r.props) end
  local nnames, enames = sorted_names(nkeys), sorted_names(ekeys)
  local nid, eid = {}, {}
  ctx:write('<?xml version="1.0" encoding="UTF-8"?>\n')
  ctx:write('<graphml xmlns="http://graphml.graphdrawing.org/xmlns"\n')
  ctx:write('    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n')
  ctx:write('    xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
  ctx:write('  <key id="labels" for="node" attr.name="labels" attr.type="string"/>\n')
  ctx:write('  <key id="aliases" for="node" attr.name="aliases" attr.type="string"/>\n')
  ctx:write('  <key id="type" for="edge" attr.name="type" attr.type="string"/>\n')
  for i, name in ipairs(nnames) do
    nid[name] = "n" .. i
    ctx:write(string.format('  <key id="n%d" for="node" attr.name="%s" attr.type="%s"/>\n', i, xml(name), nkeys[name]))
  end
  for i, name in ipairs(enames) do
    eid[name] = "e" .. i
    ctx:write(string.format('  <key id="e%d" for="edge" attr.name="%s" attr.type="%s"/>\n', i, xml(name), ekeys[name]))
  end
  ctx:write('  <graph id="G" edgedefault="directed">\n')
  for n in ctx:nodes() do
    local parts = { string.format('    <node id="n%d">\n', n.id) }
    parts[#parts + 1] = string.format('      <data key="labels">%s</data>\n', xml(":" .. table.concat(n.labels, ":")))
    if #n.aliases > 0 then
      parts[#parts + 1] = string.format('      <data key="aliases">%s</data>\n', xml(dsgraph.json.encode(dsgraph.list(n.aliases))))
    end
    for _, name in ipairs(nnames) do
      local v = n.props[name]
      if v ~= nil then
        parts[#parts + 1] = string.format('      <data key="%s">%s</data>\n', nid[name], xml(text(v, nkeys[name])))
      end
    end
    parts[#parts + 1] = "    </node>\n"
    ctx:write(table.concat(parts))
  end
  for r in ctx:rels() do
    local parts = { string.format('    <edge id="e%d" source="n%d" target="n%d">\n', r.id, r.start, r["end"]) }
    parts[#parts + 1] = string.format('      <data key="type">%s</data>\n', xml(r.type))
    for _, name in ipairs(enames) do
      local v = r.props[name]
      if v ~= nil then
        parts[#parts + 1] = string.format('      <data key="%s">%s</data>\n', eid[name], xml(text(v, ekeys[name])))
      end
    end
    parts[#parts + 1] = "    </edge>\n"
    ctx:write(table.concat(parts))
  end
  ctx:write("  </graph>\n</graphml>\n")
end

return {
  name = "graphml_export",
  version = "1.1.0",
  description = "the graph as GraphML with typed keys (Gephi, yEd, Cytoscape)",
  exporter = { extension = "graphml", media_type = "application/graphml+xml", run = run },
}
