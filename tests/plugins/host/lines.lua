-- tests/plugins/lines.lua - a tiny line-oriented importer used by the plugin tests.
-- Each input line is one command:
--   node LABEL NAME [KEY=VALUE ...]   (VALUE: integer, or text)
--   rel NAME1 TYPE NAME2              (both named earlier in the input)
--   alias NAME TEXT
--   warn TEXT        error TEXT        boom (a Lua runtime error)
-- Blank lines and lines starting with '#' are skipped.
local handles = {}

local function fields(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

return {
  name = "lines",
  version = "1.0",
  description = "test importer: one command per line",
  importer = {
    extensions = {"lines"},
    media_types = {"text/x-dsgraph-lines"},
    detect = function(head) return head:sub(1, 6) == "#lines" end,
    run = function(ctx, input)
      for line in input:lines() do
        local f = fields(line)
        local cmd = f[1]
        if cmd == nil or cmd:sub(1, 1) == "#" then
          -- skip
        elseif cmd == "node" then
          local props = {}
          for i = 4, #f do
            local k, v = f[i]:match("^([^=]+)=(.*)$")
            props[k] = math.tointeger(tonumber(v)) or v
          end
          handles[f[3]] = ctx:node{labels = {f[2]}, name = f[3], props = props}
        elseif cmd == "rel" then
          ctx:rel(handles[f[2]], f[3], handles[f[4]])
        elseif cmd == "alias" then
          ctx:alias(handles[f[2]], f[3])
        elseif cmd == "warn" then
          ctx:warn(line:sub(6))
        elseif cmd == "error" then
          ctx:error(line:sub(7))
        elseif cmd == "boom" then
          local t = nil
          return t.field
        else
          ctx:warn("unknown command " .. cmd)
        end
      end
    end,
  },
}
