"""The shipped translations (``django`` domain): complete, compiled, and what visitors and editors get.

Every catalog is checked with GNU gettext's own tools (Debian's ``gettext``, which ``scripts/ensure-system.sh
--browser`` installs): a missing tool fails these tests rather than skipping them, so ``make test`` can't pass
with catalogs nobody checked.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

import tailored_cms
from tailored_cms import api

PACKAGE = Path(tailored_cms.__file__).resolve().parent
LANGUAGES = ("es", "it", "de", "fr")
SITE_LANGUAGES = [("en", "English"), ("es", "Español"), ("it", "Italiano"), ("de", "Deutsch"), ("fr", "Français")]


def catalog(language: str) -> Path:
    return PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po"


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: install Debian's gettext package (scripts/ensure-system.sh --browser does)"
    return path


def msgids(po: Path) -> set[tuple[str, str, str]]:
    """Every entry of ``po`` as (context, msgid, msgid_plural), read by msgcat's canonical output."""
    text = subprocess.run(
        [tool("msgcat"), "--no-wrap", "--sort-output", str(po)], capture_output=True, text=True, check=True
    ).stdout
    entries = set()
    for block in text.split("\n\n"):
        fields = dict(re.findall(r'^(msgctxt|msgid|msgid_plural) "(.*)"$', block, flags=re.MULTILINE))
        if fields.get("msgid"):
            entries.add((fields.get("msgctxt", ""), fields["msgid"], fields.get("msgid_plural", "")))
    return entries


def extract_msgids(directory: Path) -> set[tuple[str, str, str]]:
    """What ``makemessages`` finds marked for translation (``django`` domain) in ``directory``, a copy to write into."""
    (directory / "locale").mkdir()
    tool("xgettext")  # what makemessages runs
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-d", "django", "-l", "en", "--no-location"],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return msgids(directory / "locale" / "en" / "LC_MESSAGES" / "django.po")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_is_complete_and_well_formed(language):
    """msgfmt --check: placeholders, plural forms and the header agree; nothing untranslated or fuzzy."""
    result = subprocess.run(
        [tool("msgfmt"), "--check", "--statistics", "-o", "/dev/null", str(catalog(language))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip()
    assert re.fullmatch(r"\d+ translated messages\.", statistics), statistics  # no "fuzzy", no "untranslated"


def test_a_fresh_extraction_finds_nothing_missing_from_any_catalog(tmp_path):
    """makemessages over a copy of the package: every string marked for translation is in every catalog."""
    copy = tmp_path / "tailored_cms"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "static", "__pycache__"))
    extracted = extract_msgids(copy)
    assert len(extracted) > 100  # the extraction ran over the package
    for language in LANGUAGES:
        missing = extracted - msgids(catalog(language))
        assert not missing, f"{language}: not in the catalog (run makemessages and translate): {sorted(missing)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_files_are_compiled_from_the_po_files(language, tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run([tool("msgfmt"), "-o", str(compiled), str(catalog(language))], check=True)
    with compiled.open("rb") as fresh, catalog(language).with_suffix(".mo").open("rb") as shipped:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]


@pytest.fixture
def languages(settings):
    """The site offers the shipped languages; English stays the default."""
    settings.LANGUAGES = SITE_LANGUAGES
    settings.LANGUAGE_CODE = "en"


def refused_choices(language: str | None):
    """A PATCH of an unknown theme and topic, from a new browser sending ``Accept-Language: language``."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    url = "/tailored/api/v1/preferences/"
    token = client.get(url).cookies["csrftoken"].value
    body = '{"theme": "sepia", "topics": ["nope"]}'
    return client.patch(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)


@pytest.mark.django_db
def test_a_400_of_the_api_speaks_the_requests_language(languages):
    spanish = refused_choices("es")
    assert spanish.status_code == 400
    assert spanish["Content-Language"] == "es"
    assert spanish.json()["theme"] == [
        "Apariencia desconocida 'sepia'. Apariencias válidas: light, dark, high-contrast."
    ]
    assert spanish.json()["topics"] == ["Tema(s) desconocido(s): nope. Temas válidos: (ninguno definido todavía)."]
    english = refused_choices(None)
    assert english["Content-Language"] == "en"
    assert english.json()["theme"] == ["Unknown theme 'sepia'. Valid themes: light, dark, high-contrast."]


@pytest.mark.django_db
def test_the_preferences_page_speaks_italian(languages):
    api.create_topic("sports", "Sports")
    html = Client().get("/tailored/preferences/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert '<html lang="it">' in html
    for words in ("Le Sue preferenze", "Chiaro", "Alto contrasto", "Due colonne", "Salva", "Consenti", "No, grazie"):
        assert words in html
    for words in ("Your preferences", "High contrast", "Save", "No thanks"):
        assert words not in html
