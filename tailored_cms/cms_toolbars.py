"""Page menu → "Topics": edit the current page's topics (the ``PageTopics`` extension) in a modal."""

from __future__ import annotations

from cms.cms_toolbars import PAGE_MENU_SECOND_BREAK
from cms.extensions.toolbar import ExtensionToolbar
from cms.toolbar.items import Break
from cms.toolbar_pool import toolbar_pool
from django.utils.translation import gettext_lazy as _

from .widgets.models import PageTopics


@toolbar_pool.register
class PageTopicsToolbar(ExtensionToolbar):
    model = PageTopics

    def populate(self) -> None:
        page_menu = self._setup_extension_toolbar()  # None unless there is a page the user may change
        if page_menu is None:
            return
        _extension, url = self.get_page_extension_admin()
        if url:
            position = page_menu.find_first(Break, identifier=PAGE_MENU_SECOND_BREAK)
            page_menu.add_modal_item(
                _("Topics"), url=url, disabled=not self.toolbar.edit_mode_active, position=position
            )
