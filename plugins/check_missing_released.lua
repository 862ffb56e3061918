-- plugins/check_missing_released.lua - a check: a Model without a `released`
-- property. Release dates order the lineage (check_released_before_base needs
-- them), so a missing one is a warning naming the imports that asserted the model.
-- A graph loaded from bare lists can lack every date (a million of them): past
-- opts.max_listed findings (default 1000) the rest are counted in one summary
-- finding instead of filling the reply (and the findings cap) with one each.

local DEFAULT_MAX_LISTED = 1000

local function run(ctx, opts)
  local given = opts and opts.max_listed
  local max_listed = given == nil and DEFAULT_MAX_LISTED or math.tointeger(tonumber(given))
  if max_listed == nil then error("opts.max_listed must be an integer, not " .. tostring(given)) end
  if max_listed < 0 then error("opts.max_listed must be a non-negative integer") end
  local listed, unlisted = 0, 0
  for n in ctx:nodes("Model") do
    if n.props.released == nil or n.props.released == dsgraph.null or n.props.released == "" then
      if listed < max_listed then
        listed = listed + 1
        local _, ent = ctx:claims("node", n.id)
        local ids = {}
        for _, c in ipairs(ent) do ids[#ids + 1] = c.import end
        ctx:finding {
          message = string.format("model %s has no released date", n.props.name or ("#" .. n.id)),
          nodes = { n.id },
          imports = ids,
        }
      else
        unlisted = unlisted + 1
      end
    end
  end
  if unlisted > 0 then
    ctx:finding {
      message = string.format("%d more models have no released date (only the first %d are listed; opts.max_listed)",
                              unlisted, max_listed),
    }
  end
end

return {
  name = "check_missing_released",
  version = "1.1.0",
  description = "a Model without a released date",
  check = { severity = "warning", description = "a Model without `released`", run = run },
}
