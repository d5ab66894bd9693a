from __future__ import annotations

from collections.abc import Callable

import pytest
from cms.api import add_plugin, create_page
from cms.models import Page, Placeholder
from django.http import HttpResponse
from django.test import Client

from tailored_cms.conf import tailored_settings
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor


def placeholder(page: Page, slot: str, language: str = "en") -> Placeholder:
    return page.get_content_obj(language).get_placeholders().get(slot=slot)


def text(target_placeholder: Placeholder, body: str, target=None):
    return add_plugin(target_placeholder, "TextPlugin", "en", target=target, body=body)


@pytest.fixture
def make_page(db) -> Callable[..., Page]:
    def make(title: str = "Tailored", template: str = "page.html", slug: str | None = None, **kwargs) -> Page:
        return create_page(title, template, "en", slug=slug, **kwargs)

    return make


@pytest.fixture
def visitor_client(db) -> Callable[..., Client]:
    """A test client whose visitor cookie names a saved visitor with these choices."""

    def make(**choices) -> Client:
        visitor = Visitor.objects.create(**choices)
        response = HttpResponse()
        set_visitor_cookie(response, str(visitor.pk))
        client = Client()
        client.cookies[tailored_settings.COOKIE_NAME] = response.cookies[tailored_settings.COOKIE_NAME].value
        return client

    return make
