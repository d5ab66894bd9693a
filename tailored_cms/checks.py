"""System checks for ``TAILORED_CMS`` and the site's wiring (ids ``tailored_cms.E00x``/``W00x``)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import cms
import redis
from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.urls import NoReverseMatch, reverse

from .areas import fetch
from .conf import DEFAULTS, SETTING_NAME, tailored_settings
from .rules.geoip import open_database
from .tracking.beacon_config import AnalyticsTarget
from .visitors.consent import ConsentSource
from .visitors.store import CONTRACT

MIDDLEWARE = "tailored_cms.middleware.TailoredMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    errors: list[Error | Warning] = []
    user = tailored_settings.user_settings
    if not isinstance(user, dict):
        return [Error(f"{SETTING_NAME} must be a dict.", id="tailored_cms.E001")]
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        errors.append(
            Error(
                f"Unknown {SETTING_NAME} keys: {', '.join(unknown)}.",
                hint=f"Valid keys: {', '.join(sorted(DEFAULTS))}.",
                id="tailored_cms.E002",
            )
        )
    errors.extend(_check_choices())
    errors.extend(_check_consent_and_redis())
    errors.extend(_check_analytics())
    errors.extend(_check_vary_headers())
    errors.extend(_check_snapshot_store())
    errors.extend(_check_segments())
    errors.extend(_check_traits())
    errors.extend(_check_events())
    errors.extend(_check_cache_budget())
    errors.extend(_check_results())
    errors.extend(_check_recommendations())
    errors.extend(_check_optimize())
    errors.extend(_check_edge())
    return errors


def _check_edge() -> list[Error]:
    """EDGE_MAX_AGE and EDGE_KEY_MAX_AGE are seconds above 0, EDGE_PURGE_URLS a list of http(s) URLs (E024)."""
    errors = []
    for name in ("EDGE_MAX_AGE", "EDGE_KEY_MAX_AGE"):
        value = getattr(tailored_settings, name)
        if not _is_count(value):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] must be a whole number above 0; it is {value!r}.", id="tailored_cms.E024"
                )
            )
    urls = tailored_settings.EDGE_PURGE_URLS
    if not isinstance(urls, list | tuple) or not all(
        isinstance(url, str) and url.startswith(("http://", "https://")) for url in urls
    ):
        errors.append(
            Error(
                f"{SETTING_NAME}['EDGE_PURGE_URLS'] must be a list of http:// or https:// URLs (your Varnish "
                f"servers); it is {urls!r}.",
                id="tailored_cms.E024",
            )
        )
    return errors


@register(Tags.database)
def check_edge_segments(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Warning]:
    """Under EDGE_MODE, an enabled segment with a request-time rule the edge can't vary on (W006): every page of a
    visitor it may concern is answered privately (``edge.responses``), which the site may not expect. The location
    rules count among them when the country can only come from ``GEOIP_DATABASE`` (no ``COUNTRY_HEADER``).

    Run by ``manage.py check --database default`` (and ``migrate``): it reads the segments.
    """
    if not databases or not tailored_settings.EDGE_MODE:
        return []
    from .rules.models import Segment
    from .rules.request_time import EDGE_VISIBLE, facts_read

    visible = set(EDGE_VISIBLE)
    if tailored_settings.GEOIP_DATABASE and not tailored_settings.COUNTRY_HEADER:
        visible.discard("country")  # the client's address in the database: no edge varies on it
    warnings = []
    for slug, rules in Segment.objects.filter(enabled=True).values_list("slug", "rules"):
        unseen = sorted(name for name, leaf in _leaves(rules).items() if not facts_read(leaf) <= visible)
        if unseen:
            warnings.append(
                Warning(
                    f"Segment {slug!r} uses {', '.join(unseen)}, which an edge cache can't see: with EDGE_MODE on, "
                    "the pages of every visitor it may concern are never served from the edge.",
                    hint="Target the device, country (from the CDN's COUNTRY_HEADER) or language only, or accept "
                    "those pages' cost (docs/edge.md).",
                    id="tailored_cms.W006",
                )
            )
    return warnings


def _leaves(tree: Any) -> dict[str, dict[str, Any]]:
    """The rule leaves of a tree by rule name (one of each name)."""
    if not isinstance(tree, dict):
        return {}
    if "rule" in tree:
        return {str(tree["rule"]): tree}
    children = [tree["not"]] if "not" in tree else [*tree.get("all", ()), *tree.get("any", ())]
    return {name: leaf for child in children for name, leaf in _leaves(child).items()}


def _check_choices() -> list[Error]:
    """THEMES and LAYOUTS are non-empty dicts of slug -> label (E003), each holding its default (E004)."""
    errors: list[Error] = []
    for choices, default in (("THEMES", "DEFAULT_THEME"), ("LAYOUTS", "DEFAULT_LAYOUT")):
        value = getattr(tailored_settings, choices)
        if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{choices!r}] must be a non-empty dict of slug -> label.",
                    id="tailored_cms.E003",
                )
            )
        elif getattr(tailored_settings, default) not in value:
            errors.append(
                Error(
                    f"{SETTING_NAME}[{default!r}] is {getattr(tailored_settings, default)!r}, "
                    f"which is not one of {choices}: {', '.join(value)}.",
                    id="tailored_cms.E004",
                )
            )
    return errors


def _check_consent_and_redis() -> list[Error]:
    """CONSENT is 'required' or 'implied' (E008); CONSENT_SOURCE names a source and CONSENT_SERVICE a name (E021);
    REDIS_URL is a Redis URL (E005)."""
    errors: list[Error] = []
    if tailored_settings.CONSENT not in ("required", "implied"):
        errors.append(
            Error(
                f"{SETTING_NAME}['CONSENT'] is {tailored_settings.CONSENT!r}; it must be 'required' or 'implied'.",
                id="tailored_cms.E008",
            )
        )
    source = tailored_settings.CONSENT_SOURCE
    if source not in tuple(ConsentSource):
        errors.append(
            Error(
                f"{SETTING_NAME}['CONSENT_SOURCE'] is {source!r}; it must be one of "
                f"{', '.join(repr(str(s)) for s in ConsentSource)}.",
                hint="'builtin' shows tailored_cms's consent banner; the others follow the site's own consent tool.",
                id="tailored_cms.E021",
            )
        )
    service = tailored_settings.CONSENT_SERVICE
    if not isinstance(service, str) or not service.strip():
        errors.append(
            Error(
                f"{SETTING_NAME}['CONSENT_SERVICE'] must be the name of tailored_cms's service (Klaro) or category "
                f"(CookieConsent) in the site's consent tool; it is {service!r}.",
                id="tailored_cms.E021",
            )
        )
    if not str(tailored_settings.REDIS_URL).startswith(("redis://", "rediss://", "unix://")):
        errors.append(
            Error(
                f"{SETTING_NAME}['REDIS_URL'] must be a redis://, rediss:// or unix:// URL.",
                id="tailored_cms.E005",
            )
        )
    return errors


def _check_analytics() -> list[Error]:
    """ANALYTICS lists known targets, ANALYTICS_MATOMO_DIMENSION is a dimension id or None and
    ANALYTICS_CONSENT_SERVICE a name (E022)."""
    errors: list[Error] = []
    targets = tailored_settings.ANALYTICS
    valid = ", ".join(repr(str(target)) for target in AnalyticsTarget)
    if not isinstance(targets, list | tuple) or not all(target in tuple(AnalyticsTarget) for target in targets):
        errors.append(
            Error(
                f"{SETTING_NAME}['ANALYTICS'] is {targets!r}; it must be a list of {valid}.",
                hint="An empty list reports to no analytics tool.",
                id="tailored_cms.E022",
            )
        )
    dimension = tailored_settings.ANALYTICS_MATOMO_DIMENSION
    if dimension is not None and not _is_count(dimension):
        errors.append(
            Error(
                f"{SETTING_NAME}['ANALYTICS_MATOMO_DIMENSION'] is {dimension!r}; it must be the id of a Matomo custom "
                "dimension (a whole number above 0) or None.",
                id="tailored_cms.E022",
            )
        )
    service = tailored_settings.ANALYTICS_CONSENT_SERVICE
    if not isinstance(service, str) or not service.strip():
        errors.append(
            Error(
                f"{SETTING_NAME}['ANALYTICS_CONSENT_SERVICE'] must be the name of the service (Klaro) or category "
                f"(CookieConsent) whose consent allows measurement; it is {service!r}.",
                id="tailored_cms.E022",
            )
        )
    return errors


def _check_vary_headers() -> list[Error]:
    """The five vary headers are five different names (E009)."""
    errors: list[Error] = []
    header_settings = (
        "VARY_HEADER",
        "WIDGETS_VARY_HEADER",
        "CONSENT_VARY_HEADER",
        "HOLDOUT_VARY_HEADER",
        "PREFERS_VARY_HEADER",
    )
    headers = [getattr(tailored_settings, name) for name in header_settings]
    if not all(isinstance(h, str) and h for h in headers) or len({str(h).lower() for h in headers}) < len(headers):
        # One header for two things: the middleware would overwrite one value with the other, and the CMS
        # caches would then serve one visitor's tailoring (or beacon) to another.
        errors.append(
            Error(
                f"{SETTING_NAME}['VARY_HEADER'], ['WIDGETS_VARY_HEADER'], ['CONSENT_VARY_HEADER'], "
                f"['HOLDOUT_VARY_HEADER'] and ['PREFERS_VARY_HEADER'] must be five different header names; they are "
                f"{', '.join(repr(h) for h in headers)}.",
                id="tailored_cms.E009",
            )
        )
    return errors


def _check_snapshot_store() -> list[Error]:
    """SNAPSHOT_STORE can be imported (E006) and implements the whole store contract (E017).

    A store missing a part would drop what the part does (rate limits, capture, segments reaching snapshots)
    without a word: refused at startup instead (``visitors.store.SnapshotStore`` says why each part matters).
    """
    try:
        store = tailored_settings.SNAPSHOT_STORE
    except ImportError as exc:
        return [Error(str(exc), id="tailored_cms.E006")]
    abstract: frozenset[str] = getattr(store, "__abstractmethods__", frozenset())
    missing = [name for name in CONTRACT if name in abstract or not callable(getattr(store, name, None))]
    if not missing:
        return []
    return [
        Error(
            f"{SETTING_NAME}['SNAPSHOT_STORE'] {store.__module__}.{store.__qualname__} does not implement "
            f"{', '.join(missing)}.",
            hint="A snapshot store implements every method of tailored_cms.visitors.store.SnapshotStore "
            "(rate limits and capture included); subclass RedisSnapshotStore to change only some.",
            id="tailored_cms.E017",
        )
    ]


def _check_optimize() -> list[Error]:
    """OPTIMIZE_MIN_SHARE is a number from 0 to 0.5 (E016)."""
    share = tailored_settings.OPTIMIZE_MIN_SHARE
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 0.5:
        return [
            Error(
                f"{SETTING_NAME}['OPTIMIZE_MIN_SHARE'] must be a number from 0 to 0.5 (a share of visitors); it is "
                f"{share!r}.",
                id="tailored_cms.E016",
            )
        ]
    return []


def _check_recommendations() -> list[Warning]:
    """RECOMMENDATIONS_DAYS within RETENTION_DAYS (W008)."""
    days, retention = tailored_settings.RECOMMENDATIONS_DAYS, tailored_settings.RETENTION_DAYS
    if _is_count(days) and _is_count(retention) and days > retention:
        # Recommendations learn from raw page views: the retention purge deletes those older than RETENTION_DAYS.
        return [
            Warning(
                f"{SETTING_NAME}['RECOMMENDATIONS_DAYS'] ({days}) is longer than RETENTION_DAYS ({retention}): "
                "page views are purged after RETENTION_DAYS, so recommendations learn from those days only.",
                hint="Lower RECOMMENDATIONS_DAYS, or keep raw events longer.",
                id="tailored_cms.W008",
            )
        ]
    return []


def _check_results() -> list[Error | Warning]:
    """CONVERSION_WINDOW_DAYS is a number of days (E015) within RETENTION_DAYS (W003)."""
    window = tailored_settings.CONVERSION_WINDOW_DAYS
    if not _is_count(window) or window > 365:
        return [
            Error(
                f"{SETTING_NAME}['CONVERSION_WINDOW_DAYS'] must be a whole number of days from 1 to 365; it is "
                f"{window!r}.",
                id="tailored_cms.E015",
            )
        ]
    retention = tailored_settings.RETENTION_DAYS
    if _is_count(retention) and window > retention:
        # Impressions are raw events: once purged, a later goal event has nothing to be attributed to.
        return [
            Warning(
                f"{SETTING_NAME}['CONVERSION_WINDOW_DAYS'] ({window}) is longer than RETENTION_DAYS ({retention}): "
                "impressions are purged after RETENTION_DAYS, so conversions count only within that.",
                hint="Lower CONVERSION_WINDOW_DAYS, or keep raw events longer.",
                id="tailored_cms.W003",
            )
        ]
    return []


def _check_cache_budget() -> list[Error | Warning]:
    """CACHE_VARIANT_BUDGET is a count (E014); the site's themes and layouts alone don't exceed it (W002).

    Only what the settings decide is checked here: every visitor's variant key names a theme and a layout, so
    an area varies on at least themes × layouts keys. What visitors choose beyond that is observed (the admin).
    """
    budget = tailored_settings.CACHE_VARIANT_BUDGET
    if not _is_count(budget):
        return [
            Error(
                f"{SETTING_NAME}['CACHE_VARIANT_BUDGET'] must be a whole number above 0; it is {budget!r}.",
                id="tailored_cms.E014",
            )
        ]
    themes, layouts = tailored_settings.THEMES, tailored_settings.LAYOUTS
    if not isinstance(themes, dict) or not isinstance(layouts, dict):
        return []  # E003 says so
    floor = len(themes) * len(layouts)
    if floor > budget:
        return [
            Warning(
                f"{len(themes)} themes × {len(layouts)} layouts make {floor} variant keys before any topic or segment, "
                f"more than {SETTING_NAME}['CACHE_VARIANT_BUDGET'] ({budget}): the caches would keep more copies of "
                "every tailored area than the budget allows.",
                hint="Offer fewer themes or layouts, or raise CACHE_VARIANT_BUDGET if your cache has the room.",
                id="tailored_cms.W002",
            )
        ]
    return []


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_events() -> list[Error]:
    """The events/ endpoint's limits (E010) and where the client IP comes from (E011)."""
    errors = []
    counts = ("EVENTS_MAX_BATCH", "EVENTS_MAX_BODY_BYTES", "EVENT_MAX_PROPS", "EVENT_MAX_PROP_BYTES", "EVENT_MAX_AGE")
    for name in counts:
        if not _is_count(getattr(tailored_settings, name)):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] must be a whole number above 0; it is "
                    f"{getattr(tailored_settings, name)!r}.",
                    id="tailored_cms.E010",
                )
            )
    batch = tailored_settings.EVENTS_MAX_BATCH
    for name in ("EVENTS_RATE_PER_VISITOR", "EVENTS_RATE_PER_IP"):
        rate = getattr(tailored_settings, name)
        if rate is not None and not _is_count(rate):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] must be events per minute (a whole number above 0) or None for no "
                    f"limit; it is {rate!r}.",
                    id="tailored_cms.E010",
                )
            )
        elif rate is not None and _is_count(batch) and rate < batch:
            errors.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] is {rate}, less than EVENTS_MAX_BATCH ({batch}): a full batch would "
                    "always be refused.",
                    id="tailored_cms.E010",
                )
            )
    header = tailored_settings.CLIENT_IP_HEADER
    if header is not None and (not isinstance(header, str) or not header.startswith("HTTP_")):
        errors.append(
            Error(
                f"{SETTING_NAME}['CLIENT_IP_HEADER'] must be None (REMOTE_ADDR) or the request.META key of a header "
                f"your proxy sets, such as 'HTTP_X_FORWARDED_FOR'; it is {header!r}.",
                id="tailored_cms.E011",
            )
        )
    return errors


def _check_segments() -> list[Error]:
    errors = []
    header = tailored_settings.COUNTRY_HEADER
    if not isinstance(header, str) or (header and not all(c.isalnum() or c == "-" for c in header)):
        errors.append(
            Error(
                f"{SETTING_NAME}['COUNTRY_HEADER'] must be a request header name such as 'CF-IPCountry' "
                f"(letters, digits and dashes), or '' to read none; it is {header!r}.",
                id="tailored_cms.E012",
            )
        )
    errors.extend(_check_geoip())
    chunk = tailored_settings.RECOMPUTE_CHUNK
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= 100_000:
        errors.append(
            Error(
                f"{SETTING_NAME}['RECOMPUTE_CHUNK'] must be a whole number from 1 to 100000; it is {chunk!r}.",
                id="tailored_cms.E013",
            )
        )
    return errors


def _check_geoip() -> list[Error]:
    """The GeoIP database (E023): when set, the geoip2 package is installed and the file is a database it reads."""
    path = tailored_settings.GEOIP_DATABASE
    if path is None:
        return []
    setting = f"{SETTING_NAME}['GEOIP_DATABASE']"
    if not isinstance(path, str | os.PathLike) or not str(path):
        return [Error(f"{setting} must be the path of a .mmdb file, or None; it is {path!r}.", id="tailored_cms.E023")]
    try:
        importlib.import_module("geoip2.database")
    except ImportError:
        return [
            Error(
                f"{setting} is set, but the geoip2 package is not installed: countries come from headers only.",
                hint="pip install 'tailored-cms[geoip2]'",
                id="tailored_cms.E023",
            )
        ]
    if not Path(path).is_file():
        return [Error(f"{setting} names no file: {str(path)!r}.", id="tailored_cms.E023")]
    try:
        open_database(path)
    except Exception as exc:
        return [
            Error(
                f"{setting} {str(path)!r} is no GeoIP2 database Django's GeoIP2 reads: {exc}",
                hint="Give a MaxMind GeoIP2 or GeoLite2 Country or City database (.mmdb).",
                id="tailored_cms.E023",
            )
        ]
    return []


def _check_traits() -> list[Error]:
    """The limits of visitor traits (E020): whole numbers above 0; a name fits the column (200 characters)."""
    errors = []
    for name, most in (("MAX_TRAITS", None), ("TRAIT_MAX_NAME_LENGTH", 200), ("TRAIT_MAX_VALUE_BYTES", None)):
        value = getattr(tailored_settings, name)
        if not _is_count(value) or (most is not None and value > most):
            bound = f" from 1 to {most}" if most is not None else " above 0"
            errors.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] must be a whole number{bound}; it is {value!r}.",
                    id="tailored_cms.E020",
                )
            )
    return errors


@register(Tags.compatibility)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MIDDLEWARE not in middleware:
        return [
            Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE: tailored areas will show every visitor the fallback.",
                hint=f"Add it after {AUTH_MIDDLEWARE}.",
                id="tailored_cms.W001",
            )
        ]
    if AUTH_MIDDLEWARE in middleware and middleware.index(MIDDLEWARE) < middleware.index(AUTH_MIDDLEWARE):
        return [Error(f"{MIDDLEWARE} must come after {AUTH_MIDDLEWARE}.", id="tailored_cms.E007")]
    return []


@register(Tags.compatibility)
def check_parler(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """django-parler is installed (E019): topics' and segments' names are translated with it."""
    if apps.is_installed("parler"):
        return []
    return [
        Error(
            '"parler" is not in INSTALLED_APPS: the admin can\'t show the language tabs of topics and segments.',
            hint='Add "parler" to INSTALLED_APPS (django-parler is installed with tailored_cms).',
            id="tailored_cms.E019",
        )
    ]


@register(Tags.compatibility)
def check_countries(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """django-countries is installed as an app (W005): its translations name countries in the editor's language."""
    if apps.is_installed("django_countries"):
        return []
    return [
        Warning(
            '"django_countries" is not in INSTALLED_APPS: the segment builder names countries in English only.',
            hint='Add "django_countries" to INSTALLED_APPS (django-countries is installed with tailored_cms).',
            id="tailored_cms.W005",
        )
    ]


@register(Tags.compatibility, deploy=True)
def check_redis_persistence(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """The configured Redis keeps a copy on disk (W004): events not yet ingested live only there.

    Asked at ``check --deploy`` only (a development Redis needn't persist). A Redis that can't be reached, or
    that refuses ``CONFIG GET`` (some managed services), can't be judged: no message.
    """
    try:
        client = redis.Redis.from_url(str(tailored_settings.REDIS_URL), socket_timeout=2, socket_connect_timeout=2)
    except ValueError:
        return []  # E005 says what is wrong with the URL
    try:
        appendonly = client.config_get("appendonly").get("appendonly", "")
        save = client.config_get("save").get("save", "")
    except redis.RedisError:
        return []
    finally:
        client.close()
    if _text(appendonly) == "yes" or _text(save).strip():
        return []
    return [
        Warning(
            f"The Redis at {SETTING_NAME}['REDIS_URL'] keeps nothing on disk (no AOF, no RDB snapshots): events "
            "not yet ingested live only in its memory, and are lost if it restarts.",
            hint="Turn on AOF: appendonly yes with appendfsync everysec (or always); see docs/deployment.md, "
            "'Redis persistence'.",
            id="tailored_cms.W004",
        )
    ]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@register(Tags.urls)
def check_urls(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """ROOT_URLCONF routes tailored_cms.urls (E018): the REST API, the preview and the no-JS form live there."""
    try:
        reverse("tailored_cms:preview")
    except NoReverseMatch:
        return [
            Error(
                "ROOT_URLCONF does not include tailored_cms.urls: the REST API, the no-JavaScript preferences form "
                "and the editors' preview have no address, and the toolbar leaves the Tailoring menu out.",
                hint='Add path("tailored/", include("tailored_cms.urls")) before django CMS\'s urls.',
                id="tailored_cms.E018",
            )
        ]
    return []


@register(Tags.compatibility)
def check_django_cms_plugin_loading(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """django CMS's ``assign_plugins`` is the one ``areas.fetch`` copied (W007): else django CMS's own loads the
    plugins (``fetch.install``), which renders the same pages but makes and builds every variant's content."""
    if fetch.is_current():
        return []
    return [
        Warning(
            f"django CMS {cms.__version__} changed assign_plugins: tailored_cms builds every variant until it is "
            "updated.",
            hint=f"Pages render as they should, each visitor shown their variants, but a page without django CMS's "
            f"caches costs more with every variant its areas hold. Upgrade tailored_cms to a release for django CMS "
            f"{cms.__version__}, or keep django CMS at the version tailored_cms's copy of assign_plugins comes from "
            f"({fetch.COPIED_FROM}).",
            id="tailored_cms.W007",
        )
    ]
