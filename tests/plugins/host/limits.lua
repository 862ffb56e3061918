-- tests/plugins/limits.lua - runs past the instruction budget or the memory cap.
-- The input's first line picks the bomb; nodes are created first, so the test
-- can check that an aborted run writes nothing.
local bombs = {
  loop = function() while true do end end,
  loop_pcall = function() while true do pcall(function() while true do end end) end end,
  string = function() local s = "x" while true do s = s .. s end end,
  string_rep = function() local s = string.rep("x", 1 << 40) return s end,
  table = function() local t, i = {}, 0 while true do i = i + 1 t[i] = {i} end end,
  table_pcall = function()
    local keep = {}
    for round = 1, 1000 do
      pcall(function() local t, i = {}, 0 while true do i = i + 1 t[i] = i end end)
      keep[round] = string.rep("y", 1 << 20)
    end
  end,
}

return {
  name = "limits",
  version = "1.0",
  description = "test plugin: budget and memory bombs",
  importer = {
    extensions = {"bomb"},
    run = function(ctx, input)
      local which = input:read("l")
      ctx:node{labels = {"Bomb"}, name = "before " .. tostring(which)}
      local f = bombs[which] or error("unknown bomb " .. tostring(which))
      f()
      ctx:node{labels = {"Bomb"}, name = "after " .. which}
    end,
  },
}
