-- plugins/check_released_before_base.lua - a check: a model released before
-- the model it is BASED_ON or DISTILLED_FROM. Dates of different precision
-- ("2024-12" vs "2024-12-26") are compared on their common prefix, so only a
-- real contradiction is reported. The imports behind both dates and the link
-- are named.

-- Why: the imports whose claim is the current value of key (the value shown).
local function current_sources(ctx, id, key, ids, seen)
  local props = ctx:claims("node", id)
  for _, c in ipairs(props) do
    if c.key == key and c.current and not seen[c.import] then
      seen[c.import] = true
      ids[#ids + 1] = c.import
    end
  end
end

local function run(ctx, opts)
  for _, t in ipairs({ "BASED_ON", "DISTILLED_FROM" }) do
    for r in ctx:rels(t) do
      local child, parent = ctx:node(r.start), ctx:node(r["end"])
      local a = child and child.props.released
      local b = parent and parent.props.released
      if a ~= nil and b ~= nil then
        a, b = tostring(a), tostring(b)
        local n = math.min(#a, #b)
        if n > 0 and a:sub(1, n) < b:sub(1, n) then
          local ids, seen = {}, {}
          current_sources(ctx, child.id, "released", ids, seen)
          current_sources(ctx, parent.id, "released", ids, seen)
          local _, ent = ctx:claims("rel", r.id)
          for _, c in ipairs(ent) do
            if not seen[c.import] then seen[c.import] = true; ids[#ids + 1] = c.import end
          end
          ctx:finding {
            message = string.format("%s (released %s) is %s %s, which was released later (%s)",
              child.props.name, a, t, parent.props.name, b),
            nodes = { child.id, parent.id },
            imports = ids,
          }
        end
      end
    end
  end
end

return {
  name = "check_released_before_base",
  version = "1.0.0",
  description = "a model released before its base or teacher model",
  check = { severity = "error", description = "BASED_ON/DISTILLED_FROM a model released later", run = run },
}
