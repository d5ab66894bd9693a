"""Admin of the widgets: page topics, opened from the CMS toolbar."""

from __future__ import annotations

from typing import Any

from cms.extensions import PageExtensionAdmin
from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..visitors.models import Topic
from .models import PageTopics


class PageTopicsForm(forms.ModelForm):
    class Meta:
        model = PageTopics
        fields = ["topics"]
        widgets = {"topics": forms.CheckboxSelectMultiple}


@admin.register(PageTopics)
class PageTopicsAdmin(PageExtensionAdmin):
    """Opened from the CMS toolbar (Page menu → Topics); hidden from the admin index."""

    form = PageTopicsForm

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "topics":  # named in the editor's language: their translations in one more query
            kwargs["queryset"] = Topic.objects.prefetch_related("translations")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PageTopics]) -> None:
        """The list's "Delete selected" asks what the delete page asks (``delete_model``): may they change each page?"""
        pages = [page_topics.extended_object for page_topics in queryset.select_related("extended_object")]
        if not all(page.has_change_permission(request.user) for page in pages):
            raise PermissionDenied(_("You may not change the pages of the topics you chose."))
        super().delete_queryset(request, queryset)
