-- plugins/check_missing_released.lua - a check: a Model without a `released`
-- property. Release dates order the lineage (check_released_before_base needs
-- them), so a missing one is a warning naming the imports that asserted the model.

local function run(ctx, opts)
  for n in ctx:nodes("Model") do
    if n.props.released == nil or n.props.released == dsgraph.null or n.props.released == "" then
      local _, ent = ctx:claims("node", n.id)
      local ids = {}
      for _, c in ipairs(ent) do ids[#ids + 1] = c.import end
      ctx:finding {
        message = string.format("model %s has no released date", n.props.name or ("#" .. n.id)),
        nodes = { n.id },
        imports = ids,
      }
    end
  end
end

return {
  name = "check_missing_released",
  version = "1.0.0",
  description = "a Model without a released date",
  check = { severity = "warning", description = "a Model without `released`", run = run },
}
