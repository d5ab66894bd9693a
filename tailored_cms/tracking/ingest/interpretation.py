"""What ingest makes of a decoded event before it is stored: bots dropped, clock skew clamped, repeats merged, the
referrer's domain, and the visitor's activity (visits, first/last seen, latest device, referrer and UTM). No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from ..devices import BOT, device_class
from ..stream import UTM_PARAMS, TrackedEvent
from .stats import IngestStats

__all__ = ["FUTURE_SLACK", "Item", "prepare", "referrer_domain", "update_activity"]

# Events dated later than this (a client's clock) are counted as happening now.
FUTURE_SLACK = timedelta(minutes=5)


@dataclass(slots=True)
class Item:
    """A decoded event on its way to the database, with what ingest worked out about it."""

    event: TrackedEvent
    ts: datetime
    device: str
    handle: Any  # where it came from: a stream entry id or a spool row id


def prepare(pairs: Iterable[tuple[Any, TrackedEvent]], stats: IngestStats) -> list[Item]:
    """Drop bots, clamp future times, and merge an id seen twice in the batch. Cost: no I/O."""
    now = timezone.now()
    latest = now + FUTURE_SLACK
    items: list[Item] = []
    seen: set[str] = set()
    for handle, event in pairs:
        device = device_class(event.user_agent) if event.user_agent else ""
        if device == BOT:
            stats.dropped += 1
            continue
        if event.id in seen:
            stats.duplicates += 1
            continue
        seen.add(event.id)
        items.append(Item(event, now if event.ts > latest else event.ts, device, handle))
    return items


def referrer_domain(referrer: str, host: str = "") -> str:
    """The referrer's host name without ``www.``; ``""`` when there is none or it is this site (``host``)."""
    if not referrer:
        return ""
    try:
        domain = (urlsplit(referrer).hostname or "").lower()
    except ValueError:
        return ""
    domain = domain.removeprefix("www.")
    if not domain:
        return ""
    if host:
        own, _port = split_domain_port(host.lower())
        if domain == own.removeprefix("www."):
            return ""
    elif validate_host(domain, [h for h in settings.ALLOWED_HOSTS if h != "*"]):
        return ""
    return domain[:255]


def update_activity(values: dict[str, Any], item: Item, referrer: str, gap: timedelta) -> None:
    """Fold one event (in time order) into a visitor's first/last seen, visits and latest device/referrer/UTM."""
    ts, event = item.ts, item.event
    last = values["last_seen"]
    if last is None or ts - last > gap:
        values["visits"] += 1
    if values["first_seen"] is None or ts < values["first_seen"]:
        values["first_seen"] = ts
    if last is not None and ts < last:
        return  # late: older than what is known; the "latest" fields stay
    values["last_seen"] = ts
    if item.device:
        values["device"] = item.device
    if event.is_page_view:
        if referrer:
            values["referrer_domain"] = referrer
        props = event.props
        if props and any(props.get(name) for name in UTM_PARAMS):  # page views carry props only for UTM
            for name in UTM_PARAMS:
                values[name] = str(props.get(name) or "")[:100]
