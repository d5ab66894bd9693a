-- Publishing the active segments or the optimize allocations (rules/active.py, replace_fields).
--
-- KEYS: the active segments hash. ARGV: "1" to replace the allocations ("@" fields), "0" the segments (the others),
-- then field, value, ... (with the new version). One atomic script: a reader never sees one kind half replaced.
local allocations = ARGV[1] == '1'
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if (string.sub(name, 1, 1) == '@') == allocations then redis.call('HDEL', KEYS[1], name) end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
