"""The admin of segments: the rule builder (``forms.py``), the rules in words, each segment's size (kept current
by the incremental recompute, counted again by the full one) and how it moved over the last 30 days, when it was
last computed and whether a recompute runs (with how far it is, and who does it), and a "Recompute now" action that
queues the Celery task."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from parler.admin import TranslatableAdmin

from ..translations import NamedQuerySet, by_name
from .forms import SegmentForm
from .models import Segment
from .runs import progress
from .tasks import queue_recompute
from .trees import describe_tree

logger = logging.getLogger(__name__)

TREND_DAYS = 30  # how far back the segment list's trend looks


def size_trends(segments: Iterable[Segment], today: date | None = None) -> dict[int, str]:
    """How each segment's size moved over the last ``TREND_DAYS`` days, by id: "+12 in 30 days" (its size now
    less the first size the full recompute recorded in them, "today" if that was today's); none for a segment
    without a size or a recorded one. One query (the sizes, through the segments' ``sizes``)."""
    today = today or timezone.localdate()
    sized = {segment.pk: segment.size for segment in segments if segment.size is not None}
    if not sized:
        return {}
    first: dict[int, tuple[date, int]] = {}
    recorded = Segment.objects.filter(pk__in=list(sized), sizes__day__gt=today - timedelta(days=TREND_DAYS))
    for pk, day, size in recorded.order_by("pk", "-sizes__day").values_list("pk", "sizes__day", "sizes__size"):
        first[pk] = (day, size)  # the last one read is the oldest
    trends = {}
    for pk, (day, size) in first.items():
        change = sized[pk] - size
        signed = ("+" if change >= 0 else "-") + number_format(abs(change), 0, force_grouping=True)
        days = (today - day).days
        if days:
            trends[pk] = ngettext("%(change)s in %(days)s day", "%(change)s in %(days)s days", days) % {
                "change": signed,
                "days": days,
            }
        else:
            trends[pk] = gettext("%(change)s today") % {"change": signed}
    return trends


@admin.register(Segment)
class SegmentAdmin(TranslatableAdmin):
    """A tab per language of the site for the name and description; the rules are the same in every tab."""

    form = SegmentForm
    list_display = (
        "translated_name",
        "enabled",
        "rules_in_words",
        "size",
        "trend",
        "computed_at",
        "recomputing",
    )
    list_filter = ("enabled",)
    search_fields = ("translations__name", "slug", "translations__description")
    readonly_fields = ("saved_rules_in_words", "size", "computed_at", "recompute_started_at")
    actions = ["recompute_now"]
    fieldsets = (
        (None, {"fields": ("name", "description", "enabled")}),
        (_("Who is in it"), {"fields": ("rules", "saved_rules_in_words")}),
        (_("Members"), {"fields": ("size", "computed_at", "recompute_started_at")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Segment | None = None) -> Any:
        """Staff who may only view a segment read its rules in words; the builder (and its JSON) is for those who
        may change it."""
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj) if obj is not None else self.has_add_permission(request):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "rules"]}) for name, options in fieldsets
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        self._tell_progress(request)
        return super().changelist_view(request, extra_context)

    def _tell_progress(self, request: HttpRequest) -> None:
        """How far a running recompute is, and whether the workers share it or one process does it (one Redis round
        trip; nothing if Redis is down)."""
        try:
            found = progress()
        except Exception as exc:  # Redis down: the list still shows, without the progress
            logger.warning("Could not read the recompute's progress: %s", exc)
            return
        if found is None or found.finished:
            return
        total = max(found.visitors_total, found.visitors)
        if found.workers:
            text = gettext(
                "A segment recompute is running: %(percent)s%% done (%(done)s of %(total)s visitors, %(chunks_done)s "
                "of %(chunks)s chunks, shared by the Celery workers). Reload this page to follow it."
            )
        else:  # tailored_recompute without --workers
            text = gettext(
                "A segment recompute is running: %(percent)s%% done (%(done)s of %(total)s visitors, %(chunks_done)s "
                "of %(chunks)s chunks, done by one process on the server). Reload this page to follow it."
            )
        text %= {
            "percent": int(100 * found.visitors / total) if total else 0,
            "done": number_format(found.visitors, force_grouping=True),
            "total": number_format(total, force_grouping=True),
            "chunks_done": number_format(found.chunks_done, force_grouping=True),
            "chunks": number_format(found.chunks, force_grouping=True),
        }
        self.message_user(request, text, messages.INFO)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Segment]:
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description=_("name"))
    def translated_name(self, obj: Segment) -> str:
        return str(obj)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The list's page, each segment with its trend (``size_trends``: one query for the page). On the page's
        segments themselves: this admin is shared by every request."""
        changelist = super().get_changelist_instance(request)
        segments = list(changelist.result_list)  # read once: the list's template shows these same objects
        trends = size_trends(segments)
        for segment in segments:
            segment.size_trend = trends.get(segment.pk, "–")
        return changelist

    @admin.display(description=_("last 30 days"))
    def trend(self, obj: Segment) -> str:
        return getattr(obj, "size_trend", "–")

    @admin.display(description=_("recompute running"), boolean=True)
    def recomputing(self, obj: Segment) -> bool:
        return obj.recompute_running

    @admin.display(description=_("rules"))
    def rules_in_words(self, obj: Segment) -> str:
        return describe_tree(obj.rules)

    @admin.display(description=_("as saved, in words"))
    def saved_rules_in_words(self, obj: Segment | None) -> str:
        """The saved rules (one query): after a refused save, ``obj`` holds the rules as posted."""
        if obj is None or not obj.pk:
            return "—"
        saved = Segment.objects.filter(pk=obj.pk).values_list("rules", flat=True).first()
        return describe_tree(saved) if saved is not None else "—"

    @admin.action(description=_("Recompute now"), permissions=["change"])
    def recompute_now(self, request: HttpRequest, queryset: NamedQuerySet) -> None:
        named = by_name(queryset.names())
        slugs = list(named)
        names = ", ".join(named.values())
        try:
            how = queue_recompute(slugs)
        except Exception as exc:  # any broker or transport failure: the editor must hear of it, not get a 500
            logger.warning("Could not queue the recompute of %s: %s", ", ".join(slugs), exc)
            self.message_user(
                request,
                _(
                    "Nothing was recomputed: the task queue (Celery's broker) can't be reached (%(error)s). Start "
                    "Redis and a Celery worker, or run “manage.py tailored_recompute” on the server."
                )
                % {"error": exc},
                messages.ERROR,
            )
            return
        if how == "done":
            message = ngettext(
                "Recomputed %(count)d segment: %(names)s.", "Recomputed %(count)d segments: %(names)s.", len(slugs)
            )
        else:
            message = ngettext(
                "Queued the recompute of %(count)d segment (%(names)s). A Celery worker runs it: its size and "
                "“last computed” change when it is done; reload this page to see them.",
                "Queued the recompute of %(count)d segments (%(names)s). A Celery worker runs it: their sizes and "
                "“last computed” change when it is done; reload this page to see them.",
                len(slugs),
            )
        self.message_user(request, message % {"count": len(slugs), "names": names}, messages.SUCCESS)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A new segment starts as an empty "all of" group: the builder shows it, and the JSON shows the shape.
        return {"rules": {"all": []}, **super().get_changeform_initial_data(request)}
