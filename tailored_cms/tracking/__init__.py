"""Behaviour tracking: the Redis event stream, its Celery ingest, and the counters segment rules read.

``stream`` is what the request path uses (no SQL, no models); ``ingest`` runs in Celery workers. The ingest
names are imported on first use, so importing this package (e.g. from a Celery app module, before
``django.setup()``) loads no models.
"""

from __future__ import annotations

from typing import Any

from .delivery import enqueue, spool
from .devices import BOT, DESKTOP, MOBILE, TABLET, device_class
from .stream import (
    PAGE_VIEW,
    UTM_PARAMS,
    InvalidEvent,
    TrackedEvent,
    append,
    group_name,
    stream_key,
)

__all__ = [
    "BOT",
    "DESKTOP",
    "MOBILE",
    "PAGE_VIEW",
    "TABLET",
    "UTM_PARAMS",
    "IngestStats",
    "InvalidEvent",
    "TrackedEvent",
    "append",
    "device_class",
    "drain",
    "enqueue",
    "group_name",
    "ingest_batch",
    "ingest_spool",
    "spool",
    "stream_key",
]

_INGEST_NAMES = {"IngestStats", "drain", "ingest_batch", "ingest_spool"}


def __getattr__(name: str) -> Any:
    if name in _INGEST_NAMES:
        from . import ingest  # on first use: importing the ingest loads models

        return getattr(ingest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
