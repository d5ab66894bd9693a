"""Models of the CMS plugins and of page topics."""

from __future__ import annotations

import uuid
from collections import namedtuple
from collections.abc import Iterable
from typing import Any

from cms.extensions import PageExtension, extension_pool
from cms.models import CMSPlugin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..conf import tailored_settings
from ..tracking.stream import CLICK, IMPRESSION, NAME_MAX_LENGTH, PAGE_VIEW, TIME_ON_PAGE
from ..visitors.models import Topic
from . import settings_cache


class Strategy(models.TextChoices):
    STATIC = "static", _("Static: everyone sees the fallback")
    CUSTOMIZATION = "customization", _("Customization: the visitor's own choices")
    PERSONALIZATION = "personalization", _("Personalization: the visitor's segments")
    HYBRID = "hybrid", _("Hybrid: the visitor's choices first, segments fill the rest")
    OPTIMIZE = "optimize", _("Optimize: test which variant works best, sending more visitors to it")


MAX_ITEMS_RANGE = (1, 20)  # how many variants an area may show at once
MAX_HOLDOUT_PERCENT = 50  # beyond half, the "holdout" would be the main group


def new_key() -> str:
    return uuid.uuid4().hex[:12]


# Events that can't be an area's goal: the server's and the beacon's own (results count clicks anyway). So the
# ingest looks for conversions only in batches with other events.
NOT_GOALS = frozenset({PAGE_VIEW, IMPRESSION, CLICK, TIME_ON_PAGE})


def validate_goal(value: str) -> None:
    """An event name the page or the site sends (``tailored.track``, ``api.record_event``), not the beacon's own."""
    RegexValidator(
        r"^[A-Za-z0-9_.:-]+$", _("An event name: letters, digits and _ . : - (as sent with tailored.track).")
    )(value)
    if value in NOT_GOALS:
        raise ValidationError(
            _("“%(name)s” can't be a goal: clicks are counted anyway; name the event that means success here."),
            params={"name": value},
        )


class PluginSettings(models.Model):
    """What an editor set on an area, a variant, a board or a widget: one row each, one table for all four.

    The plugins themselves are proxies of ``CMSPlugin`` (``TailoredPlugin`` below), so django CMS loads a page's
    tailored plugins with its own query of the page's plugins and no other: a concrete plugin model costs one
    more query per page, and its rows are the largest of the page. The plugins read these settings through
    ``settings_cache``, from memory unless the plugin changed (its ``changed_date`` moved) since.

    Write them through the plugin (``area.strategy = ...; area.save()``), which moves ``changed_date``: a
    ``PluginSettings`` row changed behind the plugin's back stays unseen where it is cached.
    """

    plugin = models.OneToOneField(
        CMSPlugin,
        on_delete=models.CASCADE,
        primary_key=True,
        db_column="cmsplugin_ptr_id",  # the column of the days this was a concrete plugin model
        related_name="tailored_settings",
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    # Stable identity: survives copies and new versions (pks don't), so visitors' arrangements do too.
    key = models.SlugField(_("key"), max_length=40, default=new_key, editable=False)
    # Areas
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.CUSTOMIZATION)
    max_items = models.PositiveSmallIntegerField(
        _("variants shown at most"),
        default=1,
        validators=[MinValueValidator(MAX_ITEMS_RANGE[0]), MaxValueValidator(MAX_ITEMS_RANGE[1])],
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"),
        default=0,
        validators=[MaxValueValidator(MAX_HOLDOUT_PERCENT)],
        help_text=_(
            "This share of visitors sees the fallback whatever the strategy, always the same visitors, so results "
            "can compare tailoring with no tailoring. 0 (no holdout) to 50; 5 is a good start."
        ),
    )
    # Results: the event that counts as a conversion of this area (blank: clicks only).
    goal = models.CharField(
        _("goal"),
        max_length=NAME_MAX_LENGTH,
        blank=True,
        validators=[validate_goal],
        help_text=_(
            "The event that counts as a conversion in this area's results, e.g. signup (sent by the page with "
            "tailored.track or by the site with api.record_event). Empty: clicks only."
        ),
    )
    # Variants
    topics = models.JSONField(_("topics"), default=list, blank=True)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    layouts = models.JSONField(_("layouts"), default=list, blank=True)
    # Segment slugs (tailored_cms.rules.Segment); a variant for several segments is for a member of any.
    segments = models.JSONField(_("segments"), default=list, blank=True)
    priority = models.SmallIntegerField(_("priority"), default=0, help_text=_("Higher wins ties."))
    fallback = models.BooleanField(
        _("fallback"), default=False, help_text=_("Shown when no other variant matches the visitor.")
    )
    # Widgets
    hideable = models.BooleanField(_("visitors may hide it"), default=True)

    class Meta:
        db_table = "tailored_cms_tailoredplugin"
        verbose_name = _("settings of a tailored plugin")
        verbose_name_plural = _("settings of tailored plugins")

    def __str__(self) -> str:
        return self.label


SETTINGS = tuple(field.name for field in PluginSettings._meta.concrete_fields if field.name != "plugin")


class SettingsView(namedtuple("SettingsView", SETTINGS)):  # type: ignore[misc]
    """A plugin's settings, read-only: what rendering reads, shared by every render in the process (lists are
    tuples). ``settings_cache`` keeps one per plugin version."""

    __slots__ = ()

    @classmethod
    def of(cls, values: dict[str, Any]) -> SettingsView:
        return cls(*(tuple(values[name]) if name in settings_cache.LISTS else values[name] for name in SETTINGS))

    def editable(self) -> dict[str, Any]:
        """The same settings in a dict of their own (lists as lists of their own), to change."""
        return {
            name: list(value) if name in settings_cache.LISTS else value
            for name, value in zip(SETTINGS, self, strict=True)
        }


def _setting(name: str) -> property:
    index = SETTINGS.index(name)

    def get_value(plugin: TailoredPlugin) -> Any:
        own = plugin.__dict__.get("settings")
        return own[name] if own is not None else plugin.settings_view[index]

    def get_list(plugin: TailoredPlugin) -> Any:
        return plugin.settings[name]  # a list of the plugin's own: it may be changed in place

    def set_(plugin: TailoredPlugin, value: Any) -> None:
        plugin.settings[name] = value

    get = get_list if name in settings_cache.LISTS else get_value
    return property(get, set_, doc=str(PluginSettings._meta.get_field(name).verbose_name))


class TailoredPlugin(CMSPlugin):
    """What areas, variants, boards and widgets have in common: a ``CMSPlugin`` with ``PluginSettings``.

    Each setting is an attribute (``area.strategy``). Reading one reads ``settings_view``, the settings as saved,
    shared with every other render (from ``settings_cache``, or from the row a query joined); changing one, or
    reading a list, first copies them into ``settings``, a dict of the plugin's own, which is what the plugin
    has from then on. ``save()`` writes the plugin, then its settings if that copy was made. Queries filter on
    them through the relation: ``TailoredArea.objects.filter(tailored_settings__goal="")``.
    """

    class Meta:
        proxy = True

    @property
    def settings_view(self) -> SettingsView:
        """The settings, read-only (lists are tuples): no copy, so rendering reads them without allocating."""
        own = self.__dict__.get("settings")
        if own is not None:
            return SettingsView.of(own)  # what was set on this instance
        view = self.__dict__.get("_settings_view")
        if view is None:
            row = self._state.fields_cache.get("tailored_settings")  # select_related("tailored_settings")
            if row is not None:
                view = SettingsView.of({name: getattr(row, name) for name in SETTINGS})
            else:
                view = settings_cache.view(self)
            self.__dict__["_settings_view"] = view
        return view

    @cached_property
    def settings(self) -> dict[str, Any]:
        """The settings in a dict of this plugin's own, to change (``save()`` writes them)."""
        return self.settings_view.editable()

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        """Saves the plugin, then its settings if they were copied to be set (``update_fields`` may name them)."""
        new = self.pk is None or self._state.adding
        self._settings_saved = "settings" in self.__dict__
        if update_fields is not None:
            fields = set(update_fields) - set(SETTINGS)
            # Their cached copies are keyed by changed_date: it moves with them.
            update_fields = fields | {"changed_date"} if self._settings_saved else fields
        super().save(*args, update_fields=update_fields, **kwargs)
        if self._settings_saved:
            settings_cache.save(self, new)

    def __getstate__(self) -> dict[str, Any]:
        """Copies (``copy.copy``, ``deepcopy``, pickles) get settings of their own, not the original's dict."""
        state = super().__getstate__()
        if "settings" in state:
            state["settings"] = SettingsView.of(state["settings"]).editable()
        return state

    def copy_relations(self, old_instance: TailoredPlugin) -> None:
        """A copy (django CMS's copy, paste, publish) gets the original's settings, unless ``save`` wrote them.

        The key stays: a page's new version has the same areas, and results, holdouts and optimize count by key.
        A copy into a placeholder that holds the original (an editor duplicating an area, a variant or a widget,
        directly or through the clipboard) is a new one next to it: it gets a key of its own (1 query, editing).
        """
        written = getattr(self, "_settings_saved", False)
        if not written:
            self.settings = old_instance.settings_view.editable()
        duplicate = (
            PluginSettings.objects.filter(
                key=self.settings["key"], plugin__placeholder_id=self.placeholder_id, plugin__language=self.language
            )
            .exclude(plugin_id=self.pk)
            .exists()
        )
        if duplicate:
            self.settings["key"] = new_key()
        if duplicate or not written:
            settings_cache.save(self, new=not written)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("settings", None)
        self.__dict__.pop("_settings_view", None)

    def __str__(self) -> str:
        return self.label


for _name in SETTINGS:
    setattr(TailoredPlugin, _name, _setting(_name))


class OfPluginType(models.Manager):
    """Rows of one plugin type only (the proxies share django CMS's plugin table), each read with its settings
    (one join: a list of areas or variants costs one query, however many placeholders they are in).

    django CMS's own loading of a page's plugins doesn't come through here: those read their settings from
    ``settings_cache``. To lock rows, name the plugin's table: ``select_for_update(of=("self",))`` (PostgreSQL
    can't lock the nullable side of the join).
    """

    def __init__(self, plugin_type: str) -> None:
        super().__init__()
        self.plugin_type = plugin_type

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(plugin_type=self.plugin_type).select_related("tailored_settings")


class TailoredArea(TailoredPlugin):
    """A container whose variants are shown according to the editor's strategy."""

    objects = OfPluginType("TailoredAreaPlugin")

    class Meta:
        proxy = True
        verbose_name = _("tailored area")
        verbose_name_plural = _("tailored areas")
        # The editors' permissions of tailoring as a whole (besides the default ones of each model: managing
        # segments and topics is add/change/delete of Segment and Topic).
        permissions = [
            ("preview_tailoring", _("Can preview pages as any visitor")),
            ("view_results", _("Can see the results of tailoring")),
        ]

    def __str__(self) -> str:
        return self.label or str(self.get_strategy_display())

    def get_strategy_display(self) -> str:
        return Strategy(self.strategy).label

    def get_short_description(self) -> str:
        """What the CMS structure board shows after "Tailored area": the label, strategy, holdout and goal (no SQL)."""
        parts = [self.label, str(Strategy(self.strategy).label).split(":")[0]] if self.label else [str(self)]
        if self.holdout_percent and self.strategy != Strategy.STATIC:
            parts.append(str(_("holdout %(percent)s%%") % {"percent": self.holdout_percent}))
        if self.goal:
            parts.append(str(_("goal: %(goal)s") % {"goal": self.goal}))
        return " · ".join(parts)


class Variant(TailoredPlugin):
    """One version of an area's content, with the visitors it is meant for."""

    objects = OfPluginType("VariantPlugin")

    class Meta:
        proxy = True
        verbose_name = _("variant")
        verbose_name_plural = _("variants")

    @property
    def targeting(self) -> dict[str, list[str]]:
        return {"topics": self.topics, "themes": self.themes, "layouts": self.layouts, "segments": self.segments}

    def targeting_summary(self) -> list[tuple[str, str]]:
        """(dimension, values) pairs naming whom the variant is for: topic/segment slugs, theme/layout labels."""
        themes, layouts = tailored_settings.THEMES, tailored_settings.LAYOUTS
        summary = []
        if self.topics:
            summary.append((str(_("topics")), ", ".join(self.topics)))
        if self.themes:
            summary.append((str(_("themes")), ", ".join(str(themes.get(t, t)) for t in self.themes)))
        if self.layouts:
            summary.append((str(_("layouts")), ", ".join(str(layouts.get(x, x)) for x in self.layouts)))
        if self.segments:
            summary.append((str(_("segments")), ", ".join(self.segments)))
        return summary

    def get_short_description(self) -> str:
        """What the CMS structure board shows after "Variant": the label and whom the variant is for.

        No SQL: reads the variant's own fields and the settings.
        """
        summary = self.targeting_summary()
        parts = [self.label, *(f"{dimension}: {values}" for dimension, values in summary)]
        if self.fallback:
            parts.append(str(_("fallback")))
        elif not summary:
            parts.append(str(_("no targeting")))
        if self.priority:
            parts.append(f"{_('priority')} {self.priority}")
        return " · ".join(part for part in parts if part)


class WidgetBoard(TailoredPlugin):
    """Widgets a visitor can reorder and hide."""

    objects = OfPluginType("WidgetBoardPlugin")

    class Meta:
        proxy = True
        verbose_name = _("widget board")
        verbose_name_plural = _("widget boards")

    def __str__(self) -> str:
        return self.label or str(_("Widget board"))


class Widget(TailoredPlugin):
    """One widget of a board, titled by its label."""

    objects = OfPluginType("WidgetPlugin")

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
