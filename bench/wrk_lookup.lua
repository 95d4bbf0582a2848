-- wrk script for bench/advisories_bench.py: POST /api/v1/advisories/lookup with points in turn.
--
--   wrk ... -s bench/wrk_lookup.lua URL -- POINTSFILE
--
-- POINTSFILE: one "lat lon" a line. Bodies are prebuilt in init(); done() comes from wrk_result.lua.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_result.lua")

local bodies = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    local lat, lon = line:match("^(%S+) (%S+)$")
    table.insert(bodies, wrk.format("POST", "/api/v1/advisories/lookup",
      { ["Content-Type"] = "application/json" }, '{"lat": ' .. lat .. ', "lon": ' .. lon .. '}'))
  end
end

function request()
  next_index = next_index % #bodies + 1
  return bodies[next_index]
end
