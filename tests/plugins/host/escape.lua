-- tests/plugins/escape.lua - tries to leave the sandbox. The input's first line
-- names the attempt, the second a marker path a successful escape would create.
-- Every attempt must fail the import; a node "ESCAPED" means the sandbox leaked.
local attempts = {
  ["os.execute"] = function(mark) os.execute("touch " .. mark) end,
  ["io.popen"] = function(mark) io.popen("touch " .. mark) end,
  ["io.open"] = function(mark) io.open(mark, "w"):write("x") end,
  ["io.lines"] = function() for _ in io.lines("/etc/passwd") do end end,
  ["package.loadlib"] = function() package.loadlib("libc.so.6", "system")("true") end,
  ["require"] = function() require("io") end,
  ["require_c"] = function() require("lfs") end,
  ["debug"] = function() debug.getregistry() end,
  ["debug.sethook"] = function() debug.sethook() end,
  ["load_binary"] = function()
    local f, msg = load(string.dump(function() return 1 end))
    assert(f, msg)
    f()
  end,
  ["load_binary_mode_b"] = function()
    local f, msg = load(string.dump(function() return 1 end), "x", "b")
    assert(f, msg)
    f()
  end,
  ["collectgarbage"] = function() collectgarbage("stop") end,
  ["collectgarbage_default"] = function() collectgarbage() end,
  ["dofile"] = function() dofile("/etc/passwd") end,
  ["loadfile"] = function() loadfile("/etc/passwd") end,
  ["coroutine"] = function() coroutine.wrap(function() end)() end,
  ["os.exit"] = function() os.exit(1) end,
  ["os.remove"] = function(mark) os.remove(mark) end,
  ["os.getenv"] = function() assert(os.getenv("HOME")) end,
}

return {
  name = "escape",
  version = "1.0",
  description = "test plugin: sandbox escapes",
  importer = {
    extensions = {"escape"},
    run = function(ctx, input)
      local which = input:read("l")
      local mark = input:read("l") or "/tmp/dsgraph-escape-marker"
      local f = attempts[which]
      if not f then ctx:error("unknown attempt " .. tostring(which)) end
      f(mark)
      ctx:node{labels = {"Escape"}, name = "ESCAPED " .. which}
    end,
  },
}
