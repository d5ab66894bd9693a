"""Fixtures and helpers of the editor's browser tests: Debian's Chromium, a small CMS site, the CMS editor UI.

Kept out of ``conftest.py`` (another suite owns it); ``test_editor.py`` imports what it uses from here.
The helpers drive django CMS's own frontend editor: the structure board, its "+" menus, and the plugin
forms in the modal (an iframe).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cms.api import create_page
from django.contrib.auth import get_user_model
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Locator, Page, expect, sync_playwright

from tailored_cms import api

from .chromium import VIEWPORT, launch_for_test

TIMEOUT_MS = 15_000  # one step; a whole journey takes seconds
EDITOR = ("editor", "editor-password")


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (``playwright install`` is not used). Missing: the test fails."""
    # Playwright's sync API keeps an asyncio loop on this thread while it runs, which Django takes for an
    # async context; the ORM calls made meanwhile (test setup, assertions, the database flush at teardown)
    # are plain synchronous code all the same.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = launch_for_test(playwright)
        yield browser
        browser.close()


@dataclass(frozen=True)
class EditorSite:
    """A live site with one content page whose sidebar is a tailored placeholder, and a superuser."""

    base_url: str
    page_path: str

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(name="editor_site")
def editor_site_fixture(chromium: Browser, live_server, transactional_db) -> EditorSite:
    """Topics, an empty content page (``page.html``) and the superuser ``EDITOR``; CMS caches empty."""
    cache.clear()  # the CMS page/placeholder caches (locmem) outlive other tests' databases
    api.create_topic("sports", "Sports")
    api.create_topic("travel", "Travel")
    page = create_page("Match report", "page.html", "en", slug="match-report")
    get_user_model().objects.create_superuser(EDITOR[0], "editor@example.com", EDITOR[1])
    return EditorSite(base_url=live_server.url, page_path=page.get_absolute_url("en"))


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    return context


class CMSEditor:
    """An editor in django CMS's frontend editor: log in, structure board, plugin forms in the modal."""

    def __init__(self, page: Page, site: EditorSite) -> None:
        self.page = page
        self.site = site
        self.modal = page.locator(".cms-modal")

    # Navigation
    def log_in(self, next_path: str) -> None:
        self.page.goto(self.site.url(f"/admin/login/?next={next_path}"))
        self.page.fill("#id_username", EDITOR[0])
        self.page.fill("#id_password", EDITOR[1])
        self.page.click("input[type=submit]")
        expect(self.page.locator(".cms-toolbar")).to_be_attached()

    def edit_page(self, path: str) -> None:
        """Open ``path`` live and press the toolbar's Edit button, then switch to structure mode."""
        self.page.goto(self.site.url(path))
        self.page.locator(".cms-toolbar a.cms-btn-switch-edit").click()
        self.page.wait_for_url("**/edit/**")
        self.page.locator(".cms-toolbar [data-cms-structure-btn]").click()
        expect(self.page.locator(".cms-structure")).to_be_visible()

    def open_toolbar_item(self, menu: str, item: str) -> FrameLocator:
        """Open a menu of the CMS toolbar and pick an item that opens a form in the modal."""
        top = self.page.locator(".cms-toolbar-item-navigation > li").filter(has=self.page.locator("> a", has_text=menu))
        top.locator("> a").click()
        top.locator("ul a", has_text=item).click()  # in that menu: the Tailoring menu has a "Topics…" too
        return self._form()

    # The structure board
    def placeholder(self, name: str) -> Locator:
        """The structure board's area of the placeholder titled ``name``."""
        title = self.page.locator(".cms-dragbar-title", has_text=name)
        return self.page.locator(".cms-structure .cms-dragarea").filter(has=title)

    def plugin(self, scope: Locator, plugin_name: str, text: str) -> Locator:
        """The draggable of a plugin (its own row, not a descendant's) named ``plugin_name`` showing ``text``."""
        row = self.page.locator("> .cms-dragitem .cms-dragitem-text", has_text=plugin_name).filter(has_text=text)
        return scope.locator(".cms-draggable").filter(has=row)

    def row_text(self, draggable: Locator) -> Locator:
        return draggable.locator("> .cms-dragitem .cms-dragitem-text")

    def expand_all(self, placeholder: Locator) -> None:
        expand = placeholder.locator(".cms-dragbar .cms-dragbar-expand-all")
        if expand.is_visible():
            expand.click()
        expect(placeholder.locator(".cms-dragbar .cms-dragbar-collapse-all")).to_be_visible()

    def add_to_placeholder(self, placeholder: Locator, plugin_type: str) -> FrameLocator:
        """Press the placeholder's "+" and pick ``plugin_type``: its add form opens in the modal."""
        placeholder.locator(".cms-dragbar .cms-submenu-add").click()
        return self._pick(plugin_type)

    def add_child(self, parent: Locator, plugin_type: str) -> FrameLocator:
        """Press a plugin's "+" (the CMS skips the menu when only one plugin type may go there)."""
        parent.locator("> .cms-dragitem .cms-submenu-add").click()
        return self._pick(plugin_type)

    def open_form(self, draggable: Locator) -> FrameLocator:
        """Press a plugin's edit (pencil) button: its change form opens in the modal."""
        draggable.locator("> .cms-dragitem .cms-submenu-edit").click()
        return self._form()

    def choose_from_menu(self, draggable: Locator, entry: str) -> None:
        """Open a plugin's "⋮" menu on the structure board and pick ``entry``; waits for the page to reload."""
        draggable.locator("> .cms-dragitem .cms-submenu-settings").click()
        with self.page.expect_navigation():
            draggable.locator("> .cms-dragitem .cms-submenu-dropdown-settings a", has_text=entry).click()

    def _pick(self, plugin_type: str) -> FrameLocator:
        # .first: with more than five plugins to pick from, the CMS also lists the most used ones on top.
        choice = self.modal.locator(f".cms-plugin-picker a[href='{plugin_type}']").first
        frame = self.modal.locator(".cms-modal-frame iframe")
        expect(choice.or_(frame).first).to_be_visible()
        if choice.is_visible():
            choice.click()
        return self._form()

    def _form(self) -> FrameLocator:
        form = self.page.frame_locator(".cms-modal-frame iframe")
        expect(form.locator("form")).to_be_attached()
        expect(self.modal.locator(".cms-modal-buttons .cms-btn-action")).to_be_visible()
        return form

    def save(self) -> None:
        """The modal's Save; waits until the CMS closed the modal (the form was valid)."""
        self.modal.locator(".cms-modal-buttons .cms-btn-action").click()
        expect(self.modal).to_be_hidden()

    def cancel(self) -> None:
        self.modal.locator(".cms-modal-close").click()
        expect(self.modal).to_be_hidden()

    def type_text(self, form: FrameLocator, text: str) -> None:
        """Type into djangocms-text's rich text editor (a contenteditable in the modal's iframe)."""
        editor = form.locator("[contenteditable=true]").first
        editor.click()
        self.page.keyboard.type(text)
        expect(editor).to_contain_text(text)


class Visitor:
    """A visitor in a fresh browser context (not logged in), with choices saved through the REST API."""

    def __init__(self, browser: Browser, site: EditorSite) -> None:
        self.context = new_context(browser)
        self.page = self.context.new_page()
        self.site = site

    def follow(self, *topics: str) -> None:
        """PATCH ``preferences/`` as the site's script does: the csrftoken cookie goes back as X-CSRFToken."""
        endpoint = self.site.url("/tailored/api/v1/preferences/")
        assert self.context.request.get(endpoint).ok  # sets the csrftoken cookie
        token = next(c["value"] for c in self.context.cookies() if c["name"] == "csrftoken")
        response = self.context.request.patch(endpoint, data={"topics": list(topics)}, headers={"X-CSRFToken": token})
        assert response.ok, response.text()

    def sidebar(self) -> str:
        """The text of the page's tailored sidebar, freshly requested."""
        self.page.goto(self.site.url(self.site.page_path))
        return self.page.locator(".tailored-slot").inner_text()

    def close(self) -> None:
        self.context.close()


def open_tailoring_menu_item(page: Page, entry: str) -> None:
    """The CMS toolbar's Tailoring menu, then ``entry``. On a page that has just been reloaded (after *Stop
    preview*), django CMS's toolbar script may not have bound its menus yet when the first click lands: the menu
    is opened again until ``entry`` shows, as an editor clicks again."""
    menu = page.locator(".cms-toolbar-item-navigation > li > a", has_text="Tailoring")
    item = page.locator(".cms-toolbar-item-navigation a", has_text=entry)
    page.wait_for_load_state("networkidle")
    for _attempt in range(5):
        menu.click()
        try:
            expect(item).to_be_visible(timeout=2_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    item.click()
    page.wait_for_load_state()
