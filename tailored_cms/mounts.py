"""Where the site mounts tailored_cms's URLs, reversed once per urlconf, script prefix and language; and the
scripts' catalog's version, which its URL carries."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

__all__ = ["api_root", "catalog_version", "script_catalog_dirs", "script_catalog_url"]

# Where the API is mounted, per (urlconf, script prefix, language): reversed once, then a dict lookup. Every page
# asks twice (body attributes, beacon), and a reverse() costs more than the rest of those tags.
_api_roots: dict[tuple[str, str, str], str] = {}


def api_root() -> str:
    """Where the site mounts the REST API (``/tailored/api/v1/`` as the install docs have it); ``""`` if nowhere."""
    cache_key = (str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix(), get_language() or "")
    root = _api_roots.get(cache_key)
    if root is None:
        try:
            root = reverse("tailored_cms:api:preferences").removesuffix("preferences/")
        except NoReverseMatch:
            root = ""
        _api_roots[cache_key] = root
    return root


# The scripts' catalog of each language, per (urlconf, script prefix, language): asked by every page with a panel,
# a banner or "Why am I seeing this?", so reversed once like the API's root.
_catalog_urls: dict[tuple[str, str, str], str] = {}


def script_catalog_url() -> str:
    """Where the scripts' translations for the current language are (``/tailored/jsi18n/es/?v=<version>``);
    ``""`` if the site mounts no tailored_cms URLs (the scripts then speak English)."""
    language = get_language() or settings.LANGUAGE_CODE
    cache_key = (str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix(), language)
    url = _catalog_urls.get(cache_key)
    if url is None:
        try:
            url = f"{reverse('tailored_cms:jsi18n', args=[language])}?v={catalog_version()}"
        except NoReverseMatch:
            url = ""
        _catalog_urls[cache_key] = url
    return url


def script_catalog_dirs() -> list[Path]:
    """Where the scripts' ``djangojs`` catalogs are read from: tailored_cms's own, then the site's ``LOCALE_PATHS``
    (a site adds a language, or rewords one of ours, with a catalog of its own there)."""
    return [Path(__file__).resolve().parent / "locale", *(Path(path) for path in settings.LOCALE_PATHS)]


@functools.cache
def catalog_version() -> str:
    """A digest of every compiled ``djangojs`` catalog the catalog view reads, and of Django's version (its script's
    code): it changes whenever the view's answer may, so a versioned URL names exactly one answer."""
    digest = hashlib.sha256(django.get_version().encode())
    for directory in script_catalog_dirs():
        for compiled in sorted(directory.glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(str(compiled.relative_to(directory)).encode())
            digest.update(compiled.read_bytes())
    return digest.hexdigest()[:12]


def _forget_api_roots(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _api_roots.clear()
        _catalog_urls.clear()
    elif setting == "LOCALE_PATHS":
        catalog_version.cache_clear()
        _catalog_urls.clear()


setting_changed.connect(_forget_api_roots)
