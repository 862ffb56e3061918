-- Exporters that pass a limit: memory, instructions, or export_max_bytes.
return {
  name = "bomb",
  exporter = {
    run = function(ctx, opts)
      if opts.kind == "memory" then
        local t = {}
        while true do t[#t + 1] = string.rep("x", 1000) .. #t end
      elseif opts.kind == "loop" then
        while true do end
      elseif opts.kind == "output" then
        local s = string.rep("y", 65536)
        while true do ctx:write(s) end
      elseif opts.kind == "utf8" then
        ctx:write("\255\254")
      elseif opts.kind == "query_write" then
        ctx:query("CREATE (n:Hack {name: 'x'}) RETURN n")
      end
    end,
  },
}
