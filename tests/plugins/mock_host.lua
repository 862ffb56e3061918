-- tests/plugins/mock_host.lua - a stand-in for the plugin host, in Lua, so the
-- shipped plugins can be tested without the daemon: it loads a plugin in a
-- sandbox-like environment, gives it an `input` and a `ctx` that record nodes
-- and relationships in tables with the store's merge rules (first label + name
-- or alias by dsgraph.normalize; later property value wins; dsgraph.null removes;
-- relationships merge on start, type, end), and makes an import all-or-nothing.
-- It follows core/plugin_import.c: handles are {id = N}; ctx:line([n]) reads or
-- sets the current line; ctx:warn(msg [, line]); a failed import reads
-- "plugin: input:line: message" ("plugin: input: message" while the line is 0).
local M = {}

-- The globals a plugin gets (the real host's sandbox has these and no more of use).
local SAFE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring",
  "type", "xpcall", "setmetatable", "getmetatable", "rawequal", "rawget", "rawlen", "rawset" }

-- Loads a plugin file; returns its table, or nil + message.
function M.load_plugin(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local src = f:read("a")
  f:close()
  local env = { string = string, table = table, math = math, utf8 = utf8, dsgraph = dsgraph }
  for _, k in ipairs(SAFE) do env[k] = _G[k] end
  local chunk, lerr = load(src, "@" .. path, "t", env)
  if not chunk then return nil, lerr end
  local ok, plugin = pcall(chunk)
  if not ok then return nil, plugin end
  if type(plugin) ~= "table" or type(plugin.name) ~= "string" then return nil, path .. ": a plugin must return a table with a name" end
  return plugin
end

-- An input over a string: lines() (tracking ctx.line), read(n), name, size.
function M.new_input(text, name, ctx)
  local pos = 1
  local input = { name = name or "input", size = #text }
  function input:lines()
    return function()
      if pos > #text then return nil end
      local nl = text:find("\n", pos, true)
      local line = text:sub(pos, (nl or #text + 1) - 1):gsub("\r$", "")
      pos = (nl or #text) + 1
      ctx:line(ctx:line() + 1)
      return line
    end
  end
  function input:read(n)
    if n == "a" then
      local s = text:sub(pos)
      pos = #text + 1
      return s
    end
    if type(n) ~= "number" or n < 0 then error("input:read(n) needs a byte count or \"a\"", 2) end
    if pos > #text then return nil end
    if n == 0 then return "" end
    local s = text:sub(pos, pos + n - 1)
    pos = pos + #s
    return s
  end
  return input
end

local function key_of(label, name)
  local k, err = dsgraph.normalize(name)
  if not k then error(err, 3) end
  return label .. "\0" .. k
end

-- A ctx that records what the plugin asserts in `rec`.
function M.new_ctx()
  local rec = { nodes = {}, rels = {}, warnings = {}, progress = {}, index = {} }
  local ctx = { input = "input", plugin = "plugin" }
  local line = 0

  local function check_handle(h, what)
    local id = type(h) == "table" and h.id or h
    if math.type(id) ~= "integer" or not rec.nodes[id] then
      error(what .. " is not a node handle from ctx:node", 3)
    end
    return rec.nodes[id]
  end

  local function add_alias(node, text)
    if type(text) ~= "string" or text == "" then error("an alias must be a non-empty string", 3) end
    local key = key_of(node.labels[1], text)
    if not node.alias_set[text] then
      node.alias_set[text] = true
      node.aliases[#node.aliases + 1] = text
    end
    rec.index[key] = rec.index[key] or node
  end

  function ctx:node(spec)
    if type(spec) ~= "table" then error("ctx:node expects a table", 2) end
    local labels = spec.labels
    if type(labels) == "string" then labels = { labels } end   -- a string or a list, as docs/plugins.md says
    if type(labels) ~= "table" or type(labels[1]) ~= "string" then error("ctx:node: labels must be a string or a list of strings", 2) end
    if type(spec.name) ~= "string" or spec.name == "" then error("ctx:node: name must be a non-empty string", 2) end
    local props = spec.props or {}
    local ok, err = pcall(dsgraph.json.encode, props)
    if not ok then error("ctx:node: props: " .. tostring(err), 2) end
    local key = key_of(labels[1], spec.name)
    local node = rec.index[key]
    if not node then
      node = { id = #rec.nodes + 1, labels = {}, name = spec.name, props = {}, aliases = {}, alias_set = {} }
      rec.nodes[node.id] = node
      rec.index[key] = node
    end
    for _, l in ipairs(labels) do
      local have = false
      for _, x in ipairs(node.labels) do have = have or x == l end
      if not have then node.labels[#node.labels + 1] = l end
    end
    for k, v in pairs(props) do
      if v == dsgraph.null then node.props[k] = nil else node.props[k] = v end
    end
    local aliases = spec.aliases
    if type(aliases) == "string" then aliases = { aliases } end
    for _, a in ipairs(aliases or {}) do add_alias(node, a) end
    return { id = node.id }
  end

  function ctx:rel(a, type_, b, props)
    local an, bn = check_handle(a, "the start"), check_handle(b, "the end")
    if type(type_) ~= "string" or not type_:match("^[A-Z][A-Z0-9_]*$") then error("ctx:rel: bad type " .. tostring(type_), 2) end
    props = props or {}
    local ok, err = pcall(dsgraph.json.encode, props)
    if not ok then error("ctx:rel: props: " .. tostring(err), 2) end
    local key = an.id .. "\0" .. type_ .. "\0" .. bn.id
    local r = rec.rels[key]
    if not r then
      r = { start = an, type = type_, ["end"] = bn, props = {} }
      rec.rels[key] = r
    end
    for k, v in pairs(props) do
      if v == dsgraph.null then r.props[k] = nil else r.props[k] = v end
    end
    return { id = key }
  end

  function ctx:alias(h, text)
    add_alias(check_handle(h, "the node"), text)
  end

  function ctx:warn(msg, at)
    rec.warnings[#rec.warnings + 1] = { line = at or line, msg = tostring(msg) }
  end

  function ctx:error(msg)
    error({ import_error = true, msg = tostring(msg) }, 0)
  end

  function ctx:line(n)
    if n ~= nil then
      if math.type(n) ~= "integer" then error("ctx:line(n): n must be an integer", 2) end
      line = n
    end
    return line
  end

  function ctx:progress(done, total)
    rec.progress[#rec.progress + 1] = { done, total }
  end

  return ctx, rec
end

-- Runs plugin's importer on text. Returns rec, or nil + "plugin: input:line: message"
-- (all or nothing: a failed import returns no record at all).
function M.import(plugin, text, name)
  local ctx, rec = M.new_ctx()
  local input = M.new_input(text, name or "input", ctx)
  ctx.input, ctx.plugin = input.name, plugin.name
  local ok, err = pcall(plugin.importer.run, ctx, input)
  if ok then return rec end
  local msg = type(err) == "table" and err.import_error and err.msg or tostring(err)
  if ctx:line() > 0 then
    return nil, string.format("%s: %s:%d: %s", plugin.name, input.name, ctx:line(), msg)
  end
  return nil, string.format("%s: %s: %s", plugin.name, input.name, msg)
end

-- ---- queries for tests ----

-- The node with this label and name (or alias), or nil.
function M.node(rec, label, name)
  return rec.index[key_of(label, name)]
end

-- The relationship start -[type]-> end, by names (first label of each given), or nil.
function M.rel(rec, slabel, sname, type_, elabel, ename)
  local s, e = M.node(rec, slabel, sname), M.node(rec, elabel, ename)
  if not s or not e then return nil end
  return rec.rels[s.id .. "\0" .. type_ .. "\0" .. e.id]
end

function M.count(rec)
  local n, r = #rec.nodes, 0
  for _ in pairs(rec.rels) do r = r + 1 end
  return n, r
end

-- A canonical dump (sorted lines), to compare two imports.
function M.dump(rec)
  local lines = {}
  for _, n in ipairs(rec.nodes) do
    local aliases = {}
    for _, a in ipairs(n.aliases) do aliases[#aliases + 1] = a end
    table.sort(aliases)
    lines[#lines + 1] = "N " .. n.labels[1] .. " " .. n.name .. " " .. dsgraph.json.encode(dsgraph.map(n.props), { sort_keys = true })
      .. " [" .. table.concat(aliases, "|") .. "]"
  end
  for _, r in pairs(rec.rels) do
    lines[#lines + 1] = "R " .. r.start.name .. " " .. r.type .. " " .. r["end"].name .. " "
      .. dsgraph.json.encode(dsgraph.map(r.props), { sort_keys = true })
  end
  table.sort(lines)
  return table.concat(lines, "\n")
end

return M
