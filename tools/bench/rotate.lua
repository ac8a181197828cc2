-- rotate.lua - wrk script for tools/bench.sh: every request takes the next
-- token of BENCH_TOKENS (one per line; each thread starts elsewhere in the
-- list) as "Authorization: Bearer ...", and the next body of BENCH_BODIES
-- (one per line) with BENCH_METHOD and BENCH_CTYPE.  Without BENCH_TOKENS
-- no Authorization header is sent (login).  done() prints one line
-- "BENCHJSON {...}" with the counts and latency percentiles in microseconds
-- (err_status counts answers that are not 2xx/3xx).  There is no
-- response() callback: it would make wrk parse every answer in Lua.

local function lines(path)
  local t = {}
  if path and path ~= "" then
    for l in io.lines(path) do
      if l ~= "" then t[#t + 1] = l end
    end
  end
  return t
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  tokens = lines(os.getenv("BENCH_TOKENS"))
  bodies = lines(os.getenv("BENCH_BODIES"))
  method = os.getenv("BENCH_METHOD") or "GET"
  ctype = os.getenv("BENCH_CTYPE") or "application/json"
  path = wrk.path
  -- spread the threads over the lists
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  ti = (#tokens > 0) and ((id - 1) * math.floor(#tokens / nthreads)) % #tokens or 0
  bi = 0
end

function request()
  local headers = {}
  if #tokens > 0 then
    ti = ti % #tokens + 1
    headers["Authorization"] = "Bearer " .. tokens[ti]
  end
  local body = nil
  if #bodies > 0 then
    bi = bi % #bodies + 1
    body = bodies[bi]
    headers["Content-Type"] = ctype
  end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
