"""The scripts' translations (the ``djangojs`` domain): complete, current, compiled, and served cacheably.

A string marked in a script (``gettext("...")``) and missing from a catalog fails here, so a new English text
can't ship untranslated: run ``django-admin makemessages -d djangojs -l es -l it -l de -l fr`` inside
``tailored_cms/``, translate, then ``django-admin compilemessages``. ``msgfmt`` comes from Debian's ``gettext``
(``scripts/ensure-system.sh --browser`` installs it).
"""

from __future__ import annotations

import ast
import gettext
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

import tailored_cms
from tailored_cms.mounts import catalog_version
from tailored_cms.templatetags.tailored import tailored_script_catalog

PACKAGE = Path(tailored_cms.__file__).parent
LANGUAGES = ("es", "it", "de", "fr")
SITE_LANGUAGES = [("en", "English"), ("es", "Español"), ("it", "Italiano"), ("de", "Deutsch"), ("fr", "Français")]


def catalog(language: str, suffix: str = "po") -> Path:
    return PACKAGE / "locale" / language / "LC_MESSAGES" / f"djangojs.{suffix}"


def msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        pytest.fail("msgfmt is missing: install Debian's gettext (scripts/ensure-system.sh --browser)")
    return path


def msgids(po: Path) -> set[str]:
    """The msgids of a .po file (not the header, not obsolete ``#~`` entries)."""
    ids: set[str] = set()
    parts: list[str] | None = None
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            parts = [line.removeprefix("msgid ")]
        elif line.startswith('"') and parts is not None:
            parts.append(line)
        elif parts is not None:
            # The quoted pieces use C escapes, which Python's string literals share.
            ids.add("".join(ast.literal_eval(part) for part in parts))
            parts = None
    ids.discard("")
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete(language: str) -> None:
    checked = subprocess.run(
        [msgfmt(), "--check", "--statistics", "-o", "/dev/null", str(catalog(language))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "translated message" in checked.stderr
    assert "untranslated" not in checked.stderr and "fuzzy" not in checked.stderr, checked.stderr


@pytest.fixture(scope="module")
def marked_in_scripts(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every string the scripts mark today: a fresh extraction, into a copy of the package's scripts."""
    msgfmt()  # makemessages needs the gettext tools too
    copy = tmp_path_factory.mktemp("package")
    shutil.copytree(PACKAGE / "static", copy / "static")
    (copy / "locale").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(copy)
        call_command("makemessages", domain="djangojs", locale=["es"], verbosity=0)
    ids = msgids(copy / "locale" / "es" / "LC_MESSAGES" / "djangojs.po")
    assert ids, "the extraction found no strings: are the scripts still marked?"
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_every_marked_string(language: str, marked_in_scripts: set[str]) -> None:
    shipped = msgids(catalog(language))
    assert not marked_in_scripts - shipped, "marked in a script, missing from the catalog (run makemessages)"
    assert not shipped - marked_in_scripts, "in the catalog, no longer in any script (run makemessages)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_is_current(language: str, tmp_path: Path) -> None:
    fresh = tmp_path / "djangojs.mo"
    subprocess.run([msgfmt(), "-o", str(fresh), str(catalog(language))], check=True)
    with catalog(language, "mo").open("rb") as shipped, fresh.open("rb") as compiled:
        shipped_catalog = gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
        compiled_catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    assert shipped_catalog == compiled_catalog, "djangojs.mo is older than djangojs.po: run compilemessages"


@pytest.fixture
def site_languages() -> object:
    with override_settings(LANGUAGES=SITE_LANGUAGES):
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("site_languages")
def test_catalog_url_answers_in_its_language(client: Client) -> None:
    response = client.get(reverse("tailored_cms:jsi18n", args=["es"]), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Content-Language"] == "es"
    body = response.content.decode()
    # The catalog writes its strings as JSON (non-ASCII escaped): look them up the same way.
    assert json.dumps("Se han restablecido los valores predeterminados del sitio.") in body
    assert json.dumps("Widgets ocultos:") in body
    assert "Ausgeblendete Widgets" not in body  # the URL's language, not the browser's


@pytest.mark.django_db
@pytest.mark.usefixtures("site_languages")
def test_catalog_is_the_same_for_every_visitor(client: Client, django_user_model: Any) -> None:
    # A signed-in editor of another language: still nothing of theirs on the answer.
    client.force_login(django_user_model.objects.create_user("editor", is_staff=True))
    client.cookies["django_language"] = "it"
    response = client.get(reverse("tailored_cms:jsi18n", args=["fr"]))
    assert response.status_code == 200
    assert not response.cookies
    assert not response.has_header("Set-Cookie")
    assert "cookie" not in response.get("Vary", "").lower()
    cache_control = response["Cache-Control"]
    assert "public" in cache_control and "max-age=" in cache_control and "private" not in cache_control


@pytest.mark.django_db
@pytest.mark.usefixtures("site_languages", "tailored_redis")
def test_catalog_is_the_same_for_a_known_visitor(client: Client) -> None:
    client.get("/tailored/api/v1/preferences/")
    chose = client.patch(
        "/tailored/api/v1/preferences/",
        json.dumps({"theme": "dark"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert chose.status_code == 200 and chose.cookies  # a visitor with a cookie of ours now
    response = client.get(reverse("tailored_cms:jsi18n", args=["es"]))
    assert response.status_code == 200
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()
    assert "private" not in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.usefixtures("site_languages")
def test_catalog_of_a_language_the_site_does_not_have(client: Client) -> None:
    assert client.get(reverse("tailored_cms:jsi18n", args=["xx"])).status_code == 404


def test_catalog_url_follows_the_page_language() -> None:
    with override_settings(LANGUAGES=SITE_LANGUAGES), translation.override("it"):
        tag = tailored_script_catalog()
    assert tag == f'<script src="{reverse("tailored_cms:jsi18n", args=["it"])}?v={catalog_version()}" defer></script>'


def max_age(response: HttpResponse) -> int:
    return int(re.search(r"max-age=(\d+)", response["Cache-Control"])[1])  # type: ignore[index]


@pytest.mark.django_db
@pytest.mark.usefixtures("site_languages")
def test_the_linked_catalog_is_kept_for_a_year_and_an_unversioned_one_for_an_hour(client: Client) -> None:
    page_links = re.search(r'src="([^"]+)"', tailored_script_catalog())[1]  # type: ignore[index]
    linked = client.get(page_links)
    assert linked.status_code == 200
    assert max_age(linked) == 365 * 24 * 60 * 60 and "immutable" in linked["Cache-Control"]
    for stale in ("", "?v=0123456789ab"):  # no version, or one a page cached before an upgrade still links
        response = client.get(reverse("tailored_cms:jsi18n", args=["en"]) + stale)
        assert response.content == linked.content
        assert max_age(response) == 60 * 60 and "immutable" not in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.usefixtures("site_languages")
def test_a_changed_catalog_is_linked_at_a_new_url(tmp_path: Path, client: Client) -> None:
    """A site rewording a string in its own LOCALE_PATHS catalog: pages link a new URL, which serves the new text."""
    before = catalog_version()
    messages = tmp_path / "es" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    po = messages / "djangojs.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Hidden widgets:"\nmsgstr "Widgets que ha ocultado:"\n',
        encoding="utf-8",
    )
    subprocess.run(["msgfmt", "-o", str(messages / "djangojs.mo"), str(po)], check=True)
    with override_settings(LOCALE_PATHS=[tmp_path]), translation.override("es"):
        after = tailored_script_catalog()
        assert catalog_version() != before and f"?v={catalog_version()}" in after
        body = client.get(re.search(r'src="([^"]+)"', after)[1]).content.decode()  # type: ignore[index]
    assert json.dumps("Widgets que ha ocultado:") in body
