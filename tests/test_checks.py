from __future__ import annotations

import pytest
from django.core.checks import run_checks

from tailored_cms.checks import MIDDLEWARE


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


def test_middleware_before_authentication_is_an_error(settings):
    settings.MIDDLEWARE = [MIDDLEWARE, *[m for m in settings.MIDDLEWARE if m != MIDDLEWARE]]
    assert "tailored_cms.E007" in ids()


def test_consent_must_be_required_or_implied(settings):
    settings.TAILORED_CMS = {"CONSENT": "maybe"}
    messages = [m for m in run_checks() if m.id == "tailored_cms.E008"]
    assert messages and "'maybe'" in messages[0].msg
