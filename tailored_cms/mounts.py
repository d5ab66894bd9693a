"""Where the site mounts tailored_cms's URLs, reversed once per urlconf, script prefix and language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

__all__ = ["api_root"]

# Where the API is mounted, per (urlconf, script prefix, language): reversed once, then a dict lookup. Every page
# asks twice (body attributes, beacon), and a reverse() costs more than the rest of those tags.
_api_roots: dict[tuple[str, str, str], str] = {}


def api_root() -> str:
    """Where the site mounts the REST API (``/tailored/api/v1/`` as the README installs it); ``""`` if nowhere."""
    cache_key = (str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix(), get_language() or "")
    root = _api_roots.get(cache_key)
    if root is None:
        try:
            root = reverse("tailored_cms:api:preferences").removesuffix("preferences/")
        except NoReverseMatch:
            root = ""
        _api_roots[cache_key] = root
    return root


def _forget_api_roots(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _api_roots.clear()


setting_changed.connect(_forget_api_roots)
