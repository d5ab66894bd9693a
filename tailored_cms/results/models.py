"""What results read: daily counts per variant, path and language (written by the ingest), and segment sizes per day
(written by the full recompute). Neither holds anything about a visitor, so the retention purge leaves them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..areas.selection import PATHS
from ..rules.models import Segment

PATH_CHOICES = [(path, path) for path in PATHS]


class VariantStats(models.Model):
    """One day of one variant of one area, shown by one path on pages in one language: impressions, clicks and
    conversions.

    Areas and variants are named by their keys, which outlive copies, new versions and deleted plugins.
    ``variant`` is empty for page views where the area showed nothing (no fallback); ``language`` is one of the
    site's ``LANGUAGES``, empty when the beacon named none of them (and for figures counted before languages were).
    """

    area = models.SlugField(_("area"), max_length=40, db_index=False)  # the unique constraint indexes it
    variant = models.SlugField(_("variant"), max_length=40, blank=True)
    path = models.CharField(_("path"), max_length=16, choices=PATH_CHOICES)
    day = models.DateField(_("day"))
    language = models.CharField(_("language"), max_length=15, blank=True, default="")
    impressions = models.PositiveIntegerField(_("impressions"), default=0)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
    conversions = models.PositiveIntegerField(_("conversions"), default=0)

    class Meta:
        verbose_name = _("daily result")
        verbose_name_plural = _("results")
        constraints = [
            # The ingest's upsert target, and the index of the results page (one area, a range of days).
            models.UniqueConstraint(
                fields=["area", "day", "variant", "path", "language"], name="tailored_variantstats_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}/{self.variant or '-'} {self.path} {self.language or '-'} {self.day}"


class SegmentSize(models.Model):
    """A segment's size on a day: what the day's last full recompute counted."""

    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="sizes", db_index=False
    )
    day = models.DateField(_("day"))
    size = models.PositiveIntegerField(_("members"))

    class Meta:
        verbose_name = _("segment size")
        verbose_name_plural = _("segment sizes")
        constraints = [
            models.UniqueConstraint(fields=["segment", "day"], name="tailored_segmentsize_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} {self.day}: {self.size}"


class ExperimentEnd(models.Model):
    """An experiment an editor ended from its results: who, when, the winner made the area's fallback, the
    strategy the area took, and what the figures said then. The area's results page says so under its sentence."""

    area = models.SlugField(_("area"), max_length=40)
    winner = models.SlugField(_("winner"), max_length=40)
    winner_label = models.CharField(_("winner's label"), max_length=100, blank=True)
    strategy = models.CharField(_("strategy after the experiment"), max_length=20)
    ended_at = models.DateTimeField(_("ended at"), auto_now_add=True)
    # The editor's name as it was then: the record outlives their account.
    ended_by = models.CharField(_("ended by"), max_length=150, blank=True)
    verdict = models.TextField(_("what the figures said"), blank=True)

    class Meta:
        verbose_name = _("ended experiment")
        verbose_name_plural = _("ended experiments")
        ordering = ["-ended_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.area} → {self.winner} ({self.ended_at:%Y-%m-%d})"
