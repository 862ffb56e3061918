-- Exercises the exporter ctx API and writes what it saw as JSON.
return {
  name = "probe",
  exporter = {
    run = function(ctx, opts)
      local out = { plugin = ctx.plugin, opts = opts }
      local models, first = 0, nil
      for n in ctx:nodes("Model") do
        models = models + 1
        first = first or n
      end
      out.models = models
      local rels = 0
      for _ in ctx:rels("BASED_ON") do rels = rels + 1 end
      out.based_on = rels
      local r1
      for n in ctx:nodes("Model") do if n.props.name == "DeepSeek-R1" then r1 = n end end
      if r1 then
        out.r1_aliases = dsgraph.list(r1.aliases)
        local up = ctx:lineage(r1.id, "up", nil, 0)
        local names = {}
        for _, n in ipairs(up.nodes) do names[#names + 1] = n.props.name end
        out.r1_up = dsgraph.list(names)
        out.r1_up_rels = #up.rels
        out.node_name = ctx:node(r1.id).props.name
      end
      out.missing = ctx:node(987654321) == nil
      local hits = ctx:search("DeepSeek-V3", 3)
      out.search_first = hits[1] and hits[1].props.name or dsgraph.null
      if opts.query == "true" then
        local res = ctx:query("MATCH (m:Model) RETURN count(m) AS n")
        out.query_columns = res.columns
        out.query_n = res.rows[1][1]
      end
      ctx:write(dsgraph.json.encode(out, { sort_keys = true }), "\n")
    end,
  },
}
