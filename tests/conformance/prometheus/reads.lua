-- wrk script of the promtool conformance check (check.sh): GET requests
-- that take turns over the paths in $PROM_READ_PATHS (space-separated), so
-- one bounded wrk run fills the counters and latency histograms of several
-- routes, unmatched paths (route="unmatched", 404) included.
local paths = {}
for p in string.gmatch(os.getenv("PROM_READ_PATHS") or "/v1/matches", "%S+") do
  paths[#paths + 1] = p
end
local i = 0

function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
