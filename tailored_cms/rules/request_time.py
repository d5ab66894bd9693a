"""The request path's half of segments: which segments a visitor is in on THIS request. No SQL, no I/O.

What a page view knows, all of it already in memory when a template asks:

- the visitor's snapshot (one Redis round trip, made by the middleware anyway): the segments Celery found them
  certainly in (``segments``), and those they are in only on some requests, each with its residual tree of
  request-time rules (``conditional_segments``);
- this process's copy of the **active segments** (``ActiveSegments``): the slugs of the enabled segments Celery
  computes, and the trees of those made only of request-time rules (a device segment applies to everyone, so
  its tree is kept here once rather than in every snapshot).

Why a process-local copy, and how it stays right: Redis holds the active segments in one hash
(``<prefix>:segments``) with a version token that changes on every change (``active.publish_segments``). The
snapshot's Lua script also reads that version and, only when it differs from the version this process holds,
the whole hash — in the same round trip. So a segment switched off or deleted disappears from the next page view
of any visitor with a snapshot, before any recompute rewrites their snapshot, at no extra cost. A request that
makes no round trip (a visitor without a cookie) uses the copy as it is, refreshed with one round trip when it is
older than ``REFRESH_SECONDS``. The copy is replaced as a whole (one assignment), so threads never see half of it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.signals import setting_changed
from django.http import HttpRequest
from django.utils import timezone

from ..conf import SETTING_NAME, tailored_settings
from ..languages import current_language
from ..tracking.devices import device_class
from ..tracking.stream import UTM_PARAMS
from .geoip import country_of_address
from .registry import RequestRule, _registry

if TYPE_CHECKING:
    from ..visitors.snapshot import Snapshot

__all__ = [
    "DEVICE_HEADER",
    "EDGE_VISIBLE",
    "ActiveSegments",
    "RequestFacts",
    "active_segments",
    "facts_read",
    "matches",
    "remember",
    "segments_for",
]

logger = logging.getLogger(__name__)

# A copy of the active segments older than this is refreshed by a request that made no round trip of its own.
REFRESH_SECONDS = 1.0
VERSION_FIELD = "#v"  # the hash field holding the version token (slugs can't start with "#")
# Fields "@<area key>" hold the optimize strategy's allocations (results/allocations.py refreshes them), which
# travel with the segments in the same round trip (slugs can't start with "@" either).
ALLOCATION_PREFIX = "@"


@dataclass(frozen=True)
class ActiveSegments:
    """The enabled segments as the request path needs them; ``version`` is None when none were published."""

    version: str | None = None
    computed: frozenset[str] = frozenset()  # slugs whose membership Celery writes into snapshots
    request_time: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # slug -> tree, for everyone
    fetched_at: float = 0.0  # time.monotonic() of the round trip that confirmed it
    # area key -> the variant key of each of the 100 buckets (``areas.optimize``)
    allocations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_hash(cls, version: str, fields: Mapping[str, str], fetched_at: float) -> ActiveSegments:
        computed: set[str] = set()
        trees: dict[str, dict[str, Any]] = {}
        allocations: dict[str, tuple[str, ...]] = {}
        for slug, value in fields.items():
            if slug == VERSION_FIELD:
                continue
            if slug.startswith(ALLOCATION_PREFIX):
                try:
                    allocations[slug.removeprefix(ALLOCATION_PREFIX)] = tuple(str(key) for key in json.loads(value))
                except (TypeError, ValueError):
                    logger.error("The allocation of area %r is unreadable; ignored.", slug)
                continue
            if value:
                try:
                    trees[slug] = json.loads(value)
                except ValueError:
                    logger.error("Active segment %r has an unreadable tree; ignored.", slug)
            else:
                computed.add(slug)
        return cls(version, frozenset(computed), trees, fetched_at, allocations)


_active = ActiveSegments()


def active_segments() -> ActiveSegments:
    """This process's copy of the active segments."""
    return _active


def remember(version: bytes | str | None, flat: Sequence[bytes | str] | None = None) -> None:
    """Take what a round trip said: ``version`` (None: no segments are published) and, when it changed, the
    hash as Redis's flat ``HGETALL`` reply. Called by the snapshot store; cheap when nothing changed."""
    global _active
    now = time.monotonic()
    if version is None:
        # Nothing published (a fresh or flushed Redis): no segment is active until a worker publishes them.
        _active = ActiveSegments(fetched_at=now)
        return
    version = version.decode() if isinstance(version, bytes) else version
    if version == _active.version or not flat:
        if version == _active.version:
            _active = replace(_active, fetched_at=now)
        return
    decoded = [item.decode() if isinstance(item, bytes) else item for item in flat]
    fields = dict(zip(decoded[::2], decoded[1::2], strict=True))
    _active = ActiveSegments.from_hash(version, fields, now)


def known_version() -> str:
    """The version this process holds, for the round trip to compare ("" for none)."""
    return _active.version or ""


def is_stale() -> bool:
    return time.monotonic() - _active.fetched_at > REFRESH_SECONDS


def forget() -> None:
    """Drop the copy (settings changed: maybe another Redis)."""
    global _active
    _active = ActiveSegments()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        forget()


setting_changed.connect(_on_setting_changed)


# What an edge cache in front of the site (``EDGE_MODE``) sees of a request, so may vary a page on: the device class
# its VCL derives into ``DEVICE_HEADER``, the CDN's country header and the URL (the language prefix). A page whose
# segments needed anything else (the referrer, UTM remembered from an earlier page, the time, a country found in
# ``GEOIP_DATABASE`` for want of the header, a site's own rule reading the request) is the request's own: never
# stored by a shared cache.
EDGE_VISIBLE = frozenset({"device", "country", "language"})
DEVICE_HEADER = "X-Tailored-Device"
DEVICE_CLASSES = frozenset({"mobile", "tablet", "desktop", "bot"})


class RequestFacts:
    """What request-time rules read about the current request, each worked out once, on first use. No I/O.

    ``referrer_domain`` and ``utm`` are the request's own when it has them (a landing page), else what the
    snapshot says tracking saw last for the visitor, so a campaign's visitor stays in a campaign segment on
    the next pages of their visit (and later visits, until another campaign or referrer replaces it).

    ``consulted`` names the facts the rules asked for (``request`` for a rule reading the request itself), so an
    edge cache is told what the page varies on, or kept out (``EDGE_VISIBLE``).
    """

    def __init__(self, request: HttpRequest | None, snapshot: Snapshot | None = None, now: datetime | None = None):
        self._request = request
        self.snapshot = snapshot
        self.now = now or timezone.now()
        self.consulted: set[str] = set()

    @property
    def request(self) -> HttpRequest | None:
        """The request itself, for a site's own rule (what it reads is unknown: no edge cache may keep the page)."""
        self.consulted.add("request")
        return self._request

    def _header(self, name: str) -> str:
        if self._request is None:
            return ""
        return str(self._request.headers.get(name, "") or "")

    @cached_property
    def device(self) -> str:
        """``"mobile"``, ``"tablet"`` or ``"desktop"``, from the User-Agent header; under ``EDGE_MODE``, the device
        class the edge derived (``DEVICE_HEADER``), which the page then varies on, when it sends one."""
        self.consulted.add("device")
        if tailored_settings.EDGE_MODE:
            derived = self._header(DEVICE_HEADER).strip().lower()
            if derived in DEVICE_CLASSES:
                return derived
        return device_class(self._header("User-Agent"))

    @cached_property
    def referrer_domain(self) -> str:
        """The domain the visitor came from (``""`` if none or the site itself), or the latest tracking saw."""
        # Imported here: this module is imported before Django's apps are loaded (``rules`` through
        # ``tailored_cms.tasks``), and importing the ingest loads models.
        from ..tracking.ingest import referrer_domain

        self.consulted.add("referrer_domain")
        referrer = self._header("Referer")
        domain = referrer_domain(referrer, self._host()) if referrer else ""
        if not domain and self.snapshot is not None:
            domain = self.snapshot.referrer_domain
        return domain

    def _host(self) -> str:
        if self._request is None:
            return ""
        try:
            return self._request.get_host()
        except Exception:  # DisallowedHost: never here after CommonMiddleware, but a rule must not raise
            return ""

    @cached_property
    def utm(self) -> dict[str, str]:
        """``source``, ``medium`` and ``campaign``: the URL's ``utm_*`` parameters, or the latest tracking saw."""
        self.consulted.add("utm")
        if self._request is not None:
            given = {name.removeprefix("utm_"): self._request.GET.get(name, "")[:100] for name in UTM_PARAMS}
            if any(given.values()):
                return given
        if self.snapshot is not None:
            return {
                "source": self.snapshot.utm_source,
                "medium": self.snapshot.utm_medium,
                "campaign": self.snapshot.utm_campaign,
            }
        return {}

    @cached_property
    def language(self) -> str:
        """The page's language, one of the site's ``LANGUAGES`` (``""`` if none): the one LocaleMiddleware or
        django CMS activated for the request (the middleware works out the segments after LocaleMiddleware)."""
        self.consulted.add("language")
        return current_language()

    @cached_property
    def country(self) -> str:
        """The visitor's two-letter country code, upper case (``""`` if unknown): the ``COUNTRY_HEADER`` header's,
        or without one, their client address's in ``GEOIP_DATABASE`` (``geoip``: from this process's memory)."""
        self.consulted.add("country")
        header = tailored_settings.COUNTRY_HEADER
        code = self._header(header).strip().upper()[:2] if header else ""
        if not code and self._request is not None and tailored_settings.GEOIP_DATABASE:
            from ..tracking.beacon import client_ip  # here, as referrer_domain's import: it loads models

            self.consulted.add("geoip")  # the client's address, which no edge cache varies on
            code = country_of_address(client_ip(self._request))
        return code

    def local_now(self, zone: Any) -> datetime:
        """The request's time in ``zone`` (a ``ZoneInfo``)."""
        self.consulted.add("time")
        return self.now.astimezone(zone)


def matches(tree: Mapping[str, Any], facts: RequestFacts) -> bool:
    """Evaluate a tree of request-time rules (a residual) against the request. A leaf naming a rule that is not a
    registered request-time rule is False (a rule removed from the site's code since the tree was computed)."""
    if "rule" in tree:
        rule = _registry.get(tree["rule"])
        if not isinstance(rule, RequestRule):
            return False
        params = {key: value for key, value in tree.items() if key != "rule"}
        try:
            return bool(rule.matches(params, facts))
        except Exception:  # a site's rule must not break a page view
            logger.exception("Request-time rule %r failed; taken as False.", tree["rule"])
            return False
    if "not" in tree:
        return not matches(tree["not"], facts)
    if "all" in tree:
        return all(matches(child, facts) for child in tree["all"])
    return any(matches(child, facts) for child in tree.get("any", ()))


def facts_read(leaf: Mapping[str, Any]) -> frozenset[str]:
    """What a request-time rule (a leaf of a tree) reads of a request (``RequestFacts.consulted``), found by asking
    it about no request: ``country`` for the location rules, ``time`` for the clock's, ``request`` for a rule that
    reads the request itself. No I/O."""
    facts = RequestFacts(None)
    matches(leaf, facts)
    return frozenset(facts.consulted)


def segments_for(
    snapshot: Snapshot, request: HttpRequest | None, *, now: datetime | None = None, facts: RequestFacts | None = None
) -> tuple[str, ...]:
    """The slugs of the active segments the visitor is in on this request, sorted. Pure: no SQL, no Redis.

    ``facts``: the request's, to learn afterwards what the rules consulted (made here when not given).

    Cost: set lookups for the snapshot's segments, plus one small tree walk per conditional segment of the
    visitor and per request-time segment; user-agent parsing is cached (``device_class``).
    """
    active = _active
    found = {slug for slug in snapshot.segments if slug in active.computed}
    facts = facts or RequestFacts(request, snapshot, now)
    for slug, residual in snapshot.conditional_segments.items():
        if slug in active.computed and slug not in found and matches(residual, facts):
            found.add(slug)
    for slug, tree in active.request_time.items():
        if matches(tree, facts):
            found.add(slug)
    return tuple(sorted(found))
