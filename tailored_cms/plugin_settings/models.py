"""What areas, variants, boards and widgets have in common: a proxy of ``CMSPlugin`` whose settings are one row of
``PluginSettings``, read from this process's memory while rendering (``cache``)."""

from __future__ import annotations

import uuid
from collections import namedtuple
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cms.models import CMSPlugin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, router, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..tracking.goals import validate_goal
from ..tracking.stream import NAME_MAX_LENGTH
from . import cache

__all__ = [
    "MAX_HOLDOUT_PERCENT",
    "MAX_ITEMS_RANGE",
    "MAX_WEIGHT",
    "SETTINGS",
    "OfPluginType",
    "PluginSettings",
    "Setting",
    "SettingsView",
    "StrategyField",
    "STAMP",
    "TailoredPlugin",
    "default_view",
    "load",
    "load_view",
    "new_key",
    "save_settings",
    "validate_window",
]

MAX_ITEMS_RANGE = (1, 20)  # how many variants an area may show at once
MAX_HOLDOUT_PERCENT = 50  # beyond half, the "holdout" would be the main group
MAX_WEIGHT = 100  # an experiment's split is in whole buckets of 100: finer weights would mean nothing

Choices = list[tuple[str, Any]]


def new_key() -> str:
    return uuid.uuid4().hex[:12]


class StrategyField(models.CharField):
    """An area's strategy: the ``name`` of a strategy class registered in ``tailored_cms.areas.strategies``.

    That registry sits above this table, so ``areas`` hands the field its choices when it loads
    (``offer_choices``): they are read when asked, so a strategy a site registers at import time is a choice too.
    Migrations record only the strategies the package ships: a site's own strategy is code, not schema, and asks
    for no migration of this app.
    """

    _shipped: Callable[[], Choices] | None = None

    def offer_choices(self, choices: Callable[[], Choices], shipped: Callable[[], Choices]) -> None:
        # a callable: Django reads it each time (CallableChoiceIterator); the stubs know only sequences of pairs
        self.choices = choices  # type: ignore[assignment]
        self._shipped = shipped

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        if self._shipped is not None:
            kwargs["choices"] = self._shipped()
        return name, "django.db.models.CharField", args, kwargs


class PluginSettings(models.Model):
    """What an editor set on an area, a variant, a board or a widget: one row each, one table for all four.

    The plugins themselves are proxies of ``CMSPlugin`` (``TailoredPlugin`` below), so django CMS loads a page's
    tailored plugins with its own query of the page's plugins and no other: a concrete plugin model costs one
    more query per page, and its rows are the largest of the page. The plugins read these settings through
    ``cache``, from memory unless the plugin changed (its ``changed_date`` moved) since.

    Write them through the plugin (``area.strategy = ...; area.save()``), which moves ``changed_date``: a
    ``PluginSettings`` row changed behind the plugin's back stays unseen where it is cached.
    """

    plugin = models.OneToOneField(
        CMSPlugin,
        on_delete=models.CASCADE,
        primary_key=True,
        db_column="cmsplugin_ptr_id",  # the name django CMS gives a plugin model's link to CMSPlugin
        related_name="tailored_settings",
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    # Stable identity: survives copies and new versions (pks don't), so visitors' arrangements do too.
    key = models.SlugField(_("key"), max_length=40, default=new_key, editable=False)
    # Areas
    strategy = StrategyField(_("strategy"), max_length=20, default="customization")
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
    # Edge mode: the pages showing this area are each visitor's own, never stored by a shared cache.
    never_shared = models.BooleanField(
        _("never from a shared cache"),
        default=False,
        help_text=_(
            "With edge caching on, a page showing this area is never stored by Varnish or a CDN: each visitor's "
            "comes from the site. For content meant for some visitors only, such as offers on CRM traits."
        ),
    )
    # Results: the event that counts as a conversion of this area (blank: clicks only).
    goal = models.CharField(
        _("goal"),
        max_length=NAME_MAX_LENGTH,
        blank=True,
        validators=[validate_goal],
        help_text=_(
            "What counts as a success in this area's results, such as signup: the name of something visitors do "
            "that the site records (its developers know the names). Empty: clicks count."
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
    weight = models.PositiveSmallIntegerField(
        _("share in an experiment"),
        default=1,
        validators=[MaxValueValidator(MAX_WEIGHT)],
        help_text=_(
            "In an area with the Experiment strategy, visitors are split between its variants in proportion to "
            "these numbers (1 and 1: half each; 3 and 1: three in four see this one). 0 leaves it out of the test."
        ),
    )
    # Widgets
    hideable = models.BooleanField(_("visitors may hide it"), default=True)
    # Areas and variants: a campaign window (either end open); outside it the area or variant is not shown.
    starts_at = models.DateTimeField(
        _("shown from"),
        null=True,
        blank=True,
        help_text=_("Visitors see it from this moment on. Empty: from now on."),
    )
    ends_at = models.DateTimeField(
        _("shown until"),
        null=True,
        blank=True,
        help_text=_("Visitors no longer see it from this moment on. Empty: with no end."),
    )

    class Meta:
        db_table = "tailored_cms_tailoredplugin"
        verbose_name = _("settings of a tailored plugin")
        verbose_name_plural = _("settings of tailored plugins")

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        validate_window(self.starts_at, self.ends_at)


def validate_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    """A campaign window ends after it starts (``ValidationError`` on ``ends_at`` otherwise); either may be open."""
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and not isinstance(value, datetime):
            raise ValidationError({name: _("Enter a date and time.")}, code="invalid")
        if value is not None and timezone.is_naive(value):
            raise ValidationError({name: _("Give a date and time with its time zone.")}, code="naive")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must be after the start.")}, code="window")


SETTINGS = tuple(field.name for field in PluginSettings._meta.concrete_fields if field.name != "plugin")
_KEY = SETTINGS.index("key")  # never NULL in a row: NULL through a join, no row


class SettingsView(namedtuple("SettingsView", SETTINGS)):  # type: ignore[misc]
    """A plugin's settings, read-only: what rendering reads, shared by every render in the process (lists are
    tuples). ``cache`` keeps one per plugin version."""

    __slots__ = ()

    if TYPE_CHECKING:  # the fields come from PluginSettings at run time (SETTINGS), so a type checker can't see them
        label: str
        key: str
        strategy: str
        max_items: int
        holdout_percent: int
        never_shared: bool
        goal: str
        topics: tuple[str, ...]
        themes: tuple[str, ...]
        layouts: tuple[str, ...]
        segments: tuple[str, ...]
        priority: int
        fallback: bool
        weight: int
        hideable: bool
        starts_at: datetime | None
        ends_at: datetime | None

    @classmethod
    def of(cls, values: dict[str, Any]) -> SettingsView:
        return cls(*(tuple(values[name]) if name in cache.LISTS else values[name] for name in SETTINGS))

    def editable(self) -> dict[str, Any]:
        """The same settings in a dict of their own (lists as lists of their own), to change."""
        values: tuple[Any, ...] = self  # of several types: lists and scalars
        return {
            name: list(value) if name in cache.LISTS else value for name, value in zip(SETTINGS, values, strict=True)
        }


class Setting(property):
    """One of a tailored plugin's settings as an attribute of the plugin (``area.strategy``), declared in
    ``TailoredPlugin``'s body, one per column of ``PluginSettings``: ``strategy = Setting("strategy")``.

    Why not model fields: the settings live in a side table (see ``PluginSettings``), and a page renders from the
    shared ``SettingsView`` without copying it. Reading returns the plugin's own copy of the value if it made one
    (``settings``), else the shared view's, without allocating; a list (``cache.LISTS``) is always read from the
    plugin's own copy, since the caller may change it in place. Writing copies the settings into ``settings``
    first, which ``save()`` writes. A ``property`` of two small functions, so reading one costs what a property
    costs on the render path, and Django's constructor takes settings as keyword arguments
    (``Variant(label=..., topics=[...])``).
    """

    def __init__(self, name: str) -> None:
        index = SETTINGS.index(name)  # its place in a SettingsView

        def get_value(plugin: TailoredPlugin) -> Any:
            own = plugin.__dict__.get("settings")
            return own[name] if own is not None else plugin.settings_view[index]

        def get_list(plugin: TailoredPlugin) -> Any:
            return plugin.settings[name]

        def set_(plugin: TailoredPlugin, value: Any) -> None:
            plugin.settings[name] = value

        get = get_list if name in cache.LISTS else get_value
        field = cast(models.Field, PluginSettings._meta.get_field(name))  # a column, not a reverse relation
        super().__init__(get, set_, None, str(field.verbose_name))
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.name:
            raise TypeError(f"{owner.__name__}.{name} is declared as Setting({self.name!r}): name them the same.")


class TailoredPlugin(CMSPlugin):
    """What areas, variants, boards and widgets have in common: a ``CMSPlugin`` with ``PluginSettings``.

    Each setting is an attribute (``area.strategy``), a ``Setting`` declared below. Reading one reads
    ``settings_view``, the settings as saved, shared with every other render (from ``cache``, or from the row a
    query joined); changing one, or reading a list, first copies them into ``settings``, a dict of the plugin's
    own, which is what the plugin has from then on. ``save()`` writes the plugin, then its settings if that copy
    was made. Queries filter on them through the relation: ``TailoredArea.objects.filter(tailored_settings__goal="")``.
    """

    label = Setting("label")
    key = Setting("key")
    strategy = Setting("strategy")
    max_items = Setting("max_items")
    holdout_percent = Setting("holdout_percent")
    never_shared = Setting("never_shared")
    goal = Setting("goal")
    topics = Setting("topics")
    themes = Setting("themes")
    layouts = Setting("layouts")
    segments = Setting("segments")
    priority = Setting("priority")
    fallback = Setting("fallback")
    weight = Setting("weight")
    hideable = Setting("hideable")
    starts_at = Setting("starts_at")
    ends_at = Setting("ends_at")

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
                view = load_view(self)
            self.__dict__["_settings_view"] = view
        return view

    def keep_settings_view(self, view: SettingsView) -> None:
        """``view`` is this plugin's settings as saved, read for its ``changed_date``: ``settings_view`` from now on
        (a page that decided what to show from them gives them to the instances it renders)."""
        self.__dict__["_settings_view"] = view

    @cached_property
    def settings(self) -> dict[str, Any]:
        """The settings in a dict of this plugin's own, to change (``save()`` writes them)."""
        return self.settings_view.editable()

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        """Saves the plugin, then its settings if they were copied to be set (``update_fields`` may name them), in
        one transaction: another process that read the plugin's new ``changed_date`` with the settings before them
        would keep those under it."""
        new = self.pk is None or self._state.adding
        self._settings_saved = "settings" in self.__dict__
        if update_fields is not None:
            fields = set(update_fields) - set(SETTINGS)
            # Their cached copies are keyed by changed_date: it moves with them.
            update_fields = fields | {"changed_date"} if self._settings_saved else fields
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            super().save(*args, update_fields=update_fields, **kwargs)
            if self._settings_saved:
                save_settings(self, new)

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
            save_settings(self, new=not written)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("settings", None)
        self.__dict__.pop("_settings_view", None)

    def __str__(self) -> str:
        return self.label


def _check_declared() -> None:
    """Every column of ``PluginSettings`` is a ``Setting`` of ``TailoredPlugin``: a new column needs one."""
    declared = {name for name, value in vars(TailoredPlugin).items() if isinstance(value, Setting)}
    if declared != set(SETTINGS):
        raise TypeError(
            f"TailoredPlugin declares the settings {sorted(declared)}; PluginSettings has {sorted(SETTINGS)}."
        )


_check_declared()


def load_view(plugin: TailoredPlugin) -> SettingsView:
    """``plugin``'s settings as saved, read-only and shared: from ``cache``, else with its neighbours' (1 query)."""
    if plugin.pk is None:
        return default_view()
    found = cache.get(plugin.pk, plugin.changed_date)
    if found is None:
        # not remembered under its changed_date: changed since ``plugin`` was read, perhaps; the newer all the same
        found = load((plugin.pk,), plugin.placeholder_id, plugin.language).get(plugin.pk)
    return found if found is not None else default_view()  # deleted since


def default_view() -> SettingsView:
    fields = PluginSettings._meta.concrete_fields
    return SettingsView.of({field.name: field.get_default() for field in fields if field.name in SETTINGS})


def save_settings(plugin: TailoredPlugin, new: bool) -> None:
    """Write ``plugin.settings`` (a new row if ``new``) and keep them under the plugin's new ``changed_date``."""
    PluginSettings(plugin_id=plugin.pk, **plugin.settings).save(force_insert=new)
    cache.remember(plugin.pk, plugin.changed_date, SettingsView.of(plugin.settings))


# The database's text of a plugin's changed_date, which ``cache.changed_date_of`` turns back into the timestamp: the
# same expression in every query, so that the same timestamp reads as the same text.
STAMP = Cast("changed_date", output_field=models.TextField())


def load(pks: Iterable[int], placeholder_id: int | None, language: str) -> dict[int, SettingsView]:
    """The settings of the plugins ``pks`` and of every tailored plugin in their placeholder and ``language`` (1
    query: the rest of the page's area is about to ask), remembered with the text of their ``changed_date``
    (``STAMP``); by pk. A plugin saved without settings (never by this app) has the defaults."""
    wanted = Q(pk__in=pks)
    if placeholder_id is not None:
        wanted |= Q(placeholder_id=placeholder_id, language=language, tailored_settings__isnull=False)
    columns = (f"tailored_settings__{name}" for name in SETTINGS)
    loaded = {}
    for pk, changed_date, stamp, *values in CMSPlugin.objects.filter(wanted).values_list(
        "pk", "changed_date", STAMP, *columns
    ):
        settings = default_view() if values[_KEY] is None else SettingsView.of(dict(zip(SETTINGS, values, strict=True)))
        cache.remember(pk, changed_date, settings, stamp)
        loaded[pk] = settings
    return loaded


_Plugin = TypeVar("_Plugin", bound=TailoredPlugin)


class OfPluginType(models.Manager[_Plugin]):
    """Rows of one plugin type only (the proxies share django CMS's plugin table), each read with its settings
    (one join: a list of areas or variants costs one query, however many placeholders they are in).

    django CMS's own loading of a page's plugins doesn't come through here: those read their settings from
    ``cache``. To change rows that others may be changing, read them with ``locked``.
    """

    def __init__(self, plugin_type: str) -> None:
        super().__init__()
        self.plugin_type = plugin_type

    def get_queryset(self) -> models.QuerySet[_Plugin]:
        return super().get_queryset().filter(plugin_type=self.plugin_type).select_related("tailored_settings")

    def locked(self, **lookups: Any) -> models.QuerySet[_Plugin]:
        """The rows ``lookups`` select, locked to the end of the transaction (in the order of their ids), read with
        their settings as committed when the locks were taken. One query to lock, one to read: a query that locks
        what it joins waits for a row another transaction holds and then reads that row anew, but the settings it
        joins as they were before it waited (PostgreSQL), which a save would write back over the other's."""
        rows = super().get_queryset().filter(plugin_type=self.plugin_type, **lookups).order_by("pk")
        locked = list(rows.select_for_update().values_list("pk", flat=True))
        return self.get_queryset().filter(pk__in=locked).order_by("pk")
