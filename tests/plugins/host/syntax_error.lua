-- tests/plugins/syntax_error.lua - does not compile (line 4); the host lists it with file:line.
return {
  name = "broken",
  importer = { run = function(ctx, input) end end },
}
