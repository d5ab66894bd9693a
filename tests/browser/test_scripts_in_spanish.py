"""A Spanish visitor: what the scripts write (the panel's and the board's messages, the consent banner's answer,
"Why am I seeing this?") comes in Spanish, from the JavaScript catalog of the page's language.

The demo homepage gets a Spanish translation first (``SPANISH_HOME``): a tailored hero, a widget board, the panel,
"Why am I seeing this?" and the consent banner. The browser asks for Spanish (``Accept-Language: es-ES``), as a
visitor's browser set to Spanish does; django CMS then serves the Spanish page, and the page loads the Spanish
catalog before the scripts. What the server renders itself is tested with the ``django`` domain's catalogs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import new_context
from .demo_server import ROOT, DemoSite

pytestmark = pytest.mark.browser

SPANISH_HOME = """
import django
django.setup()
from cms.api import add_plugin, create_page_content
from cms.models import Page, PageContent
from tailored_cms import api

home = Page.objects.get(reverse_id="home")
if not PageContent.admin_manager.filter(page=home, language="es").exists():
    content = create_page_content("es", "Inicio", home, slug="inicio", template="home.html")
    slots = content.rescan_placeholders()
    hero = api.add_area(slots["hero"], "es", strategy="customization", label="Portada")
    fallback = api.add_variant(hero, label="Para todos", fallback=True)
    add_plugin(slots["hero"], "TextPlugin", "es", target=fallback, body="<h2>Bienvenido a Tailored News</h2>")
    board = api.add_widget_board(slots["widgets"], "es", label="Sus widgets")
    for title, body in (("Tiempo", "<p>Soleado, 21 grados.</p>"), ("Mercados", "<p>Los índices suben.</p>")):
        widget = api.add_widget(board, title)
        add_plugin(slots["widgets"], "TextPlugin", "es", target=widget, body=body)
    add_plugin(slots["sidebar"], "PreferencesPanelPlugin", "es", title="Personalice este sitio")
    add_plugin(slots["sidebar"], "ExplanationPlugin", "es")
    add_plugin(slots["footer"], "ConsentBannerPlugin", "es", message="Con su permiso, anotamos lo que lee aquí.")
"""


@pytest.fixture(scope="module")
def spanish_home(demo_site: DemoSite) -> DemoSite:
    """The demo site with a Spanish translation of its homepage (added once; the site's own database)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.site_settings",
        "TAILORED_BROWSER_DB": str(demo_site.log.parent / "db.sqlite3"),  # where serve_demo keeps it
    }
    added = subprocess.run(
        [sys.executable, "-c", SPANISH_HOME], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert added.returncode == 0, added.stderr
    return demo_site


@pytest.fixture
def hispanohablante(chromium: Browser, spanish_home: DemoSite) -> Iterator[Page]:
    """A new visitor whose browser asks for Spanish; a script error on the page fails the test."""
    context = new_context(chromium, spanish_home, locale="es-ES")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_spanish_home(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("[data-tailored-panel][data-tailored-ready]")).to_have_count(1)
    expect(page.locator(".tailored-widget-controls")).to_have_count(2)


def test_the_page_loads_the_spanish_catalog_before_the_scripts(hispanohablante: Page) -> None:
    page = hispanohablante
    open_spanish_home(page)
    sources = page.locator("script[src]").evaluate_all("scripts => scripts.map(s => s.getAttribute('src'))")
    catalogs = [i for i, src in enumerate(sources) if src.startswith("/tailored/jsi18n/es/?v=")]
    assert len(catalogs) == 1  # the panel's and the widgets' blocks share it
    assert catalogs[0] < min(i for i, src in enumerate(sources) if src.endswith(("customize.js", "privacy.js")))
    assert page.evaluate("gettext('Hidden widgets:')") == "Widgets ocultos:"


def test_the_board_and_the_panel_speak_spanish(hispanohablante: Page) -> None:
    page = hispanohablante
    open_spanish_home(page)
    board = page.locator("[data-tailored-board]")
    expect(board.get_by_role("button", name="Subir Tiempo", exact=True)).to_be_visible()
    expect(board.get_by_role("button", name="Bajar Mercados", exact=True)).to_be_visible()

    status = page.locator(".tailored-hidden-widgets + [data-tailored-status]")
    board.get_by_role("button", name="Subir Tiempo", exact=True).click()
    expect(status).to_have_text("Tiempo ya está en primer lugar.")
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        board.get_by_role("button", name="Ocultar Mercados", exact=True).click()
    assert saved.value.ok, saved.value.text()
    expect(status).to_have_text("Se ha ocultado Mercados. Puede volver a mostrarlo desde «Widgets ocultos».")
    expect(page.locator(".tailored-hidden-widgets-label")).to_have_text("Widgets ocultos:")
    expect(page.get_by_role("group", name="Widgets ocultos:").get_by_role("button")).to_have_text("Mostrar Mercados")

    panel = page.locator("[data-tailored-panel]")
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        panel.locator("input[name=theme]:not(:checked)").first.check()
    assert saved.value.ok, saved.value.text()
    expect(panel.locator("[data-tailored-status]")).to_have_text("Guardado. La página sigue ahora sus preferencias.")


def test_the_consent_banner_and_why_am_i_seeing_this_speak_spanish(hispanohablante: Page) -> None:
    page = hispanohablante
    open_spanish_home(page)
    banner = page.locator("[data-tailored-consent]")
    banner.locator("button[name=consent][value=yes]").click()
    expect(banner.locator("[role=status]")).to_have_text(
        "Gracias. A partir de ahora, lo que lea aquí ayudará a adaptar este sitio a usted."
    )
    banner.get_by_role("button", name="Cerrar", exact=True).click()
    expect(banner).to_be_hidden()

    why = page.locator("[data-tailored-why]")
    with page.expect_response(lambda r: "/tailored/api/v1/explain/?areas=" in r.url) as explained:
        why.locator("summary").click()
    assert explained.value.ok, explained.value.text()
    hero = why.locator("li[data-tailored-why-area]")
    expect(hero).to_have_count(1)
    expect(hero.locator("strong")).to_have_text("Portada")
    expect(hero).to_contain_text("Se le muestra: Para todos.")
    expect(why.locator(".tailored-why-tracking")).to_have_text(
        "Lo que lee aquí se registra para adaptar este sitio a usted."
    )


def test_without_the_catalog_the_scripts_still_work_in_english(hispanohablante: Page) -> None:
    page = hispanohablante
    page.route("**/tailored/jsi18n/**", lambda route: route.abort())
    open_spanish_home(page)
    board = page.locator("[data-tailored-board]")
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        board.get_by_role("button", name="Hide Mercados", exact=True).click()
    assert saved.value.ok, saved.value.text()
    expect(page.locator(".tailored-hidden-widgets-label")).to_have_text("Hidden widgets:")
    expect(page.locator(".tailored-hidden-widgets + [data-tailored-status]")).to_have_text(
        "Mercados hidden. Show it again from Hidden widgets."
    )
