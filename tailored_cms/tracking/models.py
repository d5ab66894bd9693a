"""What the ingest stores: raw events (while retained), per-visitor daily counters for rules, and the spool."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..visitors.models import Visitor
from .stream import NAME_MAX_LENGTH


class Event(models.Model):
    """One tracked event, kept for ``RETENTION_DAYS``. Its primary key is the event id: the dedupe key."""

    id = models.UUIDField(primary_key=True, editable=False)
    # Not indexed alone: the (visitor, ts) index serves lookups by visitor (export, erase).
    visitor = models.ForeignKey(
        Visitor, verbose_name=_("visitor"), on_delete=models.CASCADE, related_name="events", db_index=False
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    ts = models.DateTimeField(_("time"))
    # The CMS page of a page view. No DB constraint: a page deleted while its views wait in the stream must not
    # make a batch fail; Django still sets it to NULL when the page is deleted.
    page = models.ForeignKey(
        "cms.Page",
        verbose_name=_("page"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    # The URL path of the page the event happened on. A column of its own, not a property: props are stored
    # exactly as sent, and a click's own "path" (what put the variant there) is not the page's.
    path = models.TextField(_("path"), blank=True, default="")
    # The event's own properties; page views add referrer (domain) and device.
    props = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["ts"], name="tailored_event_ts"),  # retention purge
            models.Index(fields=["visitor", "ts"], name="tailored_event_visitor_ts"),  # export, erase
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.ts:%Y-%m-%d %H:%M}"


class TopicViews(models.Model):
    """How many pages tagged with a topic a visitor viewed on one day (rule ``topic_views``)."""

    visitor = models.ForeignKey(
        Visitor, verbose_name=_("visitor"), on_delete=models.CASCADE, related_name="topic_views", db_index=False
    )
    topic = models.SlugField(_("topic"), max_length=50, db_index=False)  # a slug: counts outlive a renamed topic
    day = models.DateField(_("day"), db_index=True)  # retention purge
    count = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("topic views")
        verbose_name_plural = _("topic views")
        constraints = [
            # Also the index of rule lookups (by visitor, then topic and day) and the ingest's upsert target.
            models.UniqueConstraint(fields=["visitor", "topic", "day"], name="tailored_topicviews_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.day}: {self.count}"


class EventCounts(models.Model):
    """How many events of one name a visitor sent on one day (rule ``event_count``); page views included."""

    visitor = models.ForeignKey(
        Visitor, verbose_name=_("visitor"), on_delete=models.CASCADE, related_name="event_counts", db_index=False
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    day = models.DateField(_("day"), db_index=True)
    count = models.PositiveIntegerField(_("events"), default=0)

    class Meta:
        verbose_name = _("event counts")
        verbose_name_plural = _("event counts")
        constraints = [
            models.UniqueConstraint(fields=["visitor", "name", "day"], name="tailored_eventcounts_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.day}: {self.count}"


class SpooledEvent(models.Model):
    """An event that could not reach Redis, encoded as in the stream; the ingest drains these the same way."""

    data = models.TextField(_("event"))  # TrackedEvent.encode()
    created_at = models.DateTimeField(_("spooled"), auto_now_add=True)

    class Meta:
        verbose_name = _("spooled event")
        verbose_name_plural = _("spooled events")

    def __str__(self) -> str:
        return f"#{self.pk} {self.created_at:%Y-%m-%d %H:%M:%S}"
