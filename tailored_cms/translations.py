"""What editors type, in the visitor's language: topics' and segments' names and descriptions are translated with
django-parler (a translation table per model, a row per language).

``NamedQuerySet.names()`` is the one way to read them: ``{slug: name}`` in a language, else its generic language
(``es`` for ``es-mx``), else its fallback (the site's default language), else any language the editor wrote, else
the slug. ``configure_languages`` gives parler
the site's languages when the site sets no ``PARLER_LANGUAGES``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.utils.translation import get_language
from parler import appsettings
from parler.managers import TranslatableManager, TranslatableQuerySet
from parler.utils.conf import add_default_language_settings

__all__ = [
    "NamedManager",
    "NamedQuerySet",
    "by_name",
    "configure_languages",
    "pick_translations",
    "preferred_languages",
]

K = TypeVar("K", bound=Hashable)


def configure_languages() -> None:
    """Unless the site sets ``PARLER_LANGUAGES``: per site, the languages django CMS serves (``CMS_LANGUAGES``, or
    ``LANGUAGES`` for ``SITE_ID``), each falling back to ``LANGUAGE_CODE``. The admin shows a tab for each."""
    if hasattr(settings, "PARLER_LANGUAGES"):
        return
    from cms.utils.conf import get_cms_setting

    default = settings.LANGUAGE_CODE
    sites: dict[Any, Any] = {
        site: [{"code": language["code"]} for language in languages]
        for site, languages in get_cms_setting("LANGUAGES").items()
        if isinstance(site, int)
    }
    sites["default"] = {"code": default, "fallbacks": [default], "hide_untranslated": False}
    appsettings.PARLER_LANGUAGES = add_default_language_settings(sites)


def preferred_languages(language: str | None = None) -> list[str]:
    """``language`` (the current one if None), its generic language (``es`` for ``es-mx``, as Django's own
    catalogs fall back), then its fallbacks."""
    language = language or get_language() or settings.LANGUAGE_CODE
    fallbacks = appsettings.PARLER_LANGUAGES.get_fallback_languages(language)
    return list(dict.fromkeys([language, language.split("-")[0], *fallbacks]))


def pick_translations(rows: Iterable[tuple[K, str | None, str | None]], language: str | None = None) -> dict[K, str]:
    """``{key: text}`` from ``(key, language_code, text)`` rows: the text in the first of ``preferred_languages``
    written, else in any language; ``""`` for a key without any. Keys keep the order of their first row."""
    rank = {code: number for number, code in enumerate(preferred_languages(language))}
    best: dict[K, tuple[int, str]] = {}
    for key, code, text in rows:
        score = rank.get(code or "", len(rank)) if text else len(rank) + 1
        if key not in best or score < best[key][0]:
            best[key] = (score, text or "")
    return {key: text for key, (_score, text) in best.items()}


def by_name(names: dict[str, str]) -> dict[str, str]:
    """``names`` (``{slug: name}``) in alphabetical order of the names, then slugs."""
    return dict(sorted(names.items(), key=lambda item: (item[1].casefold(), item[0])))


class NamedQuerySet(TranslatableQuerySet):
    """Objects with a ``slug`` and translated ``name`` and ``description``."""

    def names(self, language: str | None = None) -> dict[str, str]:
        """``{slug: name}`` in ``language`` (the current one if None) or its fallback; the slug if none is written.
        In the queryset's order. Cost: one query."""
        return {slug: name or slug for slug, name in self._translated("name", language).items()}

    def descriptions(self, language: str | None = None) -> dict[str, str]:
        """``{slug: description}`` as ``names`` picks them (``""`` if none is written). Cost: one query."""
        return self._translated("description", language)

    def _translated(self, field: str, language: str | None) -> dict[str, str]:
        rows = self.values_list("slug", "translations__language_code", f"translations__{field}")
        return pick_translations(rows, language)


NamedManager = TranslatableManager.from_queryset(NamedQuerySet)
