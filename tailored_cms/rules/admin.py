"""A minimal admin of segments: editors see them, their size, when they were computed and whether a recompute
runs, and can edit the rule tree as JSON (validated on save). The rule builder is built on top of this."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Segment


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "enabled", "size", "computed_at", "recomputing")
    list_filter = ("enabled",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("size", "computed_at", "recompute_started_at")

    @admin.display(description=_("recompute running"), boolean=True)
    def recomputing(self, obj: Segment) -> bool:
        return obj.recompute_running
