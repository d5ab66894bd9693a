-- The recompute's write of segments into stored snapshots (visitors/store.py, RedisSnapshotStore.update_segments).
--
-- KEYS: snapshots. ARGV: the snapshot FORMAT, then for each key the JSON of its new tracked fields. A snapshot that
-- is not stored (or of another format) is left alone: the visitor's next request reads the DB. Only the tracked
-- fields change, so a choice the visitor saved meanwhile is never overwritten. Returns how many changed.
local updated = 0
for i, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  if raw then
    local ok, snapshot = pcall(cjson.decode, raw)
    if ok and type(snapshot) == 'table' and tostring(snapshot['format']) == ARGV[1] then
      for name, value in pairs(cjson.decode(ARGV[i + 1])) do snapshot[name] = value end
      redis.call('SET', key, cjson.encode(snapshot), 'KEEPTTL')
      updated = updated + 1
    end
  end
end
return updated
