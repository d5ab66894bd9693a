"""A Spanish and an Italian visitor: what the scripts write (the board's and the panel's messages, the consent
banner's answer, "Why am I seeing this?", the privacy buttons' answers) comes in their language, from the
JavaScript catalog of the page's language, and no English of tailored_cms's is left on the page.

The demo seeds every page in English, Spanish and Italian. The browser asks for its language
(``Accept-Language``), as a visitor's browser set to it does: ``/`` sends it to the homepage in that language,
which loads the catalog before the scripts. What the server renders without JavaScript is tested in
``tests/test_languages.py``; the segment builder in a Spanish and an Italian admin in ``test_segment_builder.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from ..english import english_in
from .conftest import new_context, tab
from .demo_server import DemoSite

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Language:
    """What a visitor reading ``code`` sees: the demo's texts in it, and a few of the catalog's."""

    code: str
    locale: str
    weather: str
    markets: str
    up: str  # "Move %(title)s up" in the language, with {}
    down: str
    hide: str
    show: str
    already_first: str
    moved: str  # Weather moved to position 2 of 4
    hidden: str  # Markets hidden
    hidden_widgets: str
    saved: str
    thanks: str
    understood: str
    close: str
    hero: str
    you_see: str
    not_noted: str
    downloading: str
    erase_confirm: str
    erased: str


SPANISH = Language(
    code="es",
    locale="es-ES",
    weather="Tiempo",
    markets="Mercados",
    up="Subir {}",
    down="Bajar {}",
    hide="Ocultar {}",
    show="Mostrar {}",
    already_first="Tiempo ya está en primer lugar.",
    moved="Tiempo: ahora en la posición 2 de 4.",
    hidden="Se ha ocultado Mercados. Puede volver a mostrarlo desde «Widgets ocultos».",
    hidden_widgets="Widgets ocultos:",
    saved="Guardado. La página sigue ahora sus preferencias.",
    thanks="Gracias. A partir de ahora, lo que lea aquí ayudará a adaptar este sitio a usted.",
    understood="Entendido: no se registra nada de lo que lee aquí.",
    close="Cerrar",
    hero="Parte adaptada 1 de esta página",
    you_see="Es lo que ve todo el mundo.",
    not_noted="Lo que lee aquí no se registra.",
    downloading="Sus datos se están descargando como tailored-data.json.",
    erase_confirm="¿Borrar todo lo que este sitio guardó sobre usted",
    erased="Sus datos se han borrado: este sitio ya no sabe quién es usted.",
)
ITALIAN = Language(
    code="it",
    locale="it-IT",
    weather="Meteo",
    markets="Mercati",
    up="Sposta in su {}",
    down="Sposta in giù {}",
    hide="Nascondi {}",
    show="Mostra {}",
    already_first="Meteo è già in prima posizione.",
    moved="Meteo: ora in posizione 2 di 4.",
    hidden="Mercati: widget nascosto. Può mostrarlo di nuovo da «Widget nascosti».",
    hidden_widgets="Widget nascosti:",
    saved="Salvato. La pagina ora segue le Sue scelte.",
    thanks="Grazie. D'ora in poi ciò che legge qui aiuta ad adattare questo sito a Lei.",
    understood="Ricevuto: nulla di ciò che legge qui viene registrato.",
    close="Chiudi",
    hero="Parte personalizzata 1 di questa pagina",
    you_see="È ciò che vedono tutti.",
    not_noted="Ciò che legge qui non viene registrato.",
    downloading="I Suoi dati vengono scaricati come tailored-data.json.",
    erase_confirm="Cancellare tutto ciò che questo sito ha memorizzato su di Lei",
    erased="I Suoi dati sono stati cancellati: questo sito non La conosce più.",
)
LANGUAGES = [pytest.param(SPANISH, id="es"), pytest.param(ITALIAN, id="it")]

# What a reader sees of tailored_cms's elements: their text, and the labels and titles read out or shown.
SHOWN = """elements => elements.flatMap(element => [
  element.innerText,
  ...[...element.querySelectorAll("[aria-label], [title], [placeholder]")].flatMap(inner =>
    ["aria-label", "title", "placeholder"].map(name => inner.getAttribute(name))),
]).filter(Boolean).join("\\n")"""
# tailored_cms's elements, the board's tray of hidden widgets and every live region (the board's is beside it).
TAILORED = (
    "[data-tailored-board], .tailored-hidden-widgets, [data-tailored-panel], [data-tailored-consent], "
    "[data-tailored-why], [data-tailored-status]"
)


@pytest.fixture
def reader(chromium: Browser, demo_site: DemoSite, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A new visitor whose browser asks for the language of the test; a script error on the page fails it."""
    language: Language = request.param
    with tab(new_context(chromium, demo_site, locale=language.locale)) as page:
        yield page


def open_home(page: Page, language: Language) -> None:
    page.goto("/")
    assert page.url.endswith(f"/{language.code}/"), page.url
    expect(page.locator("html")).to_have_attribute("lang", language.code)
    expect(page.locator("[data-tailored-panel][data-tailored-ready]")).to_have_count(1)
    expect(page.locator(".tailored-widget-controls")).to_have_count(4)


def no_english(page: Page, language: Language, selector: str = TAILORED) -> None:
    """None of tailored_cms's English (templates' and scripts') in what the elements show or say."""
    shown = page.locator(selector).evaluate_all(SHOWN)
    assert shown.strip()
    assert not english_in(shown, language.code, ("django", "djangojs")), shown


def press(page: Page, button: Locator) -> None:
    """Focus ``button`` and press Enter, as a keyboard user does."""
    button.focus()
    page.keyboard.press("Enter")


@pytest.mark.parametrize("reader, language", [(p.values[0], p.values[0]) for p in LANGUAGES], indirect=["reader"])
def test_the_board_and_the_panel_speak_the_visitors_language(reader: Page, language: Language) -> None:
    page = reader
    open_home(page, language)
    sources = page.locator("script[src]").evaluate_all("scripts => scripts.map(s => s.getAttribute('src'))")
    catalogs = [i for i, src in enumerate(sources) if src.startswith(f"/tailored/jsi18n/{language.code}/?v=")]
    assert len(catalogs) == 1  # the panel's and the widgets' blocks share it
    assert catalogs[0] < min(i for i, src in enumerate(sources) if src.endswith(("customize.js", "privacy.js")))

    board = page.locator("[data-tailored-board]")
    status = page.locator(".tailored-hidden-widgets + [data-tailored-status]")
    press(page, board.get_by_role("button", name=language.up.format(language.weather), exact=True))
    expect(status).to_have_text(language.already_first)
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        press(page, board.get_by_role("button", name=language.down.format(language.weather), exact=True))
    assert saved.value.ok, saved.value.text()
    expect(status).to_have_text(language.moved)
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        press(page, board.get_by_role("button", name=language.hide.format(language.markets), exact=True))
    assert saved.value.ok, saved.value.text()
    expect(status).to_have_text(language.hidden)
    expect(page.locator(".tailored-hidden-widgets-label")).to_have_text(language.hidden_widgets)
    hidden = page.get_by_role("group", name=language.hidden_widgets).get_by_role("button")
    expect(hidden).to_have_text(language.show.format(language.markets))

    panel = page.locator("[data-tailored-panel]")
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        panel.locator("input[name=theme]:not(:checked)").first.check()
    assert saved.value.ok, saved.value.text()
    expect(panel.locator("[data-tailored-status]")).to_have_text(language.saved)

    banner = page.locator("[data-tailored-consent]")
    banner.locator("button[name=consent][value=yes]").click()
    expect(banner.locator("[role=status]")).to_have_text(language.thanks)
    no_english(page, language)


@pytest.mark.parametrize("reader, language", [(p.values[0], p.values[0]) for p in LANGUAGES], indirect=["reader"])
def test_the_banner_why_am_i_seeing_this_and_the_privacy_buttons_speak_the_visitors_language(
    reader: Page, language: Language
) -> None:
    page = reader
    open_home(page, language)
    banner = page.locator("[data-tailored-consent]")
    with page.expect_response(lambda r: r.url.endswith("/consent/") and r.request.method == "PUT"):
        banner.locator("button[name=consent][value=no]").click()
    expect(banner.locator("[role=status]")).to_have_text(language.understood)
    no_english(page, language)
    banner.get_by_role("button", name=language.close, exact=True).click()
    expect(banner).to_be_hidden()

    why = page.locator("[data-tailored-why]")
    with page.expect_response(lambda r: "/tailored/api/v1/explain/?areas=" in r.url) as explained:
        why.locator("summary").click()
    assert explained.value.ok, explained.value.text()
    hero = why.locator("li[data-tailored-why-area]").first  # whom it is for, never the editor's label
    expect(hero).to_contain_text(language.hero)
    expect(hero).to_contain_text(language.you_see)
    expect(why.locator(".tailored-why-tracking")).to_have_text(language.not_noted)

    status = why.locator("[data-tailored-status]")
    with page.expect_download() as download:
        why.locator("[data-tailored-privacy=download]").click()
    assert download.value.suggested_filename == "tailored-data.json"
    expect(status).to_have_text(language.downloading)
    no_english(page, language)

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_response(lambda r: r.url.endswith("/tailored/api/v1/me/") and r.request.method == "DELETE"):
        why.locator("[data-tailored-privacy=erase]").click()
    expect(status).to_have_text(language.erased)
    assert asked and asked[0].startswith(language.erase_confirm), asked
    assert not english_in(asked[0], language.code), asked
    no_english(page, language)


@pytest.mark.parametrize("reader", [SPANISH], indirect=True)
def test_without_the_catalog_the_scripts_still_work_in_english(reader: Page) -> None:
    page = reader
    page.route("**/tailored/jsi18n/**", lambda route: route.abort())
    open_home(page, SPANISH)
    board = page.locator("[data-tailored-board]")
    with page.expect_response(lambda r: r.url.endswith("/preferences/") and r.request.method == "PATCH") as saved:
        board.get_by_role("button", name="Hide Mercados", exact=True).click()
    assert saved.value.ok, saved.value.text()
    expect(page.locator(".tailored-hidden-widgets-label")).to_have_text("Hidden widgets:")
    expect(page.locator(".tailored-hidden-widgets + [data-tailored-status]")).to_have_text(
        "Mercados hidden. Show it again from Hidden widgets."
    )
    # What no_english looks at shows this English: the check would see it.
    shown = page.locator(TAILORED).evaluate_all(SHOWN)
    assert {"Hidden widgets:", "Move %(title)s up"} <= set(english_in(shown, "es", ("djangojs",)))
