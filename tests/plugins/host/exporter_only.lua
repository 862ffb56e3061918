-- tests/plugins/exporter_only.lua - an exporter descriptor: loaded and listed (exporters come later).
return {
  name = "exporter_only",
  version = "0.1",
  description = "lists an exporter",
  exporter = { formats = {"txt"}, extensions = {"txt"}, run = function(ctx, out) end },
}
