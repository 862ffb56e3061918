-- plugins/hf_models.lua - imports Hugging Face model metadata: JSON Lines of
-- model records as the Hub API returns them, for the model tree (one base
-- model, thousands of finetunes, adapters, quantizations and merges).
--
--   {"id": "example-org/DeepSeek-R1-Distill-Qwen-7B-GGUF", "author": "example-org",
--    "created_at": "2025-01-22T10:00:00.000Z", "pipeline_tag": "text-generation",
--    "tags": ["gguf", "base_model:quantized:deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"],
--    "downloads": 1234, "likes": 5, "library_name": "gguf",
--    "cardData": {"base_model": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
--                 "base_model_relation": "quantized", "license": "mit"}}
--
-- Each record becomes a Model named by its repo id (props hf_id, author, created_at,
-- pipeline_tag, tags, downloads, likes, library_name, license), DEVELOPED_BY an
-- Organization named by the author (so "deepseek-ai" meets the curated DeepSeek,
-- whose alias it is), and BASED_ON {relation = ...} each base model (a string or a
-- list). Without base_model_relation the relation is inferred the way the Hub does
-- (gguf/gptq/awq/exl2 tags: quantized; peft/lora: adapter; merge/mergekit: merge;
-- else finetune) and the relationship says relation_inferred = true.
-- Unknown fields are ignored (the sample's "synthetic" marker among them).
--
-- In dsgraphd the rows go through ctx:bulk() (docs/plugins.md, "Bulk loads"): the
-- same merges as ctx:node / ctx:rel, written by the store's bulk load. A host
-- without it (the Lua mock host of tests/plugins/) gets the ctx:node / ctx:rel
-- loop; both write the same graph (tests/integration/test_bulk_hf.py).

local RELATIONS = { finetune = true, adapter = true, quantized = true, merge = true }

local function has_tag(tags, ...)
  for _, t in ipairs(tags) do
    local l = type(t) == "string" and t:lower() or ""
    for _, want in ipairs({ ... }) do
      if l == want then return true end
    end
  end
  return false
end

local function infer_relation(tags, nbases)
  if has_tag(tags, "gguf", "gptq", "awq", "exl2", "mlx", "bitsandbytes", "4-bit", "8-bit") then return "quantized" end
  if has_tag(tags, "peft", "lora", "adapter") then return "adapter" end
  if has_tag(tags, "merge", "mergekit") or nbases > 1 then return "merge" end
  return "finetune"
end

local function str(v) return type(v) == "string" and v ~= "" and v or nil end

local function run(ctx, input)
  local n, orgs = 0, {}
  local bulk = ctx.bulk and ctx:bulk() or nil
  local w = bulk or ctx   -- w:node / w:rel: the loader's or ctx's own (same arguments, same merge)
  for line in input:lines() do
    if line:find("%S") then
      local rec, err = dsgraph.json.decode(line)
      if rec == nil then ctx:error("invalid JSON: " .. err:gsub("^line 1, ", "")) end
      if type(rec) ~= "table" or dsgraph.is_list(rec) then ctx:error("a model record must be a JSON object") end
      local id = str(rec.id) or str(rec.modelId)
      if not id then ctx:error("the record has no \"id\"") end
      local tags = type(rec.tags) == "table" and dsgraph.is_list(rec.tags) and rec.tags or dsgraph.list {}
      local card = type(rec.cardData) == "table" and rec.cardData or {}
      local props = { hf_id = id, author = str(rec.author), created_at = str(rec.created_at) or str(rec.createdAt),
        pipeline_tag = str(rec.pipeline_tag), library_name = str(rec.library_name), tags = tags,
        license = str(card.license) }
      if math.type(rec.downloads) == "integer" then props.downloads = rec.downloads end
      if math.type(rec.likes) == "integer" then props.likes = rec.likes end
      local m = w:node { labels = "Model", name = id, props = props }
      local author = str(rec.author) or id:match("^([^/]+)/")
      if author then
        local org = orgs[author]
        if not org then
          org = w:node { labels = "Organization", name = author }
          orgs[author] = org
        end
        w:rel(m, "DEVELOPED_BY", org)
      end
      local bases = card.base_model
      if type(bases) == "string" then bases = { bases } end
      if bases ~= nil and bases ~= dsgraph.null and type(bases) ~= "table" then
        ctx:error("cardData.base_model must be a string or a list of strings")
      end
      bases = bases ~= dsgraph.null and bases or {}
      local relation, inferred = str(card.base_model_relation), false
      if relation and not RELATIONS[relation] then
        ctx:warn("unknown base_model_relation \"" .. relation .. "\" (kept as it is)")
      end
      if not relation and #bases > 0 then relation, inferred = infer_relation(tags, #bases), true end
      for i, b in ipairs(bases) do
        if not str(b) then ctx:error(string.format("cardData.base_model[%d] must be a non-empty string", i)) end
        if b == id then
          ctx:warn("the model names itself as its base; skipped")
        else
          local base = w:node { labels = "Model", name = b, props = { hf_id = b } }
          w:rel(m, "BASED_ON", base, { relation = relation, relation_inferred = inferred or nil })
        end
      end
      n = n + 1
      if n % 10000 == 0 then ctx:progress(n, nil) end
    end
  end
  if bulk then bulk:finish() end
end

return {
  name = "hf_models",
  version = "1.0.0",
  description = "Hugging Face model metadata (JSON Lines): the model tree with BASED_ON {relation}",
  importer = {
    extensions = { "jsonl", "ndjson" },
    media_types = { "application/x-ndjson" },
    detect = function(head)
      local first = head:match("^[^\n]*") or ""
      return first:find('"id"%s*:%s*"[^"/]+/') ~= nil
        and (first:find('"cardData"', 1, true) ~= nil or first:find('"pipeline_tag"', 1, true) ~= nil
             or first:find('"author"', 1, true) ~= nil)
    end,
    run = run,
  },
}
