-- plugins/dot_lineage.lua - the lineage of the models as a Graphviz DOT graph.
--
-- Models are boxes labelled "name\nreleased\nparams" (params as "671B/37B":
-- total/active). An edge goes from the older model to the one made from it:
-- BASED_ON solid, labelled with its "relation"; DISTILLED_FROM dashed.
-- Laid out along release time, left to right (rankdir=LR): a timeline row of
-- release months (plaintext nodes "2024-12", chained by invisible edges in date
-- order), and each month's models in one column with its timeline node
-- ({rank=same; ...}; newrank=true lets ranks cross the clusters). A model
-- released as "2024" (year only) gets the column "2024"; one without a release
-- date is placed by its edges alone. Each organisation a model is DEVELOPED_BY
-- is a cluster (subgraph cluster_N).
-- Options (dsctl export dot_lineage --opt key=value):
--   root=NAME          only this model's lineage (name or alias)
--   direction=up|down|both   ancestors, descendants, or both (default both)
--   depth=N            at most N steps from the root (default unlimited)
--   techniques=true    add the techniques the models USE (dotted edges)
--   impacts=true       add the impacts the models HAVE_IMPACT on (dotted edges)
-- Output is deterministic: everything is emitted in id order.
-- Memory: the plugin holds the shown models only, each as the four fields the
-- label needs; with root= it finds them with one reachability query and their
-- lineage edges with one more per direction, so the diagram of one
-- 60,000-model tree in a 1,000,000-model graph fits the default
-- plugin_memory_limit (without root=, relationships are streamed, never held).

local FONT = "Noto Sans CJK SC"

local function q(s)
  s = tostring(s):gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\r?\n", "\\n")
  return '"' .. s .. '"'
end

local function scale(n)
  if math.type(n) == nil then return nil end
  local units = { { 1e12, "T" }, { 1e9, "B" }, { 1e6, "M" }, { 1e3, "K" } }
  for _, u in ipairs(units) do
    if n >= u[1] then
      local v = n / u[1]
      local s = string.format("%.1f", v):gsub("%.0$", "")
      return s .. u[2]
    end
  end
  return tostring(n)
end

local function params_text(p)
  local t, a = scale(p.params_total), scale(p.params_active)
  if t and a and t ~= a then return t .. "/" .. a end
  return t or a
end

local function truthy(v) return v == "true" or v == "1" or v == "yes" end

local function model_label(n)
  local p = n.props
  local parts = { p.name or ("#" .. n.id) }
  if type(p.released) == "string" then parts[#parts + 1] = p.released end
  local pt = params_text(p)
  if pt then parts[#parts + 1] = pt end
  return table.concat(parts, "\n")
end

-- The timeline column of a release date: "YYYY-MM" of "YYYY-MM[-DD...]", "YYYY" of a
-- year alone; nil when the value is no date.
local function release_month(v)
  if type(v) ~= "string" then return nil end
  return v:match("^(%d%d%d%d%-%d%d)") or v:match("^(%d%d%d%d)$") or v:match("^(%d%d%d%d)[^%d%-]")
end

-- Why a separate pass: the timeline row and the rank=same columns, in date order.
local function write_timeline(w, shown)
  local members, months = {}, {}
  for _, n in ipairs(shown) do
    local m = release_month(n.props.released)
    if m then
      if not members[m] then
        members[m] = {}
        months[#months + 1] = m
      end
      table.insert(members[m], n.id)
    end
  end
  table.sort(months)
  if #months == 0 then return end
  local ids = {}
  for i, m in ipairs(months) do
    ids[i] = "time" .. i
    w(string.format("  %s [label=%s, shape=plaintext, style=\"\", fontsize=11, fontcolor=\"#556677\"];\n", ids[i], q(m)))
  end
  if #ids > 1 then w(string.format("  %s [style=invis];\n", table.concat(ids, " -> "))) end
  for i, m in ipairs(months) do
    local parts = { ids[i] }
    for _, id in ipairs(members[m]) do parts[#parts + 1] = "m" .. id end
    w(string.format("  { rank=same; %s; }\n", table.concat(parts, "; ")))
  end
end

local function has_label(n, l)
  for _, x in ipairs(n.labels) do if x == l then return true end end
  return false
end

-- What the diagram needs of a model: small, so a tree of 60,000 models fits the
-- plugin memory cap (whole node tables with every property would not).
local function shape(n)
  return { id = n.id, props = { name = n.props.name, released = n.props.released,
    params_total = n.props.params_total, params_active = n.props.params_active } }
end

-- The root model by name (one index lookup), else by name or alias after
-- normalisation (one pass over the models, none of them kept), or an error.
local function find_root(ctx, name)
  local r = ctx:query("MATCH (n:Model {name: $name}) RETURN id(n) ORDER BY id(n) LIMIT 1", { name = name })
  if #r.rows > 0 then return ctx:node(r.rows[1][1]) end
  local key, by_alias = dsgraph.normalize(name), nil
  for n in ctx:nodes("Model") do
    if dsgraph.normalize(n.props.name or "") == key then return n end
    if not by_alias then
      for _, a in ipairs(n.aliases) do
        if dsgraph.normalize(a) == key then by_alias = n break end
      end
    end
  end
  if by_alias then return by_alias end
  error("no Model named " .. name, 0)
end

-- The lineage edges (BASED_ON, DISTILLED_FROM) from the models of one walk
-- (the root and what the step reaches from it) into edges, each once: one
-- query per direction, so that the diagram of one tree in a big graph need
-- not read every relationship. Kept as columns (edges.id[i], .type, .start,
-- .stop, .relation; edges.at[id] = i), not a table per edge: 60,000 edges
-- then take a few MiB of the plugin's memory.
local function walk_edges(ctx, root, step, edges)
  local r = ctx:query("MATCH (r:Model {name: $name}) WHERE id(r) = $id MATCH (r)" .. step .. "(n:Model) " ..
    "WITH DISTINCT n MATCH (n)-[e:BASED_ON|DISTILLED_FROM]->(m:Model) " ..
    "RETURN collect([id(e), type(e), id(n), id(m), e.relation]) AS es",
    { id = root.id, name = root.props.name })
  for _, t in ipairs(r.rows[1][1]) do
    if not edges.at[t[1]] then
      local i = #edges.id + 1
      edges.at[t[1]] = i
      edges.id[i], edges.type[i], edges.start[i], edges.stop[i], edges.relation[i] = t[1], t[2], t[3], t[4], t[5]
    end
  end
end

-- Iterates the edges walk_edges found, in id order, as the relationships
-- ctx:rels() hands out ({id, type, start, end, props = {relation}}).
local function each_found_edge(edges)
  local ids = {}
  for i, id in ipairs(edges.id) do ids[i] = id end
  table.sort(ids)
  local k = 0
  return function()
    k = k + 1
    local i = edges.at[ids[k]]
    if not i then return nil end
    return { id = ids[k], type = edges.type[i], start = edges.start[i], ["end"] = edges.stop[i],
      props = { relation = edges.relation[i] } }
  end
end

local function run(ctx, opts)
  local keep, shown = {}, {}
  local edges   -- with root=: the candidate lineage edges, found by walk_edges
  if opts.root then
    local root = find_root(ctx, opts.root)
    local dir = opts.direction or "both"
    if dir ~= "up" and dir ~= "down" and dir ~= "both" then error("direction must be up, down or both", 0) end
    local depth = tonumber(opts.depth or "0")
    if not depth or depth < 0 then error("depth must be a non-negative integer", 0) end
    keep[root.id] = shape(root)
    local dirs = dir == "both" and { "up", "down" } or { dir }
    local hops = depth > 0 and string.format("*1..%d", math.tointeger(depth)) or "*"
    local from_root = depth > 0 and string.format("*0..%d", math.tointeger(depth)) or "*0.."
    edges = { id = {}, type = {}, start = {}, stop = {}, relation = {}, at = {} }
    for _, d in ipairs(dirs) do
      -- only the fields the diagram shows, and each model once (a reachability walk)
      local step = d == "up" and ("-[:BASED_ON|DISTILLED_FROM%s]->"):format(hops)
                              or ("<-[:BASED_ON|DISTILLED_FROM%s]-"):format(hops)
      local r = ctx:query("MATCH (r:Model {name: $name}) WHERE id(r) = $id MATCH (r)" .. step .. "(n:Model) " ..
        "RETURN collect(DISTINCT [id(n), n.name, n.released, n.params_total, n.params_active]) AS ns",
        { id = root.id, name = root.props.name })
      for _, t in ipairs(r.rows[1][1]) do
        if not keep[t[1]] then
          local function v(x) if x ~= dsgraph.null then return x end end
          keep[t[1]] = { id = t[1], props = { name = v(t[2]), released = v(t[3]), params_total = v(t[4]),
            params_active = v(t[5]) } }
        end
      end
      walk_edges(ctx, root, d == "up" and ("-[:BASED_ON|DISTILLED_FROM%s]->"):format(from_root)
                                      or ("<-[:BASED_ON|DISTILLED_FROM%s]-"):format(from_root), edges)
    end
    for _, n in pairs(keep) do shown[#shown + 1] = n end
    table.sort(shown, function(a, b) return a.id < b.id end)
  else
    for n in ctx:nodes("Model") do
      local s = shape(n)
      keep[n.id] = s
      shown[#shown + 1] = s
    end
  end

  -- organisations: the first DEVELOPED_BY (by relationship id) of each shown model
  local org_of, orgs, org_list = {}, {}, {}
  for r in ctx:rels("DEVELOPED_BY") do
    if keep[r.start] and not org_of[r.start] then
      org_of[r.start] = r["end"]
      if not orgs[r["end"]] then
        local o = ctx:node(r["end"])
        orgs[r["end"]] = { node = o, members = {} }
        org_list[#org_list + 1] = r["end"]
      end
    end
  end
  table.sort(org_list)

  local out = {}
  local function w(s) out[#out + 1] = s end
  w("digraph lineage {\n")
  w("  rankdir=LR;\n")
  w("  newrank=true;\n")
  w(string.format("  graph [fontname=%s, fontsize=12];\n", q(FONT)))
  w(string.format("  node [fontname=%s, fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\"];\n", q(FONT)))
  w(string.format("  edge [fontname=%s, fontsize=9];\n", q(FONT)))
  for _, n in ipairs(shown) do
    local o = org_of[n.id]
    if o then table.insert(orgs[o].members, n) end
  end
  local function node_line(n, indent)
    w(string.format("%sm%d [label=%s];\n", indent, n.id, q(model_label(n))))
  end
  for i, oid in ipairs(org_list) do
    local o = orgs[oid]
    w(string.format("  subgraph cluster_%d {\n", i))
    w(string.format("    label=%s;\n", q(o.node and o.node.props.name or ("#" .. oid))))
    w("    style=\"rounded\"; color=\"#8899aa\";\n")
    for _, n in ipairs(o.members) do node_line(n, "    ") end
    w("  }\n")
  end
  for _, n in ipairs(shown) do
    if not org_of[n.id] then node_line(n, "  ") end
  end
  write_timeline(w, shown)

  -- lineage edges: from the base/teacher to the derived model, in id order
  for r in (edges and each_found_edge(edges) or ctx:rels()) do
    if (r.type == "BASED_ON" or r.type == "DISTILLED_FROM") and keep[r.start] and keep[r["end"]] then
      local attrs
      if r.type == "BASED_ON" then
        local rel = type(r.props.relation) == "string" and r.props.relation or "based on"
        attrs = string.format("label=%s", q(rel))
      else
        attrs = string.format("label=%s, style=dashed, color=\"#aa5500\"", q("distilled"))
      end
      w(string.format("  m%d -> m%d [%s];\n", r["end"], r.start, attrs))
    end
  end

  local layers = {}
  if truthy(opts.techniques) then layers[#layers + 1] = { "USES", "Technique", "t", "ellipse", "#f4f4e0" } end
  if truthy(opts.impacts) then layers[#layers + 1] = { "HAS_IMPACT", "Impact", "i", "note", "#fbeeee" } end
  for _, layer in ipairs(layers) do
    local rtype, label, prefix, shape, color = table.unpack(layer)
    local seen, edges = {}, {}
    for r in ctx:rels(rtype) do
      if keep[r.start] then
        local t = seen[r["end"]]
        if t == nil then
          local n = ctx:node(r["end"])
          t = n and has_label(n, label) and n or false
          seen[r["end"]] = t
          if t then
            w(string.format("  %s%d [label=%s, shape=%s, fillcolor=%s];\n", prefix, t.id,
              q(t.props.name or ("#" .. t.id)), shape, q(color)))
          end
        end
        if t then edges[#edges + 1] = string.format("  m%d -> %s%d [style=dotted, arrowhead=none];\n", r.start, prefix, t.id) end
      end
    end
    for _, e in ipairs(edges) do w(e) end
  end
  w("}\n")
  ctx:write(table.concat(out))
end

return {
  name = "dot_lineage",
  version = "1.1.0",
  description = "model lineage as a Graphviz DOT graph (dsctl export dot_lineage --format svg)",
  exporter = { extension = "dot", media_type = "text/vnd.graphviz", run = run },
}
