-- rotate.lua - wrk script for tools/bench.sh: every request takes the next
-- token of BENCH_TOKENS (one per line; each thread starts elsewhere in the
-- list) as "Authorization: Bearer ...", and the next body of BENCH_BODIES
-- (one per line) with BENCH_METHOD and BENCH_CTYPE.  Without BENCH_TOKENS
-- no Authorization header is sent (login).  done() prints one line
-- "BENCHJSON {...}" with the counts and latency percentiles in microseconds
-- (err_status counts answers that are not 2xx/3xx).  There is no
-- response() callback: it would make wrk parse every answer in Lua.
--
-- BENCH_PAIRED=1: the body is the one on the token's line (a write that
-- must name someone of the token's own organisation).
-- BENCH_FOLLOW=SUFFIX: a create-then-follow-up cycle for a write a person
-- may have only one of at a time (a flexible-working request): after a
-- 2xx answer carrying "id", the thread's next request is
-- POST <path>/<id><SUFFIX> with the same token and BENCH_FOLLOW_BODY.
-- drive.py runs it with one connection per thread, so the answers come
-- back in the order they were asked for; only then is response() defined.

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
  -- a follow-up cycle keeps one person (token) per thread
  fixed = os.getenv("BENCH_FOLLOW") ~= nil and os.getenv("BENCH_FOLLOW") ~= ""
  if fixed and #tokens > 0 then ti = (id - 1) % #tokens + 1 end
  bi = 0
  paired = os.getenv("BENCH_PAIRED") == "1"
  follow_body = os.getenv("BENCH_FOLLOW_BODY") or "{}"
end

local follow = os.getenv("BENCH_FOLLOW")
if follow == "" then follow = nil end
local pending_id = nil
local last_was_create = false
local last_token = nil

if follow then
  function response(status, headers, body)
    if last_was_create and status >= 200 and status < 300 then
      pending_id = string.match(body, '"id"%s*:%s*"([^"]+)"')
    elseif last_was_create and status == 422 then
      -- a request left in progress by an earlier run: withdraw it first
      pending_id = string.match(body, "request (%w+) is still in progress")
    end
  end
end

function request()
  local headers = {}
  if pending_id then
    local id = pending_id
    pending_id, last_was_create = nil, false
    headers["Authorization"] = "Bearer " .. last_token
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", path .. "/" .. id .. follow, headers, follow_body)
  end
  last_was_create = true
  if #tokens > 0 then
    if not fixed then ti = ti % #tokens + 1 end
    headers["Authorization"] = "Bearer " .. tokens[ti]
    last_token = tokens[ti]
  end
  local body = nil
  if #bodies > 0 then
    bi = paired and ((ti - 1) % #bodies + 1) or (bi % #bodies + 1)
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
