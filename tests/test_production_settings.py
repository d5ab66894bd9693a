"""``example_site.settings_production``: passes ``check --deploy``, refuses to start without its secrets, and serves
pages over HTTPS only, with secure cookies and a strict Content-Security-Policy the pages keep to."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest
from cms.models import Page
from django.core.management import call_command
from django.core.management.utils import get_random_secret_key
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "example_site.settings_production"
HOST = "news.example.com"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` with the production settings, in a fresh process with only the environment given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TAILORED_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": SETTINGS, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def persistent_redis(tailored_redis):
    """The tests' private redis-server with AOF on, as production's should be (check --deploy asks it: W004)."""
    before = tailored_redis.config_get("appendonly")["appendonly"]
    tailored_redis.config_set("appendonly", "yes")
    yield tailored_redis.get_connection_kwargs()["port"]
    tailored_redis.config_set("appendonly", before)


def test_the_production_settings_pass_check_deploy_without_a_warning(persistent_redis):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=get_random_secret_key(),
        DJANGO_ALLOWED_HOSTS=HOST,
        TAILORED_REDIS_URL=f"redis://127.0.0.1:{persistent_redis}/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_of_a_redis_without_persistence(tailored_redis):
    result = manage(
        "check",
        "--deploy",
        DJANGO_SECRET_KEY=get_random_secret_key(),
        DJANGO_ALLOWED_HOSTS=HOST,
        TAILORED_REDIS_URL=f"redis://127.0.0.1:{tailored_redis.get_connection_kwargs()['port']}/0",
    )
    assert "tailored_cms.W004" in result.stdout + result.stderr


def test_without_a_secret_key_the_site_does_not_start_and_says_what_to_set():
    result = manage("check", DJANGO_ALLOWED_HOSTS=HOST)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in last_line
    assert "get_random_secret_key" in last_line


def test_without_allowed_hosts_the_site_does_not_start_and_says_what_to_set():
    result = manage("check", DJANGO_SECRET_KEY=get_random_secret_key())
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is not set" in result.stderr.strip().splitlines()[-1]


def test_the_environment_sets_hosts_origins_database_and_the_proxy_header():
    script = (
        "from django.conf import settings as s; import json; print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, "
        "s.CSRF_TRUSTED_ORIGINS, s.DATABASES['default'], getattr(s, 'SECURE_PROXY_SSL_HEADER', None), "
        "s.TAILORED_CMS['COOKIE_SECURE'], s.SECURE_HSTS_SECONDS], default=str))"
    )
    result = manage(
        "shell",
        "-c",
        script,
        DJANGO_SECRET_KEY=get_random_secret_key(),
        DJANGO_ALLOWED_HOSTS=f"{HOST}, www.{HOST}",
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://admin.{HOST}",
        DJANGO_DEBUG="1",  # the example site's switch; production ignores it
        DJANGO_TLS_PROXY="1",
        DJANGO_HSTS_SECONDS="3600",
        TAILORED_DB_NAME="news",
        TAILORED_DB_USER="news",
        TAILORED_DB_PASSWORD="pw",
        TAILORED_DB_HOST="db.internal",
    )
    assert result.returncode == 0, result.stderr
    debug, hosts, origins, database, proxy_header, cookie_secure, hsts = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert debug is False
    assert hosts == [HOST, f"www.{HOST}"]
    assert origins == [f"https://admin.{HOST}"]
    assert database["ENGINE"] == "django.db.backends.postgresql"  # Django's own, as a site runs
    assert (database["NAME"], database["USER"], database["PASSWORD"], database["HOST"]) == (
        "news",
        "news",
        "pw",
        "db.internal",
    )
    assert proxy_header == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert cookie_secure is True
    assert hsts == 3600


@pytest.fixture
def production(monkeypatch, settings) -> ModuleType:
    """The production settings' web-facing part applied to this test process (its database and Redis kept)."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", get_random_secret_key())
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "testserver")
    sys.modules.pop(SETTINGS, None)
    module = importlib.import_module(SETTINGS)
    sys.modules.pop(SETTINGS, None)
    for name in (
        "MIDDLEWARE",
        "SECURE_CSP",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    ):
        setattr(settings, name, getattr(module, name))
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "COOKIE_SECURE": module.TAILORED_CMS["COOKIE_SECURE"]}
    return module


class InlineCode(HTMLParser):
    """What a strict CSP blocks: inline scripts (data blocks excepted), <style>, style="" and on…="" attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"<script> without src: {self.get_starttag_text()}")
        if tag == "style":
            self.found.append("<style>")
        for name in names:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>: {self.get_starttag_text()}")


@pytest.mark.django_db
def test_pages_are_https_only_with_a_strict_csp_they_keep_to_and_secure_cookies(production):
    call_command("tailored_demo", stdout=io.StringIO())
    home = Page.objects.get(reverse_id="home").get_absolute_url()
    browser = Client(enforce_csrf_checks=True)

    assert browser.get(home).status_code == 301  # plain HTTP goes to HTTPS

    page = browser.get(home, secure=True)
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    parser = InlineCode()
    parser.feed(page.content.decode())
    assert parser.found == []
    assert "data-tailored-panel" in page.content.decode()  # the page with the visitor's panel was checked

    api = browser.get("/tailored/api/v1/preferences/", secure=True)
    assert api["Content-Security-Policy"] == policy
    assert api.cookies["csrftoken"]["secure"]
    saved = browser.patch(
        "/tailored/api/v1/preferences/",
        '{"theme": "dark"}',
        content_type="application/json",
        secure=True,
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
        HTTP_ORIGIN="https://testserver",
    )
    assert saved.status_code == 200, saved.content
    visitor_cookie = saved.cookies["tailored_vid"]
    assert visitor_cookie["secure"] and visitor_cookie["httponly"]


def test_the_csp_middleware_keeps_a_policy_a_response_sets_itself(settings, rf):
    from django.http import HttpResponse

    from example_site.middleware import ContentSecurityPolicyMiddleware

    settings.SECURE_CSP = {"default-src": ["'self'"], "object-src": ["'none'"]}

    def own_policy(request):
        response = HttpResponse()
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert ContentSecurityPolicyMiddleware(lambda r: HttpResponse())(rf.get("/"))["Content-Security-Policy"] == (
        "default-src 'self'; object-src 'none'"
    )
    assert ContentSecurityPolicyMiddleware(own_policy)(rf.get("/"))["Content-Security-Policy"] == "default-src 'none'"
