"""Admin: the site-wide list of tailored areas, topics, visitors (read-only), page topics from the toolbar."""

from __future__ import annotations

import pytest
from cms.toolbar.utils import get_object_edit_url
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea
from tailored_cms.visitors.models import Topic, Visitor
from tailored_cms.widgets.models import PageTopics

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:tailored_cms_tailoredarea_changelist"


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


def add_areas(make_page, count: int, prefix: str = "Page") -> list[TailoredArea]:
    areas = []
    for i in range(count):
        page = make_page(f"{prefix} {i}", slug=f"{prefix.lower()}-{i}")
        area = api.add_area(placeholder(page, "content"), label=f"Area {prefix} {i}")
        api.add_variant(area, label="Everyone", fallback=True)
        areas.append(area)
    return areas


def test_the_list_shows_every_area_with_its_page_placeholder_and_strategy(admin_client, make_page):
    area = add_areas(make_page, 1, "Home")[0]
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Area Home 0" in html and "Home 0" in html and ">content<" in html
    assert get_object_edit_url(area.placeholder.source) in html
    assert 'name="form-0-strategy"' in html  # editable from the list


def test_the_list_costs_the_same_queries_for_1_and_20_areas(admin_client, make_page):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(queries)

    add_areas(make_page, 1, "A")
    count()  # warms process-wide caches
    one = count()
    add_areas(make_page, 19, "B")
    assert count() == one, one


def test_filter_by_strategy_and_by_page(admin_client, make_page):
    first, second = add_areas(make_page, 2)
    second.strategy = "static"
    second.save()
    by_strategy = admin_client.get(reverse(CHANGELIST), {"strategy": "static"}).content.decode()
    assert "Area Page 1" in by_strategy and "Area Page 0" not in by_strategy
    page_id = first.placeholder.source.page_id
    by_page = admin_client.get(reverse(CHANGELIST), {"page": page_id}).content.decode()
    assert "Area Page 0" in by_page and "Area Page 1" not in by_page


def test_changing_the_strategy_from_the_list_takes_effect_on_cached_pages(admin_client, make_page, visitor_client):
    api.create_topic("sports")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph)
    text(ph, "<p>SPORTS</p>", target=api.add_variant(area, label="Sports", topics=["sports"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    fan = visitor_client(topics=["sports"])
    assert "SPORTS" in fan.get(page.get_absolute_url()).content.decode()  # now cached

    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(area.pk),
            "form-0-strategy": "static",
            "form-0-max_items": "1",
            "form-0-holdout_percent": "0",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TailoredArea.objects.get(pk=area.pk).strategy == "static"
    html = fan.get(page.get_absolute_url()).content.decode()
    assert "EVERYONE" in html and "SPORTS" not in html


def test_areas_cannot_be_added_or_deleted_from_the_admin(admin_client, make_page):
    area = add_areas(make_page, 1)[0]
    assert admin_client.get(reverse("admin:tailored_cms_tailoredarea_add")).status_code == 403
    delete = reverse("admin:tailored_cms_tailoredarea_delete", args=[area.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


def test_editors_manage_topics(admin_client):
    response = admin_client.post(
        reverse("admin:tailored_cms_topic_add"), {"name": "Sports", "slug": "sports", "position": "1"}
    )
    assert response.status_code == 302
    assert Topic.objects.get().slug == "sports"
    assert "Sports" in admin_client.get(reverse("admin:tailored_cms_topic_changelist")).content.decode()


def test_visitors_are_read_only(admin_client):
    visitor = Visitor.objects.create(theme="dark", topics=["sports"])
    assert admin_client.get(reverse("admin:tailored_cms_visitor_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:tailored_cms_visitor_change", args=[visitor.pk])).status_code == 200
    assert admin_client.get(reverse("admin:tailored_cms_visitor_add")).status_code == 403
    change = reverse("admin:tailored_cms_visitor_change", args=[visitor.pk])
    admin_client.post(change, {"theme": "light"})
    visitor.refresh_from_db()
    assert visitor.theme == "dark"
    searched = admin_client.get(reverse("admin:tailored_cms_visitor_changelist"), {"q": "not-a-uuid"})
    assert searched.status_code == 200


def test_page_topics_are_edited_from_the_page_menu_of_the_toolbar(admin_client, make_page):
    api.create_topic("sports")
    api.create_topic("cooking")
    page = make_page("Home", slug="home")
    add_url = reverse("admin:tailored_cms_pagetopics_add") + f"?extended_object={page.pk}"
    html = admin_client.get(get_object_edit_url(page.get_content_obj("en"))).content.decode()
    assert add_url in html and "Topics" in html

    sports = Topic.objects.get(slug="sports")
    response = admin_client.post(add_url, {"topics": [str(sports.pk)]})
    assert response.status_code == 302
    assert list(PageTopics.objects.get(extended_object=page).topics.values_list("slug", flat=True)) == ["sports"]
    # Now the toolbar links to the change form.
    extension = PageTopics.objects.get(extended_object=page)
    html = admin_client.get(get_object_edit_url(page.get_content_obj("en"))).content.decode()
    assert reverse("admin:tailored_cms_pagetopics_change", args=[extension.pk]) in html
