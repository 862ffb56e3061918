-- tests/plugins/cases.lua - the cases tests/unit/test_lua_plugins.c runs, one
-- cmocka test each. A case raises on failure and returns "skip" when its input
-- is missing (the seed report lives outside the repository).
local H = require("mock_host")
local C = {}

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function plugin(rel)
  return assert(H.load_plugin(SOURCE_DIR .. "/" .. rel))
end

local function eq(a, b, what)
  if a ~= b or math.type(a) ~= math.type(b) then
    error(string.format("%s: expected %s (%s), got %s (%s)", what or "value", tostring(b), tostring(math.type(b) or type(b)),
      tostring(a), tostring(math.type(a) or type(a))), 2)
  end
end

local function expect_error(rec, err, pattern)
  if rec then error("expected the import to fail with " .. pattern, 2) end
  if not err:find(pattern) then error("error \"" .. err .. "\" does not match " .. pattern, 2) end
end

local function has_rel(rec, s, t, e, slabel, elabel)
  local r = H.rel(rec, slabel or "Model", s, t, elabel or "Model", e)
  if not r then error(string.format("no relationship %s -[%s]-> %s", s, t, e), 2) end
  return r
end

local function model(rec, name)
  local n = H.node(rec, "Model", name)
  if not n then error("no Model " .. name, 2) end
  return n
end

-- ---- the seed report ----

local seed_text, seed_rec, seed_err
local function seed()
  if not SEED_REPORT then return nil end
  if not seed_rec and not seed_err then
    seed_text = assert(read(SEED_REPORT))
    seed_rec, seed_err = H.import(plugin("plugins/deepseek_report.lua"), seed_text, "000_81a8176beca22a22.txt")
    if not seed_rec then error(seed_err) end
  end
  return seed_rec
end

-- Runs a seed case, or skips it when the report is not there.
local function seed_case(f)
  return function()
    local rec = seed()
    if not rec then return "skip" end
    f(rec)
  end
end

C.seed_imports_without_error = seed_case(function(rec)
  local n, r = H.count(rec)
  assert(n >= 30 and r >= 50, "too little imported: " .. n .. " nodes, " .. r .. " relationships")
  for _, w in ipairs(rec.warnings) do error("unexpected warning on the seed report: " .. w.msg) end
end)

C.seed_v2_released_2024_05 = seed_case(function(rec) eq(model(rec, "DeepSeek-V2").props.released, "2024-05") end)

C.seed_v2_params_236b_21b = seed_case(function(rec)
  local p = model(rec, "DeepSeek-V2").props
  eq(p.params_total, 236000000000, "params_total"); eq(p.params_active, 21000000000, "params_active")
end)

C.seed_context_128k_is_131072 = seed_case(function(rec)
  for _, m in ipairs({ "DeepSeek-V2", "DeepSeek-Coder-V2", "DeepSeek-V3" }) do
    eq(model(rec, m).props.context_length, 131072, m .. " context_length")
  end
end)

C.seed_coder_v2_338_languages = seed_case(function(rec)
  local p = model(rec, "DeepSeek-Coder-V2").props
  eq(p.programming_languages, 338); eq(p.released, "2024-06")
  eq(p.params_total, 236000000000); eq(p.params_active, 21000000000)
end)

C.seed_coder_v2_name_merges_with_curated = seed_case(function(rec)
  -- the report writes "DeepSeek Coder V2"; examples/deepseek.jsonl names it DeepSeek-Coder-V2
  local n = model(rec, "DeepSeek Coder V2")
  eq(n.name, "DeepSeek-Coder-V2")
end)

C.seed_v3_params_671b_37b = seed_case(function(rec)
  local p = model(rec, "DeepSeek-V3").props
  eq(p.params_total, 671000000000); eq(p.params_active, 37000000000); eq(p.released, "2024-12")
end)

C.seed_v3_gpu_hours_2780000 = seed_case(function(rec)
  local p = model(rec, "DeepSeek-V3").props
  eq(p.training_gpu_hours, 2780000); eq(p.training_gpu, "H800")
end)

C.seed_v3_cost_usd_5570000 = seed_case(function(rec) eq(model(rec, "DeepSeek-V3").props.training_cost_usd, 5570000) end)

C.seed_v3_described_in_paper_as_stated = seed_case(function(rec)
  -- the report gives arXiv:2501.12948 for V3 (that ID is the R1 paper); the importer records what it states
  local r = has_rel(rec, "DeepSeek-V3", "DESCRIBED_IN", "arXiv:2501.12948", "Model", "Paper")
  eq(r.props.claim, "技术报告：arXiv:2501.12948")
  eq(H.node(rec, "Paper", "arXiv:2501.12948").props.arxiv_id, "2501.12948")
end)

C.seed_v3_uses_techniques = seed_case(function(rec)
  for _, t in ipairs({ "Multi-head Latent Attention", "DeepSeekMoE", "Auxiliary-loss-free load balancing",
                       "FP8 mixed-precision training" }) do
    has_rel(rec, "DeepSeek-V3", "USES", t, "Model", "Technique")
  end
  has_rel(rec, "DeepSeek-V2", "USES", "Mixture-of-Experts", "Model", "Technique")
  has_rel(rec, "DeepSeek-V2", "USES", "Multi-head Latent Attention", "Model", "Technique")
  for _, t in ipairs({ "Reinforcement learning", "Cold start with multi-stage training", "Long chain-of-thought reasoning" }) do
    has_rel(rec, "DeepSeek-R1", "USES", t, "Model", "Technique")
  end
end)

C.seed_technique_aliases = seed_case(function(rec)
  local mla = H.node(rec, "Technique", "MLA")
  assert(mla and mla == H.node(rec, "Technique", "多头潜在注意力") and mla.name == "Multi-head Latent Attention", "MLA aliases")
  eq(H.node(rec, "Technique", "无辅助损失的负载均衡").name, "Auxiliary-loss-free load balancing")
  eq(H.node(rec, "Technique", "FP8 混合精度训练").name, "FP8 mixed-precision training")
  eq(H.node(rec, "Technique", "强化学习").name, "Reinforcement learning")
  eq(H.node(rec, "Technique", "蒸馏").name, "Knowledge distillation")
  eq(H.node(rec, "Technique", "链式思维").name, "Long chain-of-thought reasoning")
  eq(H.node(rec, "Technique", "MoE").name, "Mixture-of-Experts")
end)

C.seed_r1_based_on_v3_base = seed_case(function(rec)
  has_rel(rec, "DeepSeek-R1", "BASED_ON", "DeepSeek-V3-Base")
  eq(model(rec, "DeepSeek-R1").props.released, "2025-01")
  eq(model(rec, "DeepSeek-R1").props.model_type, "reasoning model")
end)

C.seed_six_distills_from_r1 = seed_case(function(rec)
  local sizes = { ["Qwen-1.5B"] = 1500000000, ["Qwen-7B"] = 7000000000, ["Qwen-14B"] = 14000000000,
                  ["Qwen-32B"] = 32000000000, ["Llama-8B"] = 8000000000, ["Llama-70B"] = 70000000000 }
  local n = 0
  for suffix, size in pairs(sizes) do
    local name = "DeepSeek-R1-Distill-" .. suffix
    eq(model(rec, name).props.params_total, size, name)
    has_rel(rec, name, "DISTILLED_FROM", "DeepSeek-R1")
    n = n + 1
  end
  local all = 0
  for _, r in pairs(rec.rels) do if r.type == "DISTILLED_FROM" then all = all + 1 end end
  eq(all, 6, "DISTILLED_FROM count")
end)

C.seed_comparisons = seed_case(function(rec)
  eq(has_rel(rec, "DeepSeek-Coder-V2", "COMPARED_WITH", "GPT-4 Turbo").props.claim, "在 HumanEval、MBPP 等代码基准测试中超越 GPT-4 Turbo")
  eq(has_rel(rec, "DeepSeek-Coder-V2", "COMPARED_WITH", "Claude 3 Opus").props.claim, "击败 Claude 3 Opus、Gemini 1.5 Pro 等模型")
  eq(has_rel(rec, "DeepSeek-Coder-V2", "COMPARED_WITH", "Gemini 1.5 Pro").props.claim, "击败 Claude 3 Opus、Gemini 1.5 Pro 等模型")
  eq(has_rel(rec, "DeepSeek-R1", "COMPARED_WITH", "OpenAI o1").props.claim, "推理能力媲美 OpenAI o1")
  eq(has_rel(rec, "DeepSeek-V2", "COMPARED_WITH", "GPT-4").props.claim, "在多项基准测试中达到 GPT-4 级别性能")
  eq(has_rel(rec, "DeepSeek-V3", "COMPARED_WITH", "GPT-4").props.claim, "代码生成能力媲美 GPT-4")
  local all = 0
  for _, r in pairs(rec.rels) do if r.type == "COMPARED_WITH" then all = all + 1 end end
  eq(all, 6, "COMPARED_WITH count")
end)

C.seed_benchmarks = seed_case(function(rec)
  for _, pair in ipairs({ { "DeepSeek-Coder-V2", "HumanEval" }, { "DeepSeek-Coder-V2", "MBPP" }, { "DeepSeek-V3", "MMLU" },
                          { "DeepSeek-V3", "MMLU-Pro" }, { "DeepSeek-R1", "AIME 2024" }, { "DeepSeek-R1", "MATH-500" } }) do
    has_rel(rec, pair[1], "EVALUATED_ON", pair[2], "Model", "Benchmark")
  end
end)

C.seed_impacts_with_categories = seed_case(function(rec)
  local want = { ["Open-source ecosystem contribution"] = "open-source", ["Market shock"] = "market",
                 ["Technology democratization"] = "democratization" }
  local n = 0
  for _, node in ipairs(rec.nodes) do
    if node.labels[1] == "Impact" then
      eq(node.props.category, want[node.name], node.name)
      n = n + 1
    end
  end
  eq(n, 3, "Impact nodes")
  eq(H.node(rec, "Impact", "市场震动").name, "Market shock")
  has_rel(rec, "DeepSeek-R1", "HAS_IMPACT", "Market shock", "Model", "Impact")
  assert(not H.rel(rec, "Model", "DeepSeek-V2", "HAS_IMPACT", "Impact", "Market shock"), "only R1 moved the market")
  for _, m in ipairs({ "DeepSeek-V2", "DeepSeek-Coder-V2", "DeepSeek-V3", "DeepSeek-R1" }) do
    has_rel(rec, m, "HAS_IMPACT", "Open-source ecosystem contribution", "Model", "Impact")
    has_rel(rec, m, "HAS_IMPACT", "Technology democratization", "Model", "Impact")
  end
end)

C.seed_open_source_each_model = seed_case(function(rec)
  for _, m in ipairs({ "DeepSeek-V2", "DeepSeek-Coder-V2", "DeepSeek-V3", "DeepSeek-R1" }) do
    eq(model(rec, m).props.open_source, true, m .. " open_source")
  end
end)

C.seed_developed_by_deepseek = seed_case(function(rec)
  for _, m in ipairs({ "DeepSeek-V2", "DeepSeek-Coder-V2", "DeepSeek-V3", "DeepSeek-R1", "DeepSeek-R1-Distill-Qwen-7B" }) do
    has_rel(rec, m, "DEVELOPED_BY", "DeepSeek", "Model", "Organization")
  end
end)

C.seed_technique_descriptions = seed_case(function(rec)
  eq(H.node(rec, "Technique", "MLA").props.description, "大幅降低 KV 缓存需求；提升长文本处理效率；减少推理时的内存占用")
  eq(H.node(rec, "Technique", "MoE").props.description, "极低的推理成本（每 Token 仅激活部分参数）；高效的训练效率；优异的性能表现")
  eq(H.node(rec, "Technique", "蒸馏").props.description, "蒸馏技术将大模型能力迁移至小模型")
  eq(model(rec, "DeepSeek-R1").props.findings[3], "无需大规模监督数据的高效训练范式")
  eq(model(rec, "DeepSeek-V3").props.cost_claims[1], "DeepSeek-V3 训练成本仅约 557 万美元")
end)

C.seed_summary_table_agrees = seed_case(function(rec)
  eq(model(rec, "DeepSeek-V2").props.highlights, "MoE架构、MLA")
  eq(model(rec, "DeepSeek-R1").props.highlights, "推理能力、RL训练")
end)

-- A copy of the report with the summary table changed: a mismatch is a warning with the table line.
C.seed_summary_mismatch_warns_with_line = function()
  if not seed() then return "skip" end
  local text, n = seed_text:gsub("| DeepSeek%-V3 | 2024年12月 | 高效训练、顶尖性能 | 671B/37B |",
    "| DeepSeek-V3 | 2024年11月 | 高效训练、顶尖性能 | 670B/37B |")
  eq(n, 1, "edit applied")
  local rec = assert(H.import(plugin("plugins/deepseek_report.lua"), text, "edited.md"))
  local got = {}
  for _, w in ipairs(rec.warnings) do got[#got + 1] = w.msg end
  local all = table.concat(got, "\n")
  assert(all:find("summary table: DeepSeek%-V3 released 2024%-11"), all)
  assert(all:find("summary table: DeepSeek%-V3 has 670B parameters"), all)
  eq(#got, 2, "warnings")
  eq(rec.warnings[1].line, 126); eq(rec.warnings[2].line, 126)
end

C.seed_reimport_is_idempotent = function()
  if not seed() then return "skip" end
  local p = plugin("plugins/deepseek_report.lua")
  local a = assert(H.import(p, seed_text, "a"))
  local b = assert(H.import(p, seed_text, "b"))
  eq(H.dump(a), H.dump(b), "two imports")
  -- importing twice into the same ctx changes nothing either
  local ctx, rec = H.new_ctx()
  p.importer.run(ctx, H.new_input(seed_text, "x", ctx))
  local once = H.dump(rec)
  p.importer.run(ctx, H.new_input(seed_text, "x", ctx))
  eq(H.dump(rec), once, "same ctx twice")
end

C.seed_missing_timeline_is_error = function()
  if not seed() then return "skip" end
  local text = seed_text:gsub("## 一、核心模型发布时间线", "## 一、模型列表")
  local rec, err = H.import(plugin("plugins/deepseek_report.lua"), text, "no-timeline.md")
  expect_error(rec, err, "^deepseek_report: no%-timeline%.md: no section \"核心模型发布时间线\"")
  assert(err:find("sections found at lines: 1 %(.-%), 3 %(概述%), 9 %(一、模型列表%)"), err)
  -- a timeline heading with no model under it is an error too, naming its line
  local text2 = seed_text:gsub("\n#### ", "\n- ")
  rec, err = H.import(plugin("plugins/deepseek_report.lua"), text2, "no-models.md")
  expect_error(rec, err, "^deepseek_report: no%-models%.md:9: the timeline section \"一、核心模型发布时间线\" names no model")
end

C.seed_missing_impacts_warns = function()
  if not seed() then return "skip" end
  local cut = seed_text:find("## 三、行业影响", 1, true)
  local stop = seed_text:find("## 四、总结与展望", 1, true)
  local text = seed_text:sub(1, cut - 1) .. seed_text:sub(stop)
  local rec = assert(H.import(plugin("plugins/deepseek_report.lua"), text, "no-impacts.md"))
  eq(#rec.warnings, 1, "warnings")
  assert(rec.warnings[1].msg:find("no section \"行业影响\""), rec.warnings[1].msg)
  for _, n in ipairs(rec.nodes) do assert(n.labels[1] ~= "Impact", "no impact without its section") end
end

-- Bullets the importer cannot place are warnings with their own lines, not silence.
C.seed_unplaced_facts_warn_with_line = function()
  if not seed() then return "skip" end
  local text, n = seed_text:gsub("%- %*%*开源状态%*%*：完全开源\n\n#### 2%.",
    "- **开源状态**：完全开源\n- **许可证**：MIT\n\n#### 2.")
  eq(n, 1, "edit applied")
  text = text:gsub("  %- 128K 上下文窗口\n  %- 专为代码生成", "  - 128K 上下文窗口\n  - 量子计算加速\n  - 专为代码生成", 1)
  local rec = assert(H.import(plugin("plugins/deepseek_report.lua"), text, "extra.md"))
  eq(#rec.warnings, 2, "warnings")
  eq(rec.warnings[1].line, 22); assert(rec.warnings[1].msg:find("许可证"), rec.warnings[1].msg)
  eq(rec.warnings[2].line, 30); assert(rec.warnings[2].msg:find("量子计算加速"), rec.warnings[2].msg)
end

C.report_invalid_utf8_is_error_with_line = function()
  local text = "# DeepSeek 报告\n\n## 一、核心模型发布时间线\n\n#### 1. DeepSeek-V2（2024年5月）\n- **发布时间**：2024年5月\xff\n"
  local rec, err = H.import(plugin("plugins/deepseek_report.lua"), text, "bad.md")
  expect_error(rec, err, "^deepseek_report: bad%.md:6: not valid UTF%-8")
end

-- ---- JSON graph / JSON Lines ----

local GRAPH = [[
{"nodes": [
  {"id": 1, "labels": ["Model"], "properties": {"name": "DeepSeek-V3", "params_total": 671000000000, "score": 1.0,
   "tags": [], "meta": {}, "license": null, "note": "中文"}, "aliases": ["DeepSeek V3"]},
  {"id": 2, "labels": ["Model"], "properties": {"name": "DeepSeek-V3-Base"}},
  {"id": "t1", "labels": ["Technique"], "properties": {"name": "Multi-head Latent Attention", "abbr": "MLA"}}
 ],
 "relationships": [
  {"id": 1, "type": "BASED_ON", "start": 1, "end": 2, "properties": {"relation": "finetune"}},
  {"id": 2, "type": "USES", "start": 1, "end": "t1", "properties": {}},
  {"id": 3, "type": "DEVELOPED_BY", "start": 1, "end": {"label": "Organization", "name": "DeepSeek"}}
 ]}
]]

C.json_graph_good = function()
  local rec = assert(H.import(plugin("plugins/json_graph.lua"), GRAPH, "g.json"))
  local v3 = model(rec, "DeepSeek V3")
  eq(v3.props.params_total, 671000000000); eq(v3.props.score, 1.0); eq(v3.props.note, "中文")
  assert(dsgraph.is_list(v3.props.tags) and not dsgraph.is_list(v3.props.meta), "empty list vs map")
  eq(dsgraph.json.encode(dsgraph.map(v3.props), { sort_keys = true }),
     '{"meta":{},"name":"DeepSeek-V3","note":"中文","params_total":671000000000,"score":1.0,"tags":[]}')
  eq(has_rel(rec, "DeepSeek-V3", "BASED_ON", "DeepSeek-V3-Base").props.relation, "finetune")
  has_rel(rec, "DeepSeek-V3", "USES", "Multi-head Latent Attention", "Model", "Technique")
  has_rel(rec, "DeepSeek-V3", "DEVELOPED_BY", "DeepSeek", "Model", "Organization")
  local again = assert(H.import(plugin("plugins/json_graph.lua"), GRAPH, "g.json"))
  eq(H.dump(again), H.dump(rec), "re-import")
end

local LINES = table.concat({
  '{"type":"node","id":1,"labels":["Model"],"properties":{"name":"DeepSeek-R1","open_source":true}}',
  '',
  '{"type":"node","id":2,"labels":["Model"],"properties":{"name":"DeepSeek-V3-Base"}}',
  '{"type":"relationship","id":9,"label":"BASED_ON","start":1,"end":2,"properties":{"since":2025}}',
}, "\n") .. "\n"

C.json_lines_good = function()
  local rec = assert(H.import(plugin("plugins/json_graph.lua"), LINES, "g.jsonl"))
  eq(model(rec, "DeepSeek-R1").props.open_source, true)
  eq(has_rel(rec, "DeepSeek-R1", "BASED_ON", "DeepSeek-V3-Base").props.since, 2025)
end

C.json_truncated_is_error = function()
  local rec, err = H.import(plugin("plugins/json_graph.lua"), GRAPH:sub(1, 200), "t.json")
  expect_error(rec, err, "^json_graph: t%.json:%d+: invalid JSON: line %d+, column %d+")
  rec, err = H.import(plugin("plugins/json_graph.lua"), LINES:sub(1, 150), "t.jsonl")
  expect_error(rec, err, "^json_graph: t%.jsonl:3: invalid JSON: column %d+")
end

C.json_deep_nesting_is_error = function()
  local deep = '{"nodes": ' .. string.rep("[", 100000) .. "}"
  local rec, err = H.import(plugin("plugins/json_graph.lua"), deep, "deep.json")
  expect_error(rec, err, "invalid JSON: line 1, column %d+: maximum parsing depth")
  rec, err = H.import(plugin("plugins/json_graph.lua"), LINES .. string.rep("[", 100000) .. "\n", "deep.jsonl")
  expect_error(rec, err, "deep%.jsonl:5: invalid JSON")
end

-- The layout json_export writes: read one record per line (flat memory). The same graph
-- written as one line, pretty-printed, in CRLF lines, and with a record across the first
-- 64 KiB read gives the same graph.
local function export_layout(nodes, rels, eol)
  local out = { '{"nodes":[' }
  for i, n in ipairs(nodes) do out[#out + 1] = n .. (i < #nodes and "," or "") end
  out[#out + 1] = '],"relationships":['
  for i, r in ipairs(rels) do out[#out + 1] = r .. (i < #rels and "," or "") end
  out[#out + 1] = "]}"
  return table.concat(out, eol or "\n") .. (eol or "\n")
end

local STREAM_NODES = {
  '{"aliases":["DeepSeek V3"],"id":1,"labels":["Model"],"properties":{"name":"DeepSeek-V3","n":1,"r":1.0,"l":[],"m":{}}}',
  '{"aliases":[],"id":"t1","labels":["Technique","Idea"],"properties":{"name":"MLA","note":"中文, \\"quoted\\"\\n"}}',
  '{"id":3,"labels":["Model"],"properties":{"name":"DeepSeek-V3-Base"}}',
}
local STREAM_RELS = {
  '{"end":3,"id":1,"properties":{"relation":"finetune"},"start":1,"type":"BASED_ON"}',
  '{"end":"t1","id":2,"properties":{},"start":1,"type":"USES"}',
  '{"end":{"label":"Organization","name":"DeepSeek"},"id":3,"start":1,"type":"DEVELOPED_BY"}',
}

C.json_graph_export_layout_streams = function()
  local json = plugin("plugins/json_graph.lua")
  local one_line = '{"nodes":[' .. table.concat(STREAM_NODES, ",") .. '],"relationships":[' ..
    table.concat(STREAM_RELS, ",") .. "]}"
  local want = H.dump(assert(H.import(json, one_line, "one.json")))
  eq(H.dump(assert(H.import(json, export_layout(STREAM_NODES, STREAM_RELS), "s.json"))), want, "streamed")
  eq(H.dump(assert(H.import(json, export_layout(STREAM_NODES, STREAM_RELS, "\r\n"), "s.json"))), want, "CRLF")
  local pretty = '{\n "nodes": [\n  ' .. table.concat(STREAM_NODES, ",\n  ") .. '\n ],\n "relationships": [\n  ' ..
    table.concat(STREAM_RELS, ",\n  ") .. "\n ]\n}\n"
  eq(H.dump(assert(H.import(json, pretty, "p.json"))), want, "pretty-printed (read whole)")
  -- empty sections on the header's line, as json_export writes them
  local empty = assert(H.import(json, '{"nodes":[],"relationships":[]}\n', "e.json"))
  eq(H.dump(empty), H.dump(assert(H.import(json, '{ "nodes": [], "relationships": [] }', "e2.json"))), "empty")
  -- 1,000 nodes of ~100 bytes: a record straddles the first 64 KiB the importer reads
  local many, chain = {}, {}
  for i = 1, 1000 do
    many[i] = string.format('{"id":%d,"labels":["Model"],"properties":{"name":"m%d","pad":"%s"}}', i, i,
      string.rep("x", 40 + i % 17))
    if i > 1 then chain[#chain + 1] = string.format('{"end":%d,"id":%d,"start":%d,"type":"BASED_ON"}', i - 1, i, i) end
  end
  local doc = export_layout(many, chain)
  assert(#doc > 65536 and doc:sub(65536, 65536) ~= "\n", "a record crosses the first read")
  local rec = assert(H.import(json, doc, "many.json"))
  local whole = '{"nodes":[' .. table.concat(many, ",") .. '],"relationships":[' .. table.concat(chain, ",") .. "]}"
  eq(H.dump(rec), H.dump(assert(H.import(json, whole, "whole.json"))), "1,000 nodes streamed")
  eq(has_rel(rec, "m1000", "BASED_ON", "m999").type, "BASED_ON")
end

C.json_graph_export_layout_errors_name_the_line = function()
  local json = plugin("plugins/json_graph.lua")
  local n, r = STREAM_NODES, STREAM_RELS
  local function fails(doc, pattern)
    local rec, err = H.import(json, doc, "s.json")
    expect_error(rec, err, "^json_graph: s%.json:" .. pattern)
  end
  -- line 3 lacks the comma line 2 needed
  fails('{"nodes":[\n' .. n[1] .. '\n' .. n[3] .. '\n]}\n', "3: invalid JSON: a comma missing after the previous record")
  fails('{"nodes":[\n' .. n[1] .. ',\n' .. n[3] .. ',\n]}\n', '4: invalid JSON: a comma after the last record of "nodes"')
  fails('{"nodes":[\n' .. n[3] .. '\n],"imports":[\n]}\n', '3: "imports" after another section')
  fails('{"nodes":[\n' .. n[3] .. '\n]}\n{"nodes":[]}\n', "4: invalid JSON: text after the end of the JSON graph")
  fails('{"nodes":[\n' .. n[3] .. ',\n' .. n[1] .. '\n', '3: invalid JSON: the JSON graph ends before its closing "%]}"')
  fails('{"nodes":[\n{"id":3,\n"labels":["Model"],"properties":{"name":"x"}}\n]}\n', "2: invalid JSON: ")
  fails('{"nodes":[\n' .. n[3] .. '\n],"relationships":[\n' .. r[1] .. '\n]}\n', "4: relationships%[1%] %(id 1%): start 1 is not a node of this input")
  fails('{"nodes":[\n' .. n[3] .. '\n]"relationships":[\n]}\n', '3: invalid JSON: a comma missing before "relationships"')
  fails('{"nodes":[\n' .. n[3] .. '\n],"nodes":[\n]}\n', '3: "nodes" after another section')
  fails('{"nodes":[[[[\n', '1: invalid JSON: unexpected "%[" in the structure of the JSON graph')
end

C.json_invalid_utf8_is_error = function()
  local bad = LINES:gsub("DeepSeek%-V3%-Base", "DeepSeek-\xff")
  local rec, err = H.import(plugin("plugins/json_graph.lua"), bad, "u.jsonl")
  expect_error(rec, err, "u%.jsonl:3: invalid JSON: column %d+: unable to decode byte 0xff")
end

C.json_bad_reference_is_error = function()
  local bad = GRAPH:gsub('"end": 2', '"end": 99')
  local rec, err = H.import(plugin("plugins/json_graph.lua"), bad, "r.json")
  expect_error(rec, err, "relationships%[1%] %(id 1%): end 99 is not a node of this input")
  rec, err = H.import(plugin("plugins/json_graph.lua"), '{"nodes":[{"id":1,"labels":["Model"],"properties":{}}]}', "n.json")
  expect_error(rec, err, "nodes%[1%] %(id 1%): the node has no properties.name")
end

-- ---- CSV ----

local NODES_CSV = table.concat({
  'name:ID(Model),:LABEL,params_total:long,open_source:boolean,score:double,tags:string[],note',
  'DeepSeek-V3,Model,671000000000,true,1,moe;mla,"a note, with a comma"',
  'DeepSeek-V3-Base,Model;Base,671000000000,,,,"two',
  'lines"',
  'DeepSeek-R1,Model,671000000000,TRUE,88.5,,"say ""hi"""',
}, "\n") .. "\n"

local RELS_CSV = ':START_ID(Model),:END_ID(Model),:TYPE,relation\r\nDeepSeek-R1,DeepSeek-V3-Base,BASED_ON,finetune\r\n'

C.csv_nodes_and_rels_good = function()
  local p = plugin("plugins/csv.lua")
  local rec = assert(H.import(p, NODES_CSV, "nodes.csv"))
  local v3 = model(rec, "DeepSeek-V3").props
  eq(v3.params_total, 671000000000); eq(v3.open_source, true); eq(v3.score, 1.0); eq(v3.note, "a note, with a comma")
  eq(v3.tags[2], "mla"); eq(v3.name, "DeepSeek-V3")
  local base = model(rec, "DeepSeek-V3-Base")
  eq(base.props.note, "two\nlines"); eq(base.labels[2], "Base"); eq(base.props.open_source, nil)
  eq(model(rec, "DeepSeek-R1").props.note, 'say "hi"'); eq(model(rec, "DeepSeek-R1").props.score, 88.5)
  local rels = assert(H.import(p, RELS_CSV, "rels.csv"))
  eq(has_rel(rels, "DeepSeek-R1", "BASED_ON", "DeepSeek-V3-Base").props.relation, "finetune")
end

C.csv_bad_quoting_is_error = function()
  local bad = NODES_CSV:gsub('"say ""hi"""', '"say "hi""')
  local rec, err = H.import(plugin("plugins/csv.lua"), bad, "q.csv")
  expect_error(rec, err, "^csv: q%.csv:5: csv: line 5 %(byte %d+%): malformed quoting")
  rec, err = H.import(plugin("plugins/csv.lua"), NODES_CSV .. 'X,Model,1,true,1,,"never closed\n', "q2.csv")
  expect_error(rec, err, "^csv: q2%.csv:6: csv: line 6 .*unterminated quoted field")
end

C.csv_unknown_type_is_error = function()
  local bad = NODES_CSV:gsub("score:double", "score:decimal")
  local rec, err = H.import(plugin("plugins/csv.lua"), bad, "t.csv")
  expect_error(rec, err, "^csv: t%.csv:1: column 5 \"score:decimal\": unknown type \"decimal\"")
end

C.csv_bad_value_is_error = function()
  local bad = NODES_CSV:gsub("DeepSeek%-R1,Model,671000000000", "DeepSeek-R1,Model,671B")
  local rec, err = H.import(plugin("plugins/csv.lua"), bad, "v.csv")
  expect_error(rec, err, "^csv: v%.csv:5: column \"params_total:long\": \"671B\" is not an integer")
  bad = NODES_CSV:gsub(",TRUE,", ",yes,")
  rec, err = H.import(plugin("plugins/csv.lua"), bad, "v.csv")
  expect_error(rec, err, "^csv: v%.csv:5: column \"open_source:boolean\": \"yes\" is not true or false")
end

C.csv_invalid_utf8_is_error = function()
  local bad = NODES_CSV:gsub("a note", "a \xfe note")
  local rec, err = H.import(plugin("plugins/csv.lua"), bad, "u.csv")
  expect_error(rec, err, "^csv: u%.csv:2: column \"note\": not valid UTF%-8")
end

-- ---- Hugging Face ----

C.hf_sample_good = function()
  local text = assert(read(SOURCE_DIR .. "/examples/hf_sample.jsonl"))
  local rec = assert(H.import(plugin("plugins/hf_models.lua"), text, "hf_sample.jsonl"))
  eq(#rec.warnings, 0, "warnings")
  local q = has_rel(rec, "example-org/DeepSeek-R1-Distill-Qwen-7B-GGUF", "BASED_ON", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")
  eq(q.props.relation, "quantized")
  eq(has_rel(rec, "deepseek-ai/DeepSeek-R1", "BASED_ON", "deepseek-ai/DeepSeek-V3-Base").props.relation, "finetune")
  local lora = has_rel(rec, "example-lab/r1-qwen7b-lora-chinese-poetry", "BASED_ON", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")
  eq(lora.props.relation, "adapter"); eq(lora.props.relation_inferred, true)
  local merge = "example-merge/R1-Distill-Qwen-14B-x-Qwen2.5-14B-merge"
  eq(has_rel(rec, merge, "BASED_ON", "Qwen/Qwen2.5-14B").props.relation, "merge")
  has_rel(rec, merge, "BASED_ON", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B")
  has_rel(rec, "deepseek-ai/DeepSeek-V3", "DEVELOPED_BY", "deepseek-ai", "Model", "Organization")
  assert(model(rec, "example-quant/DeepSeek-V3-GGUF").props.synthetic == nil, "unknown fields are ignored")
  eq(model(rec, "example-quant/DeepSeek-V3-GGUF").props.downloads, 950)
  local again = assert(H.import(plugin("plugins/hf_models.lua"), text, "hf_sample.jsonl"))
  eq(H.dump(again), H.dump(rec), "re-import")
end

C.hf_bad_line_is_error = function()
  local rec, err = H.import(plugin("plugins/hf_models.lua"), '{"id":"a/b"}\n{"author":"x"}\n', "h.jsonl")
  expect_error(rec, err, "^hf_models: h%.jsonl:2: the record has no \"id\"")
  rec, err = H.import(plugin("plugins/hf_models.lua"), '{"id":"a/b","cardData":{"base_model":5}}\n', "h.jsonl")
  expect_error(rec, err, "h%.jsonl:1: cardData.base_model must be a string or a list")
end

C.hf_truncated_is_error = function()
  local rec, err = H.import(plugin("plugins/hf_models.lua"), '{"id":"a/b"}\n{"id":"a/c","tags":["x"\n', "h.jsonl")
  expect_error(rec, err, "^hf_models: h%.jsonl:2: invalid JSON: column %d+")
end

-- ---- the tutorial's example ----

C.example_model_card_good = function()
  local text = assert(read(SOURCE_DIR .. "/examples/plugins/deepseek.cards"))
  local rec = assert(H.import(plugin("examples/plugins/model_card.lua"), text, "deepseek.cards"))
  local r1 = model(rec, "DeepSeek-R1").props
  eq(r1.params_total, 671000000000); eq(r1.params_active, 37000000000); eq(r1.context_length, 131072)
  eq(r1.released, "2025-01"); eq(r1.open_source, true)
  has_rel(rec, "DeepSeek-R1", "BASED_ON", "DeepSeek-V3-Base")
  has_rel(rec, "DeepSeek-R1-Distill-Qwen-7B", "DISTILLED_FROM", "DeepSeek-R1")
  has_rel(rec, "DeepSeek-V3", "USES", "DeepSeekMoE", "Model", "Technique")
  has_rel(rec, "DeepSeek-V3", "DESCRIBED_IN", "arXiv:2412.19437", "Model", "Paper")
  has_rel(rec, "DeepSeek-V3", "DEVELOPED_BY", "DeepSeek", "Model", "Organization")
  eq(model(rec, "DeepSeek-R1-Distill-Qwen-7B").props.params_total, 7000000000)
  eq(#rec.warnings, 0)
end

C.example_model_card_bad_line = function()
  local p = plugin("examples/plugins/model_card.lua")
  local rec, err = H.import(p, "model: X\nparams: 671B\nthis line has no colon\n", "bad.cards")
  expect_error(rec, err, "^model_card: bad%.cards:3: expected \"key: value\"")
  rec, err = H.import(p, "model: X\nparams: lots\n", "bad.cards")
  expect_error(rec, err, "bad%.cards:2: cannot parse quantity")
  rec = assert(H.import(p, "model: X\ncolour: blue\n", "w.cards"))
  eq(rec.warnings[1].line, 2); assert(rec.warnings[1].msg:find("unknown key"))
end

C.plugins_have_metadata_and_detect = function()
  local heads = {
    ["plugins/deepseek_report.lua"] = SEED_REPORT and read(SEED_REPORT):sub(1, 4096)
      or "# DeepSeek 报告\n\n## 一、核心模型发布时间线\n",
    ["plugins/json_graph.lua"] = GRAPH,
    ["plugins/csv.lua"] = NODES_CSV,
    ["plugins/hf_models.lua"] = read(SOURCE_DIR .. "/examples/hf_sample.jsonl"),
    ["examples/plugins/model_card.lua"] = read(SOURCE_DIR .. "/examples/plugins/deepseek.cards"),
  }
  for path, head in pairs(heads) do
    local p = plugin(path)
    assert(type(p.version) == "string" and type(p.description) == "string", path .. ": metadata")
    assert(type(p.importer.run) == "function" and #p.importer.extensions > 0, path .. ": importer")
    assert(p.importer.detect(head) == true, path .. ": detect() refuses its own format")
    for other, ohead in pairs(heads) do
      if other ~= path and p.importer.detect(ohead) then error(path .. ": detect() accepts the input of " .. other) end
    end
  end
end

return C
