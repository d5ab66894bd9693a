from __future__ import annotations

import sys

import pytest
from django.core.checks import run_checks

from tailored_cms.checks import MIDDLEWARE
from tailored_cms.visitors.store import RedisSnapshotStore, SnapshotStore


def ids() -> set[str]:
    return {message.id for message in run_checks() if message.id and message.id.startswith("tailored_cms")}


def test_the_example_settings_pass():
    assert ids() == set()


def test_a_setting_that_is_not_a_dict(settings):
    settings.TAILORED_CMS = ["REDIS_URL"]
    assert "tailored_cms.E001" in ids()


def test_unknown_keys_are_named(settings):
    settings.TAILORED_CMS = {"REDIS_URL": "redis://x", "THEMS": {}}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E002"]
    assert messages and "THEMS" in messages[0].msg


@pytest.mark.parametrize("key", ["THEMES", "LAYOUTS"])
def test_choices_must_be_a_non_empty_dict(settings, key):
    settings.TAILORED_CMS = {key: []}
    assert "tailored_cms.E003" in ids()


def test_the_default_theme_must_be_one_of_the_themes(settings):
    settings.TAILORED_CMS = {"THEMES": {"sepia": "Sepia"}}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E004"]
    assert messages and "'light'" in messages[0].msg and "sepia" in messages[0].msg


def test_the_redis_url_needs_a_redis_scheme(settings):
    settings.TAILORED_CMS = {"REDIS_URL": "http://127.0.0.1:6379"}
    assert "tailored_cms.E005" in ids()


def test_a_snapshot_store_that_cannot_be_imported_is_named(settings):
    settings.TAILORED_CMS = {"SNAPSHOT_STORE": "nowhere.Store"}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E006"]
    assert messages and "SNAPSHOT_STORE" in messages[0].msg


def test_missing_middleware_is_a_warning(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    assert "tailored_cms.W001" in ids()


def test_parler_missing_from_installed_apps_is_an_error(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "parler"]
    messages = [m for m in run_checks() if m.id == "tailored_cms.E019"]
    assert messages and "INSTALLED_APPS" in messages[0].msg


def test_django_countries_missing_from_installed_apps_is_a_warning(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django_countries"]
    messages = [m for m in run_checks() if m.id == "tailored_cms.W005"]
    assert messages and "django_countries" in messages[0].msg and "English" in messages[0].msg


def test_a_geoip_database_that_is_there_passes(settings, tmp_path):
    from tests.rules.test_geoip import write_database

    path = write_database(tmp_path / "countries.mmdb", {"81.2.69.0/24": "FR"})
    settings.TAILORED_CMS = {"GEOIP_DATABASE": str(path)}
    assert ids() == set()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/nowhere/GeoLite2-Country.mmdb", "names no file: '/nowhere/GeoLite2-Country.mmdb'"),
        ("", "must be the path of a .mmdb file, or None"),
        (42, "must be the path of a .mmdb file, or None; it is 42."),
        (__file__, "is no GeoIP2 database Django's GeoIP2 reads"),
    ],
)
def test_a_geoip_database_that_cant_be_read_is_an_error(settings, path, words):
    settings.TAILORED_CMS = {"GEOIP_DATABASE": path}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E023"]
    assert messages and "GEOIP_DATABASE" in messages[0].msg and words in messages[0].msg


def test_a_geoip_database_without_the_geoip2_package_is_an_error(settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "geoip2.database", None)  # as if not installed: importing it fails
    settings.TAILORED_CMS = {"GEOIP_DATABASE": __file__}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E023"]
    assert messages and "geoip2 package is not installed" in messages[0].msg
    assert "tailored-cms[geoip2]" in messages[0].hint


def test_middleware_before_authentication_is_an_error(settings):
    settings.MIDDLEWARE = [MIDDLEWARE, *[m for m in settings.MIDDLEWARE if m != MIDDLEWARE]]
    assert "tailored_cms.E007" in ids()


def test_consent_must_be_required_or_implied(settings):
    settings.TAILORED_CMS = {"CONSENT": "maybe"}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E008"]
    assert messages and "'maybe'" in messages[0].msg


@pytest.mark.parametrize(
    "values, named",
    [
        ({"CONSENT_SOURCE": "onetrust"}, "'onetrust'"),
        ({"CONSENT_SOURCE": "Klaro"}, "'Klaro'"),
        ({"CONSENT_SOURCE": None}, "None"),
        ({"CONSENT_SOURCE": "klaro", "CONSENT_SERVICE": ""}, "CONSENT_SERVICE"),
        ({"CONSENT_SERVICE": ["analytics"]}, "['analytics']"),
    ],
)
def test_the_consent_source_must_be_one_tailored_cms_knows(settings, values, named):
    settings.TAILORED_CMS = values
    messages = [m for m in run_checks() if m.id == "tailored_cms.E021"]
    assert len(messages) == 1 and named in messages[0].msg


@pytest.mark.parametrize("source", ["builtin", "tcf", "consent-mode", "klaro", "cookieconsent"])
def test_every_consent_source_is_accepted(settings, source):
    settings.TAILORED_CMS = {"CONSENT_SOURCE": source, "CONSENT_SERVICE": "analytics"}
    assert "tailored_cms.E021" not in ids()


@pytest.mark.parametrize(
    "values, named",
    [
        ({"ANALYTICS": ["datalayer", "ga4"]}, "'ga4'"),
        ({"ANALYTICS": "datalayer"}, "'datalayer'"),
        ({"ANALYTICS_MATOMO_DIMENSION": 0}, "0"),
        ({"ANALYTICS_MATOMO_DIMENSION": "3"}, "'3'"),
        ({"ANALYTICS_CONSENT_SERVICE": " "}, "' '"),
    ],
)
def test_the_analytics_targets_must_be_ones_tailored_cms_knows(settings, values, named):
    settings.TAILORED_CMS = values
    messages = [m for m in run_checks() if m.id == "tailored_cms.E022"]
    assert len(messages) == 1 and named in messages[0].msg


def test_every_analytics_target_is_accepted(settings):
    settings.TAILORED_CMS = {"ANALYTICS": ["datalayer", "matomo", "events"], "ANALYTICS_MATOMO_DIMENSION": 3}
    assert "tailored_cms.E022" not in ids()
    settings.TAILORED_CMS = {"ANALYTICS": ()}
    assert "tailored_cms.E022" not in ids()


@pytest.mark.parametrize(
    "headers",
    [
        {"CONSENT_VARY_HEADER": "X-Tailored-Variant"},
        {"WIDGETS_VARY_HEADER": "x-tailored-consent"},
        {"CONSENT_VARY_HEADER": ""},
        {"HOLDOUT_VARY_HEADER": "x-tailored-variant"},
        {"PREFERS_VARY_HEADER": "X-Tailored-Holdout"},
    ],
)
def test_the_five_vary_headers_must_be_different_names(settings, headers):
    """One header for two things would let the CMS caches serve one visitor's tailoring or beacon to another."""
    settings.TAILORED_CMS = headers
    messages = [m for m in run_checks() if m.id == "tailored_cms.E009"]
    assert messages and "CONSENT_VARY_HEADER" in messages[0].msg and "PREFERS_VARY_HEADER" in messages[0].msg


@pytest.mark.parametrize(
    "values, named",
    [
        ({"EVENTS_MAX_BATCH": 0}, "EVENTS_MAX_BATCH"),
        ({"EVENTS_MAX_BODY_BYTES": "64k"}, "EVENTS_MAX_BODY_BYTES"),
        ({"EVENT_MAX_PROPS": True}, "EVENT_MAX_PROPS"),
        ({"EVENT_MAX_PROP_BYTES": -1}, "EVENT_MAX_PROP_BYTES"),
        ({"EVENT_MAX_AGE": 1.5}, "EVENT_MAX_AGE"),
        ({"EVENTS_RATE_PER_VISITOR": 0}, "EVENTS_RATE_PER_VISITOR"),
        ({"EVENTS_RATE_PER_IP": "6000/min"}, "EVENTS_RATE_PER_IP"),
        ({"EVENTS_RATE_PER_VISITOR": 10, "EVENTS_MAX_BATCH": 50}, "always be refused"),
    ],
)
def test_the_event_limits_are_checked(settings, values, named):
    settings.TAILORED_CMS = values
    messages = [m for m in run_checks() if m.id == "tailored_cms.E010"]
    assert len(messages) == 1 and named in messages[0].msg


def test_no_rate_limit_is_allowed(settings):
    settings.TAILORED_CMS = {"EVENTS_RATE_PER_VISITOR": None, "EVENTS_RATE_PER_IP": None}
    assert ids() == set()


@pytest.mark.parametrize("header", ["X-Forwarded-For", "REMOTE_ADDR", 42])
def test_the_client_ip_header_is_a_meta_key(settings, header):
    settings.TAILORED_CMS = {"CLIENT_IP_HEADER": header}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E011"]
    assert messages and "HTTP_X_FORWARDED_FOR" in messages[0].msg


@pytest.mark.parametrize("header", ["CF IPCountry", "HTTP_CF_IPCOUNTRY:", None, 7])
def test_the_country_header_is_a_header_name(settings, header):
    settings.TAILORED_CMS = {"COUNTRY_HEADER": header}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E012"]
    assert messages and "COUNTRY_HEADER" in messages[0].msg and repr(header) in messages[0].msg


def test_the_country_rule_may_be_turned_off(settings):
    settings.TAILORED_CMS = {"COUNTRY_HEADER": ""}
    assert ids() == set()


@pytest.mark.parametrize("chunk", [0, 100_001, "5000", True])
def test_the_recompute_chunk_is_a_sensible_number(settings, chunk):
    settings.TAILORED_CMS = {"RECOMPUTE_CHUNK": chunk}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E013"]
    assert messages and "RECOMPUTE_CHUNK" in messages[0].msg


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_TRAITS", 0),
        ("MAX_TRAITS", "50"),
        ("TRAIT_MAX_NAME_LENGTH", 201),
        ("TRAIT_MAX_NAME_LENGTH", True),
        ("TRAIT_MAX_VALUE_BYTES", -1),
    ],
)
def test_the_trait_limits_are_sensible_numbers(settings, name, value):
    settings.TAILORED_CMS = {name: value}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E020"]
    assert messages and name in messages[0].msg and repr(value) in messages[0].msg


@pytest.mark.parametrize("budget", [0, -5, "1000", 2.5, True])
def test_the_cache_variant_budget_is_a_count(settings, budget):
    settings.TAILORED_CMS = {"CACHE_VARIANT_BUDGET": budget}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E014"]
    assert messages and "CACHE_VARIANT_BUDGET" in messages[0].msg


def test_more_themes_times_layouts_than_the_budget_is_a_warning(settings):
    themes = {f"t{n}": f"Theme {n}" for n in range(10)}
    layouts = {f"l{n}": f"Layout {n}" for n in range(5)}
    settings.TAILORED_CMS = {
        "THEMES": themes,
        "DEFAULT_THEME": "t0",
        "LAYOUTS": layouts,
        "DEFAULT_LAYOUT": "l0",
        "CACHE_VARIANT_BUDGET": 40,
    }
    messages = [m for m in run_checks() if m.id == "tailored_cms.W002"]
    assert messages and "50 variant keys" in messages[0].msg and "(40)" in messages[0].msg
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CACHE_VARIANT_BUDGET": 50}
    assert ids() == set()


@pytest.mark.parametrize("window", [0, 366, "30", 7.5, True, None])
def test_the_conversion_window_is_a_number_of_days(settings, window):
    settings.TAILORED_CMS = {"CONVERSION_WINDOW_DAYS": window}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E015"]
    assert messages and "CONVERSION_WINDOW_DAYS" in messages[0].msg


def test_a_conversion_window_longer_than_the_retention_is_a_warning(settings):
    settings.TAILORED_CMS = {"CONVERSION_WINDOW_DAYS": 60, "RETENTION_DAYS": 45}
    messages = [m for m in run_checks() if m.id == "tailored_cms.W003"]
    assert messages and "(60)" in messages[0].msg and "(45)" in messages[0].msg
    settings.TAILORED_CMS = {"CONVERSION_WINDOW_DAYS": 45, "RETENTION_DAYS": 45}
    assert ids() == set()


def test_recommendations_learning_from_more_days_than_the_retention_keeps_is_a_warning(settings):
    settings.TAILORED_CMS = {"RECOMMENDATIONS_DAYS": 60, "RETENTION_DAYS": 45}
    messages = [m for m in run_checks() if m.id == "tailored_cms.W008"]
    assert messages and "(60)" in messages[0].msg and "(45)" in messages[0].msg
    settings.TAILORED_CMS = {"RECOMMENDATIONS_DAYS": 45, "RETENTION_DAYS": 45}
    assert ids() == set()


@pytest.mark.parametrize("share", [-0.1, 0.6, "0.05", True, None])
def test_the_optimize_minimum_share_is_a_share_up_to_a_half(settings, share):
    settings.TAILORED_CMS = {"OPTIMIZE_MIN_SHARE": share}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E016"]
    assert messages and "OPTIMIZE_MIN_SHARE" in messages[0].msg
    settings.TAILORED_CMS = {"OPTIMIZE_MIN_SHARE": 0.1}
    assert ids() == set()


def deploy_ids() -> set[str]:
    messages = run_checks(include_deployment_checks=True)
    return {message.id for message in messages if message.id and message.id.startswith("tailored_cms")}


@pytest.fixture
def redis_config(tailored_redis):
    """The private redis-server's persistence settings, set by the test and put back afterwards (ours alone)."""
    before = {name: tailored_redis.config_get(name)[name] for name in ("appendonly", "save")}
    yield tailored_redis
    for name, value in before.items():
        tailored_redis.config_set(name, value)


def test_a_redis_without_persistence_is_a_deployment_warning(redis_config):
    redis_config.config_set("appendonly", "no")
    redis_config.config_set("save", "")
    messages = [m for m in run_checks(include_deployment_checks=True) if m.id == "tailored_cms.W004"]
    assert len(messages) == 1
    assert "lost if it restarts" in messages[0].msg and "appendfsync everysec" in messages[0].hint
    assert "tailored_cms.W004" not in ids()  # a development Redis needn't persist: only check --deploy asks


@pytest.mark.parametrize(("appendonly", "save"), [("yes", ""), ("no", "3600 1 300 100"), ("yes", "60 1000")])
def test_a_redis_with_aof_or_rdb_snapshots_is_fine(redis_config, appendonly, save):
    redis_config.config_set("appendonly", appendonly)
    redis_config.config_set("save", save)
    assert "tailored_cms.W004" not in deploy_ids()


def test_a_redis_that_cannot_be_reached_is_not_this_checks_business(settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_URL": "redis://127.0.0.1:1/0"}
    assert "tailored_cms.W004" not in deploy_ids()


class StoreWithoutCapture(SnapshotStore):
    """A store that reads and writes snapshots but can't capture a batch (nor count its rate limits)."""

    def get(self, visitor_id):
        return None

    def set(self, snapshot):
        return True

    def delete(self, visitor_id):
        return True

    def update_segments(self, tracked, client=None):
        return 0


class NotAStore:
    def get(self, visitor_id):
        return None


@pytest.mark.parametrize(
    ("store", "missing"),
    [
        (StoreWithoutCapture, "capture_events"),
        (NotAStore, "get_and_capture, capture_events, set, delete, update_segments"),
    ],
)
def test_a_snapshot_store_lacking_part_of_the_contract_is_refused(settings, store, missing):
    settings.TAILORED_CMS = {"SNAPSHOT_STORE": f"{__name__}.{store.__name__}"}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E017"]
    assert len(messages) == 1 and messages[0].msg.endswith(f"{store.__name__} does not implement {missing}.")


def test_a_store_that_subclasses_the_redis_store_passes(settings):
    settings.TAILORED_CMS = {"SNAPSHOT_STORE": f"{__name__}.{RedisStoreOfMyOwn.__name__}"}
    assert "tailored_cms.E017" not in ids()


class RedisStoreOfMyOwn(RedisSnapshotStore):
    pass
