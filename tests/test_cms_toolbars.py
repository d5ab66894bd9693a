"""The toolbar on sites that don't route tailored_cms's URLs everywhere, and toolbars populated twice (as django
CMS's own test suite does): what `make test-cms` found."""

from __future__ import annotations

import logging

import pytest
from cms.api import create_page
from cms.toolbar.items import ModalItem
from cms.toolbar.toolbar import CMSToolbar
from cms.toolbar.utils import get_object_edit_url
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.test import Client, RequestFactory
from django.urls import include, path

pytestmark = pytest.mark.django_db

# A site's urlconf without tailored_cms.urls (this module is ROOT_URLCONF in the tests that set it).
urlpatterns = [path("admin/", admin.site.urls), path("", include("cms.urls"))]


@pytest.fixture
def page():
    return create_page("Home", "page.html", "en", slug="home")


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "x")


def test_a_urlconf_without_tailored_cms_urls_is_an_error_of_the_checks(settings):
    assert "tailored_cms.E018" not in {m.id for m in run_checks()}
    settings.ROOT_URLCONF = __name__
    errors = [m for m in run_checks() if m.id == "tailored_cms.E018"]
    assert len(errors) == 1 and "tailored_cms.urls" in errors[0].hint


def test_without_tailored_cms_urls_the_toolbar_leaves_the_tailoring_menu_out(settings, page, superuser, caplog):
    settings.ROOT_URLCONF = __name__
    client = Client()
    client.force_login(superuser)
    with caplog.at_level(logging.WARNING, logger="tailored_cms.cms_toolbars"):
        response = client.get(get_object_edit_url(page.get_content_obj("en")))
    assert response.status_code == 200  # it was a 500 (NoReverseMatch) for every editor
    assert "Tailoring" not in response.content.decode()
    assert any("does not include tailored_cms.urls" in record.getMessage() for record in caplog.records)


def test_with_them_the_menu_is_there(page, superuser):
    client = Client()
    client.force_login(superuser)
    response = client.get(get_object_edit_url(page.get_content_obj("en")))
    assert response.status_code == 200 and "Tailoring" in response.content.decode()


def _topics_entries(toolbar: CMSToolbar) -> list:
    return [
        result.item
        for menu in toolbar.menus.values()
        for result in menu.find_items(ModalItem)
        if "pagetopics" in result.item.url
    ]


def test_populating_twice_adds_the_topics_entry_once_and_only_to_the_page_menu(page, superuser):
    content = page.get_content_obj("en")
    request = RequestFactory().get(get_object_edit_url(content))
    request.user = superuser
    request.session = {}
    request.current_page = page
    toolbar = request.toolbar = CMSToolbar(request)
    toolbar.set_object(content)
    for _ in range(2):
        toolbar.populated = False
        toolbar.populate()
    assert len(_topics_entries(toolbar)) == 1
    assert all(menu.name for menu in toolbar.menus.values())  # no nameless menu of ours


def test_without_a_page_menu_of_django_cms_there_is_no_topics_entry(page, superuser):
    # django CMS makes its Page menu only for the request's page: the object alone doesn't make one.
    content = page.get_content_obj("en")
    request = RequestFactory().get(get_object_edit_url(content))
    request.user = superuser
    request.session = {}
    request.current_page = None
    toolbar = request.toolbar = CMSToolbar(request)
    toolbar.set_object(content)
    toolbar.populate()
    assert _topics_entries(toolbar) == []
    assert all(menu.name for menu in toolbar.menus.values())
