"""Where snapshots are cached for the request path. Swappable with ``TAILORED_CMS["SNAPSHOT_STORE"]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import connection
from ..conf import tailored_settings
from .snapshot import Snapshot

if TYPE_CHECKING:
    from ..tracking.stream import TrackedEvent


class SnapshotStore:
    """Contract for a snapshot store.

    ``get`` runs on every request of a visitor with a cookie: it makes at most one network round trip, never
    queries the DB and never raises (a failing backend answers ``None`` and the DB is read instead).
    ``set`` and ``delete`` are called after the DB was written; they must not raise either.
    ``get_and_capture`` is ``get`` for a request that may count as a page view: a store that can also append
    the event in the same round trip (when the snapshot says the visitor consented) does so and says it did.
    """

    def get(self, visitor_id: str) -> Snapshot | None:
        raise NotImplementedError

    def get_and_capture(self, visitor_id: str, page_view: TrackedEvent) -> tuple[Snapshot | None, bool]:
        """The snapshot, and whether ``page_view`` was appended to the event stream (here: never)."""
        return self.get(visitor_id), False

    def set(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def delete(self, visitor_id: str) -> None:
        raise NotImplementedError


class RedisSnapshotStore(SnapshotStore):
    """One JSON string per visitor, its expiry renewed by each read (``GETEX``: one round trip)."""

    def get(self, visitor_id: str) -> Snapshot | None:
        raw = connection.call(
            lambda r: r.getex(connection.key("snap", visitor_id), ex=tailored_settings.SNAPSHOT_TTL), None
        )
        return Snapshot.from_json(raw) if raw else None

    def get_and_capture(self, visitor_id: str, page_view: TrackedEvent) -> tuple[Snapshot | None, bool]:
        """One round trip: a Lua script reads the snapshot and, if it says the visitor may be tracked, XADDs."""
        from ..tracking.stream import FIELD, stream_key

        implied = "1" if tailored_settings.CONSENT == "implied" else "0"
        keys = [connection.key("snap", visitor_id), stream_key()]
        args = [tailored_settings.SNAPSHOT_TTL, implied, tailored_settings.STREAM_MAXLEN, FIELD, page_view.encode()]
        # EVAL, not EVALSHA: always exactly one round trip (Redis caches the compiled script by its hash).
        reply = connection.call(lambda r: r.eval(_CAPTURE_LUA, len(keys), *keys, *args), None)
        if not reply or not reply[0]:
            return None, False
        return Snapshot.from_json(reply[0]), bool(reply[1])

    def set(self, snapshot: Snapshot) -> None:
        assert snapshot.visitor_id
        # If Redis is unreachable this is dropped: the DB holds the truth, and an older copy that survived
        # in a persistent Redis expires after SNAPSHOT_TTL.
        name = connection.key("snap", snapshot.visitor_id)
        connection.call(lambda r: r.set(name, snapshot.to_json(), ex=tailored_settings.SNAPSHOT_TTL), False)

    def delete(self, visitor_id: str) -> None:
        connection.call(lambda r: r.delete(connection.key("snap", visitor_id)), 0)


def get_store() -> SnapshotStore:
    return tailored_settings.SNAPSHOT_STORE()


# KEYS: snapshot, stream. ARGV: ttl, "1" if consent is implied, stream maxlen, entry field, event JSON.
# Returns {snapshot or false, 1 if the event was appended}. Tracking follows the snapshot's consent answer,
# else the site's default; an unknown visitor (no snapshot) is left to the caller, which reads the DB.
_CAPTURE_LUA = """
local raw = redis.call('GETEX', KEYS[1], 'EX', ARGV[1])
if not raw then return {false, 0} end
local allowed = ARGV[2] == '1'
local ok, snapshot = pcall(cjson.decode, raw)
if ok and type(snapshot) == 'table' then
  if snapshot['tracking_consent'] == true then allowed = true
  elseif snapshot['tracking_consent'] == false then allowed = false end
end
if allowed then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', ARGV[4], ARGV[5])
  return {raw, 1}
end
return {raw, 0}
"""
