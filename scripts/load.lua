-- wrk script for `make load`: POST a realistic order to $validate, count 5xx and non-2xx answers across threads.
local body_path = os.getenv("LOAD_BODY") or "examples/orders/oral-max-exceeded.json"
local file = assert(io.open(body_path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.headers["Accept"] = "application/fhir+json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  server_errors = 0
  not_2xx = 0
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
  if status < 200 or status > 299 then not_2xx = not_2xx + 1 end
end

function done(summary, latency, requests)
  local errors, others = 0, 0
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("server_errors")
    others = others + thread:get("not_2xx")
  end
  io.write(string.format("load: 5xx=%d non2xx=%d\n", errors, others))
  io.write(string.format("load: latency p50=%.1fms p99=%.1fms max=%.1fms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
