"""What tailored_cms shows visitors passes axe-core's WCAG 2.2 A and AA rules, in every theme.

The demo homepage as a first visit shows it (the consent banner, the panel, the widget board, the tailored areas),
then with "Why am I seeing this?" open; and the preferences page a visitor without JavaScript saves from.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .accessibility import assert_accessible
from .test_consent_and_tracking import open_why
from .test_visitor_customizes import choose, open_home

pytestmark = pytest.mark.browser

THEMES = {"light": "Light", "dark": "Dark", "high-contrast": "High contrast"}


@pytest.mark.parametrize("theme", THEMES)
def test_the_homepage_with_the_banner_the_panel_and_the_explanation(visitor: Page, theme: str):
    page = visitor
    open_home(page)
    expect(page.locator("[data-tailored-consent]")).to_be_visible()
    if theme != "light":  # the default: already chosen
        choose(page, THEMES[theme])
    choose(page, "Sports")
    expect(page.locator("body")).to_have_class(re.compile(rf"(^|\s)tailored-theme-{theme}(\s|$)"))
    assert_accessible(page)

    open_why(page)
    expect(page.locator("[data-tailored-why] li").first).to_be_visible()
    assert_accessible(page)


def test_the_preferences_page(visitor: Page):
    page = visitor
    page.goto("/tailored/preferences/")
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    assert_accessible(page)


def test_a_violation_fails_the_check_with_what_a_person_meets(visitor: Page):
    page = visitor
    page.goto("/tailored/preferences/")
    page.evaluate("document.body.append(Object.assign(document.createElement('input'), {id: 'x'}))")
    with pytest.raises(AssertionError, match=r"label \(critical\): Form elements must have labels\n    #x"):
        assert_accessible(page)
