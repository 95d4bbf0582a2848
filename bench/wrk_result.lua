-- The reporting half of every wrk script of the benches (bench/harness.py reads its output).
--
--   wrk ... -s bench/wrk_result.lua URL    GETs the URL's path (wrk's default request)
--
-- Another script loads it first, then adds its own init() and request():
--   dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_result.lua")
--
-- It counts the answers' statuses, keeps the first non-2xx answer of each wrk
-- thread, numbers the threads (the global thread_number, 1-based, in each
-- thread's own Lua state), and done() prints one "WRK_RESULT {json}" line:
-- requests, duration, latency percentiles, socket errors, statuses, first errors.

statuses = {} -- status code -> count, global so that done() can read it through thread:get()
first_error = nil -- the first non-2xx body seen by this thread, to say what went wrong

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads) -- 1-based, in this thread's own Lua state
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and first_error == nil then
    first_error = status .. " " .. string.sub(body or "", 1, 300)
  end
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function done(summary, latency, requests)
  local totals = {}
  local errors = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
    local message = thread:get("first_error")
    if message then
      table.insert(errors, json_string(message))
    end
  end
  local status_parts = {}
  for status, count in pairs(totals) do
    table.insert(status_parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"statuses": {%s}, "first_errors": [%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout,
    table.concat(status_parts, ", "), table.concat(errors, ", ")
  ))
end
