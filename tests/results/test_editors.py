"""Where editors meet results: the Tailoring menu's *Results*, the areas list's link and goal, the area's goal."""

from __future__ import annotations

import pytest
from cms.toolbar.utils import get_object_edit_url
from django.core.exceptions import ValidationError
from django.urls import reverse

from tailored_cms import api
from tailored_cms.areas.cms_plugins import TailoredAreaPlugin
from tailored_cms.areas.forms import TailoredAreaForm
from tailored_cms.areas.models import TailoredArea

from .conftest import staff_client

pytestmark = pytest.mark.django_db

RESULTS = "/admin/tailored_cms/variantstats/"
AREAS = reverse("admin:tailored_cms_tailoredarea_changelist")


def menu_of(html: str) -> str:
    """The Tailoring menu of a page's CMS toolbar ("" if there is none)."""
    start = html.find(">Tailoring<")
    return html[start : html.find("</ul>", start)] if start >= 0 else ""


def test_the_tailoring_menu_has_results_for_those_who_may_see_them(hero):
    url = hero.page.get_absolute_url()
    analyst = menu_of(staff_client("analyst", "view_results").get(url).content.decode())
    assert "Results" in analyst and f'href="{RESULTS}"' in analyst
    assert "Preview as…" not in analyst  # that needs its own permission
    previewer = menu_of(staff_client("previewer", "preview_tailoring").get(url).content.decode())
    assert "Preview as…" in previewer and "Results" not in previewer
    both = menu_of(staff_client("editor", "preview_tailoring", "view_results").get(url).content.decode())
    assert "Preview as…" in both and f'href="{RESULTS}"' in both


def test_nobody_else_gets_results_in_the_toolbar(hero, client):
    url = hero.page.get_absolute_url()
    assert RESULTS not in staff_client("writer", "change_tailoredarea").get(url).content.decode()
    assert RESULTS not in client.get(url).content.decode()


def test_the_areas_list_links_to_each_areas_results_and_edits_its_goal(hero):
    editor = staff_client("editor", "change_tailoredarea", "view_results")
    html = editor.get(AREAS).content.decode()
    assert f'href="{RESULTS}{hero.area.key}/"' in html
    assert 'name="form-0-goal"' in html and 'value="signup"' in html
    response = editor.post(
        AREAS,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(hero.area.pk),
            "form-0-strategy": "customization",
            "form-0-max_items": "1",
            "form-0-holdout_percent": "10",
            "form-0-goal": "newsletter",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TailoredArea.objects.get(pk=hero.area.pk).goal == "newsletter"
    without = staff_client("writer", "change_tailoredarea").get(AREAS).content.decode()
    assert RESULTS not in without  # no results column without the permission


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        ("click", "clicks are counted anyway"),
        ("page_view", "can't be a goal"),
        ("impression", "can't be a goal"),
        ("sign up!", "An event name"),
    ],
)
def test_a_goal_is_an_event_name_the_page_sends(hero, goal, message):
    form = TailoredAreaForm(
        {"label": "Hero", "strategy": "customization", "max_items": 1, "holdout_percent": 0, "goal": goal},
        instance=hero.area,
    )
    assert not form.is_valid() and message in " ".join(form.errors["goal"])
    with pytest.raises(ValidationError):
        api.add_area(hero.area.placeholder, goal=goal)


def test_the_plugin_form_offers_the_goal_and_edit_mode_shows_it(hero):
    assert "goal" in TailoredAreaPlugin.fields
    form = TailoredAreaForm(
        {"label": "Hero", "strategy": "hybrid", "max_items": 2, "holdout_percent": 5, "goal": "signup"},
        instance=hero.area,
    )
    assert form.is_valid(), form.errors
    editor = staff_client("boss", superuser=True)
    html = editor.get(get_object_edit_url(hero.page.get_content_obj("en"))).content.decode()
    assert "goal: signup" in html
