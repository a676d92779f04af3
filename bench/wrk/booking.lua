-- POST /bookings, one new seat per request, so every request is a real booking (201), never a 409.
-- Each wrk thread books its own flights (BENCH_FLIGHT_IDS, dealt round-robin to the threads) seat by
-- seat; the Idempotency-Key is unique per request, as a client would send.
local token = os.getenv("BENCH_TOKEN")
local letters = os.getenv("BENCH_SEAT_LETTERS")
local rows = tonumber(os.getenv("BENCH_ROWS"))
local threads = tonumber(os.getenv("BENCH_THREADS"))
local run = os.getenv("BENCH_RUN")
local flight_ids = {}
for id in string.gmatch(os.getenv("BENCH_FLIGHT_IDS"), "%d+") do
  table.insert(flight_ids, id)
end

local next_thread = 0
function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

thread_index = 0
local counter = 0
local seats_per_flight = rows * #letters

function request()
  local n = counter
  counter = counter + 1
  local flight = flight_ids[thread_index + math.floor(n / seats_per_flight) * threads + 1]
  if flight == nil then
    flight = "0" -- out of seats: a 404 shows up as a non-2xx response in the report
  end
  local i = n % seats_per_flight
  local letter_i = i % #letters + 1
  local seat = tostring(math.floor(i / #letters) + 1) .. string.sub(letters, letter_i, letter_i)
  local body = '{"flight_id": ' .. flight .. ', "passengers": [{"seat": "' .. seat .. '", "name": "Bench Passenger"}]}'
  return wrk.format("POST", "/bookings", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = run .. "-" .. thread_index .. "-" .. n,
  }, body)
end

-- Latency quantiles (0.5 % steps, microseconds) so bench/run.py can pool the slices of a row.
function done(summary, latency, requests)
  local q = {}
  for i = 1, 199 do
    q[#q + 1] = string.format("%d", latency:percentile(i / 2))
  end
  io.write("BENCH_QUANTILES_US " .. table.concat(q, " ") .. "\n")
end
