-- The recompute lock (rules/recompute.py): extended only by its holder.
-- KEYS: the lock. ARGV: the holder's token, the new time to live in seconds. Returns 1 if it was extended.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
