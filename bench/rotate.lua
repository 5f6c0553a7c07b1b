-- wrk script: rotate GET requests over the paths listed (one a line) in the file named by $WRK_PATHS,
-- with the Accept header in $WRK_ACCEPT (optional); print a JSON summary line at the end.
-- With $WRK_FRESH set, each path gets a word never sent before ("%20v<thread>x<n>" appended to its query):
-- every /search then encodes its query (no cached vector).
local paths = {}
local file = assert(io.open(os.getenv("WRK_PATHS"), "r"), "set WRK_PATHS to a file of request paths")
for line in file:lines() do
  if #line > 0 then paths[#paths + 1] = line end
end
file:close()
local accept = os.getenv("WRK_ACCEPT")
local fresh = os.getenv("WRK_FRESH")
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 7
end

local i = 0
function request()
  i = i + 1
  local path = paths[((i + (offset or 0)) % #paths) + 1]
  if fresh then
    path = string.gsub(path, "([?&]q=[^&]*)", "%1%%20v" .. (offset or 0) .. "x" .. i, 1)
  end
  if accept then
    return wrk.format("GET", path, { ["Accept"] = accept })
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
