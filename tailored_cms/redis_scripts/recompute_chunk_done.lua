-- A chunk of a recompute across workers is done (rules/runs.py): counted once, however often it was redone.
-- KEYS: the run's hash, the set of its chunks done. ARGV: the chunk's index, the keys' time to live in seconds,
-- then field, amount pairs of what the chunk did. Returns how many chunks are done.
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
    for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return redis.call('SCARD', KEYS[2])
