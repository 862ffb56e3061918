-- plugins/check_distill_larger.lua - a check: a model DISTILLED_FROM a teacher
-- that has fewer parameters (params_total) than itself. Distillation makes
-- smaller models, so one of the two sizes (or the link) is wrong.

local function run(ctx, opts)
  for r in ctx:rels("DISTILLED_FROM") do
    local child, teacher = ctx:node(r.start), ctx:node(r["end"])
    local a = child and tonumber(child.props.params_total)
    local b = teacher and tonumber(teacher.props.params_total)
    if a and b and a > b then
      local ids, seen = {}, {}
      for _, id in ipairs({ child.id, teacher.id }) do
        for _, c in ipairs((ctx:claims("node", id))) do
          if c.key == "params_total" and c.current and not seen[c.import] then
            seen[c.import] = true
            ids[#ids + 1] = c.import
          end
        end
      end
      local _, ent = ctx:claims("rel", r.id)
      for _, c in ipairs(ent) do
        if not seen[c.import] then seen[c.import] = true; ids[#ids + 1] = c.import end
      end
      ctx:finding {
        message = string.format("%s (params_total %.0f) is distilled from a smaller teacher, %s (params_total %.0f)",
          child.props.name, a, teacher.props.name, b),
        nodes = { child.id, teacher.id },
        imports = ids,
      }
    end
  end
end

return {
  name = "check_distill_larger",
  version = "1.0.0",
  description = "a distilled model larger than its teacher",
  check = { severity = "error", description = "DISTILLED_FROM a teacher with fewer params_total", run = run },
}
