"""The CMS plugins visitors use: widget board and its widgets, topic feed, preferences panel, consent banner.

Rendering reads ``request.tailored.snapshot`` (loaded once by the middleware) and the plugin tree django CMS
already loaded (``instance.child_plugin_instances``): boards make no SQL and no Redis calls.
``get_vary_cache_on`` names the middleware's request headers, so django CMS's placeholder and page caches
keep one copy per tailoring.
"""

from __future__ import annotations

from typing import Any

from cms.plugin_base import CMSPluginBase
from cms.plugin_pool import plugin_pool
from cms.utils import get_current_site
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..plugin_settings.rendering import MODULE, children_of, is_editing, visitor_snapshot
from ..tracking.beacon_config import beacon_config
from ..visitors.consent import ASK, bridged_consent, consent_state
from ..visitors.forms import CHOICE_FIELDS, preferences_form_context
from .arrangement import arrange_widgets
from .feed import feed_entries
from .forms import WidgetForm
from .models import ConsentBanner, PreferencesPanel, TopicFeed, Widget, WidgetBoard

__all__ = [
    "ConsentBannerPlugin",
    "PreferencesPanelPlugin",
    "TopicFeedPlugin",
    "WidgetBoardPlugin",
    "WidgetPlugin",
    "visitor_snapshot",
]


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
            context.update(
                {"editing": True, "widgets": widgets, "hidden_widgets": [], "tailored_hidden_widgets": set()}
            )
        else:
            snapshot = visitor_snapshot(request)
            arrangement = arrange_widgets(widgets, snapshot.widget_order, snapshot.hidden_widgets)
            # Hidden widgets stay in the markup, in place, with the `hidden` attribute (widget.html checks
            # tailored_hidden_widgets): the front end shows one again without a reload.
            context.update(
                {
                    "widgets": arrangement.ordered,
                    "hidden_widgets": arrangement.hidden,
                    "tailored_hidden_widgets": {widget.pk for widget in arrangement.hidden},
                }
            )
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


@plugin_pool.register_plugin
class PreferencesPanelPlugin(CMSPluginBase):
    """The visitor's *Customize* panel: the no-JS preferences form, saved without a reload by customize.js."""

    model = PreferencesPanel
    name = _("Preferences panel")
    module = MODULE
    render_template = "tailored_cms/plugins/preferences_panel.html"
    fields = ["title", "show_topics", "show_theme", "show_layout", "show_accessibility"]

    def render(self, context: dict[str, Any], instance: PreferencesPanel, placeholder: str) -> dict[str, Any]:
        """Cost: 1 query (the topics, when shown); no Redis (the snapshot is already loaded).

        The form holds no CSRF token, so the placeholder and page caches may keep it (one copy per variant key:
        it shows the visitor's choices). customize.js saves it with the csrftoken cookie; without JavaScript it
        is a GET to the preferences page, which shows the choices to confirm with a CSRF-protected POST.
        """
        context = super().render(context, instance, placeholder)
        request = context["request"]
        shown = {
            "topics": instance.show_topics,
            "theme": instance.show_theme,
            "layout": instance.show_layout,
            "motion": instance.show_accessibility,
            "text_size": instance.show_accessibility,
        }
        fields = [name for name in CHOICE_FIELDS if shown[name]]
        context.update(preferences_form_context(request, next_url=request.path, fields=fields, method="get"))
        return context

    def get_vary_cache_on(self, request: HttpRequest, instance: PreferencesPanel, placeholder: Any) -> list[str]:
        return [tailored_settings.VARY_HEADER]


BRIDGED_BANNER_TEMPLATE = "tailored_cms/plugins/consent_banner_bridged.html"


@plugin_pool.register_plugin
class ConsentBannerPlugin(CMSPluginBase):
    """Asks for consent to behaviour tracking while the site needs it and the visitor hasn't answered."""

    model = ConsentBanner
    name = _("Consent banner")
    module = MODULE
    render_template = "tailored_cms/plugins/consent_banner.html"
    fields = ["message", "privacy_policy_url"]

    def render(self, context: dict[str, Any], instance: ConsentBanner, placeholder: str) -> dict[str, Any]:
        """Cost: no SQL, no Redis: the consent state comes from the snapshot and the request's headers.

        Shown only in the ``ASK`` state (``CONSENT`` is "required", no answer yet, no Sec-GPC/DNT), and to
        editors at work; the caches keep one copy per consent state (``get_vary_cache_on``). Never while
        ``CONSENT_SOURCE`` names the site's own consent tool: that tool asks.
        """
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        config = beacon_config()
        asking = request is not None and consent_state(request, visitor_snapshot(request)) == ASK
        bridged = bridged_consent()
        context.update(
            {
                # With CONSENT_SOURCE naming the site's own consent tool, that tool asks: never two banners. Editors
                # at work are told why the plugin shows nothing.
                "show_banner": bool(config) and not bridged and (asking or is_editing(request)),
                "bridged_note": bridged and is_editing(request),
                # What privacy.js needs to start the beacon without a reload, as {% tailored_tracking %} would.
                "beacon_attrs": format_html_join(
                    "", ' data-tailored-{}="{}"', [("beacon-src", static("tailored_cms/tracking.js")), *config.items()]
                ),
            }
        )
        return context

    def get_render_template(self, context: dict[str, Any], instance: ConsentBanner, placeholder: Any) -> str:
        return BRIDGED_BANNER_TEMPLATE if context.get("bridged_note") else self.render_template

    def get_vary_cache_on(self, request: HttpRequest, instance: ConsentBanner, placeholder: Any) -> list[str]:
        return [tailored_settings.CONSENT_VARY_HEADER]
