"""The hook that makes django CMS's page cache vary for ``{% tailored_body_attrs %}`` (areas/page_cache.py).

These tests talk to ``cms.cache.page`` directly: if django CMS changes how ``set_page_cache`` collects vary
headers (``toolbar.content_renderer.get_rendered_placeholders()`` → ``get_vary_cache_on`` /
``get_cache_expiration``), they fail here rather than as a theme leaking between visitors in production.
"""

from __future__ import annotations

import pytest
from cms.cache import _get_cache_version
from cms.cache.page import _page_vary_headers_cache_key, get_page_cache, set_page_cache
from cms.constants import MAX_EXPIRATION_TTL
from cms.middleware.toolbar import ToolbarMiddleware
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.timezone import now

from tailored_cms.areas.page_cache import PageVary, vary_page_cache_on
from tailored_cms.conf import tailored_settings
from tailored_cms.headers import meta_key

pytestmark = pytest.mark.django_db

HEADER = tailored_settings.VARY_HEADER


def cms_request(variant_key: str = "aaa", user=None):
    request = RequestFactory().get("/plain/")
    request.user = user or AnonymousUser()
    request.LANGUAGE_CODE = "en"
    request.META[meta_key(HEADER)] = variant_key
    ToolbarMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


def cached_response(request, content: bytes) -> HttpResponse:
    response = HttpResponse(content)
    response._request = request  # what TemplateResponse's post-render callback receives
    return set_page_cache(response)


def test_set_page_cache_keys_the_page_on_the_header_the_hook_declares():
    dark = cms_request("dark-key")
    vary_page_cache_on(dark, HEADER)
    response = cached_response(dark, b"dark page")
    assert cache.get(_page_vary_headers_cache_key(dark), version=_get_cache_version()) == [HEADER.lower()]
    assert HEADER.lower() in response["Vary"].lower()
    assert get_page_cache(cms_request("dark-key"))[0] == b"dark page"
    assert get_page_cache(cms_request("light-key")) is None  # another tailoring: a miss, not the dark page


def test_without_the_hook_the_page_cache_would_serve_one_page_to_everyone():
    """The problem the hook solves; if this fails, django CMS varies on its own and the hook may go."""
    cached_response(cms_request("dark-key"), b"dark page")
    assert get_page_cache(cms_request("light-key"))[0] == b"dark page"


def test_the_hook_adds_one_stand_in_that_never_shortens_the_ttl():
    request = cms_request()
    renderer = request.toolbar.content_renderer
    before = renderer.get_rendered_placeholders()
    vary_page_cache_on(request, HEADER)
    vary_page_cache_on(request, HEADER, "X-Other")
    rendered = renderer.get_rendered_placeholders()
    assert rendered[: len(before)] == before and len(rendered) == len(before) + 1
    stand_in = rendered[-1]
    assert isinstance(stand_in, PageVary)
    assert stand_in.get_vary_cache_on(request) == sorted([HEADER.lower(), "x-other"])
    assert stand_in.get_cache_expiration(request, now()) == MAX_EXPIRATION_TTL


def test_the_hook_stays_out_of_signed_in_requests_and_requests_without_a_toolbar(django_user_model):
    user = django_user_model.objects.create_user("someone")
    signed_in = cms_request(user=user)
    vary_page_cache_on(signed_in, HEADER)
    assert not any(isinstance(p, PageVary) for p in signed_in.toolbar.content_renderer.get_rendered_placeholders())
    bare = RequestFactory().get("/")
    bare.user = AnonymousUser()
    vary_page_cache_on(bare, HEADER)  # no toolbar, no page cache: nothing to do, no error
