-- wrk script of bench/verification_api.py: POST pre-signed requests, each exactly once.
--   wrk -s bench/verification_api.lua URL -- <requests file> <threads> <path> <mode>
-- The file holds one compact JWS per line (device-signed submissions); thread t of n sends
-- lines t, t+n, t+2n … (so no request is ever sent twice: a replayed jti would be refused).
-- mode "verification": a response counts as ok when it is 200 with a result_code.
-- mode "plain": GET <path>, ok when 200 (the file is not read).
-- When a thread runs out of lines it sends GET /healthz and counts it as "exhausted": the
-- benchmark then discards the run and prepares more requests.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local mine = {}
local index = 0
ok, bad, exhausted = 0, 0, 0
first_bad = ""
local mode, path

function init(args)
  local file, count = args[1], tonumber(args[2])
  path, mode = args[3], args[4]
  if mode == "verification" then
    local n = 0
    for line in io.lines(file) do
      if n % count == tid then
        mine[#mine + 1] = wrk.format("POST", path, {["Content-Type"] = "application/jose"}, line)
      end
      n = n + 1
    end
  end
  plain = wrk.format("GET", mode == "plain" and path or "/healthz")
end

function request()
  if mode == "plain" then
    return plain
  end
  index = index + 1
  local req = mine[index]
  if req == nil then
    exhausted = exhausted + 1
    return plain
  end
  return req
end

function response(status, headers, body)
  if mode == "plain" then
    if status == 200 then ok = ok + 1 else bad = bad + 1 end
    return
  end
  if index > #mine then
    return
  end
  if status == 200 and body and string.find(body, '"result_code"', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local t_ok, t_bad, t_exhausted, sample = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok")
    t_bad = t_bad + thread:get("bad")
    t_exhausted = t_exhausted + thread:get("exhausted")
    local fb = thread:get("first_bad")
    if sample == "" and fb ~= nil then sample = fb end
  end
  sample = string.gsub(sample, '[%c"\\]', " ")
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "ok": %d, "bad": %d, "exhausted": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"first_bad": "%s"}\n',
    summary.requests, summary.duration, t_ok, t_bad, t_exhausted,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, sample))
end
