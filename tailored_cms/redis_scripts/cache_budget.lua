-- A piece of a page request's round trip (tailored_cms.round_trip): what tailored areas noted since the last
-- round trip of this process, added to their HyperLogLogs (the cache budget, areas/cache_budget.py).
--
-- KEYS: any number of HyperLogLogs. ARGV: their time to live in seconds, then for each HyperLogLog its new
-- values, space-separated. Returns 0.
for i = 1, #KEYS do
  local values = {}
  for value in string.gmatch(ARGV[i + 1], '%S+') do values[#values + 1] = value end
  if #values > 0 then
    redis.call('PFADD', KEYS[i], unpack(values))
    redis.call('EXPIRE', KEYS[i], ARGV[1])
  end
end
return 0
