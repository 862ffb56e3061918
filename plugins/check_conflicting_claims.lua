-- plugins/check_conflicting_claims.lua - a check (docs/plugins.md, "Check
-- plugins"): a property of a node or relationship that two imports claim with
-- different values. Both values are named with the imports behind them, and
-- which one reads show (the value written last).
--
-- A string that extends the other ("2024-12" vs "2024-12-26": the same date,
-- more precise) is a warning; any other disagreement ("2780000" vs "2788000") is an error.
-- Only the latest claim of each import counts; retracted imports have no claims.

-- Why: "#2 deepseek_report 000_x.txt", the way dsctl imports names a source.
local function source(imports, id)
  local m = imports[id]
  if id == 0 or not m then return "#" .. id .. " (direct)" end
  return string.format("#%d %s %s", id, m.plugin or "?", m.input or "")
end

-- Why: distinct values of one key, each with its importers, in first-seen order
-- (claims come newest first, so the first value is the one reads show).
local function values_of(claims, key)
  local vals, by_text, seen = {}, {}, {}
  for _, c in ipairs(claims) do
    if c.key == key and not seen[c.import] then
      seen[c.import] = true
      local v = by_text[c.text]
      if not v then
        v = { text = c.text, imports = {}, current = c.current }
        by_text[c.text] = v
        vals[#vals + 1] = v
      end
      v.imports[#v.imports + 1] = c.import
    end
  end
  return vals
end

-- Why: "2024-12" and "2024-12-26" agree as far as the less precise one goes.
local function is_refinement(vals)
  for i = 2, #vals do
    local a, b = vals[1].text, vals[i].text
    if a:sub(1, 1) ~= '"' or b:sub(1, 1) ~= '"' then return false end
    a, b = a:sub(2, -2), b:sub(2, -2)
    local n = math.min(#a, #b)
    if n == 0 or a:sub(1, n) ~= b:sub(1, n) then return false end
  end
  return true
end

-- Why: one finding per disagreeing key of one entity.
local function check_entity(ctx, imports, what, node_ids, claims)
  local keys, order = {}, {}
  for _, c in ipairs(claims) do
    if not keys[c.key] then keys[c.key] = true; order[#order + 1] = c.key end
  end
  table.sort(order)
  for _, key in ipairs(order) do
    local vals = values_of(claims, key)
    if #vals > 1 then
      local parts, ids = {}, {}
      for _, v in ipairs(vals) do
        local srcs = {}
        for _, id in ipairs(v.imports) do
          srcs[#srcs + 1] = source(imports, id)
          ids[#ids + 1] = id
        end
        parts[#parts + 1] = v.text .. " (" .. table.concat(srcs, ", ") .. ")"
      end
      local refine = is_refinement(vals)
      ctx:finding {
        severity = refine and "warning" or "error",
        message = string.format("%s.%s: sources %s: %s; reads show %s", what, key,
          refine and "differ in precision (one value extends the other)" or "disagree", table.concat(parts, " vs "), vals[1].text),
        nodes = node_ids,
        imports = ids,
      }
    end
  end
end

-- Why: only an entity with claims on one key from two imports can conflict. The
-- claims that come with each page of ctx:nodes/ctx:rels tell which, so the full
-- ctx:claims (values as text, current) is read for those only: a query per
-- entity took minutes at a million models.
local function may_conflict(claims)
  local first = {}
  for _, c in ipairs(claims and claims.properties or {}) do
    local f = first[c.key]
    if f == nil then
      first[c.key] = c.import
    elseif f ~= c.import then
      return true
    end
  end
  return false
end

-- Why: a node's name for a message, read when needed (a table of every name
-- would not fit the plugin memory limit at a million models).
local function name_of(ctx, id)
  local n = ctx:node(id)
  return n and (n.props.name or ("#" .. id)) or "?"
end

local function run(ctx, opts)
  local imports = {}
  for _, m in ipairs(ctx:imports()) do imports[m.id] = m end
  for n in ctx:nodes(nil, { claims = true }) do
    if may_conflict(n.claims) then
      check_entity(ctx, imports, n.props.name or ("#" .. n.id), { n.id }, (ctx:claims("node", n.id)))
    end
  end
  for r in ctx:rels(nil, { claims = true }) do
    if may_conflict(r.claims) then
      local what = string.format("(%s)-[%s]->(%s)", name_of(ctx, r.start), r.type, name_of(ctx, r["end"]))
      check_entity(ctx, imports, what, { r.start, r["end"] }, (ctx:claims("rel", r.id)))
    end
  end
end

return {
  name = "check_conflicting_claims",
  version = "1.0.0",
  description = "a property that two imports claim with different values",
  check = { severity = "error", description = "conflicting claims from different sources", run = run },
}
