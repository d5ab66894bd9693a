"""What editors see in django CMS's editor and the admin: structure board rows, partial re-renders, forms.

Each test pins a bug the browser journey (tests/browser/test_editor.py) found.
"""

from __future__ import annotations

import json
import re

import pytest
from cms.toolbar.utils import get_object_edit_url, get_object_structure_url
from django.contrib.auth import get_user_model
from django.urls import reverse

from tailored_cms import api
from tailored_cms.areas.models import Variant

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.create_superuser("editor", "editor@example.com", "pw"))
    return client


@pytest.fixture
def area_page(make_page):
    api.create_topic("sports")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Hero")
    text(ph, "<p>SPORTS</p>", target=api.add_variant(area, label="Sports fans", topics=["sports"]))
    text(ph, "<p>DARK</p>", target=api.add_variant(area, label="Night owls", themes=["dark"], priority=2))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page


def variant(label: str) -> Variant:
    return Variant.objects.get(tailored_settings__label=label)


def data_bridge(html: str) -> dict:
    """The JSON django CMS's plugin views hand back to the editor's page after a save."""
    match = re.search(r'<script id="data-bridge" type="application/json">(.*?)</script>', html, re.S)
    assert match, html[:2000]
    return json.loads(match.group(1))


def test_the_structure_board_says_whom_each_variant_is_for(area_page, editor_client):
    html = editor_client.get(get_object_structure_url(area_page.get_content_obj("en"))).content.decode()
    assert "Sports fans · topics: sports" in html
    assert "Night owls · themes: Dark · priority 2" in html
    assert "Everyone · fallback" in html


def test_a_variant_without_targeting_or_fallback_says_so(area_page):
    lost = api.add_variant(variant("Everyone").parent.get_bound_plugin(), label="Lost")
    assert lost.get_short_description() == "Lost · no targeting"
    assert str(lost) == "Lost"  # elsewhere (admin, logs) a variant is still just its label


def test_a_variant_the_cms_re_renders_alone_still_says_what_a_visitor_sees(area_page, editor_client):
    """django CMS re-renders only the plugin an editor saved: without its area around it, the variant must
    still work out whether it is the one a visitor (the editor, here) would see."""
    everyone = variant("Everyone")
    url = reverse("admin:cms_placeholder_edit_plugin", args=[everyone.pk]) + "?cms_path=/home/"
    response = editor_client.post(url, {"label": "Everyone else", "priority": 0, "fallback": "on"})
    assert response.status_code == 200
    (content,) = data_bridge(response.content.decode())["structure"]["content"]
    assert 'data-tailored-chosen="true"' in content["html"] and "what you see as a visitor" in content["html"]
    assert "Everyone else" in content["html"] and "EVERYONE" in content["html"]

    sports = variant("Sports fans")
    url = reverse("admin:cms_placeholder_edit_plugin", args=[sports.pk]) + "?cms_path=/home/"
    response = editor_client.post(url, {"label": "Sports fans", "topics": ["sports"], "priority": 0})
    (content,) = data_bridge(response.content.decode())["structure"]["content"]
    assert 'data-tailored-chosen="false"' in content["html"] and "what you see as a visitor" not in content["html"]


def test_a_variant_re_rendered_after_content_was_added_to_it_keeps_its_marker(area_page, editor_client):
    everyone = variant("Everyone")
    query = {
        "placeholder_id": everyone.placeholder_id,
        "plugin_type": "TextPlugin",
        "plugin_language": "en",
        "plugin_parent": everyone.pk,
        "plugin_position": everyone.position + 2,
        "cms_path": "/home/",
    }
    url = reverse("admin:cms_placeholder_add_plugin") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    response = editor_client.post(url, {"body": "<p>MORE</p>"})
    assert response.status_code == 200
    (content,) = data_bridge(response.content.decode())["structure"]["content"]
    assert "MORE" in content["html"] and 'data-tailored-chosen="true"' in content["html"]


def test_the_editor_stylesheet_comes_with_edit_mode_only(area_page, editor_client, client):
    editing = editor_client.get(get_object_edit_url(area_page.get_content_obj("en"))).content.decode()
    assert editing.count("tailored_cms/editor.css") == 1  # once, however many variants
    assert "tailored_cms/editor.css" not in client.get(area_page.get_absolute_url()).content.decode()


def test_variants_shown_at_most_is_bounded_in_the_plugin_form(area_page, editor_client):
    area = variant("Everyone").parent
    response = editor_client.get(reverse("admin:cms_placeholder_edit_plugin", args=[area.pk]))
    field = re.search(r'<input[^>]*name="max_items"[^>]*>', response.content.decode()).group(0)
    assert 'min="1"' in field and 'max="20"' in field
    assert "Editors see it; visitors don" in response.content.decode()  # the area's label has help too


def test_variants_shown_at_most_is_bounded_in_the_admin_list(area_page, editor_client):
    changelist = reverse("admin:tailored_cms_tailoredarea_changelist")
    html = editor_client.get(changelist).content.decode()
    field = re.search(r'<input[^>]*name="form-0-max_items"[^>]*>', html).group(0)
    assert 'min="1"' in field and 'max="20"' in field
    area = variant("Everyone").parent
    response = editor_client.post(
        changelist,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": area.pk,
            "form-0-strategy": "customization",
            "form-0-max_items": "0",
            "_save": "Save",
        },
    )
    assert response.status_code == 200 and "greater than or equal to 1" in response.content.decode()


def test_the_page_topics_form_is_titled_with_the_page(make_page, editor_client):
    api.create_topic("sports")
    page = make_page("Match report", slug="match-report")
    extension = api.tag_page(page, ["sports"])
    assert str(extension) == "Topics of “Match report”"
    response = editor_client.get(reverse("admin:tailored_cms_pagetopics_change", args=[extension.pk]))
    assert "Topics of “Match report”" in response.content.decode()


def test_the_structure_board_names_each_areas_strategy_holdout_and_goal(db):
    from tailored_cms.areas.models import TailoredArea

    area = TailoredArea(label="Hero", strategy="personalization", holdout_percent=5, goal="signup")
    assert area.get_short_description() == "Hero · Personalization · holdout 5% · goal: signup"
    assert TailoredArea(strategy="static", holdout_percent=5).get_short_description() == (
        "Static: everyone sees the fallback"
    )
