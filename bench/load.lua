-- wrk script for the relaykey benchmark (bench/run.ts sets the environment).
-- BENCH_KEYS   file of "<username>\t<key>" lines
-- BENCH_MODE   verify | auth_http | peer
-- BENCH_TOKEN  verifier token (verify, auth_http)
-- BENCH_HOT    > 0: cycle over the first BENCH_HOT keys (hot cache); 0: every request a new key
-- BENCH_OFFSET first key index used when cycling over all keys (1-based)
-- BENCH_LIMIT  > 0: stop after this many responses (cold runs never repeat a key)
-- BENCH_DELAY_MS > 0: paced, not saturated: after each response a connection waits a random
--              0..2*BENCH_DELAY_MS ms (mean BENCH_DELAY_MS) before its next request, so the 50
--              connections offer about 50*1000/BENCH_DELAY_MS requests/s in no lockstep
local keys_file = os.getenv("BENCH_KEYS")
local mode = os.getenv("BENCH_MODE") or "verify"
local token = os.getenv("BENCH_TOKEN") or ""
local hot = tonumber(os.getenv("BENCH_HOT") or "0")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "1")
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
-- BENCH_CLIENT_IP  the client IP the mail server reports (default: none, the socket's 127.0.0.1)
local client_ip = os.getenv("BENCH_CLIENT_IP") or ""
local client_ip_field = client_ip ~= "" and (',"client_ip":"' .. client_ip .. '"') or ""

local users, keys = {}, {}
for line in io.lines(keys_file) do
  local user, key = line:match("^([^\t]+)\t(.+)$")
  if user then
    users[#users + 1] = user
    keys[#keys + 1] = key
  end
end
local count = #keys
local counter = 0

local verify_headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
local peer_headers = { ["Content-Type"] = "application/json" }

request = function()
  local i
  if hot > 0 then
    i = (counter % hot) + 1
  else
    i = ((offset - 1 + counter) % count) + 1
  end
  counter = counter + 1
  if mode == "verify" then
    local body = '{"username":"' .. users[i] .. '","password":"' .. keys[i] .. '","protocol":"smtp"' .. client_ip_field .. '}'
    return wrk.format("POST", "/api/v1/verify", verify_headers, body)
  elseif mode == "auth_http" then
    return wrk.format("GET", "/auth/nginx", {
      ["Authorization"] = "Bearer " .. token,
      ["Auth-Method"] = "plain",
      ["Auth-User"] = users[i],
      ["Auth-Pass"] = keys[i],
      ["Auth-Protocol"] = "smtp",
      ["Auth-Login-Attempt"] = "1",
      ["Client-IP"] = client_ip ~= "" and client_ip or "127.0.0.1",
      ["Client-Host"] = "localhost",
    })
  else
    return wrk.format("POST", "/verify", peer_headers, '{"key":"' .. keys[i] .. '"}')
  end
end

-- Wall-clock seconds (10 ms resolution): wrk gives scripts no clock, and its own summary
-- counts the whole -d duration even when a thread stops early at BENCH_LIMIT.
local function uptime()
  local file = io.open("/proc/uptime", "r")
  if not file then return nil end
  local seconds = tonumber(file:read("*l"):match("^(%S+)"))
  file:close()
  return seconds
end

if limit > 0 then
  local responses = 0
  local started = nil
  init = function(args)
    started = uptime()
  end
  response = function(status, headers, body)
    responses = responses + 1
    if responses == limit then
      local finished = uptime()
      if started and finished then
        io.write(string.format("BENCH_ELAPSED %.2f %d\n", finished - started, responses))
      end
      wrk.thread:stop()
    end
  end
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  -- A fixed think time keeps every connection in phase: 50 requests arrive as one burst and the
  -- last waits for the other 49. A random one spreads them out as independent clients would.
  math.randomseed(os.time())
  delay = function()
    return math.random(0, 2 * delay_ms)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_socket":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
