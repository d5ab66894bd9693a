"""The quiz's plugins (a quiz, its questions, their answers: children in structure mode, per language like any
plugin) and a visitor's answers (``QuizResponse``: personal, exported and erased with the visitor)."""

from __future__ import annotations

from enum import StrEnum

from cms.models import CMSPlugin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..visitors.models import Topic, Visitor
from ..visitors.traits import TraitsError, clean_traits

__all__ = ["Quiz", "QuizAnswer", "QuizQuestion", "QuizResponse", "Shown"]


class Shown(StrEnum):
    """Whom the quiz is shown to."""

    FIRST_VISIT = "first-visit"  # on the first page a visitor sees with it, never again
    UNTIL_ANSWERED = "until-answered"  # until they answer or skip it
    ALWAYS = "always"  # on every visit (to change one's answers)


SHOWN_CHOICES = [
    (Shown.FIRST_VISIT.value, _("on the first visit only")),
    (Shown.UNTIL_ANSWERED.value, _("until the visitor answers or skips it")),
    (Shown.ALWAYS.value, _("always")),
]


class Quiz(CMSPlugin):
    """Questions shown one at a time; the answers say which topics to follow and which traits to set."""

    title = models.CharField(_("title"), max_length=100, blank=True, default=_("Tell us what you like"))
    shown = models.CharField(_("shown"), max_length=20, choices=SHOWN_CHOICES, default=Shown.UNTIL_ANSWERED.value)

    def __str__(self) -> str:
        return self.title or str(_("Quiz"))


class QuizQuestion(CMSPlugin):
    text = models.CharField(_("question"), max_length=200)
    multiple = models.BooleanField(_("several answers allowed"), default=False)

    def __str__(self) -> str:
        return self.text


class QuizAnswer(CMSPlugin):
    """One answer: the topics a visitor who gives it follows, the traits set for them."""

    label = models.CharField(_("answer"), max_length=100)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics to follow"), blank=True, related_name="+")
    traits = models.JSONField(
        _("traits to set"),
        blank=True,
        default=dict,
        help_text=_('As JSON, for example {"plan": "family"}. Leave empty to set none.'),
    )

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if not isinstance(self.traits, dict):
            raise ValidationError({"traits": _('Expected an object such as {"plan": "family"}.')})
        try:
            clean_traits(self.traits)
        except TraitsError as exc:
            raise ValidationError({"traits": exc.messages}) from exc

    def copy_relations(self, oldinstance: QuizAnswer) -> None:
        self.topics.set(oldinstance.topics.all())


class QuizResponse(models.Model):
    """What a visitor answered to a quiz, or that they skipped it. Personal: in their export, erased with them."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="quiz_responses")
    quiz_id = models.PositiveIntegerField(_("quiz"))  # the Quiz plugin's id; the figures outlive a deleted quiz
    answers = models.JSONField(_("answers"), default=list)  # the answers' labels, as the visitor saw them
    skipped = models.BooleanField(_("skipped"), default=False)
    answered_at = models.DateTimeField(_("answered at"), auto_now=True)

    class Meta:
        verbose_name = _("quiz answer")
        constraints = [models.UniqueConstraint(fields=["visitor", "quiz_id"], name="tailored_quiz_response_once")]

    def __str__(self) -> str:
        return f"{self.visitor_id} · quiz {self.quiz_id}"
