"""The scripts' translations: Django's JavaScript catalog of the ``djangojs`` domain, one URL per language.

customize.js, privacy.js and segment_builder.js write their texts through ``gettext``/``interpolate``; this view
defines those functions with tailored_cms's catalog for the language its URL names. It is a separate, external
script (a strict ``script-src 'self'`` keeps working) and the same bytes for everyone who reads that language,
so browsers and shared caches keep one copy per language.

Pages link it with the catalogs' version (``?v=…``, a digest of the compiled ``djangojs`` files): a versioned URL
names exactly one catalog and is kept for a year; after an upgrade pages link a new URL. Without the version, or
with an old one (a page cached before the upgrade), the answer is kept for an hour.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_supported_language_variant, override
from django.views.i18n import JavaScriptCatalog

from .mounts import catalog_version, script_catalog_dirs

# How long a browser or a shared cache may keep a language's catalog: for good at its version's URL, briefly else.
VERSIONED_MAX_AGE = 365 * 24 * 60 * 60
UNVERSIONED_MAX_AGE = 60 * 60


class SharedResponse(HttpResponse):
    """A response that is the same for every visitor: it takes no cookie.

    Middleware sets cookies on any response it sees (django CMS's language cookie goes on every response to a
    request without one); on this one a cookie would make the catalog one browser's, uncacheable by shared caches.
    """

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None


class ScriptCatalogView(JavaScriptCatalog):
    """``gettext``, ``ngettext``, ``interpolate`` … with tailored_cms's script strings in ``language``."""

    domain = "djangojs"
    packages = ["tailored_cms"]

    def get_paths(self, packages: list[str]) -> list[str]:
        """tailored_cms's catalogs, then the site's ``LOCALE_PATHS``: a site adds a language (or rewords one of
        ours) with a ``djangojs`` catalog of its own there."""
        return [str(directory) for directory in script_catalog_dirs()]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = kwargs.pop("language")
        try:
            supported = get_supported_language_variant(language)
        except LookupError:
            raise Http404("No such language on this site.") from None
        _answer_as_to_anyone(request)
        # The URL names the language, not the visitor's cookie or Accept-Language: one copy per language.
        with override(supported):
            catalog = super().get(request, *args, **kwargs)
        response = SharedResponse(catalog.content, content_type=catalog["Content-Type"])
        response["Content-Language"] = language
        if request.GET.get("v") == catalog_version():
            patch_cache_control(response, public=True, max_age=VERSIONED_MAX_AGE, immutable=True)
        else:
            patch_cache_control(response, public=True, max_age=UNVERSIONED_MAX_AGE)
        return response


def _answer_as_to_anyone(request: HttpRequest) -> None:
    """Keep the session from marking the catalog ``Vary: Cookie``: it depends on no session or user.

    The middleware before the view read the session (an editor's preview), and what runs after it would read
    the user (django CMS's toolbar reads ``request.user``); neither changes this answer.
    """
    request.user = AnonymousUser()
    session = getattr(request, "session", None)
    if session is not None:
        session.accessed = False


script_catalog = ScriptCatalogView.as_view()
