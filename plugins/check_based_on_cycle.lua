-- plugins/check_based_on_cycle.lua - a check: a cycle of BASED_ON links
-- (A BASED_ON B BASED_ON ... BASED_ON A, or A BASED_ON A). Lineage must be a
-- DAG; every cycle is reported once, starting at its lowest node id, with the
-- imports that asserted its links.

local function run(ctx, opts)
  local out, rel_of = {}, {}
  for r in ctx:rels("BASED_ON") do
    local s, e = r.start, r["end"]
    out[s] = out[s] or {}
    out[s][#out[s] + 1] = e
    rel_of[s .. ">" .. e] = rel_of[s .. ">" .. e] or r.id
  end
  local starts = {}
  for s in pairs(out) do starts[#starts + 1] = s end
  table.sort(starts)
  for _, list in pairs(out) do table.sort(list) end
  -- Why colours: an iterative DFS finds each back edge once; a back edge
  -- u -> v closes the cycle v ... u on the current path.
  local colour, reported = {}, {}
  for _, root in ipairs(starts) do
    if not colour[root] then
      local path, pos, stack = {}, {}, { { node = root, i = 0 } }
      colour[root] = 1; path[1] = root; pos[root] = 1
      while #stack > 0 do
        local top = stack[#stack]
        local nexts = out[top.node] or {}
        top.i = top.i + 1
        local v = nexts[top.i]
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
              local nxt = rot[k % #rot + 1]
              local _, ent = ctx:claims("rel", rel_of[id .. ">" .. nxt])
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
