"""The CMS pages of a batch's page views, found as django CMS resolves a path: page views of paths that are no CMS
page are not counted (nothing to tailor there)."""

from __future__ import annotations

import contextlib
import functools
from collections import defaultdict
from collections.abc import Sequence

from cms.models import PageUrl
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation

from ..stream import TrackedEvent
from .interpretation import Item

__all__ = ["Pages", "page_path", "page_roots"]


class Pages:
    """The CMS pages of a batch's page views. Cost: at most one query, for the whole batch."""

    def __init__(self, items: Sequence[Item]) -> None:
        self.by_path: dict[str, int | None] = {}
        candidates: dict[str, tuple[str, frozenset[str]]] = {}
        roots = page_roots()
        for item in items:
            path = item.event.path
            if item.event.page_id is None and path and path not in candidates:
                found = page_path(path, roots)
                if found is not None:
                    candidates[path] = found
        if candidates:
            urls = PageUrl.objects.filter(path__in={slug for slug, _ in candidates.values()})
            if getattr(settings, "SITE_ID", None):
                urls = urls.filter(site_id=settings.SITE_ID)
            by_language: dict[tuple[str, str], int] = {}
            any_language: dict[str, int] = {}
            for url_path, language, page_id in urls.values_list("path", "language", "page_id"):
                by_language[(url_path, language)] = page_id
                any_language.setdefault(url_path, page_id)
            for path, (slug, languages) in candidates.items():
                page_id = next((by_language[(slug, lang)] for lang in languages if (slug, lang) in by_language), None)
                self.by_path[path] = page_id if page_id is not None else any_language.get(slug)

    def page_of(self, event: TrackedEvent) -> int | None:
        if event.page_id is not None:
            return event.page_id
        return self.by_path.get(event.path)


def page_roots() -> tuple[tuple[str, frozenset[str]], ...]:
    """django CMS's root URL per language (``/`` or ``/en/``…), longest first. Cost: no I/O; reversing is slow
    enough to matter in a batch, so it is done once per urlconf, script prefix and languages."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _roots(urlconf, get_script_prefix(), settings.LANGUAGE_CODE, tuple(settings.LANGUAGES))


@functools.lru_cache(maxsize=16)
def _roots(
    urlconf: str, script_prefix: str, language_code: str, languages: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, frozenset[str]], ...]:
    roots: dict[str, set[str]] = defaultdict(set)
    for code, _name in languages:
        with translation.override(code), contextlib.suppress(NoReverseMatch):
            roots[reverse("pages-root", urlconf=urlconf)].add(code)
    return tuple(sorted(((root, frozenset(codes)) for root, codes in roots.items()), key=lambda r: -len(r[0])))


def page_path(path: str, roots: Sequence[tuple[str, frozenset[str]]]) -> tuple[str, frozenset[str]] | None:
    """(PageUrl.path, languages) for a request path, as django CMS resolves it; None outside the CMS."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    for root, languages in roots:
        if path.startswith(root):
            return path[len(root) :].rstrip("/"), languages
        if path + "/" == root:
            return "", languages
    return None
