-- An exporter that writes part of its output and then fails: the client must
-- get a clear error (plugin name and message) and no output file.
return {
  name = "fail_halfway",
  exporter = {
    run = function(ctx, opts)
      local n = 0
      for node in ctx:nodes() do
        ctx:write(string.format("node %d\n", node.id))
        n = n + 1
        if n == 5 then error("gave up after five nodes") end
      end
      if opts.always == "true" then error("gave up on an empty graph") end
    end,
  },
}
