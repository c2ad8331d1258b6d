-- wrk script for `make bench`: POST distinct orders (one per line of $BENCH_BODIES) to $validate, each thread
-- starting at its own offset; counts non-2xx answers across threads.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if #line > 0 then table.insert(bodies, line) end
end
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("offset", thread_count * 7919)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  n = offset or 0
  not_2xx = 0
end

function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/fhir+json", ["Accept"] = "application/fhir+json"}, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then not_2xx = not_2xx + 1 end
end

function done(summary, latency, requests)
  local others = 0
  for _, thread in ipairs(threads) do others = others + thread:get("not_2xx") end
  io.write(string.format("bench: non2xx=%d p50_us=%d p99_us=%d\n", others, latency:percentile(50), latency:percentile(99)))
end
