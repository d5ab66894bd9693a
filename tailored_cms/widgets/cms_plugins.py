"""The CMS plugins: tailored area and its variants, widget board and its widgets, topic feed.

Rendering reads ``request.tailored.snapshot`` (loaded once by the middleware) and the plugin tree django CMS
already loaded (``instance.child_plugin_instances``): areas and boards make no SQL and no Redis calls.
``get_vary_cache_on`` names the middleware's request headers, so django CMS's placeholder and page caches
keep one copy per tailoring.
"""

from __future__ import annotations

from typing import Any

from cms.plugin_base import CMSPluginBase
from cms.plugin_pool import plugin_pool
from cms.toolbar.utils import get_toolbar_from_request
from cms.utils import get_current_site
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..visitors.snapshot import Snapshot
from .arrangement import arrange_widgets
from .feed import feed_entries
from .forms import VariantForm, WidgetForm
from .models import Strategy, TailoredArea, TopicFeed, Variant, Widget, WidgetBoard
from .selection import choose_variants

MODULE = _("Tailored content")


def visitor_snapshot(request: HttpRequest | None) -> Snapshot:
    """The request's snapshot (marks the response visitor-dependent); defaults without the middleware."""
    context = getattr(request, "tailored", None)
    return context.snapshot if context is not None else Snapshot()


def is_editing(request: HttpRequest | None) -> bool:
    """``True`` in the CMS edit and structure modes (not in preview): editors see every variant/widget."""
    if request is None:
        return False
    return bool(getattr(get_toolbar_from_request(request), "edit_mode_active", False))


def children_of(instance: Any, model: type) -> list[Any]:
    """The already-loaded children of ``instance`` that are ``model`` instances, in tree order (no SQL)."""
    # django CMS fills child_plugin_instances when it loads a placeholder's plugins (one query per plugin
    # type for the whole page). A plugin rendered on its own has None: it then renders no children.
    return [child for child in instance.child_plugin_instances or () if isinstance(child, model)]


def targeting_summary(variant: Variant) -> list[tuple[str, str]]:
    """(dimension, values) pairs shown to editors above each variant."""
    themes, layouts = tailored_settings.THEMES, tailored_settings.LAYOUTS
    summary = []
    if variant.topics:
        summary.append((str(_("topics")), ", ".join(variant.topics)))
    if variant.themes:
        summary.append((str(_("themes")), ", ".join(str(themes.get(t, t)) for t in variant.themes)))
    if variant.layouts:
        summary.append((str(_("layouts")), ", ".join(str(layouts.get(x, x)) for x in variant.layouts)))
    return summary


@plugin_pool.register_plugin
class TailoredAreaPlugin(CMSPluginBase):
    """A container of variants; the editor's strategy decides which ones a visitor sees."""

    model = TailoredArea
    name = _("Tailored area")
    module = MODULE
    render_template = "tailored_cms/plugins/area.html"
    allow_children = True
    child_classes = ["VariantPlugin"]
    fields = ["label", "strategy", "max_items"]

    def render(self, context: dict[str, Any], instance: TailoredArea, placeholder: str) -> dict[str, Any]:
        """Cost: no SQL, no Redis; picks among the loaded children from the snapshot alone."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        variants = children_of(instance, Variant)
        editing = is_editing(request)
        chosen = choose_variants(instance.strategy, variants, visitor_snapshot(request), instance.max_items)
        context.update(
            {
                "editing": editing,
                "variants": variants if editing else chosen,
                "chosen_ids": {variant.pk for variant in chosen},
            }
        )
        return context

    def get_vary_cache_on(self, request: HttpRequest, instance: TailoredArea, placeholder: Any) -> list[str]:
        if instance.strategy == Strategy.STATIC:
            return []  # everyone sees the fallback: one cached copy is right
        return [tailored_settings.VARY_HEADER]


@plugin_pool.register_plugin
class VariantPlugin(CMSPluginBase):
    """One version of an area's content and the visitors it is for."""

    model = Variant
    form = VariantForm
    name = _("Variant")
    module = MODULE
    render_template = "tailored_cms/plugins/variant.html"
    parent_classes = ["TailoredAreaPlugin"]
    require_parent = True
    allow_children = True

    def render(self, context: dict[str, Any], instance: Variant, placeholder: str) -> dict[str, Any]:
        context = super().render(context, instance, placeholder)
        if is_editing(context.get("request")):
            context["targeting"] = targeting_summary(instance)
            context["editing"] = True
        return context


@plugin_pool.register_plugin
class WidgetBoardPlugin(CMSPluginBase):
    """Widgets a visitor can reorder and hide, rendered in the visitor's arrangement."""

    model = WidgetBoard
    name = _("Widget board")
    module = MODULE
    render_template = "tailored_cms/plugins/board.html"
    allow_children = True
    child_classes = ["WidgetPlugin"]

    def render(self, context: dict[str, Any], instance: WidgetBoard, placeholder: str) -> dict[str, Any]:
        """Cost: no SQL, no Redis; arranges the loaded children from the snapshot alone."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        widgets = children_of(instance, Widget)
        if is_editing(request):
            context.update({"editing": True, "widgets": widgets, "hidden_widgets": []})
        else:
            snapshot = visitor_snapshot(request)
            arrangement = arrange_widgets(widgets, snapshot.widget_order, snapshot.hidden_widgets)
            context.update({"widgets": arrangement.shown, "hidden_widgets": arrangement.hidden})
        return context

    def get_vary_cache_on(self, request: HttpRequest, instance: WidgetBoard, placeholder: Any) -> list[str]:
        return [tailored_settings.WIDGETS_VARY_HEADER]


@plugin_pool.register_plugin
class WidgetPlugin(CMSPluginBase):
    """One widget of a board; its content is its child plugins."""

    model = Widget
    form = WidgetForm
    name = _("Widget")
    module = MODULE
    render_template = "tailored_cms/plugins/widget.html"
    parent_classes = ["WidgetBoardPlugin"]
    require_parent = True
    allow_children = True


@plugin_pool.register_plugin
class TopicFeedPlugin(CMSPluginBase):
    """Pages tagged with topics, the visitor's followed topics first."""

    model = TopicFeed
    name = _("Topic feed")
    module = MODULE
    render_template = "tailored_cms/plugins/topic_feed.html"
    fields = ["title", "limit", "followed_only"]

    def render(self, context: dict[str, Any], instance: TopicFeed, placeholder: str) -> dict[str, Any]:
        """Cost: 2 queries (see ``feed.feed_entries``), no Redis; the placeholder cache keeps the result."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        snapshot = visitor_snapshot(request)
        current_page = getattr(request, "current_page", None)
        context["entries"] = feed_entries(
            language=instance.language,
            site_id=get_current_site(request).pk,
            followed=snapshot.topics,
            limit=instance.limit,
            followed_only=instance.followed_only,
            exclude_page_id=current_page.pk if current_page else None,
        )
        context["follows_topics"] = bool(snapshot.topics)
        return context

    def get_vary_cache_on(self, request: HttpRequest, instance: TopicFeed, placeholder: Any) -> list[str]:
        return [tailored_settings.VARY_HEADER]
