"""The site's languages (``settings.LANGUAGES``): which codes the ``language`` rule and results by language
accept, what each is called in the reader's language, and the language of the current page.

A code is one of ``LANGUAGES`` as the setting spells it; a variant the site doesn't list (``es-ar``) is taken
as its generic language when the site lists that (``es``). Anything else is no language of the site: ``""``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.translation import get_language, get_language_info, gettext

__all__ = ["current_language", "language_name", "site_language", "site_languages"]

_codes: dict[str, str] | None = None  # lower-case code -> the setting's code; rebuilt when LANGUAGES changes


def site_languages() -> list[str]:
    """The codes of ``LANGUAGES``, in the setting's order."""
    return [str(code) for code, _name in settings.LANGUAGES]


def site_language(value: Any) -> str:
    """``value`` as one of the site's language codes, or ``""`` if it names none. No I/O (a dict lookup)."""
    global _codes
    if not isinstance(value, str) or not value or len(value) > 15:
        return ""
    if _codes is None:
        _codes = {code.lower(): code for code in site_languages()}
    code = value.lower().replace("_", "-")
    return _codes.get(code) or _codes.get(code.split("-", 1)[0], "")


def current_language() -> str:
    """The language of the page being served, as one of the site's codes: the one LocaleMiddleware or django CMS
    activated for the request (``""`` if that is none of ``LANGUAGES``). No I/O."""
    return site_language(get_language())


# Languages that write the names of languages in lower case inside a sentence ("legge in spagnolo").
_LOWER_CASE_NAMES = frozenset(
    (
        "bg",
        "ca",
        "cs",
        "da",
        "es",
        "et",
        "fi",
        "fr",
        "hr",
        "hu",
        "it",
        "lt",
        "lv",
        "nb",
        "nn",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sr",
        "sv",
        "uk",
    )
)


def language_name(code: str, *, in_sentence: bool = False) -> str:
    """The language's name in the active language ("Spagnolo" for ``es`` in Italian); the setting's name for a
    language Django doesn't know. ``in_sentence``: as written inside a sentence ("spagnolo" in Italian, still
    "Spanisch" in German)."""
    try:
        name = str(get_language_info(code)["name_translated"])
    except KeyError:
        name = gettext(str(dict(settings.LANGUAGES).get(code, code)))
    reader = (get_language() or "").split("-", 1)[0].lower()
    if in_sentence and reader in _LOWER_CASE_NAMES:
        return name[:1].lower() + name[1:]
    return name


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    global _codes
    if setting == "LANGUAGES":
        _codes = None


setting_changed.connect(_on_setting_changed)
