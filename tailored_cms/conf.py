"""The ``TAILORED_CMS`` setting, read only through this module.

``tailored_settings.THEMES`` returns the site's value or the documented default. The cache is
cleared when a test changes ``TAILORED_CMS`` with ``override_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

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
    "THEMES": {"light": "Light", "dark": "Dark", "high-contrast": "High contrast"},
    "DEFAULT_THEME": "light",
    # Layouts a visitor may choose: slug -> label. The body gets class ``tailored-layout-<slug>``.
    "LAYOUTS": {"one-column": "One column", "two-columns": "Two columns", "grid": "Grid"},
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
