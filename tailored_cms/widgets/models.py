"""Models of the CMS plugins (one per plugin) and of page topics."""

from __future__ import annotations

import uuid

from cms.extensions import PageExtension, extension_pool
from cms.models import CMSPlugin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..visitors.models import Topic


class Strategy(models.TextChoices):
    STATIC = "static", _("Static: everyone sees the fallback")
    CUSTOMIZATION = "customization", _("Customization: the visitor's own choices")


class TailoredArea(CMSPlugin):
    """A container whose variants are shown according to the editor's strategy."""

    label = models.CharField(_("label"), max_length=100, blank=True)
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.CUSTOMIZATION)
    max_items = models.PositiveSmallIntegerField(
        _("variants shown at most"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )

    def __str__(self) -> str:
        return self.label or f"{self.get_strategy_display()}"


class Variant(CMSPlugin):
    """One version of an area's content, with the visitors it is meant for."""

    label = models.CharField(_("label"), max_length=100)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    layouts = models.JSONField(_("layouts"), default=list, blank=True)
    priority = models.SmallIntegerField(_("priority"), default=0, help_text=_("Higher wins ties."))
    fallback = models.BooleanField(
        _("fallback"), default=False, help_text=_("Shown when no other variant matches the visitor.")
    )

    def __str__(self) -> str:
        return self.label

    @property
    def targeting(self) -> dict[str, list[str]]:
        return {"topics": self.topics, "themes": self.themes, "layouts": self.layouts}


def new_widget_key() -> str:
    return uuid.uuid4().hex[:12]


class WidgetBoard(CMSPlugin):
    """Widgets a visitor can reorder and hide."""

    label = models.CharField(_("label"), max_length=100, blank=True)

    def __str__(self) -> str:
        return self.label or str(_("Widget board"))


class Widget(CMSPlugin):
    """One widget of a board; ``key`` survives copies and new versions, so visitors' arrangements do too."""

    title = models.CharField(_("title"), max_length=100)
    key = models.SlugField(_("key"), max_length=40, default=new_widget_key, editable=False)
    hideable = models.BooleanField(_("visitors may hide it"), default=True)

    def __str__(self) -> str:
        return self.title


class TopicFeed(CMSPlugin):
    """Pages tagged with topics, the visitor's followed topics first."""

    title = models.CharField(_("title"), max_length=100, blank=True)
    limit = models.PositiveSmallIntegerField(
        _("pages shown at most"), default=6, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    followed_only = models.BooleanField(_("only the visitor's topics"), default=False)

    def __str__(self) -> str:
        return self.title or str(_("Topic feed"))


class PreferencesPanel(CMSPlugin):
    """The visitor's customize panel."""

    title = models.CharField(_("title"), max_length=100, default=_("Customize this site"))
    show_topics = models.BooleanField(_("topics"), default=True)
    show_theme = models.BooleanField(_("theme"), default=True)
    show_layout = models.BooleanField(_("layout"), default=True)

    def __str__(self) -> str:
        return self.title


@extension_pool.register  # copied along when a page is copied
class PageTopics(PageExtension):
    """Topics of a CMS page: what viewing it counts towards, and where topic feeds list it."""

    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="page_topics")

    class Meta:
        verbose_name = _("page topics")
        verbose_name_plural = _("page topics")

    def copy_relations(self, oldinstance: PageTopics, language: str) -> None:
        self.topics.set(oldinstance.topics.all())
