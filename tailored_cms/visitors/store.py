"""Where snapshots are cached for the request path. Swappable with ``TAILORED_CMS["SNAPSHOT_STORE"]``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import redis

from .. import connection
from ..conf import tailored_settings
from .snapshot import FORMAT, Snapshot

if TYPE_CHECKING:
    from ..tracking.stream import TrackedEvent


# Outcomes of ``SnapshotStore.capture_events``:
CAPTURED = "captured"  # the events were appended
NOT_TRACKED = "not_tracked"  # the visitor's answer (or the site's default) says no: nothing appended
NO_SNAPSHOT = "no_snapshot"  # the store doesn't know the visitor: read the DB, then try again
SIGNED_OUT = "signed_out"  # a signed-in user's visitor, but the request has no session: not this visitor
OVER_LIMIT = "over_limit"  # a rate limit refused the batch; ``limit`` says which
RATE_WINDOW = 60  # seconds: the rate limits count events per fixed window of this length


class EventsCapture(NamedTuple):
    """What ``SnapshotStore.capture_events`` did."""

    outcome: str
    appended: int = 0
    limit: str = ""  # OVER_LIMIT: "visitor" or "ip"
    retry_after: int = 0  # OVER_LIMIT: seconds until that limit's window ends


class SnapshotStore:
    """Contract for a snapshot store.

    ``get`` runs on every request of a visitor with a cookie: it makes at most one network round trip, never
    queries the DB and never raises (a failing backend answers ``None`` and the DB is read instead).
    ``set`` and ``delete`` are called after the DB was written; they must not raise either, and return whether
    the store took the change (``False``: a copy the store holds may now be stale; see ``visitors/stale.py``).
    ``get_and_capture`` is ``get`` for a request that may count as a page view: a store that can also append
    the event in the same round trip (when the snapshot says the visitor consented) does so and says it did.
    ``capture_events`` is the ``events/`` endpoint's whole job in one round trip, for a store that can do it
    (read and renew the snapshot, decide consent, count the rate limits, append the events); ``None`` means it
    can't (here: never can; or its backend is down), and the caller decides from the DB and spools or enqueues.
    """

    def get(self, visitor_id: str) -> Snapshot | None:
        raise NotImplementedError

    def get_and_capture(self, visitor_id: str, page_view: TrackedEvent) -> tuple[Snapshot | None, bool]:
        """The snapshot, and whether ``page_view`` was appended to the event stream (here: never)."""
        return self.get(visitor_id), False

    def capture_events(
        self,
        visitor_id: str,
        entries: Sequence[str],
        *,
        client_ip: str,
        new_snapshot: Snapshot | None = None,
        has_session: bool = True,
    ) -> EventsCapture | None:
        """Append ``entries`` (``TrackedEvent.encode()``) if the visitor may be tracked and is within the rate limits.

        ``new_snapshot``: a visitor the store can't know yet (made up for implied consent, or just read from the
        DB), stored first. ``has_session``: whether the request has a session cookie (without one, a signed-in
        user's visitor is not this visitor).
        """
        return None

    def set(self, snapshot: Snapshot) -> bool:
        raise NotImplementedError

    def update_segments(self, tracked: Mapping[str, str], client: redis.Redis | None = None) -> int:
        """Replace ``Snapshot.TRACKED_FIELDS`` of the stored snapshots of these visitors (visitor id -> JSON of
        those fields) and leave everything else, and visitors with nothing stored, alone. Returns how many were
        updated. Called by Celery after it recomputed segments (``client``: the worker's Redis client, which
        may raise ``redis.RedisError``). Here: nothing is stored."""
        return 0

    def delete(self, visitor_id: str) -> bool:
        raise NotImplementedError


class RedisSnapshotStore(SnapshotStore):
    """One JSON string per visitor, its expiry renewed by each read (``GETEX``: one round trip)."""

    def get(self, visitor_id: str) -> Snapshot | None:
        """One round trip: the same script as ``get_and_capture``, without an event."""
        return self._read(visitor_id, None)[0]

    def get_and_capture(self, visitor_id: str, page_view: TrackedEvent) -> tuple[Snapshot | None, bool]:
        """One round trip: a Lua script reads the snapshot and, if it says the visitor may be tracked, XADDs."""
        return self._read(visitor_id, page_view)

    def _read(self, visitor_id: str, page_view: TrackedEvent | None) -> tuple[Snapshot | None, bool]:
        """The snapshot, whether ``page_view`` was appended, and (in the same round trip) the active segments'
        version, with their definitions if this process's copy is older (rules/request_time.py). The same
        script adds what tailored areas noted since the last read to their HyperLogLogs (widgets/cache_budget.py).
        """
        from ..areas.cache_budget import HLL_TTL, take_notes
        from ..rules import request_time
        from ..rules.active import active_key
        from ..tracking.stream import FIELD, stream_key

        implied = "1" if tailored_settings.CONSENT == "implied" else "0"
        notes = take_notes()
        keys = [connection.key("snap", visitor_id), stream_key(), active_key(), *(key for key, _values in notes)]
        args = [
            tailored_settings.SNAPSHOT_TTL,
            implied,
            tailored_settings.STREAM_MAXLEN,
            FIELD,
            page_view.encode() if page_view is not None else "",
            request_time.known_version(),
            HLL_TTL,
            *(" ".join(values) for _key, values in notes),
        ]
        # EVAL, not EVALSHA: always exactly one round trip (Redis caches the compiled script by its hash).
        reply = connection.call(lambda r: r.eval(_CAPTURE_LUA, len(keys), *keys, *args), None)
        if not reply:
            return None, False
        request_time.remember(reply[2], reply[3] or None)
        return (Snapshot.from_json(reply[0]) if reply[0] else None), bool(reply[1])

    def capture_events(
        self,
        visitor_id: str,
        entries: Sequence[str],
        *,
        client_ip: str,
        new_snapshot: Snapshot | None = None,
        has_session: bool = True,
    ) -> EventsCapture | None:
        """One round trip (a Lua script): snapshot, consent, rate limits, one XADD per entry. ``None``: Redis down."""
        from ..tracking.stream import FIELD, stream_key

        keys = [
            connection.key("snap", visitor_id),
            stream_key(),
            connection.key("rate", "visitor", visitor_id),
            connection.key("rate", "ip", client_ip),
        ]
        args = [
            tailored_settings.SNAPSHOT_TTL,
            "1" if tailored_settings.CONSENT == "implied" else "0",
            tailored_settings.STREAM_MAXLEN,
            FIELD,
            new_snapshot.to_json() if new_snapshot is not None else "",
            "0" if has_session else "1",
            tailored_settings.EVENTS_RATE_PER_VISITOR or 0,
            tailored_settings.EVENTS_RATE_PER_IP or 0,
            RATE_WINDOW,
            *entries,
        ]
        reply = connection.call(lambda r: r.eval(_EVENTS_LUA, len(keys), *keys, *args), None)
        if reply is None:
            return None
        outcome, number = reply[0].decode(), int(reply[1])
        if outcome in ("visitor", "ip"):
            return EventsCapture(OVER_LIMIT, limit=outcome, retry_after=number)
        return EventsCapture(outcome, appended=number)

    def set(self, snapshot: Snapshot) -> bool:
        """``False`` if Redis was unreachable: the DB holds the truth; the caller marks the copy stale."""
        assert snapshot.visitor_id
        name = connection.key("snap", snapshot.visitor_id)
        return bool(
            connection.call(lambda r: r.set(name, snapshot.to_json(), ex=tailored_settings.SNAPSHOT_TTL), False)
        )

    def delete(self, visitor_id: str) -> bool:
        """``False`` if Redis was unreachable (whether a copy was there or not: ``True``)."""
        return connection.call(lambda r: r.delete(connection.key("snap", visitor_id)) >= 0, False)

    def update_segments(self, tracked: Mapping[str, str], client: redis.Redis | None = None) -> int:
        """Rewrite the tracked part of stored snapshots in place (Lua: only what is there; choices untouched).

        Cost: one round trip for any number of visitors (a pipeline of scripts of ``UPDATE_SLICE`` keys each).
        """
        if not tracked:
            return 0
        items = list(tracked.items())

        def update(r: redis.Redis) -> int:
            pipeline = r.pipeline(transaction=False)
            for start in range(0, len(items), UPDATE_SLICE):
                chunk = items[start : start + UPDATE_SLICE]
                keys = [connection.key("snap", visitor_id) for visitor_id, _json in chunk]
                pipeline.eval(_UPDATE_TRACKED_LUA, len(keys), *keys, FORMAT, *(value for _id, value in chunk))
            return sum(int(n) for n in pipeline.execute())

        if client is not None:
            return update(client)
        return connection.call(update, 0)


def get_store() -> SnapshotStore:
    return tailored_settings.SNAPSHOT_STORE()


# Shared by the scripts below: the snapshot (KEYS[1], its expiry renewed to ARGV[1] seconds) and the consent
# decision. Sets ``raw`` (the snapshot's JSON, or false), ``snapshot`` (decoded, or nil) and ``allowed``: the
# visitor's own answer, else the site's default (ARGV[2] is "1" if consent is implied). Sec-GPC and DNT are
# checked in Python before any script runs.
_SNAPSHOT_LUA = """
local raw = redis.call('GETEX', KEYS[1], 'EX', ARGV[1])
local allowed = ARGV[2] == '1'
local snapshot = nil
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then
    snapshot = decoded
    if decoded['tracking_consent'] == true then allowed = true
    elseif decoded['tracking_consent'] == false then allowed = false end
  end
end
"""

# KEYS: snapshot, stream, active segments hash, then any number of tailored areas' HyperLogLogs. ARGV: ttl, "1" if
# consent is implied, stream maxlen, entry field, event JSON ("" for none: a plain read), the active segments'
# version this process holds, the HyperLogLogs' ttl, then for each HyperLogLog its new values, space-separated.
# Returns {snapshot or false, 1 if the event was appended, the active segments' version or false, their hash
# (HGETALL) if that version differs from ARGV[6], else false}. An unknown visitor (no snapshot) is left to the
# caller, which reads the DB.
_CAPTURE_LUA = (
    _SNAPSHOT_LUA
    + """
local segments_version = redis.call('HGET', KEYS[3], '#v')
local segments = false
if segments_version and segments_version ~= ARGV[6] then segments = redis.call('HGETALL', KEYS[3]) end
local captured = 0
if raw and allowed and ARGV[5] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', ARGV[4], ARGV[5])
  captured = 1
end
for i = 4, #KEYS do
  local values = {}
  for value in string.gmatch(ARGV[i + 4], '%S+') do values[#values + 1] = value end
  if #values > 0 then
    redis.call('PFADD', KEYS[i], unpack(values))
    redis.call('EXPIRE', KEYS[i], ARGV[7])
  end
end
return {raw or false, captured, segments_version or false, segments}
"""
)

# KEYS: snapshots. ARGV: the snapshot FORMAT, then for each key the JSON of its new tracked fields. A snapshot
# that is not stored (or of another format) is left alone: the visitor's next request reads the DB. Only the
# tracked fields change, so a choice the visitor saved meanwhile is never overwritten. Returns how many changed.
_UPDATE_TRACKED_LUA = """
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
"""
UPDATE_SLICE = 500  # snapshots per script call: Redis runs a script alone, so keep each one short

# KEYS: snapshot, stream, the visitor's and the client IP's rate counters. ARGV: ttl, "1" if consent is implied,
# stream maxlen, entry field, a new visitor's snapshot JSON to store first ("" for none), "1" if the request has
# no session, the visitor's and the IP's limits (events per window; 0: none), the window (s), then the events'
# JSON, one per argument. Returns {outcome, n}: {"captured", events appended}, {"not_tracked", 0},
# {"no_snapshot", 0}, {"signed_out", 0}, or {"visitor" or "ip", seconds until that window ends}.
# A rate limit is checked before it counts: a refused batch counts nothing, so a smaller one may still fit.
_EVENTS_LUA = (
    """
if ARGV[5] ~= '' then redis.call('SET', KEYS[1], ARGV[5], 'EX', ARGV[1], 'NX') end
"""
    + _SNAPSHOT_LUA
    + """
if not raw then return {'no_snapshot', 0} end
if ARGV[6] == '1' and snapshot and snapshot['user_id'] ~= nil and snapshot['user_id'] ~= cjson.null then
  return {'signed_out', 0}
end
if not allowed then return {'not_tracked', 0} end
local n = #ARGV - 9
local window = tonumber(ARGV[9])
local limits = {{KEYS[3], tonumber(ARGV[7]), 'visitor'}, {KEYS[4], tonumber(ARGV[8]), 'ip'}}
for _, limit in ipairs(limits) do
  if limit[2] > 0 and tonumber(redis.call('GET', limit[1]) or '0') + n > limit[2] then
    local left = redis.call('TTL', limit[1])
    if left < 1 then left = window end
    return {limit[3], left}
  end
end
for _, limit in ipairs(limits) do
  if limit[2] > 0 and redis.call('INCRBY', limit[1], n) == n then redis.call('EXPIRE', limit[1], window) end
end
for i = 10, #ARGV do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', ARGV[4], ARGV[i])
end
return {'captured', n}
"""
)
