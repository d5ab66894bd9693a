"""Admin of the visitors area: the topic taxonomy (editable) and visitors (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from parler.admin import TranslatableAdmin

from .models import Topic, Visitor


@admin.register(Topic)
class TopicAdmin(TranslatableAdmin):
    """A tab per language of the site for the name and description; the list shows them in the editor's."""

    list_display = ("translated_name", "slug", "position", "page_count")
    list_editable = ("position",)
    search_fields = ("translations__name", "slug", "translations__description")

    def get_prepopulated_fields(self, request: HttpRequest, obj: Topic | None = None) -> dict[str, tuple[str]]:
        return {"slug": ("name",)}  # here, not as prepopulated_fields: the admin's checks know no translated field

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(pages=Count("page_topics")).prefetch_related("translations")

    @admin.display(description=_("name"))
    def translated_name(self, obj: Topic) -> str:
        return str(obj)

    @admin.display(description=_("pages"), ordering="pages")
    def page_count(self, obj: Topic) -> int:
        return obj.pages


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    """Read-only: visitors change their own choices; erasing is the visitor's (or the API's) business."""

    list_display = ("id", "user", "theme", "layout", "topic_count", "tracking_consent", "updated_at")
    list_filter = ("theme", "layout", "tracking_consent")
    list_select_related = ("user",)
    search_fields = ("=id", "user__username", "user__email")
    date_hierarchy = "updated_at"
    readonly_fields = ("traits",)  # what the site set (api.set_traits, traits/): shown, never edited here

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    @admin.display(description=_("topics followed"))
    def topic_count(self, obj: Visitor) -> int:
        return len(obj.topics or ())
