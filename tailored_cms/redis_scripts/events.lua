-- A piece of an events/ request's round trip (tailored_cms.round_trip): the batch, rate limited and appended to the
-- event stream, after the snapshot piece found the visitor and decided consent. Sent for tracking/beacon.py.
--
-- KEYS: the event stream, the visitor's rate counter, the client IP's. ARGV: the stream's length to trim to
-- (approximately), the entry's field, the visitor's and the IP's limits (events per window; 0: none), the window
-- in seconds, then the events' entries, one per argument.
-- Returns {outcome, n}: {"captured", events appended}, {"not_tracked", 0}, {"no_snapshot", 0},
-- {"signed_out", 0}, or {"visitor" or "ip", seconds until that limit's window ends}.
-- A rate limit is checked before it counts: a refused batch counts nothing, so a smaller one may still fit.
if not trip.raw then return {'no_snapshot', 0} end
if trip.signed_out then return {'signed_out', 0} end
if not trip.allowed then return {'not_tracked', 0} end
local n = #ARGV - 5
local window = tonumber(ARGV[5])
local limits = {{KEYS[2], tonumber(ARGV[3]), 'visitor'}, {KEYS[3], tonumber(ARGV[4]), 'ip'}}
for _, limit in ipairs(limits) do
  if limit[2] > 0 and tonumber(redis.call('GET', limit[1]) or '0') + n > limit[2] then
    local left = redis.call('TTL', limit[1])
    if left < 1 then left = window end
    return {limit[3], left}
  end
end
for _, limit in ipairs(limits) do
  if limit[2] > 0 and redis.call('INCRBY', limit[1], n) == n then redis.call('EXPIRE', limit[1], window) end
end
for i = 6, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[i])
end
return {'captured', n}
