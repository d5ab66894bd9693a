"""Admin of the visitors area: the topic taxonomy (editable) and visitors (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Topic, Visitor


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position", "page_count")
    list_editable = ("position",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(pages=Count("page_topics"))

    @admin.display(description=_("pages"), ordering="pages")
    def page_count(self, obj: Topic) -> int:
        return obj.pages  # type: ignore[attr-defined]


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    """Read-only: visitors change their own choices; erasing is the visitor's (or the API's) business."""

    list_display = ("id", "user", "theme", "layout", "topic_count", "tracking_consent", "updated_at")
    list_filter = ("theme", "layout", "tracking_consent")
    list_select_related = ("user",)
    search_fields = ("=id", "user__username", "user__email")
    date_hierarchy = "updated_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    @admin.display(description=_("topics followed"))
    def topic_count(self, obj: Visitor) -> int:
        return len(obj.topics or ())
