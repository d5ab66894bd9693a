"""Segments and who belongs to them. Celery computes memberships (``recompute.py``); the DB keeps their history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from parler.models import TranslatableModel, TranslatedFields

from ..translations import NamedManager
from ..visitors.models import Visitor
from .trees import validate_tree

SLUG_MAX_LENGTH = 50
# A recompute that started longer ago than this without finishing is taken for dead (its worker was killed).
RECOMPUTE_STALE_AFTER = timedelta(hours=1)
# How many slugs a new segment tries when other editors' segments of the same name take the ones it chose.
SLUG_ATTEMPTS = 10


class Segment(TranslatableModel):
    """A group of visitors described by a rule tree; variants of tailored areas target segments by slug. Its name
    (what "Why am I seeing this?" tells a member) and description are written per language (``translations``);
    ``Segment.objects.names()`` reads them in the visitor's. Saved without a slug (the admin's form has none), it
    takes one made from its name (``unique_slug``), kept when it is renamed: rules and the API refer to it. If
    another segment takes that slug between the choice and the insert (two editors saving the same name at once),
    the save takes the next free one."""

    _slug_made = False  # the slug came from the name (``_give_slug``), so the save may choose another

    slug = models.SlugField(_("slug"), max_length=SLUG_MAX_LENGTH, unique=True)
    translations = TranslatedFields(
        name=models.CharField(_("name"), max_length=100),
        description=models.TextField(_("description"), blank=True),
    )
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Switched off, the segment disappears from every visitor at once.")
    )
    rules = models.JSONField(
        _("rules"),
        default=dict,
        help_text=_("Who is in the segment: the visitors who meet these rules."),
    )
    # What the admin shows; written by the recompute.
    size = models.PositiveIntegerField(
        _("members"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Visitors in the segment at the last recompute, including those who are only on some requests."),
    )
    computed_at = models.DateTimeField(_("last computed"), null=True, blank=True, editable=False)
    recompute_started_at = models.DateTimeField(_("recompute started"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = NamedManager()

    class Meta:
        ordering = ("slug",)
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.safe_translation_getter("name", any_language=True) or self.slug

    def clean(self) -> None:
        self._give_slug()  # before the rules: a new segment's rules are checked against the slug it will have
        try:
            self.rules = validate_rules(self.rules, segment=self.slug or None)  # saved cleaned (lists, case)
        except ValidationError as exc:
            raise ValidationError({"rules": exc.messages}) from exc

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._give_slug()
        if not (self._state.adding and self._slug_made):
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        for attempt in range(1, SLUG_ATTEMPTS + 1):
            try:
                with transaction.atomic(using=using):  # a savepoint: the editor's transaction goes on after a clash
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                # Taken since it was chosen: another editor saved a segment of the same name meanwhile.
                if attempt == SLUG_ATTEMPTS or not Segment.objects.using(using).filter(slug=self.slug).exists():
                    raise
                self.slug = unique_slug(self._name(), using=using)

    def _give_slug(self) -> None:
        if not self.slug:
            self.slug = unique_slug(self._name())
            self._slug_made = True

    def _name(self) -> str:
        return self.safe_translation_getter("name", any_language=True) or ""

    @property
    def recompute_running(self) -> bool:
        """A recompute of this segment started and has not finished (nor been abandoned for an hour)."""
        started = self.recompute_started_at
        return started is not None and timezone.now() - started < RECOMPUTE_STALE_AFTER


class Membership(models.Model):
    """A visitor in a segment from ``joined_at`` until ``left_at`` (NULL while a member). Rows are never deleted
    by a recompute: a visitor who leaves and joins again has two rows, which is the history results read.

    ``condition`` is NULL for an unconditional member, or the residual rule tree of request-time rules
    (device, time, …) that the request path still has to check: for ``all[topic_views, device=mobile]`` a
    sports fan's condition is ``{"rule": "device", "is": "mobile"}``.
    """

    # No foreign-key constraint in the database: a full recompute inserts millions of rows, and checking each
    # against the visitor and segment tables costs a third of its time. Django deletes a visitor's or a segment's
    # memberships with it (CASCADE), and a recompute chunk holds its visitors' rows locked while it writes.
    visitor = models.ForeignKey(
        Visitor,
        verbose_name=_("visitor"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
        db_constraint=False,
    )
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
        db_constraint=False,
    )
    joined_at = models.DateTimeField(_("joined"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    condition = models.JSONField(_("only on requests where"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            # At most one current membership per visitor and segment; also the index of "current segments of a
            # visitor" (the snapshot's DB read and the recompute's diff, both by visitor).
            models.UniqueConstraint(
                fields=["visitor", "segment"],
                condition=models.Q(left_at__isnull=True),
                name="tailored_membership_current",
            ),
        ]
        indexes = [
            # "Current members of a segment" (sizes, results, the admin).
            models.Index(
                fields=["segment", "visitor"],
                condition=models.Q(left_at__isnull=True),
                name="tailored_membership_members",
            ),
            # History by visitor (export, erase; the visitor FK has no index of its own).
            models.Index(fields=["visitor", "joined_at"], name="tailored_membership_history"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} in {self.segment_id}"


def unique_slug(name: str, *, using: str | None = None) -> str:
    """A slug made from ``name`` that no segment has yet: "sports-fans", else "sports-fans-2", "-3"… One query."""
    base = slugify(name)[:SLUG_MAX_LENGTH].strip("-_") or "segment"
    taken = set(
        Segment.objects.using(using).filter(slug__startswith=base[: SLUG_MAX_LENGTH - 4]).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-_") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def saved_definitions() -> dict[str, Any]:
    """Every saved segment's rule tree, by slug (one query): what a ``segment`` rule may reference."""
    return dict(Segment.objects.values_list("slug", "rules"))


def validate_rules(tree: Any, *, segment: str | None = None) -> dict[str, Any]:
    """``validate_tree`` against the saved segments (read only if ``tree`` references one)."""
    return validate_tree(tree, segment=segment, definitions=saved_definitions)
