-- plugins/csv.lua - imports CSV in the neo4j-admin import convention, one file
-- per input, read with dsgraph.csv.reader (RFC 4180: quoted fields, embedded
-- newlines, "" escapes).
--
-- Node files have an ID column and usually a :LABEL column:
--   name:ID(Model),:LABEL,params_total:long,open_source:boolean,tags:string[]
--   DeepSeek-V3,Model,671000000000,true,moe;mla
-- Relationship files have :START_ID, :END_ID and :TYPE:
--   :START_ID(Model),:END_ID(Model),:TYPE,relation
--   DeepSeek-R1,DeepSeek-V3-Base,BASED_ON,
--
-- Identity: a node's name is its `name` column if it has one, else its ID value;
-- when they differ the ID value becomes an alias, so relationship files can use it.
-- Relationship ends are found by label + ID value: the ID space names the label
-- (":START_ID(Model)"); without one, opts.default_label or "Model".
-- Types: long int short byte (integers), double float (reals), boolean (true/false),
-- string, and date/datetime/localdatetime/time/localtime/duration/point kept as
-- strings; "[]" makes a ';'-separated array. An empty cell sets nothing.
-- An unknown type, or a value that is not of its column's type, is an error
-- naming the column and the line.
-- The header is read here; the rows are run by the host's ctx:bulk_csv (a C loop,
-- docs/plugins.md "Bulk loads") when it has one, else by the Lua loop below.

local INTEGER = { long = true, int = true, short = true, byte = true }
local REAL = { double = true, float = true }
local KEPT_AS_STRING = { string = true, char = true, date = true, datetime = true, localdatetime = true,
  time = true, localtime = true, duration = true, point = true }

-- Parses one header cell into {kind, prop, type, array, space}.
local function parse_column(cell)
  local prop, spec = cell:match("^(.-):(.*)$")
  if not prop then return { kind = "prop", prop = cell, type = "string" } end
  local upper = spec:upper()
  for _, special in ipairs({ "ID", "START_ID", "END_ID" }) do
    local space = upper == special and "" or (upper:match("^" .. special .. "%((.*)%)$") and spec:match("%((.*)%)$"))
    if space then return { kind = special:lower(), prop = prop ~= "" and prop or nil, space = space ~= "" and space or nil } end
  end
  if upper == "LABEL" then return { kind = "label" } end
  if upper == "TYPE" then return { kind = "type" } end
  if upper == "IGNORE" then return { kind = "ignore" } end
  local base, array = spec:lower():match("^(%a+)(%[?%]?)$")
  if not base or (array ~= "" and array ~= "[]") or not (INTEGER[base] or REAL[base] or base == "boolean" or KEPT_AS_STRING[base]) then
    return nil, string.format("unknown type \"%s\"", spec)
  end
  return { kind = "prop", prop = prop, type = base, array = array == "[]" }
end

-- Converts one cell to its column's type; nil + reason if it is not one.
local function convert_one(s, t)
  if INTEGER[t] then
    if not s:match("^%s*[+-]?%d+%s*$") then return nil, "not an integer" end
    local n = math.tointeger(tonumber(s))
    if not n then return nil, "integer out of range" end
    return n
  elseif REAL[t] then
    local n = tonumber(s)
    if not n or s:find("^%s*0[xX]") then return nil, "not a number" end
    return n + 0.0
  elseif t == "boolean" then
    local l = s:lower()
    if l == "true" then return true elseif l == "false" then return false end
    return nil, "not true or false"
  end
  return s
end

local function convert(cell, col)
  if col.array then
    local out = dsgraph.list {}
    if cell == "" then return out end
    for part in (cell .. ";"):gmatch("(.-);") do
      local v, why = convert_one(part, col.type)
      if v == nil then return nil, why end
      out[#out + 1] = v
    end
    return out
  end
  return convert_one(cell, col.type)
end

local function run(ctx, input, opts)
  opts = opts or {}
  local default_label = opts.default_label or "Model"
  local reader = dsgraph.csv.reader(input, { header = false, delimiter = opts.delimiter or "," })
  -- the reader's errors name their line ("csv: line 5 (byte 120): ..."): the host gets it too
  local function next_row()
    local ok, row, line = pcall(reader)
    if not ok then
      local at = tostring(row):match("csv: line (%d+)")
      if at then ctx:line(math.tointeger(tonumber(at))) end
      ctx:error(tostring(row))
    end
    if line then ctx:line(line) end
    return row, line
  end
  local header = next_row()
  if not header then ctx:error("the file is empty (a header row is needed)") end
  local cols, has = {}, {}
  for i, cell in ipairs(header) do
    if not dsgraph.utf8_valid(cell) then ctx:error(string.format("column %d: not valid UTF-8", i)) end
    local col, err = parse_column(cell)
    if not col then ctx:error(string.format("column %d \"%s\": %s", i, cell, err)) end
    col.index, col.header = i, cell
    cols[i] = col
    has[col.kind] = has[col.kind] or col
  end
  local is_rels = has.start_id and has.end_id
  if not is_rels and not has.id then
    ctx:error("a node file needs an :ID column, a relationship file :START_ID and :END_ID")
  end
  if is_rels and not has.type and not opts.type then ctx:error("a relationship file needs a :TYPE column") end
  if ctx.bulk_csv then
    -- the host's C loop reads every record with these columns (same checks, same
    -- messages as the loop below, which hosts without it still run)
    local n = ctx:bulk_csv { columns = cols, delimiter = opts.delimiter or ",", default_label = default_label,
      type = opts.type }
    ctx:progress(n, n)
    return
  end
  local n = 0
  while true do
    local row, line = next_row()
    if not row then break end
    if #row ~= #cols then
      ctx:error(string.format("%d fields, the header has %d", #row, #cols))
    end
    local props, labels, id, name, rtype, s, e = {}, {}, nil, nil, opts.type, nil, nil
    for i, col in ipairs(cols) do
      local cell = row[i]
      if not dsgraph.utf8_valid(cell) then
        ctx:error(string.format("column \"%s\": not valid UTF-8", col.header))
      end
      if col.kind == "prop" then
        if cell ~= "" then
          local v, why = convert(cell, col)
          if v == nil then
            ctx:error(string.format("column \"%s\": \"%s\" is %s", col.header, cell, why))
          end
          props[col.prop] = v
        end
      elseif col.kind == "label" then
        for l in (cell .. ";"):gmatch("(.-);") do
          if l ~= "" then labels[#labels + 1] = l end
        end
      elseif col.kind == "id" then
        id = cell
        if col.prop then props[col.prop] = cell end
      elseif col.kind == "start_id" then
        s = { label = col.space or default_label, id = cell }
      elseif col.kind == "end_id" then
        e = { label = col.space or default_label, id = cell }
      elseif col.kind == "type" then
        rtype = cell
      end
    end
    if is_rels then
      if not rtype or not rtype:match("^[%a_][%w_]*$") then
        ctx:error(string.format("\"%s\" is not a relationship type", tostring(rtype)))
      end
      if s.id == "" or e.id == "" then ctx:error("an empty start or end id") end
      local a = ctx:node { labels = { s.label }, name = s.id }
      local b = ctx:node { labels = { e.label }, name = e.id }
      ctx:rel(a, rtype, b, props)
    else
      if not id or id == "" then ctx:error("the ID is empty") end
      if #labels == 0 then labels[1] = has.id.space or default_label end
      name = type(props.name) == "string" and props.name ~= "" and props.name or id
      ctx:node { labels = labels, name = name, props = props, aliases = name ~= id and { id } or nil }
    end
    n = n + 1
    if n % 10000 == 0 then ctx:progress(n, nil) end
  end
end

return {
  name = "csv",
  version = "1.0.0",
  description = "CSV node and relationship files in the neo4j-admin import convention",
  importer = {
    extensions = { "csv" },
    media_types = { "text/csv" },
    detect = function(head)
      local first = head:match("^[^\n]*") or ""
      return first:find(":ID", 1, true) ~= nil or first:find(":START_ID", 1, true) ~= nil
    end,
    run = function(ctx, input) return run(ctx, input) end,
  },
}
