-- plugins/check_paper_two_models.lua - a check: one Paper described as the
-- report of two (or more) different models (DESCRIBED_IN from each). This is
-- often right (DeepSeek-R1 and DeepSeek-R1-Zero share a paper, and so do the
-- R1 distills), so it is a warning; it names every model and the imports that
-- asserted each link, so a wrong link (a report citing the R1 paper for V3)
-- can be traced to its source.

local function source(imports, id)
  local m = imports[id]
  if id == 0 or not m then return "#" .. id .. " (direct)" end
  return string.format("#%d %s %s", id, m.plugin or "?", m.input or "")
end

-- Why: techniques are DESCRIBED_IN papers too; only models count here.
local function is_model(ctx, id)
  local n = ctx:node(id)
  for _, l in ipairs(n and n.labels or {}) do
    if l == "Model" then return true end
  end
  return false
end

local function run(ctx, opts)
  local imports = {}
  for _, m in ipairs(ctx:imports()) do imports[m.id] = m end
  local papers, order = {}, {}
  for r in ctx:rels("DESCRIBED_IN") do
    local p = papers[r["end"]]
    if not p then
      p = { links = {}, seen = {} }
      papers[r["end"]] = p
      order[#order + 1] = r["end"]
    end
    if not p.seen[r.start] and is_model(ctx, r.start) then
      p.seen[r.start] = true
      local _, ent = ctx:claims("rel", r.id)
      p.links[#p.links + 1] = { model = r.start, claims = ent }
    end
  end
  table.sort(order)
  for _, pid in ipairs(order) do
    local p = papers[pid]
    if #p.links > 1 then
      local paper = ctx:node(pid)
      local parts, nodes, ids, seen = {}, {}, {}, {}
      for _, l in ipairs(p.links) do
        local m = ctx:node(l.model)
        local srcs = {}
        for _, c in ipairs(l.claims) do
          srcs[#srcs + 1] = source(imports, c.import)
          if not seen[c.import] then seen[c.import] = true; ids[#ids + 1] = c.import end
        end
        parts[#parts + 1] = string.format("%s (%s)", m and m.props.name or ("#" .. l.model),
          #srcs > 0 and table.concat(srcs, ", ") or "no recorded source")
        nodes[#nodes + 1] = l.model
      end
      local title = paper and (paper.props.title and (paper.props.name .. " \"" .. paper.props.title .. "\"")
        or paper.props.name) or ("#" .. pid)
      nodes[#nodes + 1] = pid
      ctx:finding {
        message = string.format("paper %s is described as the report of %d models: %s", title, #p.links,
          table.concat(parts, "; ")),
        nodes = nodes,
        imports = ids,
      }
    end
  end
end

return {
  name = "check_paper_two_models",
  version = "1.0.0",
  description = "one paper described as the report of two different models",
  check = { severity = "warning", description = "a Paper with DESCRIBED_IN from two different models", run = run },
}
