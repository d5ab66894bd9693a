"""An editor builds a segment in the admin with the rule builder alone, sees how many visitors match before
saving, saves, and finds the rules again when they open it (Chromium, the admin of a live site)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tailored_cms.rules.models import Segment
from tailored_cms.tracking.models import TopicViews
from tailored_cms.visitors.models import Visitor
from tests.tracking.conftest import celery_app  # noqa: F401 - saving queues a recompute: to the private broker

from ..english import english_in
from .accessibility import ADMIN_CHROME, assert_accessible
from .chromium import VIEWPORT
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    EDITOR,
    TIMEOUT_MS,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "segment-builder.png"
EXPECTED = {
    "all": [
        {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30},
        {"rule": "device", "is": ["mobile"]},
    ]
}


def visitor_with_sports_views(*counts: tuple[int, int]) -> Visitor:
    """A visitor with ``(days ago, views)`` of sports pages, counted from today."""
    visitor = Visitor.objects.create()
    today = timezone.localdate()
    for ago, count in counts:
        TopicViews.objects.create(
            visitor=visitor, topic="sports", day=today - timezone.timedelta(days=ago), count=count
        )
    return visitor


def log_in_to_admin(page: Page, site: EditorSite, next_path: str) -> None:
    page.goto(site.url(f"/admin/login/?next={next_path}"))
    page.fill("#id_username", EDITOR[0])
    page.fill("#id_password", EDITOR[1])
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")


def add_rule(page: Page, label: str, rule: str):
    """Pick a rule by its label in the root group's "Add a rule" menu, press Add rule: its row."""
    root = page.locator(".tailored-builder-root")
    root.get_by_label("Add a rule:").last.select_option(label=label)
    root.get_by_role("button", name="Add rule").last.click()
    row = root.locator(f".tailored-builder-rule[data-rule='{rule}']")
    expect(row).to_have_count(1)
    return row


@pytest.mark.browser
def test_an_editor_builds_a_segment_and_sees_who_matches_before_saving(
    chromium: Browser,
    editor_site: EditorSite,
    celery_app,  # noqa: F811
):
    visitor_with_sports_views((0, 2), (3, 1))  # 3 views of sports pages this week: matches
    visitor_with_sports_views((45, 5))  # long ago: doesn't
    Visitor.objects.create()  # a newcomer; and the editor, once signed in, is a visitor too
    context = new_context(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    add_path = "/admin/tailored_cms/segment/add/"
    log_in_to_admin(page, editor_site, add_path)

    page.locator("#id_name").press_sequentially("Mobile sports fans")
    expect(page.locator("#id_slug")).to_have_count(0)  # made from the name when saved
    rules_json = page.locator("#id_rules")
    expect(rules_json).to_be_hidden()  # the builder took its place
    count = page.locator(".tailored-builder-count")
    expect(count).to_have_text("Add a rule to see how many visitors match.")

    sports = add_rule(page, "Viewed pages about a topic", "topic_views")
    # The server's validation, shown while building: the parameter still missing is named and marked.
    expect(count).to_contain_text("Not valid yet: Rule “Viewed pages about a topic” needs the parameter “Topic”.")
    expect(sports.locator("[data-param='topic']")).to_have_class(re.compile("tailored-builder-invalid"))
    sports.get_by_label("Topic").select_option(label="Sports")
    sports.get_by_label("At least (views)").fill("3")
    sports.get_by_label("Within the last (days) (optional)").fill("30")
    expect(count).to_have_text("1 of 4 visitors match now.")
    assert_accessible(page, exclude=ADMIN_CHROME)

    device = add_rule(page, "Device", "device")
    expect(device).to_contain_text("checked on each page view")
    device.get_by_label("Phone").check()
    expect(count).to_contain_text("1 of 4 visitors match now. “Device” is checked on each page view")
    expect(page.locator(".tailored-builder-words")).to_have_text(
        "In words: every visitor who read at least 3 pages about Sports in the last 30 days and is on a mobile device."
    )
    if os.environ.get("TAILORED_SCREENSHOTS") == "1":  # `make screenshots`; test runs leave docs/ alone
        page.set_viewport_size({"width": 1280, "height": 1600})  # the whole builder in view: nothing fixed over it
        page.locator("fieldset").filter(has=page.locator(".tailored-builder")).screenshot(path=str(SCREENSHOT))

    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Segment.objects.get(slug="mobile-sports-fans").rules == EXPECTED
    row = page.locator("#result_list tbody tr").filter(has_text="Mobile sports fans")
    expect(row).to_contain_text("read at least 3 pages about Sports in the last 30 days and is on a mobile device")

    # Opened again, the builder shows what was saved.
    row.get_by_role("link", name="Mobile sports fans").click()
    sports = page.locator(".tailored-builder-rule[data-rule='topic_views']")
    expect(sports.get_by_label("Topic")).to_have_value("sports")
    expect(sports.get_by_label("At least (views)")).to_have_value("3")
    expect(page.locator(".tailored-builder-rule[data-rule='device']").get_by_label("Phone")).to_be_checked()
    expect(count).to_contain_text("1 of 4 visitors match now.")
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# What an editor whose browser asks for Spanish or Italian reads in the builder: a few of its texts.
IN_OTHER_LANGUAGES = {
    "es": {
        "count": "Añada una regla para ver cuántos visitantes la cumplen.",
        "combine": "Todas estas reglas",
        "empty": "Aún no hay reglas: añada una abajo.",
        "add_a_rule": "Añadir una regla:",
        "add_rule": "Añadir regla",
        "kind": "se comprueba en cada página vista",
        "remove_rule": "Quitar regla",
        "negate": "El visitante no debe cumplir esta regla",
        "no": "no",
        "developer_view": "Vista de desarrollador",
        "invalid": "Todavía no es válido: La regla “Dispositivo” necesita el parámetro “Dispositivo”.",
    },
    "it": {
        "count": "Aggiunga una regola per vedere quanti visitatori corrispondono.",
        "combine": "Tutte queste regole",
        "empty": "Ancora nessuna regola: ne aggiunga una qui sotto.",
        "add_a_rule": "Aggiungi una regola:",
        "add_rule": "Aggiungi regola",
        "kind": "verificata a ogni visualizzazione di pagina",
        "remove_rule": "Rimuovi regola",
        "negate": "Il visitatore non deve soddisfare questa regola",
        "no": "non",
        "developer_view": "Vista per sviluppatori",
        "invalid": "Non ancora valido: La regola “Dispositivo” richiede il parametro “Dispositivo”.",
    },
}
# The form's text and the labels and titles of its controls: what the editor reads or hears.
SHOWN = """form => [
  form.innerText,
  ...[...form.querySelectorAll("[aria-label], [title], [placeholder]")].flatMap(
    element => ["aria-label", "title", "placeholder"].map(name => element.getAttribute(name))),
].filter(Boolean).join("\\n")"""


@pytest.mark.browser
@pytest.mark.parametrize(("language", "locale"), [("es", "es-ES"), ("it", "it-IT")])
def test_an_editor_builds_in_their_language(chromium: Browser, editor_site: EditorSite, language, locale):
    """The builder's own texts come from the JavaScript catalog of the admin's language (the editor's browser's),
    the form's from the django catalog: none of tailored_cms's English is left."""
    words = IN_OTHER_LANGUAGES[language]
    context = chromium.new_context(viewport=VIEWPORT, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    add_path = "/admin/tailored_cms/segment/add/"
    log_in_to_admin(page, editor_site, add_path)

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(f"script[src^='/tailored/jsi18n/{language}/?v=']")).to_have_count(1)
    root = page.locator(".tailored-builder-root")
    expect(page.locator(".tailored-builder-count")).to_have_text(words["count"])
    expect(root.locator(".tailored-builder-combine option:checked")).to_have_text(words["combine"])
    expect(root.locator(".tailored-builder-empty")).to_have_text(words["empty"])
    root.get_by_label(words["add_a_rule"]).select_option(value="device")
    root.get_by_role("button", name=words["add_rule"], exact=True).click()
    device = root.locator(".tailored-builder-rule[data-rule='device']")
    expect(device.locator(".tailored-builder-kind")).to_have_text(words["kind"])
    expect(device.get_by_role("button", name=words["remove_rule"], exact=True)).to_be_visible()
    expect(device.get_by_title(words["negate"])).to_have_text(words["no"])
    # The server's message in the language, and the field it is about marked: the 400 names it apart from the words.
    expect(page.locator(".tailored-builder-count")).to_have_text(words["invalid"])
    expect(device.locator("[data-param='is']")).to_have_class(re.compile("tailored-builder-invalid"))
    form = page.locator("#segment_form")
    shown = form.evaluate(SHOWN)
    assert not english_in(shown, language, ("django", "djangojs")), shown
    page.get_by_role("checkbox", name=words["developer_view"], exact=True).check()
    expect(page.locator("#id_rules")).to_be_visible()
    shown = form.evaluate(SHOWN)
    assert not english_in(shown, language, ("django", "djangojs")), shown
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.mark.browser
def test_an_editor_picks_a_trait_the_site_has_set_and_compares_it(
    chromium: Browser,
    editor_site: EditorSite,
    celery_app,  # noqa: F811
):
    from django.contrib.auth.models import User

    from tailored_cms import api

    api.set_traits(User.objects.create_user("ada"), plan="pro", seats=12, customer_since=date(2024, 3, 1))
    api.set_traits(User.objects.create_user("bob"), plan="free", seats=2, customer_since=date(2025, 6, 1))
    api.set_traits(User.objects.create_user("cy"), plan="pro", seats=30, customer_since=date(2025, 2, 1))
    context = new_context(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_to_admin(page, editor_site, "/admin/tailored_cms/segment/add/")
    page.locator("#id_name").press_sequentially("Big pro teams")
    count = page.locator(".tailored-builder-count")

    plan = add_rule(page, "Has a trait", "trait")
    plan.get_by_label("Trait").select_option(label="plan (text)")
    plan.get_by_label("Comparison").select_option("eq")
    plan.get_by_label("Value (optional)").fill("pro")
    expect(count).to_have_text("2 of 4 visitors match now.")  # the editor, signed in, is a visitor too
    root = page.locator(".tailored-builder-root")
    root.get_by_label("Add a rule:").last.select_option(label="Has a trait")
    root.get_by_role("button", name="Add rule").last.click()
    seats = root.locator(".tailored-builder-rule[data-rule='trait']").nth(1)
    seats.get_by_label("Trait").select_option(label="seats (number)")
    seats.get_by_label("Comparison").select_option("gt")
    seats.get_by_label("Value (optional)").fill("10")  # typed as a number: the trait holds numbers
    expect(count).to_have_text("2 of 4 visitors match now.")

    # A date trait compared with a date: a date picker, used with the keyboard alone.
    root.get_by_label("Add a rule:").last.select_option(label="Has a trait")
    root.get_by_role("button", name="Add rule").last.click()
    since = root.locator(".tailored-builder-rule[data-rule='trait']").nth(2)
    since.get_by_label("Trait").select_option(label="customer_since (date)")
    comparison = since.get_by_label("Comparison")
    comparison.select_option("before")
    value = since.get_by_label("Value (optional)")
    expect(value).to_have_attribute("type", "date")
    expect(since.locator("[data-param='value']")).to_contain_text("That day itself is not included.")
    comparison.focus()
    page.keyboard.press("Tab")
    expect(value).to_be_focused()
    page.keyboard.type("01012025")  # month, day, year: the browser's order for en-US
    expect(value).to_have_value("2025-01-01")
    expect(count).to_have_text("1 of 4 visitors match now.")
    expect(page.locator(".tailored-builder-words")).to_have_text(
        "In words: every visitor who has the trait plan equal to pro and has the trait seats greater than 10 and has "
        "the trait customer_since before 2025-01-01."
    )
    assert_accessible(page, exclude=ADMIN_CHROME)
    comparison.focus()
    comparison.select_option("in")  # a list of dates: typed, as text
    expect(since.get_by_label("Value (optional)")).to_have_attribute("type", "text")
    expect(comparison).to_be_focused()  # the box changed beside it, the focus stayed
    comparison.select_option("before")
    expect(since.get_by_label("Value (optional)")).to_have_value("2025-01-01")  # the date typed is still there
    expect(count).to_have_text("1 of 4 visitors match now.")

    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Segment.objects.get(slug="big-pro-teams").rules == {
        "all": [
            {"rule": "trait", "name": "plan", "op": "eq", "value": "pro"},
            {"rule": "trait", "name": "seats", "op": "gt", "value": 10},
            {"rule": "trait", "name": "customer_since", "op": "before", "value": "2025-01-01"},
        ]
    }
    page.locator("#result_list tbody tr").get_by_role("link", name="Big pro teams").click()
    reopened = page.locator(".tailored-builder-rule[data-rule='trait']").nth(2)
    expect(reopened.get_by_label("Value (optional)")).to_have_attribute("type", "date")
    expect(reopened.get_by_label("Value (optional)")).to_have_value("2025-01-01")
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.mark.browser
def test_an_editor_picks_countries_by_name_in_their_language(chromium: Browser, editor_site: EditorSite):
    """The country rule lists every country by its name in the editor's language, with a box to find one: an editor
    on a Spanish browser finds Alemania and Francia with the keyboard."""
    context = chromium.new_context(viewport=VIEWPORT, locale="es-ES")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_to_admin(page, editor_site, "/admin/tailored_cms/segment/add/")
    page.locator("#id_name").press_sequentially("Vecinos")
    root = page.locator(".tailored-builder-root")
    root.get_by_label("Añadir una regla:").select_option(label="País")
    root.get_by_role("button", name="Añadir regla", exact=True).click()
    country = root.locator(".tailored-builder-rule[data-rule='country']")
    choices = country.locator(".tailored-builder-choice")
    expect(choices).to_have_count(249)
    expect(country.get_by_label("Alemania", exact=True)).to_have_value("DE")

    find = country.get_by_label("Buscar por nombre")
    find.focus()
    page.keyboard.type("alem")
    expect(choices.locator("visible=true")).to_have_count(1)
    page.keyboard.press("Tab")
    expect(country.get_by_label("Alemania", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    find.fill("")
    page.keyboard.type("FRANCI")  # any case
    expect(choices.locator("visible=true")).to_have_text(["Alemania", "Francia"])  # the chosen one stays in view
    country.get_by_label("Francia", exact=True).check()
    find.fill("Ital")
    expect(choices.locator("visible=true")).to_have_text(["Alemania", "Francia", "Italia"])
    expect(page.locator(".tailored-builder-words")).to_have_text(
        "En palabras: cada visitante que está en Alemania o Francia."
    )
    root.get_by_label("Añadir una regla:").select_option(label="Continente")
    root.get_by_role("button", name="Añadir regla", exact=True).click()
    continent = root.locator(".tailored-builder-rule[data-rule='continent']")
    continent.get_by_label("Europa").check()
    expect(page.locator(".tailored-builder-words")).to_have_text(
        "En palabras: cada visitante que está en Alemania o Francia y está en Europa."
    )
    assert_accessible(page, exclude=ADMIN_CHROME)
    form = page.locator("#segment_form")
    shown = form.evaluate(SHOWN)
    assert not english_in(shown, "es", ("django", "djangojs")), shown
    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_be_visible()
    assert Segment.objects.get(slug="vecinos").rules == {
        "all": [{"rule": "country", "is": ["DE", "FR"]}, {"rule": "continent", "is": ["EU"]}]
    }
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
