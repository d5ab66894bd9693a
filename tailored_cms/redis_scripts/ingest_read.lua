local out = {0, 0}
local function collect(entries)
  for _, entry in ipairs(entries) do
    local value = false
    if entry[2] then
      value = ''
      for i = 1, #entry[2], 2 do
        if entry[2][i] == ARGV[5] then value = entry[2][i + 1] break end
      end
    end
    out[#out + 1] = entry[1]
    out[#out + 1] = value
  end
end
if ARGV[6] == '2' then
  local own = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '0')
  if own and #own[1][2] > 0 then
    collect(own[1][2])
    out[1] = (#out - 2) / 2
    out[2] = 1
    return out
  end
end
if ARGV[6] ~= '0' then
  collect(redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])[2])
end
out[1] = (#out - 2) / 2
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '>')
if read then collect(read[1][2]) end
return out
