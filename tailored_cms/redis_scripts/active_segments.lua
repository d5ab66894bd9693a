-- The active segments (rules/active.py): a piece of a page request's round trip (tailored_cms.round_trip), and a
-- script of its own for a request without a snapshot (rules.active.refresh_active_segments).
--
-- KEYS: the active segments hash. ARGV: the version the process holds. Returns {version or false, the hash's
-- fields and values (HGETALL) if the version differs, else false}.
local segments_version = redis.call('HGET', KEYS[1], '#v')
local segments = false
if segments_version and segments_version ~= ARGV[1] then segments = redis.call('HGETALL', KEYS[1]) end
return {segments_version or false, segments}
