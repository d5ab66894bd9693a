"""Where snapshots are cached for the request path. Swappable with ``TAILORED_CMS["SNAPSHOT_STORE"]``."""

from __future__ import annotations

from .. import connection
from ..conf import tailored_settings
from .snapshot import Snapshot


class SnapshotStore:
    """Contract for a snapshot store.

    ``get`` runs on every request of a visitor with a cookie: it makes at most one network round trip, never
    queries the DB and never raises (a failing backend answers ``None`` and the DB is read instead).
    ``set`` and ``delete`` are called after the DB was written; they must not raise either.
    """

    def get(self, visitor_id: str) -> Snapshot | None:
        raise NotImplementedError

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
