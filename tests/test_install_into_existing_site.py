"""The install steps of docs/installation.md work on a brand-new django CMS site.

Once per module, in a tmp dir, exactly as a developer makes a site: ``django-admin startproject mysite .``,
then ``djangocms . --use-bundled-install-rules --noinput`` (djangocms-versioning on, its default). Then only
that page's marked install blocks (``<!-- install:NAME -->`` before a code block, between
``<!-- install:start -->`` and ``<!-- install:end -->``) are applied to the generated settings.py, urls.py and
base template; the site is migrated, given a published page with a tailored area, and served by ``runserver``.

Everything runs in subprocesses with this virtualenv's Python (where tailored_cms is installed).
``djangocms .`` pip-installs what it adds to INSTALLED_APPS; here it runs with ``PIP_NO_INDEX=1``, so it never
downloads or changes the virtualenv, and fails with a clear message when a package it wants is missing.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .redis_server import RedisServer, free_port

pytestmark = pytest.mark.install

INSTALLATION = Path(__file__).resolve().parent.parent / "docs" / "installation.md"
BIN = Path(sys.executable).parent
PROJECT = "mysite"
FALLBACK_TEXT = "Welcome, everyone [fallback-7c1e]"
SPORTS_TEXT = "Tonight's match for sports fans [sports-4b9a]"
TIMEOUT = 240  # seconds, for any one subprocess


# --- docs/installation.md ------------------------------------------------------------------------------------


def install_blocks() -> dict[str, str]:
    """The installation page's install code blocks by marker name (``<!-- install:settings -->`` -> ``"settings"``)."""
    text = INSTALLATION.read_text(encoding="utf-8")
    section = re.search(r"<!-- install:start -->(.*?)<!-- install:end -->", text, re.S)
    assert section, f"{INSTALLATION} has no <!-- install:start --> ... <!-- install:end --> section"
    fenced = r"<!-- install:([\w-]+) -->\s*```[\w-]*\n(.*?)^```"
    return dict(re.findall(fenced, section.group(1), re.S | re.M))


def install_block(name: str) -> str:
    blocks = install_blocks()
    assert name in blocks, (
        f"docs/installation.md has no code block marked <!-- install:{name} -->; found: {sorted(blocks)}"
    )
    return blocks[name]


# --- subprocesses -------------------------------------------------------------------------------------------


def site_env(**extra: str) -> dict[str, str]:
    """The site's environment: this virtualenv, none of the suite's settings, no downloads."""
    ours = ("DJANGO_SETTINGS_MODULE", "TAILORED_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.update(extra)
    return env


def text_of(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def run(
    args: list[str], cwd: Path, *, env: dict[str, str] | None = None, timeout: float = TIMEOUT, hint: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``args``; unless it exits 0, fail with the command, its output and ``hint``."""
    command = shlex.join(str(a) for a in args)
    try:
        result = subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env or site_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"Timed out after {timeout}s: {command}\n(in {cwd})\n--- stdout\n{text_of(exc.stdout)}\n"
            f"--- stderr\n{text_of(exc.stderr)}"
        )
    if result.returncode != 0:
        pytest.fail(
            f"Exit status {result.returncode}: {command}\n(in {cwd})\n--- stdout\n{result.stdout}\n"
            f"--- stderr\n{result.stderr}" + (f"\n--- hint\n{hint}" if hint else "")
        )
    return result


def console_script(name: str, module: str) -> list[str]:
    """``name`` from this virtualenv's bin/ (what a developer types), else ``python -m module``."""
    script = shutil.which(name, path=str(BIN))
    return [script] if script else [sys.executable, "-m", module]


def manage(site: Site, *args: str, timeout: float = TIMEOUT) -> str:
    """``manage.py *args`` in the site; returns stdout and stderr (where ``check`` writes)."""
    result = run([sys.executable, "manage.py", *args], site.root, env=site.env, timeout=timeout)
    return result.stdout + result.stderr


def last_json_line(result: subprocess.CompletedProcess[str]) -> dict:
    """The JSON a site script printed last on stdout."""
    lines = result.stdout.strip().splitlines()
    assert lines, f"the script printed nothing on stdout:\n{result.stderr}"
    return json.loads(lines[-1])


# --- the site -----------------------------------------------------------------------------------------------


@dataclass
class Site:
    root: Path
    env: dict[str, str]
    redis_url: str
    page_path: str = ""

    @property
    def settings_file(self) -> Path:
        return self.root / PROJECT / "settings.py"


def append(path: Path, text: str, comment: str) -> None:
    assert path.is_file(), f"{path} should exist in the generated site"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n\n{comment}\n{text.rstrip()}\n")


CONTENT_SCRIPT = textwrap.dedent(
    """
    import json
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    import django

    django.setup()

    from cms.api import add_plugin, create_page
    from cms.models import PageContent
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from djangocms_versioning.models import Version

    from tailored_cms import api

    FALLBACK_TEXT, SPORTS_TEXT = {texts!r}

    language = settings.LANGUAGES[0][0]
    template = settings.CMS_TEMPLATES[0][0]
    User = get_user_model()
    user = User.objects.filter(username="admin").first() or User.objects.create_superuser(
        "admin", "admin@example.com", "admin"
    )
    api.create_topic("sports", "Sports")

    page = create_page("Tailored home", template, language, created_by=user, slug="tailored-home")
    content = PageContent.admin_manager.get(page=page, language=language)
    placeholders = content.rescan_placeholders()
    assert placeholders, f"the site's template {{template}} declares no placeholder"
    slot, placeholder = next(iter(placeholders.items()))

    area = api.add_area(placeholder, language, strategy="customization", max_items=1)
    fallback = api.add_variant(area, "Everyone else", fallback=True)
    add_plugin(placeholder, "TextPlugin", language, target=fallback, body=f"<p>{{FALLBACK_TEXT}}</p>")
    sports = api.add_variant(area, "Sports fans", topics=["sports"])
    add_plugin(placeholder, "TextPlugin", language, target=sports, body=f"<p>{{SPORTS_TEXT}}</p>")

    version = Version.objects.get_for_content(content)
    version.publish(user)
    state = Version.objects.get(pk=version.pk).state  # (refresh_from_db() trips django-fsm's protected field)
    print(json.dumps({{"path": page.get_absolute_url(language), "slot": slot, "state": state,
                      "template": template, "language": language}}))
    """
).format(texts=(FALLBACK_TEXT, SPORTS_TEXT))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Site:
    """A new django CMS site with tailored_cms installed from docs/installation.md, and one published tailored page."""
    root = tmp_path_factory.mktemp("newsite")
    # A Redis DB of its own on the suite's private server (conftest flushes DB 0 before every test).
    redis_url = f"redis://127.0.0.1:{redis_server.port}/7"
    site = Site(root=root, env=site_env(), redis_url=redis_url)

    # 1. The site, as a developer makes one.
    run([*console_script("django-admin", "django"), "startproject", PROJECT, "."], root)
    run(
        [*console_script("djangocms", "cms"), ".", "--use-bundled-install-rules", "--noinput"],
        root,
        hint="`djangocms .` pip-installs the packages it adds to INSTALLED_APPS (here with PIP_NO_INDEX=1). "
        "If pip says a package is missing, install it into this virtualenv once (it needs the network): "
        f"{sys.executable} -m pip install django-cms djangocms-simple-admin-style django-filer "
        "djangocms-frontend djangocms-text djangocms-link djangocms-versioning djangocms-alias",
    )
    settings_text = site.settings_file.read_text(encoding="utf-8")
    assert '"djangocms_versioning"' in settings_text, "djangocms . should have added djangocms_versioning"
    base_template = root / "templates" / "cms-base.html"

    # 2. The installation page's install blocks, nothing else.
    append(site.settings_file, install_block("settings"), "# --- docs/installation.md: install:settings")
    append(site.settings_file, install_block("celery-settings"), "# --- docs/installation.md: install:celery-settings")
    append(root / PROJECT / "urls.py", install_block("urls"), "# --- docs/installation.md: install:urls")
    append(base_template, install_block("template"), "{# --- docs/installation.md: install:template #}")

    # 3. This test's environment (not an install step): its private Redis, for tailored_cms and Celery.
    append(
        site.settings_file,
        f'TAILORED_CMS = {{**globals().get("TAILORED_CMS", {{}}), "REDIS_URL": {redis_url!r}}}\n'
        f"CELERY_BROKER_URL = {redis_url!r}",
        "# --- the test's environment, not an install step: a private Redis",
    )

    # 4. The installation page's `manage.py migrate`, then content as an editor would make it, published.
    manage(site, "migrate", "--noinput")
    script = root / "make_tailored_page.py"
    script.write_text(CONTENT_SCRIPT, encoding="utf-8")
    result = last_json_line(run([sys.executable, script.name], root, env=site.env))
    assert result["state"] == "published", result
    assert result["path"], f"the published page has no URL: {result}"
    site.page_path = result["path"]
    return site


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    """``manage.py runserver`` on a free port; yields its base URL."""
    port = free_port()
    log_path = site.root / "runserver.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=site.root,
            env=site.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"runserver exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(base + "/tailored/", timeout=2)  # noqa: S310 - our own server
                break
            except urllib.error.HTTPError:
                break  # it answers (404 is fine)
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"runserver did not answer within 60s:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# --- visitors -----------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str


class Browser:
    """One visitor: a cookie jar and a few requests, as a browser would send them."""

    def __init__(self, base: str, server_log: Path) -> None:
        self.base = base
        self.server_log = server_log
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return Response(response.status, dict(response.headers), response.read().decode(errors="replace"))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers), exc.read().decode(errors="replace"))

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def expect(self, response: Response, status: int, what: str) -> Response:
        if response.status != status:
            pytest.fail(
                f"{what}: HTTP {response.status}, expected {status}.\n--- body\n{response.text[:3000]}\n"
                f"--- server log (tail)\n{self.server_log.read_text(errors='replace')[-3000:]}"
            )
        return response

    def csrf_token(self) -> str:
        """The csrftoken cookie, from the pages a visitor would have loaded."""
        for path in ("/tailored/preferences/", "/tailored/api/v1/preferences/"):
            if self.cookie("csrftoken"):
                break
            self.get(path)
        token = self.cookie("csrftoken")
        assert token, "neither /tailored/preferences/ nor /tailored/api/v1/preferences/ set a csrftoken cookie"
        return token

    def choose_topics_via_api(self, topics: list[str]) -> Response:
        token = self.csrf_token()
        response = self.request(
            "PATCH",
            "/tailored/api/v1/preferences/",
            body=json.dumps({"topics": topics}).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
        )
        return self.expect(response, 200, f"PATCH /tailored/api/v1/preferences/ {{'topics': {topics}}}")


def visible(response: Response) -> tuple[bool, bool]:
    return FALLBACK_TEXT in response.text, SPORTS_TEXT in response.text


# --- the tests ----------------------------------------------------------------------------------------------


def test_installation_page_has_every_install_block() -> None:
    blocks = install_blocks()
    for name in ("settings", "urls", "template", "celery-settings", "celery-worker"):
        assert blocks.get(name, "").strip(), (
            f"docs/installation.md: the <!-- install:{name} --> block is empty or missing"
        )
    assert '"tailored_cms"' in blocks["settings"] and "TailoredMiddleware" in blocks["settings"]
    assert 'include("tailored_cms.urls")' in blocks["urls"]
    assert "{% load tailored %}" in blocks["template"] and "{% tailored_body_attrs %}" in blocks["template"]


def test_check_is_clean_of_tailored_cms_messages(site: Site) -> None:
    output = manage(site, "check")
    assert "tailored_cms." not in output, f"manage.py check reports tailored_cms problems:\n{output}"


def test_migrate_leaves_nothing_unapplied(site: Site) -> None:
    output = manage(site, "makemigrations", "tailored_cms", "--check", "--dry-run")
    assert "No changes detected" in output, output
    plan = manage(site, "migrate", "--plan")
    assert "tailored_cms" not in plan, f"unapplied tailored_cms migrations after migrate:\n{plan}"


def test_two_visitors_with_different_choices_see_different_content(site: Site, server: str) -> None:
    log = site.root / "runserver.log"
    page = site.page_path

    # A first visitor, who chose nothing, sees the fallback (and the page cache now holds a copy).
    newcomer = Browser(server, log)
    response = newcomer.expect(newcomer.get(page), 200, f"GET {page} (new visitor)")
    assert visible(response) == (True, False), f"a new visitor should see only the fallback:\n{response.text}"
    assert re.search(r"<body[^>]*tailored-theme-", response.text), (
        f"the installation page's template block should put the theme class on <body>:\n{response.text[:2000]}"
    )

    # A sports fan chooses sports through the site's /tailored/ API and sees the sports variant.
    fan = Browser(server, log)
    fan.expect(fan.get(page), 200, f"GET {page} (sports fan, before choosing)")
    fan.choose_topics_via_api(["sports"])
    assert fan.cookie("tailored_vid"), "choosing topics should give the visitor the tailored_vid cookie"
    response = fan.expect(fan.get(page), 200, f"GET {page} (sports fan)")
    assert visible(response) == (False, True), f"the sports fan should see only the sports variant:\n{response.text}"
    # Caches outside the site (browsers, proxies) must not hand the fan's page to anyone else either.
    assert "cookie" in response.headers.get("Vary", "").lower(), response.headers
    assert "private" in response.headers.get("Cache-Control", ""), response.headers
    preferences = fan.expect(fan.get("/tailored/api/v1/preferences/"), 200, "GET preferences (sports fan)")
    assert json.loads(preferences.text)["topics"] == ["sports"], preferences.text

    # The first visitor, and a brand-new one, still see the fallback: nobody gets the fan's copy.
    for who, browser in (("first visitor again", newcomer), ("another new visitor", Browser(server, log))):
        response = browser.expect(browser.get(page), 200, f"GET {page} ({who})")
        assert visible(response) == (True, False), f"{who} should see only the fallback:\n{response.text}"


def test_no_js_preferences_form_works_too(site: Site, server: str) -> None:
    log = site.root / "runserver.log"
    visitor = Browser(server, log)
    form = visitor.expect(visitor.get("/tailored/preferences/"), 200, "GET /tailored/preferences/")
    token = visitor.csrf_token()
    field = re.search(r'<input[^>]*name="([\w-]+)"[^>]*value="sports"', form.text) or re.search(
        r'<input[^>]*value="sports"[^>]*name="([\w-]+)"', form.text
    )
    assert field, f"/tailored/preferences/ should offer the topic sports:\n{form.text}"
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, field.group(1): "sports"}).encode()
    response = visitor.request(
        "POST",
        "/tailored/preferences/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": server + "/tailored/preferences/",
        },
    )
    visitor.expect(response, 200, "POST /tailored/preferences/ (followed redirects)")
    response = visitor.expect(visitor.get(site.page_path), 200, f"GET {site.page_path} (after the form)")
    assert visible(response) == (False, True), f"the form's choice should show the sports variant:\n{response.text}"


def test_api_schema_needs_no_site_wide_drf_settings(site: Site, server: str) -> None:
    # The new site has no REST_FRAMEWORK setting (DRF's default schema class) and no drf_spectacular app.
    visitor = Browser(server, site.root / "runserver.log")
    openapi_json = {"Accept": "application/vnd.oai.openapi+json"}
    response = visitor.request("GET", "/tailored/api/v1/schema/", headers=openapi_json)
    visitor.expect(response, 200, "GET /tailored/api/v1/schema/ on a site without REST_FRAMEWORK settings")
    schema = json.loads(response.text)
    assert schema.get("openapi", "").startswith("3"), response.text[:500]
    paths = sorted(schema.get("paths", {}))
    assert any(path.endswith("/preferences/") for path in paths), paths


CELERY_DISCOVERY_SCRIPT = textwrap.dedent(
    """
    import importlib, json, os, pkgutil

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from celery import Celery

    # What a site's own mysite/celery.py does.
    app = Celery("mysite")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    import django

    django.setup()
    app.loader.import_default_modules()
    discovered = sorted(name for name in app.tasks if name.startswith("tailored_cms"))

    # Every task the package defines, wherever it lives.
    import tailored_cms

    for module in pkgutil.walk_packages(tailored_cms.__path__, "tailored_cms."):
        if module.name.rsplit(".", 1)[-1] == "tasks":
            importlib.import_module(module.name)
    defined = sorted(name for name in app.tasks if name.startswith("tailored_cms"))
    print(json.dumps({"discovered": discovered, "defined": defined}))
    """
)


def celery_tasks(site: Site) -> dict[str, list[str]]:
    """tailored_cms's tasks: ``discovered`` by a site's own Celery app, ``defined`` in the package."""
    script = site.root / "celery_discovery.py"
    script.write_text(CELERY_DISCOVERY_SCRIPT, encoding="utf-8")
    return last_json_line(run([sys.executable, script.name], site.root, env=site.env))


def test_a_sites_own_celery_app_autodiscovers_every_task(site: Site) -> None:
    result = celery_tasks(site)
    assert result["discovered"] == result["defined"], (
        "app.autodiscover_tasks() only imports <app>.tasks; tasks defined elsewhere are not found: "
        f"{sorted(set(result['defined']) - set(result['discovered']))}"
    )


def test_celery_worker_command_starts_a_worker(site: Site) -> None:
    words = shlex.split(install_block("celery-worker").strip())
    env = site_env()
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[:3] == ["celery", "-A", "tailored_cms.celery_app"], f"unexpected worker command: {words}"
    app_args = [str(BIN / "celery"), "-A", "tailored_cms.celery_app"]
    # One process is enough here (and quick to stop); the hostname tells this worker from any other.
    hostname = f"install-test-{os.getpid()}@localhost"
    log_path = site.root / "celery-worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [*app_args, *words[3:], "--pool=solo", f"--hostname={hostname}"],
            cwd=site.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited with {worker.returncode}:\n{log_path.read_text()}")
            ping = subprocess.run(
                [*app_args, "inspect", "ping", "-d", hostname, "--timeout", "2", "--json"],
                cwd=site.root,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if ping.returncode == 0 and hostname in ping.stdout:
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the worker did not answer a ping within 60s.\n--- ping\n{ping.stdout}{ping.stderr}"
                    f"\n--- worker log\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.5)
        registered = subprocess.run(
            [*app_args, "inspect", "registered", "-d", hostname, "--timeout", "5", "--json"],
            cwd=site.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for task in celery_tasks(site)["defined"]:
            assert task in registered.stdout, f"the worker has not registered {task}:\n{registered.stdout}"
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
