-- A piece of a page request's round trip (tailored_cms.round_trip): the page view, appended to the event stream
-- if the snapshot piece found the visitor and says they may be tracked. Sent for tracking/capture.py.
--
-- KEYS: the event stream. ARGV: the stream's length to trim to (approximately), the entry's field, the page
-- view's entry ("" for none: a plain read). Returns 1 if the page view was appended, else 0.
if trip.raw and trip.allowed and ARGV[3] ~= '' then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[3])
  return 1
end
return 0
