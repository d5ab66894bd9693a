from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema

from tailored_cms import api

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
API = "/tailored/api/v1/"
OPENAPI_JSON = "application/vnd.oai.openapi+json"


@pytest.fixture
def browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get(API + "preferences/")
    return client


def choose(client: Client, **choices):
    response = client.patch(
        API + "preferences/",
        json.dumps(choices),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200, response.content


def test_topics_list_every_topic_in_order_and_whether_the_visitor_follows_it(browser):
    api.create_topic("travel", "Travel", position=2)
    api.create_topic("sports", "Sports", description="Scores and fixtures", position=1)
    assert browser.get(API + "topics/").json() == [
        {"slug": "sports", "name": "Sports", "description": "Scores and fixtures", "followed": False},
        {"slug": "travel", "name": "Travel", "description": "", "followed": False},
    ]
    choose(browser, topics=["travel"])
    assert [t["followed"] for t in browser.get(API + "topics/").json()] == [False, True]


def test_no_topics_is_an_empty_list():
    assert Client().get(API + "topics/").json() == []


def test_themes_list_slug_label_and_which_one_is_current(browser):
    assert browser.get(API + "themes/").json() == [
        {"slug": "light", "label": "Light", "current": True},
        {"slug": "dark", "label": "Dark", "current": False},
        {"slug": "high-contrast", "label": "High contrast", "current": False},
    ]
    choose(browser, theme="dark")
    assert [t["slug"] for t in browser.get(API + "themes/").json() if t["current"]] == ["dark"]


def test_layouts_list_slug_label_and_which_one_is_current(browser):
    assert [(t["slug"], t["current"]) for t in browser.get(API + "layouts/").json()] == [
        ("one-column", True),
        ("two-columns", False),
        ("grid", False),
    ]
    choose(browser, layout="grid")
    assert [t["slug"] for t in browser.get(API + "layouts/").json() if t["current"]] == ["grid"]


def test_choices_follow_the_sites_settings(browser, settings):
    settings.TAILORED_CMS = {
        **settings.TAILORED_CMS,
        "THEMES": {"sepia": "Sepia", "night": "Night"},
        "DEFAULT_THEME": "sepia",
    }
    assert browser.get(API + "themes/").json() == [
        {"slug": "sepia", "label": "Sepia", "current": True},
        {"slug": "night", "label": "Night", "current": False},
    ]
    response = browser.patch(
        API + "preferences/",
        '{"theme": "dark"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    assert response.status_code == 400 and "Valid themes: sepia, night" in response.json()["theme"][0]


def test_a_theme_the_site_no_longer_offers_shows_as_the_default(browser, settings):
    choose(browser, theme="dark")
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "THEMES": {"light": "Light"}}
    body = browser.get(API + "preferences/").json()
    assert body["theme"] is None and body["effective_theme"] == "light"


@pytest.mark.parametrize("path", ["topics/", "themes/", "layouts/"])
def test_choice_lists_are_private_read_only_and_csrf_protected(browser, path):
    response = browser.get(API + path)
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]
    assert browser.post(API + path, "{}", content_type="application/json").status_code == 403
    token = browser.cookies["csrftoken"].value
    assert browser.post(API + path, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 405


def get_schema(client: Client) -> dict:
    GENERATOR_STATS.reset()
    response = client.get(API + "schema/", HTTP_ACCEPT=OPENAPI_JSON)
    assert response.status_code == 200, response.content
    assert not GENERATOR_STATS, "drf-spectacular warned while generating the schema"
    return response.json()


def test_the_schema_is_valid_openapi_3_listing_our_paths_and_methods():
    schema = get_schema(Client())
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "tailored_cms API"
    paths = schema["paths"]
    assert {API + p for p in ("preferences/", "topics/", "themes/", "layouts/")} <= set(paths)
    assert all(p.startswith(API) for p in paths)  # only ours, not the rest of the site's
    assert set(paths[API + "preferences/"]) == {"get", "put", "patch", "delete"}
    preferences = schema["components"]["schemas"]["Preferences"]["properties"]
    assert {"topics", "theme", "layout", "widgets", "effective_theme", "effective_layout"} <= set(preferences)
    theme_enum = schema["components"]["schemas"]["ThemeEnum"]["enum"]
    assert theme_enum == ["light", "dark", "high-contrast"]
    assert "400" in paths[API + "preferences/"]["put"]["responses"]


def test_the_schema_is_yaml_by_default():
    response = Client().get(API + "schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "tailored_cms API"


def test_the_schema_works_without_the_sites_rest_framework_settings(settings):
    settings.REST_FRAMEWORK = {}  # DRF's own DEFAULT_SCHEMA_CLASS would not be drf-spectacular's
    schema = get_schema(Client())
    validate_schema(schema)
    assert API + "preferences/" in schema["paths"]


MINIMAL_SITE = """
from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "drf_spectacular"]
del REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: F821
# Its own throwaway database, whichever database the suite runs on.
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""

MINIMAL_SITE_CHECK = """
import json
import os
import subprocess
import sys
from pathlib import Path
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
from drf_spectacular.validation import validate_schema

setup_test_environment()
call_command("migrate", verbosity=0)
client = Client(enforce_csrf_checks=True)
client.get("/tailored/api/v1/preferences/")
saved = client.patch("/tailored/api/v1/preferences/", '{"theme": "dark"}', content_type="application/json",
                     HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
schema = client.get("/tailored/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
validate_schema(schema)
print(json.dumps({
    "configured": [hasattr(settings, "REST_FRAMEWORK"), "drf_spectacular" in settings.INSTALLED_APPS],
    "saved": [saved.status_code, saved.json()["theme"]],
    "paths": sorted(schema["paths"]),
    "put": schema["paths"]["/tailored/api/v1/preferences/"]["put"]["summary"],
}))
"""


def test_a_site_without_drf_settings_or_the_drf_spectacular_app_gets_the_api_and_its_schema(tmp_path, redis_server):
    """DESIGN's install contract: INSTALLED_APPS += ["rest_framework", "tailored_cms"] is enough."""
    (tmp_path / "minimal_site.py").write_text(MINIMAL_SITE)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "minimal_site",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)]),
        "TAILORED_TEST_REDIS_URL": redis_server.url,
    }
    run = subprocess.run([sys.executable, "-c", MINIMAL_SITE_CHECK], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["configured"] == [False, False]
    assert seen["saved"] == [200, "dark"]
    assert seen["paths"] == [
        API + p
        for p in (
            "consent/",
            "events/",
            "explain/",
            "layouts/",
            "me/",
            "preferences/",
            "quiz/",
            "recommendations/",
            "segments/",
            "segments/preview/",
            "stats/",
            "themes/",
            "topics/",
            "traits/",
        )
    ]
    assert seen["put"].startswith("Replace all choices")  # the annotations made it into the schema


@pytest.mark.parametrize("setting", ["CSRF_COOKIE_HTTPONLY", "CSRF_USE_SESSIONS"])
def test_a_site_whose_js_cant_read_the_csrf_cookie_gets_the_token_in_a_header(settings, setting):
    """What customize.js and privacy.js fall back on: the X-CSRFToken header of a GET of the API."""
    setattr(settings, setting, True)
    client = Client(enforce_csrf_checks=True)
    token = client.get(API + "consent/")["X-CSRFToken"]

    refused = client.patch(API + "preferences/", '{"theme": "dark"}', content_type="application/json")
    saved = client.patch(
        API + "preferences/", '{"theme": "dark"}', content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert saved.status_code == 200 and saved.json()["theme"] == "dark"
