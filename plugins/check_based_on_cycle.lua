-- plugins/check_based_on_cycle.lua - a check: a cycle of BASED_ON links
-- (A BASED_ON B BASED_ON ... BASED_ON A, or A BASED_ON A). Lineage must be a
-- DAG; every cycle is reported once, starting at its lowest node id, with the
-- imports that asserted its links.

-- Why: the id of one BASED_ON link u -> v (the lowest, as the links are read),
-- asked for a finding only: a table of every link's id would not fit the plugin
-- memory limit at a million models.
local function link_id(ctx, u, v)
  local res = ctx:query("MATCH (a)-[r:BASED_ON]->(b) WHERE id(a) = $u AND id(b) = $v RETURN id(r) ORDER BY id(r) LIMIT 1",
    { u = u, v = v })
  return res.rows[1] and res.rows[1][1]
end

local function run(ctx, opts)
  -- Why two tables: nearly every model has one base, so first[s] holds an
  -- integer (array-dense over node ids) and only merges get a list in more[s].
  local first, more = {}, {}
  for r in ctx:rels("BASED_ON") do
    local s, e = r.start, r["end"]
    if first[s] == nil then
      first[s] = e
    else
      more[s] = more[s] or { first[s] }
      local m = more[s]
      m[#m + 1] = e
    end
  end
  local starts = {}
  for s in pairs(first) do starts[#starts + 1] = s end
  table.sort(starts)
  for _, list in pairs(more) do table.sort(list) end
  local function next_of(node, i)
    local m = more[node]
    if m then return m[i] end
    if i == 1 then return first[node] end
    return nil
  end
  -- Why colours: an iterative DFS finds each back edge once; a back edge
  -- u -> v closes the cycle v ... u on the current path.
  local colour, reported = {}, {}
  for _, root in ipairs(starts) do
    if not colour[root] then
      local path, pos, stack = {}, {}, { { node = root, i = 0 } }
      colour[root] = 1; path[1] = root; pos[root] = 1
      while #stack > 0 do
        local top = stack[#stack]
        top.i = top.i + 1
        local v = next_of(top.node, top.i)
        if v == nil then
          colour[top.node] = 2; pos[top.node] = nil; path[#path] = nil; stack[#stack] = nil
        elseif colour[v] == 1 then
          local cyc = {}
          for k = pos[v], #path do cyc[#cyc + 1] = path[k] end
          local low = 1
          for k = 2, #cyc do if cyc[k] < cyc[low] then low = k end end
          local rot = {}
          for k = 0, #cyc - 1 do rot[#rot + 1] = cyc[(low - 1 + k) % #cyc + 1] end
          local key = table.concat(rot, ",")
          if not reported[key] then
            reported[key] = true
            local names, ids, seen = {}, {}, {}
            for k, id in ipairs(rot) do
              local n = ctx:node(id)
              names[#names + 1] = n and n.props.name or ("#" .. id)
              local _, ent = ctx:claims("rel", link_id(ctx, id, rot[k % #rot + 1]))
              for _, c in ipairs(ent) do
                if not seen[c.import] then seen[c.import] = true; ids[#ids + 1] = c.import end
              end
            end
            ctx:finding {
              message = "BASED_ON cycle: " .. table.concat(names, " -> ") .. " -> " .. names[1],
              nodes = rot,
              imports = ids,
            }
          end
        elseif not colour[v] then
          colour[v] = 1; path[#path + 1] = v; pos[v] = #path
          stack[#stack + 1] = { node = v, i = 0 }
        end
      end
    end
  end
end

return {
  name = "check_based_on_cycle",
  version = "1.0.0",
  description = "a cycle of BASED_ON links",
  check = { severity = "error", description = "BASED_ON links that form a cycle", run = run },
}
