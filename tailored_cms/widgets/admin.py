"""Admin of the widgets area: every tailored area of the site in one list, and page topics."""

from __future__ import annotations

from typing import Any

from cms.extensions import PageExtensionAdmin
from cms.models import PageContent
from cms.toolbar.utils import get_object_edit_url
from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .forms import TailoredAreaForm
from .models import PageTopics, TailoredArea


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


@admin.register(TailoredArea)
class TailoredAreaAdmin(admin.ModelAdmin):
    """Every area across the site; the strategy is editable from the list.

    Cost of the list: 3 queries for the page of areas whatever its length (areas with placeholder and
    variant count, the pages they are on, the count), plus the filter's lookups.
    """

    list_display = ("area", "page", "slot", "language", "strategy", "max_items", "variant_count")
    list_display_links = None  # content is edited in the CMS; the page column links there
    list_editable = ("strategy", "max_items")
    list_filter = ("strategy", PageFilter, "language")
    list_per_page = 50
    fields = ("label", "strategy", "max_items")
    form = TailoredAreaForm
    search_fields = ("label",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TailoredArea]:
        return (
            super()
            .get_queryset(request)
            .select_related("placeholder")
            .prefetch_related("placeholder__source")
            .annotate(variants=Count("cmsplugin"))
            .order_by("placeholder__object_id", "placeholder__slot", "position", "pk")
        )

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        # Django builds the list's form from a plain ModelForm unless told otherwise.
        return super().get_changelist_form(request, **{"form": TailoredAreaForm, **kwargs})

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
        return obj.variants  # type: ignore[attr-defined]


class PageTopicsForm(forms.ModelForm):
    class Meta:
        model = PageTopics
        fields = ["topics"]
        widgets = {"topics": forms.CheckboxSelectMultiple}


@admin.register(PageTopics)
class PageTopicsAdmin(PageExtensionAdmin):
    """Opened from the CMS toolbar (Page menu → Topics); hidden from the admin index."""

    form = PageTopicsForm
