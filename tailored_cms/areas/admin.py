"""Admin of tailored areas: every area of the site in one list, its strategy, holdout and goal editable there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cms.models import PageContent
from cms.toolbar.utils import get_object_edit_url
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.checks import ModelAdminChecks
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..conf import tailored_settings
from ..plugin_settings.models import SETTINGS
from .cache_budget import OBSERVED_DAYS, observed_copies
from .forms import TailoredAreaForm
from .models import TailoredArea, may_see_results
from .strategies import registered_strategies


class StrategyFilter(admin.SimpleListFilter):
    title = _("strategy")
    parameter_name = "strategy"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(strategy.name, strategy.short_label()) for strategy in registered_strategies()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[TailoredArea]) -> QuerySet[TailoredArea]:
        return queryset.filter(tailored_settings__strategy=self.value()) if self.value() else queryset


class PageFilter(admin.SimpleListFilter):
    """Areas of one CMS page (any language)."""

    title = _("page")
    parameter_name = "page"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        on_pages = TailoredArea.objects.filter(placeholder__content_type=_page_content_type())
        contents = (
            PageContent.admin_manager.filter(pk__in=on_pages.values("placeholder__object_id"))
            .order_by("title", "page_id")
            .values_list("page_id", "title")
        )
        return list({str(page_id): title for page_id, title in contents}.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[TailoredArea]) -> QuerySet[TailoredArea]:
        if not self.value():
            return queryset
        contents = PageContent.admin_manager.filter(page_id=self.value()).values("pk")
        return queryset.filter(placeholder__content_type=_page_content_type(), placeholder__object_id__in=contents)


def _page_content_type() -> ContentType:
    return ContentType.objects.get_for_model(PageContent)  # cached by ContentType's manager


class SettingsEditableChecks(ModelAdminChecks):
    """``list_editable`` may name an area's settings: attributes of the plugin, fields of its ``PluginSettings``."""

    def _check_list_editable_item(self, obj: Any, field_name: str, label: str) -> list[Any]:
        # ModelAdminChecks' own hook, which the stubs leave out
        return [] if field_name in SETTINGS else super()._check_list_editable_item(obj, field_name, label)  # type: ignore[misc]


@admin.register(TailoredArea)
class TailoredAreaAdmin(admin.ModelAdmin):
    """Every area across the site; the strategy is editable from the list.

    Cost of the list: 3 queries for the page of areas whatever its length (areas with placeholder and
    variant count, the pages they are on, the count), plus the filter's lookups; and one Redis round trip for
    the cached copies of the page of areas (``cache_budget.observed_copies``).
    """

    list_display = (
        "area",
        "page",
        "slot",
        "language",
        "strategy",
        "max_items",
        "holdout_percent",
        "goal",
        "variant_count",
        "cached_copies",
    )
    list_display_links = None  # content is edited in the CMS; the page column links there

    class Media:
        css = {"all": ["tailored_cms/admin.css"]}

    checks_class = SettingsEditableChecks
    list_editable = ("strategy", "max_items", "holdout_percent", "goal")
    list_filter = (StrategyFilter, PageFilter, "language")
    list_per_page = 50
    fields = ("label", "strategy", "max_items", "holdout_percent", "goal", "starts_at", "ends_at", "cached_copies")
    readonly_fields = ("cached_copies",)
    form = TailoredAreaForm
    search_fields = ("tailored_settings__label",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TailoredArea]:
        return (
            super()
            .get_queryset(request)
            .select_related("placeholder")
            .prefetch_related("placeholder__source")
            .annotate(variants=Count("cmsplugin"))
            .order_by("placeholder__object_id", "placeholder__slot", "position", "pk")
        )

    def get_list_display(self, request: HttpRequest) -> tuple[str | Callable[[TailoredArea], str | bool], ...]:
        """With the ``view_results`` permission, a column linking to each area's results."""
        shown = tuple(super().get_list_display(request))
        return (*shown, "results") if may_see_results(request.user) else shown

    @admin.display(description=_("results"))
    def results(self, obj: TailoredArea) -> str:
        url = reverse("admin:tailored_cms_variantstats_area", kwargs={"key": obj.key})
        return format_html('<a href="{}">{}</a>', url, _("Results"))

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        # Django builds the list's form from a plain ModelForm unless told otherwise.
        return super().get_changelist_form(request, **{"form": TailoredAreaForm, **kwargs})

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The list, with each area's cached copies read in one round trip; a warning names those over budget."""
        changelist = super().get_changelist_instance(request)
        areas = list(changelist.result_list)
        copies = observed_copies(area.key for area in areas)
        for area in areas:
            area.observed_copies = copies.get(area.key)
        over = [area for area in areas if _over_budget(area)]
        if over and request.method == "GET":
            messages.warning(
                request,
                ngettext(
                    "%(count)d area is cached in more copies than the budget of %(budget)s: %(areas)s.",
                    "%(count)d areas are cached in more copies than the budget of %(budget)s: %(areas)s.",
                    len(over),
                )
                % {
                    "count": len(over),
                    "budget": f"{tailored_settings.CACHE_VARIANT_BUDGET:,}",
                    "areas": ", ".join(self.area(area) for area in over),
                }
                + " "
                + str(BUDGET_ADVICE),
            )
        return changelist

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> Any:
        if request.method == "GET":
            area = self.get_object(request, object_id)
            if area is not None and _over_budget(area):
                messages.warning(
                    request,
                    _("This area is cached in %(copies)s copies, more than the budget of %(budget)s.")
                    % {"copies": f"{area.observed_copies:,}", "budget": f"{tailored_settings.CACHE_VARIANT_BUDGET:,}"}
                    + " "
                    + str(BUDGET_ADVICE),
                )
        return super().change_view(request, object_id, *args, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # areas are added in the CMS, where they get a place in a placeholder

    def has_delete_permission(self, request: HttpRequest, obj: TailoredArea | None = None) -> bool:
        return False  # deleting in the CMS keeps the plugin tree and its caches consistent

    def save_model(self, request: HttpRequest, obj: TailoredArea, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.placeholder is not None:
            # Saved outside the CMS's plugin views: clear the caches those would have cleared.
            obj.placeholder.clear_cache(obj.language)

    @admin.display(description=_("area"))
    def area(self, obj: TailoredArea) -> str:
        return obj.label or str(_("(no label)"))

    @admin.display(description=_("page"))
    def page(self, obj: TailoredArea) -> str:
        source = obj.placeholder.source if obj.placeholder else None
        if source is None:
            return "-"
        if isinstance(source, PageContent):
            return format_html('<a href="{}">{}</a>', get_object_edit_url(source), source.title)
        return str(source)

    @admin.display(description=_("placeholder"), ordering="placeholder__slot")
    def slot(self, obj: TailoredArea) -> str:
        return obj.placeholder.slot if obj.placeholder else "-"

    @admin.display(description=_("variants"), ordering="variants")
    def variant_count(self, obj: TailoredArea) -> int:
        return obj.variants

    @admin.display(description=_("cached copies"))
    def cached_copies(self, obj: TailoredArea) -> str:
        """How many copies the caches keep of the area: distinct vary values of its renders (HyperLogLog)."""
        if not obj.strategy_class.get_vary_cache_on(obj):
            return str(_("1 (static: the same for everyone)"))
        copies = _observed(obj)
        if copies is None:
            return "-"  # Redis unreachable
        text = _("~%(copies)s in %(days)d days") % {"copies": f"{copies:,}", "days": OBSERVED_DAYS}
        if copies > tailored_settings.CACHE_VARIANT_BUDGET:
            return format_html(
                '<strong class="tailored-over-budget">{} {}</strong>',  # no style attribute: a strict CSP refuses it
                text,
                _("over the budget of {:,}").format(tailored_settings.CACHE_VARIANT_BUDGET),
            )
        return str(text)


BUDGET_ADVICE = _(
    "Past the budget (CACHE_VARIANT_BUDGET) the caches mostly keep copies nobody asks for again. Each copy is one "
    "combination of theme, layout, followed topics and segments (times 100 holdout groups with a holdout): fewer "
    "segments in play, or no holdout, mean fewer copies."
)


def _observed(area: TailoredArea) -> int | None:
    """The area's cached copies: read with the list (one round trip for all), else now (one round trip)."""
    if not hasattr(area, "observed_copies"):
        area.observed_copies = observed_copies([area.key]).get(area.key)
    return area.observed_copies


def _over_budget(area: TailoredArea) -> bool:
    copies = _observed(area) if area.strategy_class.get_vary_cache_on(area) else None
    return copies is not None and copies > tailored_settings.CACHE_VARIANT_BUDGET
