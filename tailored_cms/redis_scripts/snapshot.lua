-- The head of every request's round trip (tailored_cms.round_trip): the visitor's snapshot and whether they may
-- be tracked. Sent by visitors/store.py.
--
-- KEYS: the snapshot. ARGV: its time to live in seconds (the read renews it); whether the visitor may be tracked
-- for each answer they may have given, one character each ("1" yes, "0" no) in the order: they said yes, they
-- said no, they said nothing (visitors/consent.py decides; this script only looks the answer up); a new visitor's
-- snapshot JSON to store first ("" for none); "1" if the request has no session.
--
-- Tells the pieces after it (the table ``trip``): raw (the snapshot's JSON, or false), snapshot (decoded, or nil),
-- allowed (may the visitor be tracked), signed_out (a signed-in user's snapshot, and the request has no session).
-- Returns the snapshot's JSON, or false: an unknown visitor is left to the caller, which reads the DB.
if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[1], 'NX') end
local raw = redis.call('GETEX', KEYS[1], 'EX', ARGV[1])
local snapshot = nil
local answer = 3
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then
    snapshot = decoded
    if decoded['tracking_consent'] == true then answer = 1
    elseif decoded['tracking_consent'] == false then answer = 2 end
  end
end
trip.raw = raw
trip.snapshot = snapshot
trip.allowed = string.sub(ARGV[2], answer, answer) == '1'
trip.signed_out = ARGV[4] == '1' and snapshot ~= nil and snapshot['user_id'] ~= nil and snapshot['user_id'] ~= cjson.null
return raw
