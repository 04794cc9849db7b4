-- wrk script for bench/catalogue.py.
--
-- done() prints one machine-readable line (wrk's own summary has no p95). With arguments
-- `-- PREFIX LOW HIGH`, every request asks for PREFIX followed by a random id in [LOW, HIGH]
-- (e.g. /projects/123456), so the database cache is not warmed by a single row. Without
-- arguments no request() is defined and wrk sends its static request (cheapest). With `-- fresh`,
-- every request's query (the URL ends in `q=...`) gets punctuation of its own (two runs of
-- `.~!*'()`, the thread and the request number): no words, so the same search and plan, but a
-- query text no server has seen before, so nothing it kept from an earlier request (counts)
-- can answer it.

local thread_count = 0

function setup(thread)
  thread:set("seed", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  if args[1] == "fresh" then
    local marks = {".", "~", "!", "*", "'", "(", ")"}
    local function spelled(number)
      local text = ""
      repeat
        text = text .. marks[number % 7 + 1]
        number = math.floor(number / 7)
      until number == 0
      return text
    end
    local n = 0
    request = function()
      n = n + 1
      return wrk.format(nil, wrk.path .. "%20" .. spelled(seed or 0) .. "%20" .. spelled(n))
    end
  elseif #args >= 3 then
    local prefix, low, high = args[1], tonumber(args[2]), tonumber(args[3])
    math.randomseed(os.time() * 1000 + (seed or 0))
    request = function()
      return wrk.format(nil, prefix .. math.random(low, high))
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d "
      .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
