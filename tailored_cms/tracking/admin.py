"""Admin of tracking: raw events (read-only), with the pipeline's health above the list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from .health import tracking_health
from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: events come from visitors; staff read them and see whether tracking keeps up."""

    change_list_template = "tailored_cms/admin/event_change_list.html"
    list_display = ("ts", "name", "visitor", "path", "page", "props")
    list_filter = ("name",)
    search_fields = ("=visitor__id", "=name")
    date_hierarchy = "ts"
    show_full_result_count = False  # COUNT(*) over every retained event is slow on big tables

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "tracking_health": tracking_health()})
