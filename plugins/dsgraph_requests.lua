-- plugins/dsgraph_requests.lua - imports a JSON-lines file of dsgraph JSON-RPC
-- write requests (node.put and rel.put), the format of examples/deepseek.jsonl.
--
-- Each line is one request, with or without an "id":
--   {"jsonrpc":"2.0","method":"node.put","params":{"labels":[...],"name":"...","properties":{...},"aliases":[...]}}
--   {"jsonrpc":"2.0","method":"rel.put","params":{"start":{"label":"Model","name":"..."},"type":"T","end":{...},"properties":{...}}}
-- Going through an import instead of replaying the requests means every fact
-- gets provenance (this file is one import, retractable as a whole) and the
-- whole file is one transaction.

-- A node reference of rel.put: {"label": L, "name": N}. Ids are refused: they
-- belong to one database, and an import must mean the same thing everywhere.
local function endpoint(ctx, ref, which)
  if type(ref) ~= "table" or type(ref.name) ~= "string" or type(ref.label) ~= "string" then
    ctx:error(which .. " must be {\"label\": ..., \"name\": ...}")
  end
  return ctx:node { labels = { ref.label }, name = ref.name }
end

local function put_node(ctx, p)
  if type(p.labels) ~= "table" or #p.labels == 0 then ctx:error("node.put needs \"labels\"") end
  local name = p.name
  if name == nil and type(p.properties) == "table" then name = p.properties.name end
  if type(name) ~= "string" then ctx:error("node.put needs a \"name\"") end
  ctx:node { labels = p.labels, name = name, props = p.properties, aliases = p.aliases }
end

local function put_rel(ctx, p)
  if type(p.type) ~= "string" or p.type == "" then ctx:error("rel.put needs a \"type\"") end
  local a = endpoint(ctx, p.start, "start")
  local b = endpoint(ctx, p["end"], "end")
  ctx:rel(a, p.type, b, p.properties)
end

return {
  name = "dsgraph_requests",
  version = "1.0.0",
  description = "JSON lines of dsgraph node.put/rel.put requests (examples/deepseek.jsonl)",
  importer = {
    extensions = { "jsonl" },
    media_types = { "application/x-ndjson" },
    detect = function(head)
      return head:find('"jsonrpc"', 1, true) ~= nil and head:find('"node.put"', 1, true) ~= nil
    end,
    run = function(ctx, input)
      local n = 0
      for line in input:lines() do
        if line:find("%S") then
          local req, err = dsgraph.json.decode(line)
          if req == nil then ctx:error(err) end
          if type(req) ~= "table" or type(req.params) ~= "table" then
            ctx:error("expected a JSON-RPC request object with params")
          end
          if req.method == "node.put" then
            put_node(ctx, req.params)
          elseif req.method == "rel.put" then
            put_rel(ctx, req.params)
          else
            ctx:error("unsupported method " .. tostring(req.method) .. " (only node.put and rel.put)")
          end
          n = n + 1
          if n % 1000 == 0 then ctx:progress(n, nil) end
        end
      end
    end,
  },
}
