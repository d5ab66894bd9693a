"""Models of the widgets: widget board and widget (proxies of ``CMSPlugin`` with ``PluginSettings``), topic feed,
preferences panel, consent banner, and page topics."""

from __future__ import annotations

from cms.extensions import PageExtension, extension_pool
from cms.models import CMSPlugin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..plugin_settings.models import OfPluginType, TailoredPlugin
from ..visitors.models import Topic

__all__ = ["ConsentBanner", "PageTopics", "PreferencesPanel", "TopicFeed", "Widget", "WidgetBoard", "validate_link"]


class WidgetBoard(TailoredPlugin):
    """Widgets a visitor can reorder and hide."""

    objects: OfPluginType[WidgetBoard] = OfPluginType("WidgetBoardPlugin")

    class Meta:
        proxy = True
        verbose_name = _("widget board")
        verbose_name_plural = _("widget boards")

    def __str__(self) -> str:
        return self.label or str(_("Widget board"))


class Widget(TailoredPlugin):
    """One widget of a board, titled by its label."""

    objects: OfPluginType[Widget] = OfPluginType("WidgetPlugin")

    class Meta:
        proxy = True
        verbose_name = _("widget")
        verbose_name_plural = _("widgets")

    @property
    def title(self) -> str:
        return self.label


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
    show_accessibility = models.BooleanField(_("motion and text size"), default=True)

    def __str__(self) -> str:
        return self.title


def validate_link(value: str) -> None:
    """A path on this site (``/privacy/``) or an http(s) URL: nothing a browser would run (``javascript:``)."""
    if not value.startswith(("/", "https://", "http://")) or value.startswith("//"):
        raise ValidationError(_("Enter a path on this site (/privacy/) or an address starting with https://."))


class ConsentBanner(CMSPlugin):
    """Asks visitors for consent to behaviour tracking, when the site needs it and they haven't answered."""

    message = models.TextField(
        _("message"),
        default=_(
            "May we note which pages and topics you read here? We use it only to show you more of what you "
            "like. Your choices of topics, theme and layout work either way."
        ),
    )
    privacy_policy_url = models.CharField(
        _("privacy policy link"),
        max_length=300,
        blank=True,
        validators=[validate_link],
        help_text=_("A path on this site (/privacy/) or a full address. Leave empty to show no link."),
    )

    def __str__(self) -> str:
        return str(_("Consent banner"))


@extension_pool.register  # copied along when a page is copied
class PageTopics(PageExtension):
    """Topics of a CMS page: what viewing it counts towards, and where topic feeds list it."""

    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="page_topics")

    class Meta:
        verbose_name = _("page topics")
        verbose_name_plural = _("page topics")

    def __str__(self) -> str:
        """The heading of the toolbar's *Topics* form: which page's topics these are (1 query)."""
        return str(_("Topics of “%(page)s”")) % {"page": self.extended_object}

    def copy_relations(self, oldinstance: PageTopics, language: str) -> None:
        self.topics.set(oldinstance.topics.all())
