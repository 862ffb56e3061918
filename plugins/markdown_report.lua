-- plugins/markdown_report.lua - a Markdown report of the graph, shaped like the
-- DeepSeek report the project started from: an overview, a timeline by year,
-- the key techniques with the models that use them, the impacts by category,
-- the summary table (| 模型 | 发布时间 | 主要特点 | 参数规模 |, parameters as
-- "236B/21B") and a Mermaid lineage diagram (GitHub renders it).
-- In the zh report, a model's summary_name / summary_release / summary_params (the
-- cells of the report table it was imported from, deepseek_report) replace the
-- computed name, date and parameters, and summary_order orders the rows.
-- Options: lang=zh|en (default zh). Deterministic: everything in id order or
-- sorted by release date, then id.

local T = {
  zh = { title = "AI 模型知识图谱报告", overview = "概述", timeline = "发展时间线", techniques = "关键技术",
         impacts = "影响", summary = "模型对比总结", lineage = "模型谱系",
         counts = "图中共有 %d 个模型、%d 个组织、%d 项技术、%d 项影响。",
         head = "| 模型 | 发布时间 | 主要特点 | 参数规模 |", used_by = "使用该技术的模型：", unknown = "未知",
         open = "开源", released = "发布", scale = "规模", models = "相关模型：", other = "其他" },
  en = { title = "AI model knowledge graph report", overview = "Overview", timeline = "Timeline",
         techniques = "Key techniques", impacts = "Impact", summary = "Summary", lineage = "Lineage",
         counts = "The graph holds %d models, %d organisations, %d techniques and %d impacts.",
         head = "| Model | Released | Main features | Parameters |", used_by = "Used by: ", unknown = "unknown",
         open = "open source", released = "released", scale = "scale", models = "Models: ", other = "Other" },
}

local function scale(n)
  if math.type(n) == nil then return nil end
  for _, u in ipairs({ { 1e12, "T" }, { 1e9, "B" }, { 1e6, "M" }, { 1e3, "K" } }) do
    if n >= u[1] then return (string.format("%.1f", n / u[1]):gsub("%.0$", "")) .. u[2] end
  end
  return tostring(n)
end

local function params_text(p)
  local t, a = scale(p.params_total), scale(p.params_active)
  if t and a and t ~= a then return t .. "/" .. a end
  return t or a
end

local function date_text(d, lang)
  if type(d) ~= "string" then return nil end
  local y, m = d:match("^(%d%d%d%d)-(%d%d)")
  if lang == "zh" and y then return string.format("%s年%d月", y, tonumber(m)) end
  return d
end

local function cell(s) return (tostring(s):gsub("|", "\\|"):gsub("\r?\n", " ")) end

local function desc(p, lang)
  if lang == "en" and type(p.description_en) == "string" then return p.description_en end
  if type(p.description) == "string" then return p.description end
  return p.description_en
end

local function by_release(a, b)
  local ra, rb = a.props.released or "", b.props.released or ""
  if type(ra) ~= "string" then ra = "" end
  if type(rb) ~= "string" then rb = "" end
  if ra ~= rb then return ra < rb end
  return a.id < b.id
end

-- Summary table rows: those with a summary_order (a report's table row) first, in
-- that order, then the others by release (the input order is already by release).
local function by_summary_order(a, b)
  local oa, ob = a.props.summary_order, b.props.summary_order
  oa = math.type(oa) and oa or nil
  ob = math.type(ob) and ob or nil
  if (oa ~= nil) ~= (ob ~= nil) then return oa ~= nil end
  if oa and oa ~= ob then return oa < ob end
  return by_release(a, b)
end

local function collect(ctx, label)
  local list, by = {}, {}
  for n in ctx:nodes(label) do list[#list + 1] = n; by[n.id] = n end
  return list, by
end

local function run(ctx, opts)
  local lang = opts.lang or "zh"
  if lang ~= "zh" and lang ~= "en" then error("lang must be zh or en", 0) end
  local t = T[lang]
  local models, model_by = collect(ctx, "Model")
  local orgs = collect(ctx, "Organization")
  local techs = collect(ctx, "Technique")
  local impacts = collect(ctx, "Impact")
  local uses, has_impact = {}, {}
  for r in ctx:rels("USES") do
    if model_by[r.start] then uses[r["end"]] = uses[r["end"]] or {}; table.insert(uses[r["end"]], model_by[r.start].props.name) end
  end
  for r in ctx:rels("HAS_IMPACT") do
    if model_by[r.start] then has_impact[r["end"]] = has_impact[r["end"]] or {}; table.insert(has_impact[r["end"]], model_by[r.start].props.name) end
  end
  local sorted = {}
  for i, m in ipairs(models) do sorted[i] = m end
  table.sort(sorted, by_release)

  local out = {}
  local function w(...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end
  w("# ", t.title, "\n\n## ", t.overview, "\n\n")
  w(string.format(t.counts, #models, #orgs, #techs, #impacts), "\n\n")
  for _, o in ipairs(orgs) do
    local d = desc(o.props, lang)
    if d then w("- **", cell(o.props.name or "?"), "**: ", cell(d), "\n") end
  end

  w("\n## ", t.timeline, "\n")
  local year
  for _, m in ipairs(sorted) do
    local p = m.props
    local y = type(p.released) == "string" and p.released:match("^(%d%d%d%d)") or t.unknown
    if y ~= year then year = y; w("\n### ", y, "\n\n") end
    local bits = {}
    local d = date_text(p.released, lang)
    if d then bits[#bits + 1] = t.released .. " " .. d end
    local s = params_text(p)
    if s then bits[#bits + 1] = t.scale .. " " .. s end
    if type(p.highlights) == "string" then bits[#bits + 1] = p.highlights end
    if p.open_source == true then bits[#bits + 1] = t.open end
    w("- **", cell(p.name or "?"), "**", #bits > 0 and (": " .. cell(table.concat(bits, "; "))) or "", "\n")
  end

  w("\n## ", t.techniques, "\n\n")
  for _, n in ipairs(techs) do
    local p = n.props
    w("- **", cell(p.name or "?"), "**", type(p.abbr) == "string" and (" (" .. cell(p.abbr) .. ")") or "")
    local d = desc(p, lang)
    if d then w(": ", cell(d)) end
    if uses[n.id] then w(" ", t.used_by, table.concat(uses[n.id], ", ")) end
    w("\n")
  end

  w("\n## ", t.impacts, "\n")
  local cats, cat_list = {}, {}
  for _, n in ipairs(impacts) do
    local c = type(n.props.category) == "string" and n.props.category or t.other
    if not cats[c] then cats[c] = {}; cat_list[#cat_list + 1] = c end
    table.insert(cats[c], n)
  end
  for _, c in ipairs(cat_list) do
    w("\n### ", cell(c), "\n\n")
    for _, n in ipairs(cats[c]) do
      w("- **", cell(n.props.name or "?"), "**")
      local d = desc(n.props, lang)
      if d then w(": ", cell(d)) end
      if has_impact[n.id] then w(" ", t.models, table.concat(has_impact[n.id], ", ")) end
      w("\n")
    end
  end

  w("\n## ", t.summary, "\n\n", t.head, "\n|------|----------|----------|----------|\n")
  local rows = {}
  for _, m in ipairs(sorted) do
    if type(m.props.highlights) == "string" then rows[#rows + 1] = m end
  end
  table.sort(rows, by_summary_order)
  for _, m in ipairs(rows) do
    local p = m.props
    local own = lang == "zh" -- the cells of a Chinese summary table (deepseek_report), as written
    local function str(v) return own and type(v) == "string" and v ~= "" and v or nil end
    w("| ", cell(str(p.summary_name) or p.name), " | ", cell(str(p.summary_release) or date_text(p.released, lang) or ""),
      " | ", cell(p.highlights), " | ", cell(str(p.summary_params) or params_text(p) or ""), " |\n")
  end

  w("\n## ", t.lineage, "\n\n```mermaid\ngraph LR\n")
  for _, m in ipairs(models) do
    w(string.format('  m%d["%s"]\n', m.id, (tostring(m.props.name or m.id):gsub('"', "'"))))
  end
  for r in ctx:rels() do
    if model_by[r.start] and model_by[r["end"]] then
      if r.type == "BASED_ON" then w(string.format("  m%d --> m%d\n", r["end"], r.start))
      elseif r.type == "DISTILLED_FROM" then w(string.format("  m%d -.-> m%d\n", r["end"], r.start)) end
    end
  end
  w("```\n")
  ctx:write(table.concat(out))
end

return {
  name = "markdown_report",
  version = "1.0.0",
  description = "a Markdown report: overview, timeline, techniques, impacts, summary table, Mermaid lineage",
  exporter = { extension = "md", media_type = "text/markdown", run = run },
}
