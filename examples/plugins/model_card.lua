-- examples/plugins/model_card.lua - the importer built step by step in
-- docs/plugins_tutorial.md: "key: value" model cards, one card per model,
-- cards separated by blank lines, "#" comment lines (see deepseek.cards).
--
--   model: DeepSeek-R1             starts a card: a Model node
--   developer: DeepSeek            -> Organization, DEVELOPED_BY
--   released: 2025-01              -> released
--   params: 671B / active: 37B     -> params_total / params_active (dsgraph.parse_quantity)
--   context: 128K                  -> context_length (128K = 131072 tokens)
--   based_on: A, B                 -> BASED_ON each
--   distilled_from: DeepSeek-R1    -> DISTILLED_FROM
--   uses: Technique A, Technique B -> Technique nodes, USES
--   paper: arXiv:2501.12948        -> Paper, DESCRIBED_IN
--   open_source: yes | no          -> open_source

-- Splits "a, b ,c" into {"a", "b", "c"}.
local function split_list(value)
  local out = {}
  for part in (value .. ","):gmatch("([^,]*),") do
    part = part:match("^%s*(.-)%s*$")
    if part ~= "" then out[#out + 1] = part end
  end
  return out
end

-- Each key's handler: (ctx, card, value). card.node is the Model's handle.
local KEYS = {}

-- A number with a unit ("671B"); a bad one stops the import with the line number.
local function quantity(ctx, value, opts)
  local n, err = dsgraph.parse_quantity(value, opts)
  if not n then ctx:error(err) end
  return n
end

function KEYS.developer(ctx, card, value)
  local org = ctx:node { labels = { "Organization" }, name = value }
  ctx:rel(card.node, "DEVELOPED_BY", org)
end

function KEYS.released(ctx, card, value)
  if not value:match("^%d%d%d%d%-%d%d$") and not value:match("^%d%d%d%d%-%d%d%-%d%d$") then
    ctx:error("released must be YYYY-MM or YYYY-MM-DD, got \"" .. value .. "\"")
  end
  card.props.released = value
end

function KEYS.params(ctx, card, value) card.props.params_total = quantity(ctx, value) end
function KEYS.active(ctx, card, value) card.props.params_active = quantity(ctx, value) end
function KEYS.context(ctx, card, value) card.props.context_length = quantity(ctx, value, { kind = "context" }) end

function KEYS.open_source(ctx, card, value)
  local v = value:lower()
  if v == "yes" or v == "true" then card.props.open_source = true
  elseif v == "no" or v == "false" then card.props.open_source = false
  else ctx:error("open_source must be yes or no, got \"" .. value .. "\"") end
end

function KEYS.based_on(ctx, card, value)
  for _, name in ipairs(split_list(value)) do
    ctx:rel(card.node, "BASED_ON", ctx:node { labels = { "Model" }, name = name })
  end
end

function KEYS.distilled_from(ctx, card, value)
  for _, name in ipairs(split_list(value)) do
    ctx:rel(card.node, "DISTILLED_FROM", ctx:node { labels = { "Model" }, name = name })
  end
end

function KEYS.uses(ctx, card, value)
  for _, name in ipairs(split_list(value)) do
    ctx:rel(card.node, "USES", ctx:node { labels = { "Technique" }, name = name })
  end
end

function KEYS.paper(ctx, card, value)
  local id = value:match("^arXiv:(%d%d%d%d%.%d%d%d%d%d?)$")
  if not id then ctx:error("paper must be arXiv:NNNN.NNNNN, got \"" .. value .. "\"") end
  local paper = ctx:node { labels = { "Paper" }, name = value, props = { arxiv_id = id } }
  ctx:rel(card.node, "DESCRIBED_IN", paper)
end

-- Writes the properties gathered for a card (one merge per card, not one per line).
local function finish(ctx, card)
  if card then ctx:node { labels = { "Model" }, name = card.name, props = card.props } end
end

local function run(ctx, input)
  local card = nil
  local cards = 0
  for line in input:lines() do            -- ctx.line follows along: errors name the line
    if line:match("^%s*$") then           -- a blank line ends a card
      finish(ctx, card)
      card = nil
    elseif not line:match("^%s*#") then   -- "#" lines are comments
      local key, value = line:match("^%s*([%w_]+)%s*:%s*(.-)%s*$")
      if not key then ctx:error("expected \"key: value\", got \"" .. line .. "\"") end
      if not dsgraph.utf8_valid(value) then ctx:error("not valid UTF-8") end
      key = key:lower()
      if key == "model" then
        finish(ctx, card)
        card = { name = value, props = {}, node = ctx:node { labels = { "Model" }, name = value } }
        cards = cards + 1
      elseif not card then
        ctx:error("\"" .. key .. "\" before any \"model:\" line")
      elseif KEYS[key] then
        KEYS[key](ctx, card, value)
      else
        ctx:warn("unknown key \"" .. key .. "\" (ignored)")
      end
    end
  end
  finish(ctx, card)
  ctx:progress(cards, cards)
end

return {
  name = "model_card",
  version = "1.0.0",
  description = "Example importer: \"key: value\" model cards (the plugins tutorial)",
  importer = {
    extensions = { "card", "cards" },
    media_types = { "text/x-model-card" },
    -- the first non-comment line of a card file is "model: ..."
    detect = function(head)
      for line in head:gmatch("[^\n]*") do
        if not line:match("^%s*#") and line:match("%S") then
          return line:match("^%s*model%s*:") ~= nil
        end
      end
      return false
    end,
    run = run,
  },
}
