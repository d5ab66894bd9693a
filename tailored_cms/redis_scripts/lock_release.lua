-- The recompute lock (rules/recompute.py): released only by its holder.
-- KEYS: the lock. ARGV: the holder's token. Returns 1 if it was released.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
