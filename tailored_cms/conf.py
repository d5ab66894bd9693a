"""The ``TAILORED_CMS`` setting, read only through this module.

``tailored_settings.THEMES`` returns the site's value or the documented default. The cache is
cleared when a test changes ``TAILORED_CMS`` with ``override_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

SETTING_NAME = "TAILORED_CMS"

DEFAULTS: dict[str, Any] = {
    # Redis holds visitor snapshots (and, later, the event stream). Env TAILORED_REDIS_URL
    # overrides this in the example site only.
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    # Every Redis key this app writes starts with this prefix, so several sites can share a server.
    "REDIS_PREFIX": "tailored",
    # Socket timeout (seconds) for Redis calls on the request path; past it the DB answers instead.
    "REDIS_TIMEOUT": 0.25,
    # After a Redis failure, the request path skips Redis for this many seconds (then tries again).
    "REDIS_RETRY_AFTER": 5.0,
    # Seconds a visitor's snapshot stays in Redis after their last request; the DB is the source of truth.
    "SNAPSHOT_TTL": 60 * 60 * 24 * 7,
    # Themes a visitor may choose: slug -> label. The body gets class ``tailored-theme-<slug>``.
    "THEMES": {"light": _("Light"), "dark": _("Dark"), "high-contrast": _("High contrast")},
    "DEFAULT_THEME": "light",
    # Layouts a visitor may choose: slug -> label. The body gets class ``tailored-layout-<slug>``.
    "LAYOUTS": {"one-column": _("One column"), "two-columns": _("Two columns"), "grid": _("Grid")},
    "DEFAULT_LAYOUT": "one-column",
    # Behaviour tracking: "required" (nothing behavioural is stored before the visitor agrees) or "implied"
    # (tracked unless they refuse). Sec-GPC: 1 and DNT: 1 turn tracking off whatever this says.
    "CONSENT": "required",
    # Path prefixes never counted as page views (besides STATIC_URL and MEDIA_URL).
    "UNTRACKED_PATHS": ["/admin/", "/tailored/"],
    # Most topics a visitor may follow.
    "MAX_TOPICS": 50,
    # Most widgets a visitor's arrangement may name (order plus hidden).
    "MAX_WIDGETS": 200,
    # The visitor cookie: signed, HttpOnly, SameSite=Lax.
    "COOKIE_NAME": "tailored_vid",
    "COOKIE_AGE": 60 * 60 * 24 * 365,
    "COOKIE_SECURE": False,
    # Request headers the middleware sets for django CMS's placeholder and page caches.
    "VARY_HEADER": "X-Tailored-Variant",
    "WIDGETS_VARY_HEADER": "X-Tailored-Widgets",
    # ...and to the visitor's consent state ("tracked", "ask", "not-tracked"): the beacon tag and the consent
    # banner vary on it. The three headers must differ (system check E009).
    "CONSENT_VARY_HEADER": "X-Tailored-Consent",
    # ...and to the visitor's holdout bucket (0-99, empty without a visitor id): tailored areas with a holdout vary
    # on it. Must differ from the three above (E009).
    "HOLDOUT_VARY_HEADER": "X-Tailored-Holdout",
    # The most cached copies a tailored area may have (distinct variant keys, times holdout buckets, seen in the
    # last 7 days) before the admin warns its editors that caching hardly helps it any more (areas/cache_budget.py).
    "CACHE_VARIANT_BUDGET": 1000,
    # Dotted path of the snapshot store (where visitor snapshots are cached for the request path).
    "SNAPSHOT_STORE": "tailored_cms.visitors.store.RedisSnapshotStore",
    # Events wait in a Redis stream until Celery ingests them. XADD trims it to about this many entries
    # (MAXLEN ~), so a stopped ingest costs bounded memory (~200 bytes an entry); beyond that the oldest are lost.
    "STREAM_MAXLEN": 1_000_000,
    # Most stream entries one ingest batch reads (one DB transaction; its queries don't grow with it).
    "INGEST_BATCH": 2000,
    # Entries a consumer has held unacknowledged this long are taken over by another: their worker died.
    "INGEST_CLAIM_IDLE_SECONDS": 60,
    # A visitor's next event after this much inactivity starts a new visit.
    "VISIT_GAP_MINUTES": 30,
    # Raw events, and visitors inactive this long, are removed by the retention purge.
    "RETENTION_DAYS": 90,
    # Results: a goal event counts as a conversion of the variant the visitor last saw in the area if they saw it
    # at most this many days before (impressions are read from raw events, so at most RETENTION_DAYS: check W003).
    "CONVERSION_WINDOW_DAYS": 30,
    # The optimize strategy: the least share of visitors every tested variant keeps (0 to 0.5; 0.05 = 5 of the 100
    # buckets), so a variant that started badly still gets the visitors that can prove it better.
    "OPTIMIZE_MIN_SHARE": 0.05,
    # Segments. The request header holding the visitor's country (ISO 3166 alpha-2), set by your CDN or proxy,
    # for the "country" rule: Cloudflare's CF-IPCountry by default; "" turns the rule off (it never matches).
    "COUNTRY_HEADER": "CF-IPCountry",
    # Visitors per chunk of a full segment recompute: one transaction each, with a constant number of queries;
    # memory grows with this, not with the number of visitors.
    "RECOMPUTE_CHUNK": 5000,
    # The events/ endpoint (a page's beacon). Most events one request may carry, and its largest body in bytes
    # (a larger one is refused with 413 before it is read).
    "EVENTS_MAX_BATCH": 50,
    "EVENTS_MAX_BODY_BYTES": 64 * 1024,
    # Most properties one event may have, and the most bytes its props may take as compact UTF-8 JSON.
    "EVENT_MAX_PROPS": 20,
    "EVENT_MAX_PROP_BYTES": 2048,
    # An event a client dates further back than this many seconds (a clock that is wrong, a queue that waited) is
    # dated when it is received instead, as is one dated in the future.
    "EVENT_MAX_AGE": 60 * 60 * 24,
    # Rate limits of events/: events per minute (fixed 60 s windows counted in Redis) per visitor and per client IP;
    # None for no limit. Past one, 429 with Retry-After. Not enforced while Redis is down (events are spooled).
    "EVENTS_RATE_PER_VISITOR": 600,
    "EVENTS_RATE_PER_IP": 6000,
    # Where the client IP (for EVENTS_RATE_PER_IP) comes from: None for REMOTE_ADDR, or the request.META key of a
    # header your reverse proxy sets, e.g. "HTTP_X_FORWARDED_FOR"; its right-most address is used, the one your
    # proxy added (addresses left of it are whatever the client sent).
    "CLIENT_IP_HEADER": None,
}

IMPORT_STRINGS = {"SNAPSHOT_STORE"}


class TailoredSettings:
    """Attribute access to ``TAILORED_CMS`` with defaults; dotted paths are imported."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, SETTING_NAME, None) or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid {SETTING_NAME} setting: {name!r}")
        if name in self._cache:
            return self._cache[name]
        value = self.user_settings.get(name, DEFAULTS[name])
        if name in IMPORT_STRINGS and isinstance(value, str):
            try:
                value = import_string(value)
            except ImportError as exc:
                raise ImportError(f"Could not import {value!r} for {SETTING_NAME}[{name!r}]: {exc}") from exc
        self._cache[name] = value
        return value

    def reload(self) -> None:
        self._cache.clear()


tailored_settings = TailoredSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        tailored_settings.reload()


setting_changed.connect(_reload)
