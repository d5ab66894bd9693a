"""The CMS toolbar: Page menu → "Topics" (the ``PageTopics`` extension in a modal), and the "Tailoring" menu:
preview as any visitor, stop the preview, results, and the admin of segments, topics and tailored areas."""

from __future__ import annotations

import logging
from typing import Any

from cms.cms_toolbars import PAGE_MENU_IDENTIFIER, PAGE_MENU_SECOND_BREAK
from cms.constants import REFRESH_PAGE, RIGHT
from cms.extensions.toolbar import ExtensionToolbar
from cms.models import PageContent
from cms.toolbar.items import Break, ModalItem, TemplateItem
from cms.toolbar.utils import get_object_preview_url
from cms.toolbar_base import CMSToolbar
from cms.toolbar_pool import toolbar_pool
from cms.utils.page_permissions import user_can_change_page
from django.db.models import Model
from django.urls import NoReverseMatch, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .areas.models import TailoredArea, may_see_results
from .editors.preview import current_preview, may_preview
from .rules.models import Segment
from .visitors.models import Topic
from .widgets.models import PageTopics

TAILORING_MENU = "tailored_cms-tailoring"
logger = logging.getLogger(__name__)


@toolbar_pool.register
class PageTopicsToolbar(ExtensionToolbar):
    model = PageTopics

    def populate(self) -> None:
        # django CMS's Page menu, if it made one (it doesn't everywhere an object is shown): ours would be nameless.
        page_menu = self.toolbar.get_menu(PAGE_MENU_IDENTIFIER)
        page = self._get_page()
        if page_menu is None or page is None or not user_can_change_page(self.request.user, page=page):
            return
        _extension, url = self.get_page_extension_admin()
        # populate() may run again on the same toolbar: the entry is added once.
        if url and page_menu.find_first(ModalItem, url=url) is None:
            position = page_menu.find_first(Break, identifier=PAGE_MENU_SECOND_BREAK)
            page_menu.add_modal_item(
                _("Topics"), url=url, disabled=not self.toolbar.edit_mode_active, position=position
            )


@toolbar_pool.register
class TailoringToolbar(CMSToolbar):
    """The "Tailoring" menu, for staff who may preview (``tailored_cms.preview_tailoring``) or see results
    (``tailored_cms.view_results``): each gets the entries of their permissions.

    While a preview is on, the toolbar also says so on its right ("Previewing as: …" and a Stop button, a plain
    form: no script of ours). Cost: on previewing requests and for editors only; visitors never get a toolbar.
    """

    class Media:
        css = {"all": ("tailored_cms/toolbar.css",)}

    def populate(self) -> None:
        user = self.request.user
        previews, results = may_preview(user), may_see_results(user)
        if not (previews or results):
            return
        try:
            preview_url, stop_url = reverse("tailored_cms:preview"), reverse("tailored_cms:stop_preview")
        except NoReverseMatch:
            # A urlconf without tailored_cms's URLs (check tailored_cms.E018 covers ROOT_URLCONF): no menu, no 500.
            logger.warning(
                "The Tailoring menu is left out: the urlconf %s does not include tailored_cms.urls.",
                get_urlconf() or "ROOT_URLCONF",
            )
            return
        back = self.back_url()
        preview = current_preview(self.request) if previews else None
        menu = self.toolbar.get_or_create_menu(TAILORING_MENU, _("Tailoring"))
        if previews:
            menu.add_link_item(_("Preview as…"), url=preview_url + "?" + urlencode({"next": back}))
        if preview is not None:
            menu.add_ajax_item(
                _("Stop preview"),
                action=stop_url,
                data={"next": back},
                on_success=REFRESH_PAGE,
            )
        if results:
            if previews:
                menu.add_break()
            # A page of its own, not the side frame: its charts and tables need the width.
            menu.add_link_item(_("Results"), url=reverse("admin:tailored_cms_variantstats_changelist"))
        links: list[tuple[type[Model], Promise]] = [
            (Segment, _("Segments")),
            (Topic, _("Topics")),
            (TailoredArea, _("Tailored areas")),
        ]
        shown = [(model, label) for model, label in links if may_see_in_admin(user, model)]
        if shown:
            menu.add_break()
        for model, label in shown:
            opts = model._meta
            menu.add_sideframe_item(label, url=reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if preview is not None:
            marker = TemplateItem(
                "tailored_cms/toolbar/preview_marker.html",
                extra_context={
                    "description": preview.describe(),
                    "stop_url": stop_url,
                    "next": back,
                    "csrf_token": self.toolbar.csrf_token,
                },
                side=RIGHT,
            )
            self.toolbar.add_item(marker)

    def back_url(self) -> str:
        """Where to show the preview: this page; in edit or structure mode, the CMS's preview of its content
        (edit mode shows editors every variant, preview mode what a visitor gets)."""
        obj = self.toolbar.get_object()
        if self.toolbar.edit_mode_active and isinstance(obj, PageContent):
            return get_object_preview_url(obj)
        return self.request.get_full_path()


def may_see_in_admin(user: Any, model: type[Model]) -> bool:
    """The admin lets ``user`` see the list of ``model`` (its view or change permission)."""
    opts = model._meta
    return bool(
        user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    )
