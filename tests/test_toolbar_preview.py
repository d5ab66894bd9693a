"""The CMS toolbar's "Tailoring" menu and preview as any visitor: who gets them, what the form accepts, what a
preview shows, and that it never reaches other visitors, django CMS's caches or the event stream."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
import redis
from cms.api import add_plugin, create_page
from cms.toolbar.utils import get_object_edit_url, get_object_preview_url
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory

from tailored_cms import api
from tailored_cms.conf import tailored_settings
from tailored_cms.editors.preview import SESSION_KEY, preview_context
from tailored_cms.tracking.stream import stream_key
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

pytestmark = pytest.mark.django_db

PREVIEW_URL = "/tailored/preview/"
STOP_URL = "/tailored/preview/stop/"


@pytest.fixture
def page(db, django_capture_on_commit_callbacks):
    """A page whose hero shows regulars, sports fans and holdouts different things (the CMS caches are on)."""
    api.create_topic("sports", "Sports")
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("regulars", "Regulars", rules={"all": [{"rule": "visit_count", "min": 3}]})
    page = create_page("Home", "page.html", "en", slug="home")
    ph = page.get_content_obj("en").get_placeholders().get(slot="content")
    area = api.add_area(ph, strategy="hybrid", label="Hero", holdout_percent=5)
    for label, text, targeting in (
        ("Regulars", "REGULARS", {"segments": ["regulars"]}),
        ("Sports fans", "SPORTS", {"topics": ["sports"]}),
        ("Everyone", "EVERYONE", {"fallback": True}),
    ):
        add_plugin(
            ph, "TextPlugin", "en", target=api.add_variant(area, label=label, **targeting), body=f"<p>{text}</p>"
        )
    return page


def staff(username: str, *codenames: str) -> Client:
    """A signed-in staff member (not a superuser) with these permissions of the app."""
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="tailored_cms", codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor() -> Client:
    return staff("editor", "preview_tailoring")


def shown(client: Client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return {word for word in ("REGULARS", "SPORTS", "EVERYONE") if f"<p>{word}" in html}


def preview(client: Client, url: str, **choices) -> None:
    response = client.post(PREVIEW_URL, {**choices, "next": url})
    assert response.status_code == 302 and response["Location"] == url, response.content.decode()[:500]


# The menu


def test_staff_who_may_preview_get_the_tailoring_menu(page, editor):
    html = editor.get(page.get_absolute_url()).content.decode()
    assert "Tailoring" in html
    assert "Preview as…" in html and f"{PREVIEW_URL}?next=%2Fhome%2F" in html
    assert "Stop preview" not in html and "Previewing as:" not in html  # nothing to stop yet


def test_from_edit_mode_the_preview_opens_on_the_cms_preview_of_the_page(page, editor):
    """Edit mode shows editors every variant; the CMS's preview mode shows what the previewed visitor gets."""
    content = page.get_content_obj("en")
    html = editor.get(get_object_edit_url(content)).content.decode()
    assert f"{PREVIEW_URL}?next={quote(get_object_preview_url(content), safe='')}" in html
    preview(editor, get_object_preview_url(content), segments=["regulars"])
    assert shown(editor, get_object_preview_url(content)) == {"REGULARS"}


@pytest.mark.parametrize("who", ["staff without the permission", "a visitor", "non-staff with it"])
def test_nobody_else_gets_the_tailoring_menu(page, client, who):
    if who == "staff without the permission":
        client = staff("writer", "view_tailoredarea")
    elif who == "non-staff with it":
        user = get_user_model().objects.create_user("member", password="pw")
        user.user_permissions.add(Permission.objects.get(codename="preview_tailoring"))
        client.force_login(user)
    html = client.get(page.get_absolute_url()).content.decode()
    assert "Preview as…" not in html and ">Tailoring<" not in html


def test_the_menu_links_to_the_admin_lists_the_editor_may_see(page):
    only_preview = staff("previewer", "preview_tailoring").get(page.get_absolute_url()).content.decode()
    assert "/admin/tailored_cms/segment/" not in only_preview and "/admin/tailored_cms/topic/" not in only_preview
    manager = staff("manager", "preview_tailoring", "change_segment", "view_topic", "view_tailoredarea")
    html = manager.get(page.get_absolute_url()).content.decode()
    for changelist in ("segment", "topic", "tailoredarea"):
        assert f"/admin/tailored_cms/{changelist}/" in html


def test_the_permissions_exist_for_editors_to_be_given():
    codenames = set(
        Permission.objects.filter(content_type__app_label="tailored_cms").values_list("codename", flat=True)
    )
    assert {"preview_tailoring", "view_results", "add_segment", "change_segment", "delete_segment"} <= codenames
    assert {"add_topic", "change_topic", "delete_topic"} <= codenames


# The form


def test_the_form_offers_segments_topics_themes_layouts_and_a_holdout_visitor(page, editor):
    response = editor.get(PREVIEW_URL, {"next": "/home/"})
    html = response.content.decode()
    assert response.status_code == 200
    for expected in (
        'value="regulars"',
        "Regulars",
        'value="sports"',
        'value="dark"',
        'value="grid"',
        'name="holdout"',
    ):
        assert expected in html
    assert 'name="next" value="/home/"' in html


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Choose at least one segment, topic, theme or layout, a holdout visitor, or a date."),
        ({"segments": ["nobody"]}, "Select a valid choice. nobody is not one of the available choices."),
        ({"theme": "neon"}, "Select a valid choice. neon is not one of the available choices."),
        ({"topics": ["knitting"], "layout": "grid"}, "knitting is not one of the available choices."),
    ],
)
def test_a_bad_preview_is_a_400_naming_what_is_wrong_and_changes_nothing(page, editor, data, message):
    response = editor.post(PREVIEW_URL, {**data, "next": "/home/"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert SESSION_KEY not in editor.session
    assert shown(editor, page.get_absolute_url()) == {"EVERYONE"}


def test_next_must_be_on_this_site(page, editor):
    response = editor.post(PREVIEW_URL, {"topics": ["sports"], "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


# Previewing


def test_preview_as_a_segment_shows_its_variant_and_the_marker_until_stopped(page, editor):
    url = page.get_absolute_url()
    assert shown(editor, url) == {"EVERYONE"}
    preview(editor, url, segments=["regulars"])
    html = editor.get(url).content.decode()
    assert "<p>REGULARS" in html and "<p>EVERYONE" not in html
    assert "Previewing as:" in html and "<strong>Regulars</strong>" in html and "Stop preview" in html
    response = editor.post(STOP_URL, {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    html = editor.get(url).content.decode()
    assert "<p>EVERYONE" in html and "Previewing as:" not in html


def test_preview_with_topics_theme_and_layout(page, editor):
    url = page.get_absolute_url()
    preview(editor, url, topics=["sports"], theme="dark", layout="grid")
    html = editor.get(url).content.decode()
    assert "<p>SPORTS" in html and 'class="tailored-theme-dark tailored-layout-grid ' in html
    assert "<strong>following Sports, Dark theme, Grid layout</strong>" in html


def test_preview_as_a_holdout_visitor_shows_the_fallback_of_areas_with_a_holdout(page, editor):
    url = page.get_absolute_url()
    preview(editor, url, topics=["sports"], segments=["regulars"], holdout="on")
    html = editor.get(url).content.decode()
    assert "<p>EVERYONE" in html and "a holdout visitor" in html
    area = (
        page.get_content_obj("en")
        .get_placeholders()
        .get(slot="content")
        .get_plugins()
        .get(plugin_type="TailoredAreaPlugin")
    )
    reasons = editor.get("/tailored/api/v1/explain/", {"areas": area.tailored_settings.key}).json()
    assert reasons["areas"][0]["reasons"][0]["kind"] == "holdout"


def test_the_form_shows_the_preview_that_is_on(page, editor):
    preview(editor, page.get_absolute_url(), segments=["regulars"], theme="dark")
    html = editor.get(PREVIEW_URL, {"next": "/home/"}).content.decode()
    assert 'value="regulars" id="id_segments_0" checked>' in html and '<option value="dark" selected>' in html
    assert "Stop preview" in html


# Who may


@pytest.mark.parametrize("who", ["staff without the permission", "non-staff with the permission", "anonymous"])
def test_others_who_post_a_preview_get_403_and_no_effect(page, client, who):
    if who == "staff without the permission":
        client = staff("writer", "change_segment")
    elif who == "non-staff with the permission":
        user = get_user_model().objects.create_user("member", password="pw")
        user.user_permissions.add(Permission.objects.get(codename="preview_tailoring"))
        client.force_login(user)
    response = client.post(PREVIEW_URL, {"segments": ["regulars"], "next": "/home/"})
    assert response.status_code == 403
    assert SESSION_KEY not in client.session
    assert shown(client, page.get_absolute_url()) == {"EVERYONE"}


def test_anonymous_visitors_asking_for_the_form_are_sent_to_log_in(client):
    response = client.get(PREVIEW_URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_preview_ends_when_the_permission_is_taken_away(page, editor):
    url = page.get_absolute_url()
    preview(editor, url, segments=["regulars"])
    user = get_user_model().objects.get(username="editor")
    user.user_permissions.clear()
    assert shown(editor, url) == {"EVERYONE"}


def test_a_tampered_preview_is_ignored(page, editor):
    url = page.get_absolute_url()
    preview(editor, url, segments=["regulars"])
    session = editor.session
    session[SESSION_KEY] = session[SESSION_KEY][:-3] + "abc"
    session.save()
    assert shown(editor, url) == {"EVERYONE"}


# Never anyone else's, never in the caches, never tracked


def cms_cache_keys(url: str) -> set[str]:
    """Keys of django CMS's placeholder and page cache entries (the locmem cache's own dict)."""
    page_hash = hashlib.sha1(url.encode()).hexdigest()
    return {key for key in cache._cache if "render_placeholder" in key or page_hash in key}  # type: ignore[attr-defined]


def test_a_preview_never_reaches_the_caches_nor_another_visitor(page, editor, client):
    url = page.get_absolute_url()
    preview(editor, url, segments=["regulars"])
    before = cms_cache_keys(url)
    assert shown(editor, url) == {"REGULARS"}
    assert cms_cache_keys(url) == before, "the preview wrote to django CMS's page or placeholder cache"
    assert shown(client, url) == {"EVERYONE"}  # an anonymous visitor, right after: the normal content
    assert cms_cache_keys(url) != before  # ...which django CMS did cache
    assert shown(editor, url) == {"REGULARS"}  # and the editor is not served the anonymous visitor's copy
    fan = visitor_with(topics=["sports"])
    assert shown(fan, url) in ({"SPORTS"}, {"EVERYONE"})  # their own (EVERYONE only if in the 5% holdout)
    assert shown(client, url) == {"EVERYONE"}


def visitor_with(**choices) -> Client:
    visitor = Visitor.objects.create(**choices)
    response = HttpResponse()
    set_visitor_cookie(response, str(visitor.pk))
    client = Client()
    client.cookies[tailored_settings.COOKIE_NAME] = response.cookies[tailored_settings.COOKIE_NAME].value
    return client


def test_preview_records_no_events(page, editor, settings, tailored_redis: redis.Redis):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    url = page.get_absolute_url()
    preview(editor, url, topics=["sports"])
    html = editor.get(url).content.decode()
    assert "data-tailored-beacon" not in html
    assert tailored_redis.xlen(stream_key()) == 0
    editor.post(STOP_URL, {"next": url})
    assert "data-tailored-beacon" in editor.get(url).content.decode()  # the editor as a visitor is tracked again
    assert tailored_redis.xlen(stream_key()) == 1


def test_the_preview_check_costs_a_visitor_nothing(django_assert_num_queries, redis_round_trips):
    request = RequestFactory().get("/home/")
    with django_assert_num_queries(0):
        assert preview_context(request) is None
    assert redis_round_trips.round_trips == 0


def test_the_form_says_which_areas_the_preview_changes_and_why_the_others_do_not(page, editor):
    api.create_segment("sports-fans", "Sports fans", rules={"rule": "topic_views", "topic": "sports", "min": 3})
    ph = page.get_content_obj("en").get_placeholders().get(slot="content")
    picks = api.add_area(ph, strategy="customization", label="Picks")
    api.add_variant(picks, label="Sport", topics=["sports"])
    api.add_variant(api.add_area(ph, strategy="optimize", label="Teaser"), label="A")
    url = page.get_absolute_url()

    preview(editor, url, segments=["regulars"])
    html = editor.get(PREVIEW_URL, {"next": url}).content.decode()
    assert "<strong>Hero</strong>: changes (shows “Regulars”, for this segment)" in html
    assert "<strong>Picks</strong>: stays as everyone sees it (a customization area: follows the visitor" in html
    assert "<strong>Teaser</strong>: stays as everyone sees it (the same for every segment" in html

    preview(editor, url, segments=["sports-fans"])
    html = editor.get(PREVIEW_URL, {"next": url}).content.decode()
    assert html.count("(targets the topic Sports, not the segment Sports fans: preview the topic too)") == 2
    assert "<strong>Hero</strong>: stays as everyone sees it (targets the topic Sports" in html
    # Another segment, whose rules read no topic: none of the hero's variants is for it.
    api.create_segment("phones", "On a phone", rules={"rule": "device", "is": "mobile"})
    preview(editor, url, segments=["phones"])
    html = editor.get(PREVIEW_URL, {"next": url}).content.decode()
    assert "<strong>Hero</strong>: stays as everyone sees it (no variant for this segment)" in html

    preview(editor, url, segments=["sports-fans"], topics=["sports"])
    html = editor.get(PREVIEW_URL, {"next": url}).content.decode()
    assert "<strong>Picks</strong>: changes (shows “Sport”: it follows the topics chosen)" in html
    assert "<strong>Hero</strong>: changes (shows “Sports fans”: it follows the topics chosen)" in html  # hybrid
    assert "On this page" not in editor.get(PREVIEW_URL, {"next": "/nowhere/"}).content.decode()
