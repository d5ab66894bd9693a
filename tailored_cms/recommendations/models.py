"""The *Recommended pages* plugin's settings: how many, which pages may be listed, the pinned ones, the holdout."""

from __future__ import annotations

from cms.models import CMSPlugin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..visitors.models import Topic

__all__ = ["RecommendedPages"]


class RecommendedPages(CMSPlugin):
    """Published pages for this visitor, best first, each with why (``recommendations.listing``)."""

    title = models.CharField(_("title"), max_length=100, blank=True, default=_("Recommended for you"))
    limit = models.PositiveSmallIntegerField(
        _("pages shown at most"), default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    include_trees = models.ManyToManyField(
        "cms.Page",
        verbose_name=_("only pages under"),
        blank=True,
        related_name="+",
        help_text=_("List only these pages and the pages below them. Leave empty to list any page."),
    )
    exclude_trees = models.ManyToManyField(
        "cms.Page",
        verbose_name=_("never pages under"),
        blank=True,
        related_name="+",
        help_text=_("Never list these pages or the pages below them."),
    )
    pinned = models.ManyToManyField(
        "cms.Page",
        verbose_name=_("pinned pages"),
        blank=True,
        related_name="+",
        help_text=_("Listed first."),
    )
    topics = models.ManyToManyField(
        Topic,
        verbose_name=_("only pages about"),
        blank=True,
        related_name="+",
        help_text=_("List only pages tagged with one of these topics. Leave empty for any topic."),
    )
    min_age_days = models.PositiveSmallIntegerField(
        _("minimum age in days"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("List a page only once it was published at least this many days ago."),
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout %"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_("This share of visitors gets the plain popular list, so results can compare the two."),
    )

    def __str__(self) -> str:
        return self.title or str(_("Recommended pages"))

    @property
    def area_key(self) -> str:
        """What results count its impressions and clicks under (an area key the beacon sends)."""
        return f"recommended-{self.pk}"  # listing.KEY

    def copy_relations(self, oldinstance: RecommendedPages) -> None:
        self.include_trees.set(oldinstance.include_trees.all())
        self.exclude_trees.set(oldinstance.exclude_trees.all())
        self.pinned.set(oldinstance.pinned.all())
        self.topics.set(oldinstance.topics.all())
