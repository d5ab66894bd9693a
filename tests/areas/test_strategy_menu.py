"""An area's strategy, switched from its menu in structure mode (``editors/strategy.py``)."""

from __future__ import annotations

import html
import json
import re
import threading

import pytest
from cms.toolbar.utils import get_object_structure_url
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea

from ..threads import post_in_thread
from ..tracking.conftest import shared_db  # noqa: F401 -- fixture
from .conftest import placeholder, text

pytestmark = pytest.mark.django_db
WAIT = 0.5  # seconds the other editor's save stays open with the switch waiting on it


@pytest.fixture
def area_page(make_page):
    api.create_topic("sports")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Hero", strategy="customization")
    text(ph, "<p>SPORTS</p>", target=api.add_variant(area, label="Sports fans", topics=["sports"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page


@pytest.fixture
def area(area_page) -> TailoredArea:
    return TailoredArea.objects.get()


def url(area: TailoredArea) -> str:
    return reverse("tailored_cms:area_strategy", args=[area.pk])


def staff(username: str, *codenames: str) -> Client:
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def menu_items(client: Client, page) -> dict[str, str]:
    """The structure board's extra menu entries: label → the JSON each POSTs."""
    board = client.get(get_object_structure_url(page.get_content_obj("en"))).content.decode()
    found = re.findall(r'<a href="([^"]*)" data-rel="ajax" data-post="([^"]*)"[^>]*>([^<]*)</a>', board)
    items = {label: json.loads(html.unescape(post)) for _href, post, label in found}
    for data in items.values():
        assert data.pop("csrfmiddlewaretoken")  # django CMS posts the data as it is
    return items


def test_the_areas_menu_offers_every_other_strategy(area_page, admin_client):
    items = menu_items(admin_client, area_page)
    assert items == {
        "Strategy: Static": {"strategy": "static"},
        "Strategy: Personalization": {"strategy": "personalization"},
        "Strategy: Hybrid": {"strategy": "hybrid"},
        "Strategy: Optimize": {"strategy": "optimize"},
        "Strategy: Experiment": {"strategy": "experiment"},
    }  # not the one it has, and only once: the variants' menus have none


def test_choosing_one_switches_what_visitors_see(area_page, area, admin_client, visitor_client):
    fan = visitor_client(topics=["sports"])
    assert "SPORTS" in fan.get(area_page.get_absolute_url()).content.decode()

    response = admin_client.post(url(area), {"strategy": "static"})

    assert response.status_code == 200 and response.json() == {"id": area.pk, "strategy": "static"}
    area.refresh_from_db()
    assert area.strategy == "static"
    page = fan.get(area_page.get_absolute_url()).content.decode()
    assert "EVERYONE" in page and "SPORTS" not in page
    assert "Strategy: Customization" in menu_items(admin_client, area_page)
    assert LogEntry.objects.filter(object_id=str(area_page.pk)).exists()  # the page's history says it changed


def test_editors_without_the_plugin_permission_get_no_menu_and_a_403(area_page, area):
    viewer = staff("viewer", "change_page", "view_page")
    assert menu_items(viewer, area_page) == {}
    response = viewer.post(url(area), {"strategy": "static"})
    assert response.status_code == 403 and "may not change this tailored area" in response.content.decode()
    area.refresh_from_db()
    assert area.strategy == "customization"


def test_visitors_get_a_403_and_nothing_changes(area, client):
    assert client.post(url(area), {"strategy": "static"}).status_code == 403
    area.refresh_from_db()
    assert area.strategy == "customization"


def test_an_unknown_strategy_is_a_400_naming_the_choices(area, admin_client):
    response = admin_client.post(url(area), {"strategy": "everything"})
    assert response.status_code == 400
    assert (
        "Unknown strategy 'everything'" in response.content.decode() and "personalization" in response.content.decode()
    )
    area.refresh_from_db()
    assert area.strategy == "customization"


def test_it_takes_a_post_with_the_csrf_token(area, django_user_model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.com", "pw"))
    assert client.get(url(area), {"strategy": "static"}).status_code == 405
    assert client.post(url(area), {"strategy": "static"}).status_code == 403
    area.refresh_from_db()
    assert area.strategy == "customization"


def test_another_plugins_id_is_a_404(area, admin_client):
    variant = area.get_descendants().first()
    assert (
        admin_client.post(reverse("tailored_cms:area_strategy", args=[variant.pk]), {"strategy": "static"}).status_code
        == 404
    )


def test_an_editor_with_the_plugin_and_page_permissions_may(area_page, area):
    editor = staff("editor", "change_page", "change_tailoredarea")
    assert "Strategy: Hybrid" in menu_items(editor, area_page)
    assert editor.post(url(area), {"strategy": "hybrid"}).status_code == 200
    area.refresh_from_db()
    assert area.strategy == "hybrid"


@pytest.mark.usefixtures("shared_db")
def test_switching_while_another_editor_saves_the_area_keeps_both_changes(area, admin_client):
    """Run for real: another editor's save of the area is open (its row locked) while the switch is posted from
    another thread; the switch waits for it and then writes over none of it (on PostgreSQL, it used to write back
    the settings it had read before it waited: the other editor's new label was lost)."""
    answers: list[object] = []
    to_static = {"strategy": "static"}
    switch = threading.Thread(target=lambda: answers.append(post_in_thread(admin_client, url(area), to_static)))
    with transaction.atomic():
        renamed = TailoredArea.objects.get(pk=area.pk)
        renamed.label = "Main hero"
        renamed.save()
        switch.start()
        switch.join(WAIT)
        assert switch.is_alive(), "the strategy changed while another editor's save held the area"
    switch.join(30)
    assert answers == [200]
    area.refresh_from_db()
    assert (area.label, area.strategy) == ("Main hero", "static")
