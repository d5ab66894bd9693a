"""The CMS plugins of tailored areas: the area, its variants, and "Why am I seeing this?".

Rendering reads ``request.tailored.snapshot`` (loaded once by the middleware) and the plugin tree django CMS
already loaded (``instance.child_plugin_instances``): areas make no SQL and no Redis calls. For a visitor, that
tree holds only the variants they are shown (``shown``: django CMS builds no other variant's content).
``get_vary_cache_on`` names the middleware's request headers the area's strategy varies on, so django CMS's
placeholder and page caches keep one copy per tailoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from html import escape
from typing import Any

from cms.plugin_base import CMSPluginBase
from cms.plugin_pool import plugin_pool
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..headers import meta_key
from ..mounts import api_root
from ..plugin_settings.rendering import MODULE, children_of, is_editing, toolbar_of
from .cache_budget import note
from .forms import TailoredAreaForm, VariantForm
from .menu import strategy_menu_items
from .models import TailoredArea, Variant
from .page_cache import NEVER_SHARED_HEADER, expire_page_cache_from_plugin, vary_page_cache_from_plugin
from .shown import Shown, changes_next, select_for, shown_to
from .windows import live as live_now
from .windows import moment, seconds_until, window_label

__all__ = ["ExplanationPlugin", "TailoredAreaPlugin", "VariantPlugin", "select_for"]


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
    fields = ["label", "strategy", "max_items", "holdout_percent", "never_shared", "goal", "starts_at", "ends_at"]

    def render(self, context: dict[str, Any], instance: TailoredArea, placeholder: str) -> dict[str, Any]:
        """Cost: no SQL, no Redis; for a visitor, what was decided when django CMS loaded the page (``shown``)."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        shown = shown_to(request, instance)
        if request is not None:
            self.tell_caches(context, request, instance, shown)
        if shown.editing:
            variants = children_of(instance, Variant)
            chosen_ids = {variant.pk for variant in shown.variants}
            window = window_label(instance, shown.at)
            shares = instance.strategy_class.shares(live_now(variants, shown.at))
            context.update(
                {"editing": True, "variants": variants, "chosen_ids": chosen_ids, "shares": shares, "window": window}
            )
        else:
            # outside its window, the area renders nothing, as if it weren't there
            context["content"] = live_markup(context, instance, shown) if shown.live else SafeString()
        return context

    def tell_caches(self, context: dict[str, Any], request: HttpRequest, instance: TailoredArea, shown: Shown) -> None:
        """What the placeholder and page caches need from this render: the page varies on the holdout bucket or on
        the area being never shared where the placeholder does (``get_vary_cache_on``), also when the placeholder
        comes from its cache, where this method doesn't run; a visitor's render counts towards the area's cached
        copies (``note_cached_copy``), and the page's copy expires when what the area shows changes next."""
        if tailored_settings.HOLDOUT_VARY_HEADER in shown.headers:
            vary_page_cache_from_plugin(context, request, tailored_settings.HOLDOUT_VARY_HEADER, instance.key)
        if instance.never_shared and tailored_settings.EDGE_MODE:
            vary_page_cache_from_plugin(context, request, NEVER_SHARED_HEADER, instance.key)
        if not shown.editing:
            self.note_cached_copy(request, instance, shown.headers)
            if shown.changes is not None:
                expire_page_cache_from_plugin(context, request, shown.changes, instance.key)

    def get_cache_expiration(self, request: HttpRequest, instance: TailoredArea, placeholder: Any) -> int | None:
        """Seconds until the area's window or one of its variants' starts or ends (``None``: no window ahead), so
        that django CMS's placeholder and page caches keep no copy past the moment what it shows changes. No I/O."""
        now = timezone.now()
        return seconds_until(changes_next(instance, now), now)

    def get_render_template(self, context: dict[str, Any], instance: TailoredArea, placeholder: Any) -> Any:
        return self.render_template if context.get("editing") else LiveMarkup

    def get_vary_cache_on(self, request: HttpRequest | None, instance: TailoredArea, placeholder: Any) -> list[str]:
        """What the area's strategy varies on (``Strategy.get_vary_cache_on``): by default the variant key and, with a
        holdout, the visitor's holdout bucket; nothing for a static area; the bucket alone for an optimize one.

        Areas and pages without a holdout keep as many cached copies as the variant keys; those with one keep up to
        100 per variant key for visitors with an id (those without one share one: they are never held out).
        """
        return instance.strategy_class.get_vary_cache_on(instance)

    @classmethod
    def varies_on_bucket(cls, instance: TailoredArea) -> bool:
        """``True`` if what the area shows depends on the visitor's holdout bucket (a holdout, or optimize)."""
        return tailored_settings.HOLDOUT_VARY_HEADER in instance.strategy_class.get_vary_cache_on(instance)

    @classmethod
    def get_extra_plugin_menu_items(cls, request: HttpRequest, plugin: Any) -> list[Any]:
        """Structure mode: the area's menu switches its strategy (``menu``); other plugins get nothing."""
        return strategy_menu_items(request, plugin)

    def note_cached_copy(self, request: HttpRequest, instance: TailoredArea, headers: Sequence[str]) -> None:
        """Count the values this render varies on (``headers``) towards the area's cached copies (no I/O; see
        ``cache_budget``).

        Editors' previews are left out: their vary keys are unique to each request and never cached.
        """
        if headers and not getattr(getattr(request, "tailored", None), "is_preview", False):
            note(instance.key, (request.META.get(meta_key(header), "") or "_" for header in headers))


def live_markup(context: Any, area: TailoredArea, shown: Shown) -> SafeString:
    """The area as visitors get it: the shown variants' content, each in a ``div`` naming its key and the path
    that put it there, in a ``div`` naming the page's language (results count by them: the beacon reads the markup,
    so a page from django CMS's caches, which keep a copy per language, still says what it shows, why, and in which
    language).

    Built here rather than in a template: the template's loops and ``{% render_plugin %}`` tags are a noticeable
    part of what tailoring adds to a page (``make bench`` shows it). The children are rendered as that tag renders
    them.
    """
    renderer = toolbar_of(context["request"]).get_content_renderer()
    parts = [
        _area_opening(area.pk, area.key, area.strategy),
        f'{shown.path}" data-tailored-language="{escape(shown.language)}">\n',
    ]
    for variant, path in zip(shown.variants, shown.paths, strict=True):
        parts.append(f'{_variant_opening(variant.key)}{path}">\n')
        parts.extend(renderer.render_plugin(child, context) for child in variant.child_plugin_instances or ())
        parts.append("\n</div>\n")
    parts.append("\n</div>")
    return SafeString("".join(parts))  # escaped values, the paths' names and django CMS's output


@lru_cache(maxsize=4096)
def _area_opening(pk: int, key: str, strategy: str) -> str:
    """The area's ``div`` up to its path (``live_markup``), its values escaped: the same on every page view."""
    return (
        f'<div class="tailored-area" data-tailored-area="{pk:d}" data-tailored-area-key="{escape(key)}" '
        f'data-tailored-strategy="{escape(strategy)}" data-tailored-path="'
    )


@lru_cache(maxsize=4096)
def _variant_opening(key: str) -> str:
    """A shown variant's ``div`` up to its path (``live_markup``), its key escaped."""
    return f'<div class="tailored-variant" data-tailored-variant="{escape(key)}" data-tailored-path="'


class LiveMarkup:
    """The live area's template: what ``live_markup`` built, as is. django CMS renders any object with a
    ``render`` method as a plugin's template; this one skips the template engine, whose cost every area on the
    page would pay."""

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
        """Live: no SQL. Editing: marks the variant the editor would see as a visitor, and its share of an
        experiment (see ``in_area``)."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        if is_editing(request):
            chosen, shares = in_area(context, instance, request)
            context["targeting"] = targeting_summary(instance)
            context["window"] = window_label(instance, moment(request))
            context["editing"] = True
            context["chosen"] = instance.pk in chosen
            context["share"] = shares.get(instance.key)
            context["left_out"] = bool(shares) and instance.key not in shares and not instance.fallback
        return context


def in_area(context: Any, variant: Variant, request: HttpRequest | None) -> tuple[set[int], dict[str, int]]:
    """Pks of the variants of ``variant``'s area that this request's visitor would see, and the percent of
    visitors each variant gets where the area's strategy fixes it (``Strategy.shares``), by key.

    Rendered as part of its area, the area's render put them into the context. Rendered on its own (django
    CMS re-renders just the plugin an editor changed, or added content to), they are worked out here from the
    area and its variants in the database: 2 queries, only in edit mode.
    """
    if "chosen_ids" in context:
        return context["chosen_ids"], context.get("shares", {})
    area = TailoredArea.objects.filter(pk=variant.parent_id).first()
    if area is None:
        return set(), {}
    siblings = list(Variant.objects.filter(parent_id=area.pk).order_by("position"))
    shares = area.strategy_class.shares(live_now(siblings, moment(request)))
    return {v.pk for v in select_for(request, area, siblings).shown}, shares


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
