-- plugins/deepseek_report.lua - imports a DeepSeek milestone report (Chinese
-- Markdown, shaped like shared/seeds/000_81a8176beca22a22.txt) as it is.
--
-- The report is read through dsgraph.markdown.parse, never with line
-- patterns: level-2 headings are sections, headings under the timeline are
-- model sections, their bullets are "**key**：value" items. Numbers go through
-- dsgraph.quantities / dsgraph.parse_quantity. Names match examples/deepseek.jsonl
-- (the curated data), so both sources merge on the same nodes.
--
-- What becomes what:
--   model heading "N. Name（2024年5月）"  -> Model {released = "2024-05"}, DEVELOPED_BY the organization
--   模型规模 / 训练成本 / 技术特点 / 开源状态 -> params_total, params_active, training_gpu_hours,
--      training_cost_usd, training_gpu, context_length, programming_languages, open_source
--   technique bullets                   -> Technique (with Chinese and English aliases), USES
--   "基于 X 训练"                        -> BASED_ON X
--   技术报告：arXiv:ID                   -> Paper "arXiv:ID", DESCRIBED_IN
--   衍生模型 "X 系列（1.5B、7B）"         -> one Model per size, DISTILLED_FROM the section's model
--   性能表现                             -> performance_claims, Benchmark + EVALUATED_ON,
--                                          COMPARED_WITH {claim} for "超越/击败/媲美/达到 X"
--   关键技术突破                         -> Technique descriptions, model findings / cost_claims
--   行业影响                             -> Impact {category} + HAS_IMPACT
--   总结 table                           -> highlights (主要特点), and the row's own cells as written:
--                                          summary_name, summary_release, summary_params, summary_order
--                                          (the row number); every cell is cross-checked (mismatch = warning)
-- Anything it cannot place is a warning with its line. No timeline section is an error.
-- It writes no `source` properties (the host's provenance records which import asserted
-- each fact, and curated values are not overwritten with vaguer ones); `claim` quotes the report.


-- Techniques: canonical name (as in examples/deepseek.jsonl), abbreviation, aliases,
-- and the lower-case fragments that name it in running text (checked in this order;
-- a matched fragment is removed so "DeepSeekMoE" does not also count as "MoE").
local TECHNIQUES = {
  { name = "DeepSeekMoE", aliases = { "DeepSeekMoE 架构", "DeepSeekMoE architecture" },
    find = { "deepseekmoe" } },
  { name = "Mixture-of-Experts", abbr = "MoE", aliases = { "MoE", "Mixture of Experts", "混合专家", "混合专家架构", "MoE 架构" },
    find = { "mixture%-of%-experts", "mixture of experts", "混合专家", "%f[%w]moe%f[%W]" } },
  { name = "Multi-head Latent Attention", abbr = "MLA", aliases = { "MLA", "多头潜在注意力", "多头潜在注意力机制" },
    find = { "multi%-head latent attention", "多头潜在注意力", "%f[%w]mla%f[%W]" } },
  { name = "Auxiliary-loss-free load balancing",
    aliases = { "无辅助损失的负载均衡", "无辅助损失的负载均衡策略", "auxiliary-loss-free load balancing strategy" },
    find = { "无辅助损失", "auxiliary%-loss%-free" } },
  { name = "FP8 mixed-precision training", aliases = { "FP8 混合精度训练", "FP8 混合精度训练框架", "FP8 training" },
    find = { "%f[%w]fp8%f[%W]" } },
  { name = "Multi-Token Prediction", abbr = "MTP", aliases = { "MTP", "多 Token 预测" },
    find = { "multi%-token prediction", "多 token 预测", "%f[%w]mtp%f[%W]" } },
  { name = "Group Relative Policy Optimization", abbr = "GRPO", aliases = { "GRPO", "组相对策略优化" },
    find = { "%f[%w]grpo%f[%W]", "group relative policy optimization" } },
  { name = "Reinforcement learning", abbr = "RL", aliases = { "RL", "强化学习" },
    find = { "强化学习", "reinforcement learning", "%f[%w]rl%f[%W]" } },
  { name = "Cold start with multi-stage training", aliases = { "冷启动与多阶段训练", "冷启动与多阶段训练流程" },
    find = { "冷启动", "多阶段训练", "cold%-start" } },
  { name = "Long chain-of-thought reasoning", abbr = "CoT", aliases = { "CoT", "Chain-of-Thought", "长链式思维", "链式思维" },
    find = { "链式思维", "chain%-of%-thought", "%f[%w]cot%f[%W]" } },
  { name = "Knowledge distillation", aliases = { "Distillation", "蒸馏", "知识蒸馏", "蒸馏技术" },
    find = { "蒸馏", "distillation" } },
}

-- Models the report compares with, longest spelling first, and their names in the curated data.
local TARGETS = {
  { "gpt-4 turbo", "GPT-4 Turbo" }, { "gpt-4-turbo", "GPT-4 Turbo" }, { "gpt-4o", "GPT-4o" },
  { "claude 3.5 sonnet", "Claude 3.5 Sonnet" }, { "claude 3 opus", "Claude 3 Opus" },
  { "gemini 1.5 pro", "Gemini 1.5 Pro" }, { "openai o1", "OpenAI o1" },
  { "llama 3.1 405b", "Llama-3.1-405B" }, { "gpt-4", "GPT-4" },
}
-- Verbs that make a statement a comparison; "达到" only with a model after it ("达到顶尖水平" is not one).
local COMPARE_VERBS = { "超越", "击败", "媲美", "优于", "超过", "比肩" }
local WEAK_VERBS = { "达到", "相当" }

local function technique_named(name)
  for _, t in ipairs(TECHNIQUES) do
    if t.name == name then return t end
  end
end

-- Benchmarks, longest first so "MMLU-Pro" is not read as "MMLU".
local BENCHMARKS = { "MMLU-Pro", "MMLU", "HumanEval", "MBPP", "AIME 2024", "MATH-500", "GPQA Diamond",
  "LiveCodeBench", "Codeforces", "SWE-bench Verified", "C-Eval", "AlignBench" }

-- Impacts of the curated data, by their Chinese heading.
local IMPACTS = {
  ["开源生态贡献"] = { name = "Open-source ecosystem contribution", category = "open-source" },
  ["市场震动"] = { name = "Market shock", category = "market" },
  ["技术民主化"] = { name = "Technology democratization", category = "democratization" },
}

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function lower(s) return s:lower() end

-- Full-width punctuation to ASCII, so the patterns below never see a multi-byte
-- character inside a [set] (which Lua would read byte by byte).
local function ascii_punct(s)
  return (s:gsub("（", "("):gsub("）", ")"):gsub("，", ","):gsub("；", ";"):gsub("：", ":"):gsub("、", ","))
end

-- "1. DeepSeek-V2（2024年5月）" -> "DeepSeek-V2", "2024年5月"
local function split_heading(text)
  text = ascii_punct(trim(text)):gsub("^%d+[%.,]%s*", "")
  local name, inside = text:match("^(.-)%s*%((.-)%)%s*$")
  if name then return trim(name), inside end
  return text, nil
end

-- "2024年5月" / "2024年5月6日" / "2024-05" -> "2024-05" / "2024-05-06"; nil if not a date.
local function parse_month(s)
  if not s then return nil end
  local found = dsgraph.quantities(s)
  local y, m, d
  if s:find("年") then
    y, m, d = found[1], found[2], found[3]
  else
    return s:match("^%s*(%d%d%d%d%-%d%d%-?%d?%d?)%s*$")
  end
  if not (y and m) or math.type(y.value) ~= "integer" or math.type(m.value) ~= "integer" then return nil end
  if m.value < 1 or m.value > 12 then return nil end
  if d and s:find("日") then return string.format("%04d-%02d-%02d", y.value, m.value, d.value) end
  return string.format("%04d-%02d", y.value, m.value)
end

-- The curated name of a model as the report spells it ("DeepSeek Coder V2" -> "DeepSeek-Coder-V2").
local function canonical_model(name)
  name = trim(name)
  if name:find("^DeepSeek ") then return (name:gsub("%s+", "-")), name end
  return name, nil
end

-- Techniques named in a piece of text, each once, in TECHNIQUES order.
local function find_techniques(text)
  local s = lower(text)
  local out = {}
  for _, t in ipairs(TECHNIQUES) do
    for _, f in ipairs(t.find) do
      local a, b = s:find(f)
      if a then
        out[#out + 1] = t
        s = s:sub(1, a - 1) .. " " .. s:sub(b + 1)
        break
      end
    end
  end
  return out
end

-- Benchmarks named in a statement.
local function find_benchmarks(text)
  local s, out = lower(text), {}
  for _, b in ipairs(BENCHMARKS) do
    local lb = lower(b):gsub("%p", "%%%0")
    local a, e = s:find("%f[%w]" .. lb .. "%f[^%w%-]")
    if a then
      out[#out + 1] = b
      s = s:sub(1, a - 1) .. " " .. s:sub(e + 1)
    end
  end
  return out
end

-- Models a statement compares with ("超越 GPT-4 Turbo"): nil when it is not a comparison.
local function find_targets(text)
  local verb, weak = false, false
  for _, v in ipairs(COMPARE_VERBS) do
    if text:find(v, 1, true) then verb = true end
  end
  for _, v in ipairs(WEAK_VERBS) do
    if text:find(v, 1, true) then weak = true end
  end
  if not verb and not weak then return nil end
  local s, out = lower(text), {}
  for _, t in ipairs(TARGETS) do
    local a, e = s:find(t[1], 1, true)
    if a and not s:sub(e + 1, e + 1):match("[%w%-]") then
      out[#out + 1] = t[2]
      s = s:sub(1, a - 1) .. " " .. s:sub(e + 1)
    end
  end
  if #out == 0 and not verb then return nil end
  return out
end

-- The text of a list item split at its "key：" ("**发布时间**：2024年5月" -> "发布时间", "2024年5月").
local function key_value(item)
  local a = item.text:find("：", 1, true)
  local b = item.text:find(":", 1, true)
  local at, len = a, 3
  if b and (not a or b < a) then at, len = b, 1 end
  if at and at > 1 and at <= 31 then return trim(item.text:sub(1, at - 1)), trim(item.text:sub(at + len)) end
  return nil, trim(item.text)
end

-- Nested list items of an item (the bullets under "技术特点：").
local function sub_items(item)
  local out = {}
  for _, c in ipairs(item.children or {}) do
    if c.type == "list" then
      for _, it in ipairs(c.items) do out[#out + 1] = it end
    end
  end
  return out
end

-- Statements of a bullet: its value if it has one, else its nested items.
local function statements(item, value)
  local subs = sub_items(item)
  if #subs > 0 then return subs end
  if value and value ~= "" then return { { text = value, line = item.line } } end
  return {}
end

local Importer = {}
Importer.__index = Importer

-- One import: the ctx, the parsed document, and what the sections found (for cross-checks).
local function new_importer(ctx, input_name)
  return setmetatable({ ctx = ctx, input = input_name, models = {}, order = {}, techniques = {},
    tech_desc = {}, org = nil }, Importer)
end

-- A warning with the report line it is about (the host shows it with the line).
function Importer:warn(line, msg)
  self.ctx:warn(msg, line or 0)
end

function Importer:technique(t)
  local h = self.techniques[t.name]
  if not h then
    local props = {}
    if t.abbr then props.abbr = t.abbr end
    h = self.ctx:node { labels = { "Technique" }, name = t.name, props = props, aliases = t.aliases }
    self.techniques[t.name] = h
  end
  return h
end

function Importer:model(name, props)
  local canon, alias = canonical_model(name)
  local m = self.models[canon]
  props = props or {}
  if not m then
    m = { name = canon, props = {}, uses = {}, based_on = {}, line = 0 }
    self.models[canon] = m
  end
  for k, v in pairs(props) do m.props[k] = v end
  m.handle = self.ctx:node { labels = { "Model" }, name = canon, props = props, aliases = alias and { alias } or nil }
  return m
end

function Importer:organization()
  if not self.org then
    self.org = self.ctx:node { labels = { "Organization" }, name = self.org_name or "DeepSeek" }
  end
  return self.org
end

-- Sets one property of a model (node merge: later value wins) and remembers it for the cross-checks.
function Importer:set(m, key, value)
  m.props[key] = value
  self.ctx:node { labels = { "Model" }, name = m.name, props = { [key] = value } }
end

-- "236B 参数总量，每个 Token 激活 21B 参数" / "671B 总参数，37B 激活参数"
function Importer:scale(m, value, line)
  local placed = false
  for clause in (ascii_punct(value) .. ","):gmatch("(.-)[,;]") do
    local q = dsgraph.quantities(clause)[1]
    if q then
      if clause:find("激活") or clause:lower():find("active") then
        self:set(m, "params_active", q.value)
      else
        self:set(m, "params_total", q.value)
      end
      placed = true
    end
  end
  if not placed then self:warn(line, "no parameter count in 模型规模 \"" .. value .. "\"") end
end

-- "约 278 万 H800 GPU 小时（约 557 万美元）"
function Importer:cost(m, value, line)
  for _, q in ipairs(dsgraph.quantities(value)) do
    local after = value:sub(q.stop + 1)
    if q.kind == "usd" then
      self:set(m, "training_cost_usd", q.value)
    elseif after:find("^%s*%S*%s*GPU") or after:find("^%s*GPU") or after:find("^%s*[^（(]-小时") then
      self:set(m, "training_gpu_hours", q.value)
      local gpu = after:match("^%s*(%u+%d+)%s*GPU")
      if gpu then self:set(m, "training_gpu", gpu) end
    elseif not value:sub(1, q.start - 1):find("[%a]$") then
      self:warn(line, "cannot place the figure \"" .. q.text .. "\" in 训练成本")
    end
  end
end

-- One bullet under 技术特点: a technique, a figure, or a lineage fact.
function Importer:feature(m, it)
  local text = trim(it.text)
  local base = text:match("基于%s*(.-)%s*训练") or text:match("^基于%s*(%S+)")
  if base then
    local b = self:model(base)
    self.ctx:rel(m.handle, "BASED_ON", b.handle, { claim = text })
    m.based_on[#m.based_on + 1] = b.name
    return
  end
  if text:find("上下文") then
    local q = dsgraph.quantities(text, { kind = "context" })[1]
    if q then self:set(m, "context_length", q.value) return end
  end
  if text:find("编程语言") then
    local q = dsgraph.quantities(text)[1]
    if q then self:set(m, "programming_languages", q.value) return end
  end
  local techs = find_techniques(text)
  for _, t in ipairs(techs) do
    self.ctx:rel(m.handle, "USES", self:technique(t), {})
    m.uses[t.name] = true
  end
  if #techs > 0 then return end
  if text:find("^专为") then
    self:set(m, "purpose", text)
    return
  end
  self:warn(it.line, "cannot place the feature \"" .. text .. "\" of " .. m.name)
end

-- 性能表现: claims, benchmarks, comparisons.
function Importer:performance(m, item, value)
  local claims = dsgraph.list {}
  for _, st in ipairs(statements(item, value)) do
    local text = trim(st.text)
    claims[#claims + 1] = text
    for _, b in ipairs(find_benchmarks(text)) do
      local bh = self.ctx:node { labels = { "Benchmark" }, name = b }
      self.ctx:rel(m.handle, "EVALUATED_ON", bh, { claim = text })
    end
    local targets = find_targets(text)
    if targets then
      if #targets == 0 then self:warn(st.line, "comparison with an unknown model: \"" .. text .. "\"") end
      for _, name in ipairs(targets) do
        local th = self.ctx:node { labels = { "Model" }, name = name }
        self.ctx:rel(m.handle, "COMPARED_WITH", th, { claim = text })
      end
    end
  end
  self:set(m, "performance_claims", claims)
end

-- 衍生模型: "DeepSeek-R1-Distill-Qwen 系列（1.5B、7B、14B、32B）" -> one model per size.
function Importer:derived(m, item, value)
  for _, st in ipairs(statements(item, value)) do
    local t = ascii_punct(st.text)
    local prefix, sizes = t:match("^%s*(.-)%s*系列%s*%((.-)%)")
    if not prefix then prefix, sizes = t:match("^%s*(%S+)%s*%((.-)%)") end
    local n = 0
    if prefix then
      for _, q in ipairs(dsgraph.quantities(sizes)) do
        local d = self:model(prefix .. "-" .. q.text, { params_total = q.value })
        d.line = st.line
        self.ctx:rel(d.handle, "DEVELOPED_BY", self:organization(), {})
        if prefix:find("Distill") then
          self.ctx:rel(d.handle, "DISTILLED_FROM", m.handle, { claim = trim(st.text) })
          self.ctx:rel(d.handle, "USES", self:technique(technique_named("Knowledge distillation")), {})
        else
          self.ctx:rel(d.handle, "BASED_ON", m.handle, { claim = trim(st.text) })
        end
        n = n + 1
      end
    end
    if n == 0 then self:warn(st.line, "cannot read the derived models in \"" .. trim(st.text) .. "\"") end
  end
end

-- One "**key**：value" bullet of a model section.
function Importer:bullet(m, item, heading_month)
  local key, value = key_value(item)
  if key == "发布时间" then
    local month = parse_month(value)
    if not month then
      self:warn(item.line, "cannot read the date \"" .. value .. "\"")
    elseif heading_month and heading_month ~= month then
      self:warn(item.line, m.name .. ": 发布时间 " .. month .. " differs from the heading's " .. heading_month)
    else
      self:set(m, "released", month)
    end
  elseif key == "模型规模" then
    self:scale(m, value, item.line)
  elseif key == "训练成本" then
    self:cost(m, value, item.line)
  elseif key == "技术特点" then
    for _, it in ipairs(statements(item, value)) do self:feature(m, it) end
  elseif key == "性能表现" then
    self:performance(m, item, value)
  elseif key == "技术报告" or key == "论文" then
    local id = value:match("arXiv[:：]%s*(%d%d%d%d%.%d%d%d%d%d?)")
    if not id then
      self:warn(item.line, "no arXiv ID in \"" .. value .. "\"")
    else
      local yy, mm = id:match("^(%d%d)(%d%d)")
      local p = self.ctx:node { labels = { "Paper" }, name = "arXiv:" .. id,
        props = { arxiv_id = id, arxiv_month = "20" .. yy .. "-" .. mm, url = "https://arxiv.org/abs/" .. id } }
      self.ctx:rel(m.handle, "DESCRIBED_IN", p, { claim = trim(item.text) })
      m.paper = "arXiv:" .. id
    end
  elseif key == "开源状态" then
    if value:find("未开源") or value:find("闭源") or value:find("不开源") then
      self:set(m, "open_source", false)
    elseif value:find("开源") then
      self:set(m, "open_source", true)
    else
      self:warn(item.line, "cannot read the open-source status \"" .. value .. "\"")
    end
  elseif key == "模型类型" then
    local types = { ["推理模型"] = "reasoning model", ["代码模型"] = "code model", ["语言模型"] = "language model" }
    self:set(m, "model_type", types[value] or value)
  elseif key == "衍生模型" then
    self:derived(m, item, value)
  else
    self:warn(item.line, "cannot place \"" .. trim(item.text) .. "\" in the section of " .. m.name)
  end
end

-- Level-2 sections: { heading = node, blocks = {...} }, by position.
local function sections(doc)
  local out, cur = {}, nil
  for _, b in ipairs(doc.children) do
    if b.type == "heading" and b.level <= 2 then
      cur = { heading = b, blocks = {} }
      out[#out + 1] = cur
    elseif cur then
      cur.blocks[#cur.blocks + 1] = b
    end
  end
  return out
end

-- Sub-sections of a section at a heading level (3 or 4): { heading, blocks }.
local function subsections(blocks, level)
  local out, cur = {}, nil
  for _, b in ipairs(blocks) do
    if b.type == "heading" and b.level <= level then
      if b.level == level then
        cur = { heading = b, blocks = {} }
        out[#out + 1] = cur
      else
        cur = nil
      end
    elseif cur then
      cur.blocks[#cur.blocks + 1] = b
    end
  end
  return out
end

-- 一、核心模型发布时间线: one model per heading that names one.
function Importer:timeline(sec)
  local found = 0
  local year = nil
  for _, b in ipairs(sec.blocks) do
    if b.type == "heading" then
      local name, when = split_heading(b.text)
      local month = parse_month(when)
      local y = b.text:match("^%s*(%d%d%d%d)%s*年%s*$")
      if y then
        year = y
      elseif month or name:find("DeepSeek") then
        found = found + 1
        local m = self:model(name, {})
        m.line = b.line
        self.order[#self.order + 1] = m
        if month then self:set(m, "released", month) end
        if year and month and month:sub(1, 4) ~= year then
          self:warn(b.line, m.name .. " (" .. month .. ") is listed under " .. year .. "年")
        end
        self.ctx:rel(m.handle, "DEVELOPED_BY", self:organization(), {})
        self.current, self.current_month = m, month
      else
        self:warn(b.line, "heading \"" .. b.text .. "\" in the timeline names no model")
        self.current = nil
      end
    elseif b.type == "list" and self.current then
      for _, it in ipairs(b.items) do self:bullet(self.current, it, self.current_month) end
    elseif b.type ~= "hr" then
      self:warn(b.line, "cannot place this " .. b.type .. " in the timeline")
    end
  end
  if found == 0 then
    self.ctx:line(sec.heading.line)
    self.ctx:error(string.format("the timeline section \"%s\" names no model", sec.heading.text))
  end
end

-- Models named in a text (by their full names, or "V3"-style short names after a model).
function Importer:models_in(text)
  local out, s = {}, lower(text)
  for _, m in ipairs(self.order) do
    local _, alias = canonical_model(m.name)
    if s:find(lower(m.name), 1, true) or (alias and s:find(lower(alias), 1, true)) then out[#out + 1] = m end
  end
  return out
end

-- Bullets of a sub-section (list items) and its paragraphs.
local function items_and_paragraphs(blocks)
  local items, paras = {}, {}
  for _, b in ipairs(blocks) do
    if b.type == "list" then
      for _, it in ipairs(b.items) do items[#items + 1] = it end
    elseif b.type == "paragraph" then
      paras[#paras + 1] = b
    end
  end
  return items, paras
end

-- 二、关键技术突破: descriptions of techniques; findings and cost claims of models.
function Importer:key_techniques(sec)
  local desc = {}
  for _, sub in ipairs(subsections(sec.blocks, 3)) do
    local title = split_heading(sub.heading.text)
    local items, paras = items_and_paragraphs(sub.blocks)
    local techs = find_techniques(title)
    local about = {}
    for _, p in ipairs(paras) do
      for _, m in ipairs(self:models_in(p.text)) do about[#about + 1] = m end
    end
    if #techs > 0 then
      local parts = {}
      for _, it in ipairs(items) do parts[#parts + 1] = trim(it.text) end
      for _, t in ipairs(techs) do desc[t.name] = desc[t.name] or {} ; for _, p in ipairs(parts) do table.insert(desc[t.name], p) end end
    else
      local findings = dsgraph.list {}
      for _, it in ipairs(items) do
        local text = trim(it.text)
        local ts = find_techniques(text)
        for _, t in ipairs(ts) do
          desc[t.name] = desc[t.name] or {}
          table.insert(desc[t.name], text)
        end
        local named = self:models_in(text)
        local cost = text:find("成本") and dsgraph.quantities(text)[1]
        if cost and #named > 0 then
          for _, m in ipairs(named) do
            local known = m.props.training_cost_usd
            if cost.kind == "usd" and known and known ~= cost.value then
              self:warn(it.line, string.format("%s: cost %s here, %s in its section", m.name, tostring(cost.value), tostring(known)))
            end
          end
        end
        findings[#findings + 1] = text
        if #ts == 0 and #about == 0 and #named == 0 and not text:find("成本") then
          self:warn(it.line, "cannot place \"" .. text .. "\" (" .. title .. ")")
        end
      end
      local targets = about
      if #targets == 0 then
        for _, it in ipairs(items) do for _, m in ipairs(self:models_in(it.text)) do targets[#targets + 1] = m end end
      end
      if #targets == 0 and #findings > 0 then
        self:warn(sub.heading.line, "the points of \"" .. title .. "\" name no model")
      end
      local key = title:find("成本") and "cost_claims" or "findings"
      local seen = {}
      for _, m in ipairs(targets) do
        if not seen[m] then
          seen[m] = true
          self:set(m, key, findings)
        end
      end
    end
  end
  for _, t in ipairs(TECHNIQUES) do
    if desc[t.name] then
      local h = self:technique(t)
      self.ctx:node { labels = { "Technique" }, name = t.name, props = { description = table.concat(desc[t.name], "；") } }
      self.tech_desc[t.name] = h
    end
  end
end

-- 三、行业影响: Impact nodes linked from the models they concern.
function Importer:impacts(sec)
  for _, sub in ipairs(subsections(sec.blocks, 3)) do
    local title = split_heading(sub.heading.text)
    local known = IMPACTS[title]
    local name, category = title, nil
    if known then
      name, category = known.name, known.category
    elseif title:find("开源") then category = "open-source"
    elseif title:find("市场") or title:find("股") then category = "market"
    elseif title:find("民主") or title:find("门槛") then category = "democratization"
    end
    if not category then self:warn(sub.heading.line, "cannot tell the category of the impact \"" .. title .. "\"") end
    local items = items_and_paragraphs(sub.blocks)
    local parts, concerned = {}, {}
    for _, it in ipairs(items) do
      parts[#parts + 1] = trim(it.text)
      for _, m in ipairs(self:models_in(it.text)) do concerned[m] = true end
    end
    local props = { description = table.concat(parts, "；") }
    if category then props.category = category end
    local h = self.ctx:node { labels = { "Impact" }, name = name, props = props,
      aliases = name ~= title and { title } or nil }
    local any = next(concerned) ~= nil
    for _, m in ipairs(self.order) do
      -- an impact that names models concerns those; one that names none concerns all of them
      if concerned[m] or not any then self.ctx:rel(m.handle, "HAS_IMPACT", h, {}) end
    end
  end
end

-- The summary table's cells kept as written, property -> column.
local SUMMARY_CELLS = { { "summary_name", "模型" }, { "summary_release", "发布时间" }, { "summary_params", "参数规模" } }

-- 四、总结: the summary table, cell by cell against the sections.
function Importer:summary(sec)
  local tbl
  for _, b in ipairs(sec.blocks) do
    if b.type == "table" then tbl = b break end
  end
  if not tbl then
    self:warn(sec.heading.line, "the summary section has no table to cross-check")
    return
  end
  local col = {}
  for i, c in ipairs(tbl.header) do col[trim(c.text)] = i end
  local listed, order = {}, 0
  for _, row in ipairs(tbl.rows) do
    local function cell(name) local i = col[name]; return i and row[i] and trim(row[i].text) or nil, i and row[i] and row[i].line end
    local mname, line = cell("模型")
    local canon = mname and canonical_model(mname)
    local m = canon and self.models[canon]
    if not m then
      self:warn(line or tbl.line, "the summary table names \"" .. tostring(mname) .. "\", which has no section")
    else
      listed[m] = true
      -- the table's own cells, as written (markdown_report shows them in its zh summary table);
      -- the node keeps its canonical name (its identity), the cell is a display name
      order = order + 1
      self:set(m, "summary_order", order)
      for _, kc in ipairs(SUMMARY_CELLS) do
        local v = cell(kc[2])
        if v and v ~= "" then self:set(m, kc[1], v) end
      end
      local when = cell("发布时间")
      local month = parse_month(when)
      if month and m.props.released and month ~= m.props.released then
        self:warn(line, string.format("summary table: %s released %s, its section says %s", m.name, month, m.props.released))
      end
      local size = cell("参数规模")
      if size then
        local qs = dsgraph.quantities(size)
        if #qs >= 1 and m.props.params_total and qs[1].value ~= m.props.params_total then
          self:warn(line, string.format("summary table: %s has %s parameters, its section says %d", m.name, qs[1].text, m.props.params_total))
        end
        if #qs >= 2 and m.props.params_active and qs[2].value ~= m.props.params_active then
          self:warn(line, string.format("summary table: %s activates %s, its section says %d", m.name, qs[2].text, m.props.params_active))
        end
        local base = size:match("基于%s*(%S+)")
        if base then
          local ok = false
          for _, b in ipairs(m.based_on) do
            if b == base or b:find(base, 1, true) then ok = true end
          end
          if not ok then self:warn(line, "summary table: " .. m.name .. " is based on " .. base .. ", its section does not say so") end
        elseif #qs == 0 then
          self:warn(line, "summary table: cannot read the size \"" .. size .. "\"")
        end
      end
      local feat = cell("主要特点")
      if feat then
        self:set(m, "highlights", feat)
        for _, t in ipairs(find_techniques(feat)) do
          if not m.uses[t.name] then
            if not (t.name == "Mixture-of-Experts" and m.uses["DeepSeekMoE"]) then
              self:warn(line, "summary table: " .. m.name .. " uses " .. t.name .. ", its section does not say so")
            end
          end
        end
        local langs = feat:find("语言") and dsgraph.quantities(feat)[1]
        if langs and m.props.programming_languages ~= langs.value then
          self:warn(line, string.format("summary table: %s supports %s languages, its section says %s", m.name,
            tostring(langs.value), tostring(m.props.programming_languages)))
        end
      end
    end
  end
  for _, m in ipairs(self.order) do
    if not listed[m] then self:warn(tbl.line, "the summary table leaves out " .. m.name) end
  end
end

local SECTIONS = {
  { key = "timeline", find = { "时间线", "模型发布" }, required = true, title = "核心模型发布时间线" },
  { key = "key_techniques", find = { "关键技术" }, title = "关键技术突破" },
  { key = "impacts", find = { "行业影响" }, title = "行业影响" },
  { key = "summary", find = { "总结" }, title = "总结与展望" },
}

-- Reads the whole input (reports are small) and checks it is text.
local function read_all(input)
  local parts = {}
  while true do
    local s = input:read(65536)
    if not s then break end
    parts[#parts + 1] = s
  end
  return table.concat(parts)
end

-- The first line that is not valid UTF-8, or nil.
local function bad_utf8_line(text)
  if utf8.len(text) then return nil end
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if not utf8.len(line) then return n end
  end
  return n
end

local function run(ctx, input)
  local text = read_all(input)
  local bad = bad_utf8_line(text)
  if bad then
    ctx:line(bad)
    ctx:error("not valid UTF-8")
  end
  local doc = dsgraph.markdown.parse(text)
  local imp = new_importer(ctx, input.name)
  for _, b in ipairs(doc.children) do
    if b.type == "heading" and b.level == 1 then
      imp.org_name = b.text:match("^%s*([%a][%w%-]*)")
      break
    end
  end
  local secs = sections(doc)
  local by_key, lines = {}, {}
  for _, s in ipairs(secs) do
    lines[#lines + 1] = string.format("%d (%s)", s.heading.line, s.heading.text)
    for _, want in ipairs(SECTIONS) do
      for _, f in ipairs(want.find) do
        if not by_key[want.key] and s.heading.level == 2 and s.heading.text:find(f, 1, true) then by_key[want.key] = s end
      end
    end
  end
  for _, want in ipairs(SECTIONS) do
    if not by_key[want.key] then
      local msg = string.format("no section \"%s\" (a level-2 heading containing \"%s\"); sections found at lines: %s",
        want.title, want.find[1], #lines > 0 and table.concat(lines, ", ") or "none")
      if want.required then ctx:error(msg) else ctx:warn(msg) end
    end
  end
  ctx:progress(1, 4)
  imp:timeline(by_key.timeline)
  ctx:progress(2, 4)
  if by_key.key_techniques then imp:key_techniques(by_key.key_techniques) end
  ctx:progress(3, 4)
  if by_key.impacts then imp:impacts(by_key.impacts) end
  if by_key.summary then imp:summary(by_key.summary) end
  ctx:progress(4, 4)
end

return {
  name = "deepseek_report",
  version = "1.0.0",
  description = "DeepSeek milestone report (Chinese Markdown): models, techniques, papers, comparisons, impacts",
  importer = {
    extensions = { "md", "markdown", "txt" },
    media_types = { "text/markdown" },
    detect = function(head)
      return head:find("DeepSeek", 1, true) ~= nil and head:find("\n#", 1, true) ~= nil
        and (head:find("时间线", 1, true) ~= nil or head:find("#### ", 1, true) ~= nil)
    end,
    run = run,
  },
}
