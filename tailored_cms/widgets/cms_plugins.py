"""The CMS plugins: tailored area and its variants, widget board and its widgets, topic feed, preferences panel.

Rendering reads ``request.tailored.snapshot`` (loaded once by the middleware) and the plugin tree django CMS
already loaded (``instance.child_plugin_instances``): areas and boards make no SQL and no Redis calls.
``get_vary_cache_on`` names the middleware's request headers, so django CMS's placeholder and page caches
keep one copy per tailoring.
"""

from __future__ import annotations

from html import escape
from typing import Any

from cms.plugin_base import CMSPluginBase
from cms.plugin_pool import plugin_pool
from cms.toolbar.utils import get_toolbar_from_request
from cms.utils import get_current_site
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..editors.preview import PreviewContext
from ..editors.strategy import strategy_menu_items
from ..middleware import meta_key
from ..templatetags.tailored import api_root, beacon_config
from ..visitors.consent import ASK, consent_state
from ..visitors.forms import CHOICE_FIELDS
from ..visitors.snapshot import Snapshot
from ..visitors.views import preferences_form_context
from .arrangement import arrange_widgets
from .cache_budget import note
from .feed import feed_entries
from .forms import TailoredAreaForm, VariantForm, WidgetForm
from .models import (
    ConsentBanner,
    PreferencesPanel,
    Strategy,
    TailoredArea,
    TopicFeed,
    Variant,
    Widget,
    WidgetBoard,
)
from .optimize import for_visitor
from .page_cache import vary_page_cache_from_plugin
from .selection import Selection, select

MODULE = _("Tailored content")


def visitor_snapshot(request: HttpRequest | None) -> Snapshot:
    """The request's snapshot (marks the response visitor-dependent); defaults without the middleware."""
    context = getattr(request, "tailored", None)
    return context.snapshot if context is not None else Snapshot()


def visitor_segments(request: HttpRequest | None) -> tuple[str, ...]:
    """The active segments the request's visitor is in (no SQL; see ``VisitorContext.segments``)."""
    context = getattr(request, "tailored", None)
    return context.segments(request) if context is not None and request is not None else ()


def visitor_in_holdout(request: HttpRequest | None, area: TailoredArea) -> bool:
    """``True`` if the request's visitor is in the area's holdout (never for a static area). No I/O."""
    context = getattr(request, "tailored", None)
    if context is None or area.strategy == Strategy.STATIC:
        return False
    return bool(context.in_holdout(area.key, area.holdout_percent))


def visitor_optimized(request: HttpRequest | None, area: TailoredArea, variants: list[Variant]) -> Variant | None:
    """The variant an optimize area's allocation gives the request's visitor (see ``optimize``). No I/O."""
    context = getattr(request, "tailored", None)
    return for_visitor(area.strategy, area.key, variants, context.visitor_id) if context is not None else None


def select_for(request: HttpRequest | None, area: TailoredArea, variants: list[Variant]) -> Selection[Variant]:
    """What the request's visitor sees of ``area``: its strategy applied to their snapshot, segments, holdout
    and optimize bucket. No I/O.

    Selection reads the variants' read-only settings (``settings_view``): reading their lists off the variants
    would copy them, 120 dicts and lists kept alive to the end of the request on a page of four areas, which made
    Python's garbage collector run more often.
    """
    views = [variant.settings_view for variant in variants]
    optimized = visitor_optimized(request, area, variants)
    selection = select(
        area.strategy,
        views,
        visitor_snapshot(request),
        area.max_items,
        visitor_segments(request),
        visitor_in_holdout(request, area),
        views[variants.index(optimized)] if optimized is not None else None,
    )
    variant_of = {id(view): variant for view, variant in zip(views, variants, strict=True)}
    return Selection([variant_of[id(view)] for view in selection.shown], selection.paths, selection.path)


def is_editing(request: HttpRequest | None) -> bool:
    """``True`` in the CMS edit and structure modes (not in preview): editors see every variant/widget."""
    if request is None:
        return False
    return bool(getattr(toolbar_of(request), "edit_mode_active", False))


def toolbar_of(request: HttpRequest) -> Any:
    """The request's django CMS toolbar: ``request.toolbar``, which django CMS's middleware sets, else an empty one.

    Not ``get_toolbar_from_request``, which builds an empty toolbar on every call, also when there is one (its
    ``getattr`` default): a tenth of a millisecond a page, called twice per area.
    """
    toolbar = getattr(request, "toolbar", None)
    return toolbar if toolbar is not None else get_toolbar_from_request(request)


def children_of(instance: Any, model: type) -> list[Any]:
    """The already-loaded children of ``instance`` that are ``model`` instances, in tree order (no SQL)."""
    # django CMS fills child_plugin_instances when it loads a placeholder's plugins (one query per plugin
    # type for the whole page). A plugin rendered on its own has None: it then renders no children.
    return [child for child in instance.child_plugin_instances or () if isinstance(child, model)]


def targeting_summary(variant: Variant) -> list[tuple[str, str]]:
    """(dimension, values) pairs shown to editors above each variant."""
    return variant.targeting_summary()


@plugin_pool.register_plugin
class TailoredAreaPlugin(CMSPluginBase):
    """A container of variants; the editor's strategy decides which ones a visitor sees."""

    model = TailoredArea
    form = TailoredAreaForm
    name = _("Tailored area")
    module = MODULE
    render_template = "tailored_cms/plugins/area.html"  # editing: labels, every variant; live: live_markup()
    allow_children = True
    child_classes = ["VariantPlugin"]
    fields = ["label", "strategy", "max_items", "holdout_percent", "goal"]

    def render(self, context: dict[str, Any], instance: TailoredArea, placeholder: str) -> dict[str, Any]:
        """Cost: no SQL, no Redis; picks among the loaded children from the snapshot and segments alone."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        variants = children_of(instance, Variant)
        selection = select_for(request, instance, variants)
        if self.varies_on_bucket(instance) and request is not None:
            # The placeholder varies on the holdout bucket (get_vary_cache_on); the page must too, also when this
            # placeholder comes from the placeholder cache, where this method doesn't run.
            vary_page_cache_from_plugin(context, request, tailored_settings.HOLDOUT_VARY_HEADER, instance.key)
        if is_editing(request):
            chosen_ids = {variant.pk for variant in selection.shown}
            context.update({"editing": True, "variants": variants, "chosen_ids": chosen_ids})
        else:
            if request is not None:
                self.note_cached_copy(request, instance)
            context["content"] = live_markup(context, instance, selection)
        return context

    def get_render_template(self, context: dict[str, Any], instance: TailoredArea, placeholder: Any) -> Any:
        return self.render_template if context.get("editing") else LiveMarkup

    def get_vary_cache_on(self, request: HttpRequest, instance: TailoredArea, placeholder: Any) -> list[str]:
        """Static: nothing. Optimize: the visitor's holdout bucket alone. Others: the variant key; with a holdout,
        also the visitor's holdout bucket.

        The variant key is shared by every area of the page, while holdouts are per area: so the bucket (one of
        100 values, see ``selection.in_holdout``) is a header of its own, which only areas with a holdout name.
        Areas and pages without one keep as many cached copies as before; those with one keep up to 100 per
        variant key for visitors with an id (those without one share one: they are never held out). An optimize
        area's choice depends on the bucket alone (``optimize.area_bucket``), not on choices or segments: 100
        copies at most (101 with visitors without an id). A copy may show a bucket's previous variant until the
        caches expire it, which only delays a reallocation.
        """
        if instance.strategy == Strategy.STATIC:
            return []  # everyone sees the fallback: one cached copy is right
        if instance.strategy == Strategy.OPTIMIZE:
            return [tailored_settings.HOLDOUT_VARY_HEADER]
        if self.has_holdout(instance):
            return [tailored_settings.VARY_HEADER, tailored_settings.HOLDOUT_VARY_HEADER]
        return [tailored_settings.VARY_HEADER]

    @staticmethod
    def has_holdout(instance: TailoredArea) -> bool:
        return bool(instance.holdout_percent) and instance.strategy != Strategy.STATIC

    @classmethod
    def varies_on_bucket(cls, instance: TailoredArea) -> bool:
        """``True`` if what the area shows depends on the visitor's holdout bucket (a holdout, or optimize)."""
        return cls.has_holdout(instance) or instance.strategy == Strategy.OPTIMIZE

    @classmethod
    def get_extra_plugin_menu_items(cls, request: HttpRequest, plugin: Any) -> list[Any]:
        """Structure mode: the area's menu switches its strategy (``editors.strategy``); other plugins get nothing."""
        return strategy_menu_items(request, plugin)

    def note_cached_copy(self, request: HttpRequest, instance: TailoredArea) -> None:
        """Count the values this render varies on towards the area's cached copies (no I/O; see ``cache_budget``).

        Editors' previews are left out: their vary keys are unique to each request and never cached.
        """
        headers = self.get_vary_cache_on(request, instance, None)
        if headers and not isinstance(getattr(request, "tailored", None), PreviewContext):
            note(instance.key, (request.META.get(meta_key(header), "") or "_" for header in headers))


def live_markup(context: Any, area: TailoredArea, selection: Selection[Variant]) -> SafeString:
    """The area as visitors get it: the shown variants' content, each in a ``div`` naming its key and the path
    that put it there (results count by them: the beacon reads the markup, so a page from django CMS's caches
    still says what it shows, and why).

    Built here rather than in a template: on a page of four areas, the template's loops and ``{% render_plugin %}``
    tags cost about a tenth of what tailoring adds to the page (measured, ``bench``). The children are rendered as
    that tag renders them.
    """
    renderer = toolbar_of(context["request"]).get_content_renderer()
    parts = [
        f'<div class="tailored-area" data-tailored-area="{area.pk:d}" data-tailored-area-key="{escape(area.key)}" '
        f'data-tailored-strategy="{escape(area.strategy)}" data-tailored-path="{escape(selection.path)}">\n'
    ]
    for variant, path in zip(selection.shown, selection.paths, strict=True):
        parts.append(
            f'<div class="tailored-variant" data-tailored-variant="{escape(variant.key)}" '
            f'data-tailored-path="{escape(path)}">\n'
        )
        parts.extend(renderer.render_plugin(child, context) for child in variant.child_plugin_instances or ())
        parts.append("\n</div>\n")
    parts.append("\n</div>")
    return mark_safe("".join(parts))  # noqa: S308 - escaped values and django CMS's output


class LiveMarkup:
    """The live area's template: what ``live_markup`` built, as is. django CMS renders any object with a
    ``render`` method as a plugin's template; this one skips the template engine (a tenth of a millisecond on a
    page of four areas)."""

    @staticmethod
    def render(context: dict[str, Any], request: HttpRequest | None = None) -> str:
        return context["content"]


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
        """Live: no SQL. Editing: marks the variant the editor would see as a visitor (see ``chosen_ids``)."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        if is_editing(request):
            context["targeting"] = targeting_summary(instance)
            context["editing"] = True
            context["chosen"] = instance.pk in chosen_ids(context, instance, request)
        return context


def chosen_ids(context: Any, variant: Variant, request: HttpRequest | None) -> set[int]:
    """Pks of the variants of ``variant``'s area that this request's visitor would see.

    Rendered as part of its area, the area's render put them into the context. Rendered on its own (django
    CMS re-renders just the plugin an editor changed, or added content to), they are worked out here from the
    area and its variants in the database: 2 queries, only in edit mode.
    """
    if "chosen_ids" in context:
        return context["chosen_ids"]
    area = TailoredArea.objects.filter(pk=variant.parent_id).first()
    if area is None:
        return set()
    siblings = list(Variant.objects.filter(parent_id=area.pk).order_by("position"))
    return {v.pk for v in select_for(request, area, siblings).shown}


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
    fields = ["title", "show_topics", "show_theme", "show_layout"]

    def render(self, context: dict[str, Any], instance: PreferencesPanel, placeholder: str) -> dict[str, Any]:
        """Cost: 1 query (the topics, when shown); no Redis (the snapshot is already loaded).

        The form holds no CSRF token, so the placeholder and page caches may keep it (one copy per variant key:
        it shows the visitor's choices). customize.js saves it with the csrftoken cookie; without JavaScript it
        is a GET to the preferences page, which shows the choices to confirm with a CSRF-protected POST.
        """
        context = super().render(context, instance, placeholder)
        request = context["request"]
        shown = {"topics": instance.show_topics, "theme": instance.show_theme, "layout": instance.show_layout}
        fields = [name for name in CHOICE_FIELDS if shown[name]]
        context.update(preferences_form_context(request, next_url=request.path, fields=fields, method="get"))
        return context

    def get_vary_cache_on(self, request: HttpRequest, instance: PreferencesPanel, placeholder: Any) -> list[str]:
        return [tailored_settings.VARY_HEADER]


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
        editors at work; the caches keep one copy per consent state (``get_vary_cache_on``).
        """
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        config = beacon_config()
        asking = request is not None and consent_state(request, visitor_snapshot(request)) == ASK
        context.update(
            {
                "show_banner": bool(config) and (asking or is_editing(request)),
                # What privacy.js needs to start the beacon without a reload, as {% tailored_tracking %} would.
                "beacon_attrs": format_html_join(
                    "", ' data-tailored-{}="{}"', [("beacon-src", static("tailored_cms/tracking.js")), *config.items()]
                ),
            }
        )
        return context

    def get_vary_cache_on(self, request: HttpRequest, instance: ConsentBanner, placeholder: Any) -> list[str]:
        return [tailored_settings.CONSENT_VARY_HEADER]


@plugin_pool.register_plugin
class ExplanationPlugin(CMSPluginBase):
    """The "Why am I seeing this?" widget: what each tailored area of the page shows the visitor, and why."""

    name = _("Why am I seeing this?")
    module = MODULE
    render_template = "tailored_cms/plugins/explanation.html"

    def render(self, context: dict[str, Any], instance: Any, placeholder: str) -> dict[str, Any]:
        """Cost: no SQL, no Redis. The same markup for everyone, so it is cached once.

        The explanation itself comes from ``explain/`` when the visitor opens the widget (privacy.js).
        """
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        root = api_root()
        try:
            preferences = reverse("tailored_cms:preferences")
        except NoReverseMatch:
            preferences = ""
        if preferences and request is not None:
            preferences += "?" + urlencode({"next": request.path})
        context.update({"me_url": root + "me/" if root else "", "preferences_url": preferences})
        return context
