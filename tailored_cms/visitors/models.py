from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from parler.models import TranslatableModel, TranslatedFields

from ..translations import NamedManager


class Topic(TranslatableModel):
    """A subject visitors can follow and editors can tag pages and variants with. Its name and description are
    written per language (``translations``); ``Topic.objects.names()`` reads them in the visitor's."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    translations = TranslatedFields(
        name=models.CharField(_("name"), max_length=100),
        description=models.TextField(_("description"), blank=True),
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower comes first."))

    objects = NamedManager()

    class Meta:
        ordering = ("position", "slug")
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.safe_translation_getter("name", any_language=True) or self.slug


class Visitor(models.Model):
    """Someone who made a choice or gave consent: anonymous (cookie only) or tied to a user."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tailored_visitor",
    )
    # Explicit choices; "" / empty means "the site's default".
    theme = models.CharField(_("theme"), max_length=50, blank=True)
    layout = models.CharField(_("layout"), max_length=50, blank=True)
    topics = models.JSONField(_("topics followed"), default=list, blank=True)
    widgets = models.JSONField(_("widget arrangement"), default=dict, blank=True)
    # Accessibility choices (preferences.MOTIONS, preferences.TEXT_SIZES); "" follows the browser or the site.
    motion = models.CharField(_("motion"), max_length=20, blank=True)
    text_size = models.CharField(_("text size"), max_length=20, blank=True)
    # field name -> ISO time the visitor last changed it; at login the newer choice wins per field.
    choices_changed = models.JSONField(default=dict, blank=True, editable=False)
    tracking_consent = models.BooleanField(_("tracking consent"), null=True, blank=True)
    # Activity, kept by the tracking ingest (tailored_cms/tracking/ingest/) for segment rules.
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True, editable=False)
    # Indexed: the retention purge removes visitors inactive for longer than RETENTION_DAYS.
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False, db_index=True)
    visits = models.PositiveIntegerField(
        _("visits"),
        default=0,
        editable=False,
        help_text=_("A new visit starts after a pause without activity (half an hour unless the site set another)."),
    )
    device = models.CharField(_("last device"), max_length=10, blank=True, editable=False)  # mobile/tablet/desktop
    referrer_domain = models.CharField(_("last referrer domain"), max_length=255, blank=True, editable=False)
    utm_source = models.CharField(_("last UTM source"), max_length=100, blank=True, editable=False)
    utm_medium = models.CharField(_("last UTM medium"), max_length=100, blank=True, editable=False)
    utm_campaign = models.CharField(_("last UTM campaign"), max_length=100, blank=True, editable=False)
    # What the site knows about the visitor (its CRM: plan, customer since…), set by the site only
    # (``visitors.traits``): name -> a string, number, boolean, ISO date or list of strings. A user's traits live on
    # their visitor row, which follows them to every device they sign in on.
    traits = models.JSONField(_("traits"), default=dict, blank=True, editable=False)
    # trait name -> ISO time it was last set or removed; at login the newer value wins per trait.
    traits_changed = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        permissions = [("change_traits", _("Can set the traits of visitors and users"))]

    def __str__(self) -> str:
        return str(self.user or self.id)


class TraitKind(models.TextChoices):
    """What a trait holds. A trait name keeps the kind of its first value (``Trait``)."""

    STRING = "string", _("text")
    NUMBER = "number", _("number")
    BOOLEAN = "boolean", _("yes or no")
    DATE = "date", _("date")
    LIST = "list", _("list of texts")


class Trait(models.Model):
    """A trait name the site has set on some visitor, and the kind of value it holds (the builder offers these)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TraitKind.choices)
    first_set = models.DateTimeField(_("first set"), auto_now_add=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("trait")
        verbose_name_plural = _("traits")

    def __str__(self) -> str:
        return self.name


# What the tracking ingest keeps up to date on a Visitor (tailored_cms/tracking/ingest/).
ACTIVITY_FIELDS = (
    "first_seen",
    "last_seen",
    "visits",
    "device",
    "referrer_domain",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)


class StaleSnapshot(models.Model):
    """A visitor whose changed snapshot could not be written to Redis (it was unreachable from this process).

    Redis may still hold the older copy (a network partition, not a restart) and would serve it again once it
    answers, renewing it on every read: older choices, or a consent the visitor withdrew. The ingest worker
    deletes the copies of the visitors marked here, then the marks (``visitors.stale.forget_stale_snapshots``).
    Holds the id and when it was marked, nothing else.
    """

    visitor_id = models.CharField(max_length=36, primary_key=True)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stale snapshot")
        verbose_name_plural = _("stale snapshots")

    def __str__(self) -> str:
        return self.visitor_id
