"""The ``TAILORED_CMS`` setting, read only through this module.

``tailored_settings.THEMES`` returns the site's value or the documented default. The cache is
cleared when a test changes ``TAILORED_CMS`` with ``override_settings``.

``SETTINGS`` documents every key: its default, type and meaning, which the documentation site's configuration
page is generated from (``docs/_ext/tailored_settings.py``). Its ``doc`` is Markdown.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

SETTING_NAME = "TAILORED_CMS"


class Setting(NamedTuple):
    """One key of ``TAILORED_CMS``: its default, its type in words, and what it does (Markdown)."""

    default: Any
    type: str
    doc: str


SETTINGS: dict[str, Setting] = {
    "REDIS_URL": Setting(
        "redis://127.0.0.1:6379/0",
        "str",
        "Redis for visitor snapshots, the event stream and the rate limits (the environment variable "
        "`TAILORED_REDIS_URL` overrides it in the example site only). A `redis://`, `rediss://` or `unix://` URL "
        "(check E005).",
    ),
    "REDIS_PREFIX": Setting(
        "tailored",
        "str",
        "Prefix of every Redis key the app writes, so several sites can share a server.",
    ),
    "REDIS_TIMEOUT": Setting(
        0.25,
        "float",
        "Socket timeout (seconds) for Redis calls on the request path; past it the database answers instead.",
    ),
    "REDIS_RETRY_AFTER": Setting(
        5.0,
        "float",
        "After a Redis failure, the request path skips Redis for this many seconds (then tries again).",
    ),
    "SNAPSHOT_TTL": Setting(
        60 * 60 * 24 * 7,
        "int",
        "Seconds (a week by default) a visitor's snapshot stays in Redis after their last request; the database "
        "is the source of truth.",
    ),
    "THEMES": Setting(
        {"light": _("Light"), "dark": _("Dark"), "high-contrast": _("High contrast")},
        "dict",
        "Themes a visitor may choose: slug → label (translatable). `<body>` gets the class `tailored-theme-<slug>`. "
        "Not empty (check E003).",
    ),
    "DEFAULT_THEME": Setting("light", "str", "Theme of visitors who chose none: a key of `THEMES` (check E004)."),
    "LAYOUTS": Setting(
        {"one-column": _("One column"), "two-columns": _("Two columns"), "grid": _("Grid")},
        "dict",
        "Layouts a visitor may choose: slug → label (translatable). `<body>` gets the class "
        "`tailored-layout-<slug>`. Not empty (check E003).",
    ),
    "DEFAULT_LAYOUT": Setting(
        "one-column", "str", "Layout of visitors who chose none: a key of `LAYOUTS` (check E004)."
    ),
    "CONSENT": Setting(
        "required",
        "str",
        'Behaviour tracking: `"required"` (nothing behavioural is stored before the visitor agrees) or '
        '`"implied"` (tracked unless they refuse); check E008. `Sec-GPC: 1` and `DNT: 1` turn it off whatever '
        "this says.",
    ),
    "CONSENT_SOURCE": Setting(
        "builtin",
        "str",
        'Who asks for that consent: `"builtin"` (tailored_cms\'s consent banner) or the consent tool the site '
        'already runs, whose decision tailored_cms then follows, changes of mind included: `"tcf"` (an IAB TCF '
        'v2.2 CMP), `"consent-mode"` (Google Consent Mode v2), `"klaro"` (Klaro) or `"cookieconsent"` '
        "(CookieConsent v3). With a tool, the built-in banner is not shown; `Sec-GPC: 1` and `DNT: 1` still win. "
        "Check E021; see [Consent from the site's own tool](consent.md).",
    ),
    "CONSENT_SERVICE": Setting(
        "tailored_cms",
        "str",
        'The name tailored_cms has in the site\'s consent tool: the Klaro service (`"klaro"`) or the CookieConsent '
        'category (`"cookieconsent"`) whose consent allows tracking. Not empty (check E021).',
    ),
    "ANALYTICS": Setting(
        [],
        "list of str",
        "Where tailored_cms also reports what each visitor was shown and clicked in tailored areas (area, variant "
        'key, and the path that put it there), when their consent allows measurement: `"datalayer"` '
        '(`window.dataLayer`, for Google Tag Manager and GA4), `"matomo"` (Matomo\'s `_paq`) and `"events"` (the '
        "DOM events `tailored:impression` and `tailored:click`, for any other tool). Empty: nowhere but "
        "tailored_cms's own results. Check E022; see [Analytics](analytics.md).",
    ),
    "ANALYTICS_MATOMO_DIMENSION": Setting(
        None,
        "int or None",
        "The id of the Matomo custom dimension (scope *Action*) that gets the path (`customized`, `personalized`, "
        "`optimized`, `holdout`, `fallback`) of each `tailored_cms` event sent to `_paq`; `None`: none. A whole "
        "number above 0 (check E022).",
    ),
    "ANALYTICS_CONSENT_SERVICE": Setting(
        "analytics",
        "str",
        'With `CONSENT_SOURCE` `"klaro"` or `"cookieconsent"`: the Klaro service or CookieConsent category whose '
        "consent allows the `ANALYTICS` reports (the site's analytics tool's own, say `\"matomo\"`). Not empty "
        "(check E022).",
    ),
    "UNTRACKED_PATHS": Setting(
        ["/admin/", "/tailored/"],
        "list of str",
        "Path prefixes whose requests are never counted as page views (besides `STATIC_URL` and `MEDIA_URL`): "
        'add your own non-content areas, e.g. `"/accounts/"`.',
    ),
    "MAX_TOPICS": Setting(50, "int", "Most topics a visitor may follow."),
    "MAX_WIDGETS": Setting(200, "int", "Most widgets a visitor's arrangement may name (order plus hidden)."),
    "MAX_TRAITS": Setting(
        50,
        "int",
        "Most traits (`api.set_traits`, `traits/`) one visitor or user may hold; setting more is a "
        "`ValidationError` naming the traits. Above 0 (check E020).",
    ),
    "TRAIT_MAX_NAME_LENGTH": Setting(
        50,
        "int",
        "Longest trait name, in characters (a letter, then letters, digits, `_` or `-`). From 1 to 200 (check E020).",
    ),
    "TRAIT_MAX_VALUE_BYTES": Setting(
        1000,
        "int",
        "Largest value of one trait, in bytes of compact UTF-8 JSON (a string's text, or a list of strings' "
        "items and punctuation). Above 0 (check E020).",
    ),
    "COOKIE_NAME": Setting("tailored_vid", "str", "The visitor cookie (signed, HttpOnly, SameSite=Lax)."),
    "COOKIE_AGE": Setting(60 * 60 * 24 * 365, "int", "The visitor cookie's lifetime in seconds (a year by default)."),
    "COOKIE_SECURE": Setting(False, "bool", "Send the visitor cookie over HTTPS only (turn it on in production)."),
    "VARY_HEADER": Setting(
        "X-Tailored-Variant",
        "str",
        "Request header the middleware sets to the visitor's variant key, for django CMS's placeholder and page "
        "caches.",
    ),
    "WIDGETS_VARY_HEADER": Setting(
        "X-Tailored-Widgets",
        "str",
        "The same for the visitor's widget arrangement (only widget boards vary on it).",
    ),
    "CONSENT_VARY_HEADER": Setting(
        "X-Tailored-Consent",
        "str",
        "The same for the visitor's consent state: `tracked`, `ask` or `not-tracked` (`{% tailored_tracking %}` "
        "and the consent banner vary on it). The headers must differ (check E009).",
    ),
    "HOLDOUT_VARY_HEADER": Setting(
        "X-Tailored-Holdout",
        "str",
        "The same for the visitor's holdout bucket (`0`–`99`, empty without a visitor id): tailored areas with a "
        "holdout vary on it. The five headers must differ (check E009).",
    ),
    "PREFERS_VARY_HEADER": Setting(
        "X-Tailored-Prefers",
        "str",
        "The same for what the browser's client hints (`Sec-CH-Prefers-Color-Scheme`, "
        "`Sec-CH-Prefers-Reduced-Motion`) ask for where the visitor chose no theme or motion: `dark`, `reduced`, "
        "both or empty (`{% tailored_body_attrs %}` varies on it). The five headers must differ (check E009).",
    ),
    "PREFERENCES_BASE_TEMPLATE": Setting(
        "base.html",
        "str",
        "The site's base template, which the no-JS preferences page (`/tailored/preferences/`) extends so that it "
        "has the site's header, styles and theme: it fills its blocks `title` and `content`. A site without it "
        '(or with `""`) gets a plain built-in frame.',
    ),
    "CACHE_VARIANT_BUDGET": Setting(
        1000,
        "int",
        "The most cached copies a tailored area may have: the distinct values of the headers it varies on "
        "(variant key, and holdout bucket with a holdout) its renders saw in the last 7 days. Past it the admin's "
        "list of tailored areas and the area's change form warn its editors that caching hardly helps it any "
        "more. Check E014 (a whole number above 0); W002 when the themes × layouts alone exceed it.",
    ),
    "SNAPSHOT_STORE": Setting(
        "tailored_cms.visitors.store.RedisSnapshotStore",
        "dotted path",
        "Where visitor snapshots are cached for the request path: subclass `SnapshotStore` and implement all of "
        "it, rate limits and capture included (check E006 names a path that can't be imported, E017 a store that "
        "doesn't implement it all).",
    ),
    "STREAM_MAXLEN": Setting(
        1_000_000,
        "int",
        "Events wait in a Redis stream until Celery ingests them; `XADD` trims it to about this many entries "
        "(`MAXLEN ~`, about 200 bytes each), so a stopped ingest costs bounded memory. Beyond it the oldest "
        "waiting events are lost.",
    ),
    "INGEST_BATCH": Setting(
        2000,
        "int",
        "Most stream entries one ingest batch reads: one database transaction, whose query count doesn't grow with it.",
    ),
    "INGEST_CLAIM_IDLE_SECONDS": Setting(
        60,
        "float",
        "Entries a worker has held unacknowledged this long are taken over by another (their worker died).",
    ),
    "VISIT_GAP_MINUTES": Setting(30, "int", "A visitor's next event after this much inactivity starts a new visit."),
    "RETENTION_DAYS": Setting(
        90,
        "int",
        "Raw events, and visitors inactive for longer, are removed by the retention purge (`tailored_purge`, "
        "daily in beat).",
    ),
    "RECOMMENDATIONS_DAYS": Setting(
        30,
        "int",
        "Recommendations learn from the page views of this many last days (at most `RETENTION_DAYS`, which purges "
        "older events: more warns, W008).",
    ),
    "RECOMMENDATIONS_TTL_DAYS": Setting(
        7,
        "int",
        "A visitor's computed recommendations expire this long after their last compute (Celery recomputes the "
        "lists of visitors with page views in `RECOMMENDATIONS_DAYS` every hour).",
    ),
    "CONVERSION_WINDOW_DAYS": Setting(
        30,
        "int",
        "Results: a goal event counts as a conversion of the variant the visitor last saw in the area if they saw "
        "it at most this many days before (1 to 365, check E015; impressions are read from raw events, so more "
        "than `RETENTION_DAYS` warns, W003).",
    ),
    "OPTIMIZE_MIN_SHARE": Setting(
        0.05,
        "float",
        "The optimize strategy: the least share of an area's visitors every tested variant keeps, whatever its "
        "results (0 to 0.5, check E016; rounded up to whole buckets of 1%), so a variant that started badly "
        "still gets the visitors that can prove it better.",
    ),
    "COUNTRY_HEADER": Setting(
        "CF-IPCountry",
        "str",
        "Request header holding the visitor's country (ISO 3166 alpha-2), set by your CDN or proxy, for the "
        '`country`, `continent` and `eu` rules; `""` reads none (the country then comes from `GEOIP_DATABASE`, '
        "or is unknown and the rules never match). Check E012.",
    ),
    "GEOIP_DATABASE": Setting(
        None,
        "str, Path or None",
        "A MaxMind GeoIP2 or GeoLite2 Country (or City) database file (`.mmdb`): for a request without the "
        "`COUNTRY_HEADER` header, the location rules take the country of its client address from it (the "
        "address `CLIENT_IP_HEADER` names). Needs the `geoip2` extra (`pip install tailored-cms[geoip2]`). Each "
        "process keeps the countries of the last 10,000 addresses in memory; no address is ever stored. `None`: "
        "headers only. Under `EDGE_MODE`, a page whose segments needed a country from it is not stored at the edge "
        "(check W006). Check E023.",
    ),
    "EDGE_MODE": Setting(
        False,
        "bool",
        "Pages are served through a shared cache (Varnish, a CDN) that runs the shipped VCL or its equivalent "
        "([edge caching](edge.md)): anonymous visitors' pages answer `Cache-Control: public` with `s-maxage` and "
        "`Vary` on the visitor's tailoring key (`X-Tailored-Key`, which the edge takes from the `tailored_key` "
        "cookie the site keeps current), instead of `private`. For content that is not confidential.",
    ),
    "EDGE_MAX_AGE": Setting(
        300,
        "int",
        "With `EDGE_MODE`: seconds a shared cache may keep a page (`s-maxage`; shorter when a campaign window ends "
        "sooner). Publishing purges earlier (`EDGE_PURGE_URLS`); a visitor's own change shows on their next page "
        "view whatever it is. Above 0 (check E024).",
    ),
    "EDGE_KEY_MAX_AGE": Setting(
        60,
        "int",
        "With `EDGE_MODE`: seconds the `tailored_key` cookie lives. The shipped VCL sends a known visitor without "
        "it to the site, which renders their page and gives the key again: a change the worker made (a segment "
        "joined) shows at the latest this long after it. Above 0 (check E024).",
    ),
    "EDGE_PURGE_URLS": Setting(
        [],
        "list of str",
        "With `EDGE_MODE`: the edge caches' addresses (`http://127.0.0.1:6081`) that a Celery task sends `BAN` "
        "requests to, as the shipped VCL accepts them: a published, unpublished or changed page's paths, and every "
        "tailored page when a segment or a topic changes. Empty: nothing is purged; pages expire after "
        "`EDGE_MAX_AGE`. A list of `http://` or `https://` URLs (check E024).",
    ),
    "RECOMPUTE_CHUNK": Setting(
        5000,
        "int",
        "Visitors per chunk of a full segment recompute: one transaction each with a constant number of queries; "
        "memory grows with this, not with the number of visitors (1 to 100,000; check E013).",
    ),
    "EVENTS_MAX_BATCH": Setting(
        50, "int", "Most events one `events/` request may carry (400 beyond). Above 0 (check E010)."
    ),
    "EVENTS_MAX_BODY_BYTES": Setting(
        64 * 1024,
        "int",
        "Largest `events/` body in bytes; a larger one is refused with 413 before it is read. Above 0 (check E010).",
    ),
    "EVENT_MAX_PROPS": Setting(20, "int", "Most properties (`props`) one event may have. Above 0 (check E010)."),
    "EVENT_MAX_PROP_BYTES": Setting(
        2048, "int", "Most bytes one event's `props` may take as compact UTF-8 JSON. Above 0 (check E010)."
    ),
    "EVENT_MAX_AGE": Setting(
        60 * 60 * 24,
        "int",
        "An event the page dates further back than this many seconds (a day by default: a clock that is wrong, a "
        "queue that waited), or in the future, is dated when it is received instead. Above 0 (check E010).",
    ),
    "EVENTS_RATE_PER_VISITOR": Setting(
        600,
        "int or None",
        "Events a visitor may send to `events/` per minute (fixed 60 s windows counted in Redis); past it a 429 "
        "with `Retry-After`. `None`: no limit. Not enforced while Redis is down (events are spooled). At least "
        "`EVENTS_MAX_BATCH` (check E010).",
    ),
    "EVENTS_RATE_PER_IP": Setting(
        6000,
        "int or None",
        "The same per client IP address (a whole office behind one NAT shares it). At least `EVENTS_MAX_BATCH` "
        "(check E010).",
    ),
    "CLIENT_IP_HEADER": Setting(
        None,
        "str or None",
        "Where the client IP for `EVENTS_RATE_PER_IP` and `GEOIP_DATABASE` comes from: `None` for `REMOTE_ADDR`, or "
        'the `request.META` key of a header your reverse proxy sets, e.g. `"HTTP_X_FORWARDED_FOR"`. Its right-most '
        "address is used: the one your proxy added (addresses to its left are whatever the client sent). Behind "
        "several proxies, name a header your edge proxy sets to the client's address alone. Check E011.",
    ),
}

DEFAULTS: dict[str, Any] = {name: setting.default for name, setting in SETTINGS.items()}

IMPORT_STRINGS = {"SNAPSHOT_STORE"}


class TailoredSettings:
    """Attribute access to ``TAILORED_CMS`` with defaults; dotted paths are imported. A setting read once is an
    attribute of the instance from then on (pages read several on every request), until ``reload``."""

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, SETTING_NAME, None) or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid {SETTING_NAME} setting: {name!r}")
        value = self.user_settings.get(name, DEFAULTS[name])
        if name in IMPORT_STRINGS and isinstance(value, str):
            try:
                value = import_string(value)
            except ImportError as exc:
                raise ImportError(f"Could not import {value!r} for {SETTING_NAME}[{name!r}]: {exc}") from exc
        self.__dict__[name] = value
        return value

    def reload(self) -> None:
        self.__dict__.clear()


tailored_settings = TailoredSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        tailored_settings.reload()


setting_changed.connect(_reload)
