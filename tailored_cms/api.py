"""The Python API, mirroring ``cms.api``: build tailored content and change visitors' choices without the admin.

The REST API (DRF), for browsers and servers, is ``tailored_cms.rest``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cms.api import add_plugin
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext

from .areas.models import MAX_HOLDOUT_PERCENT, validate_goal
from .plugin_settings.models import validate_window
from .quiz.models import Quiz, QuizAnswer, QuizQuestion, QuizResponse
from .rules import recompute
from .rules.models import Segment, validate_rules
from .text import check_storable
from .tracking.capture import record_event
from .visitors import traits as visitor_traits
from .visitors.models import Topic, Visitor
from .visitors.preferences import clean_preferences, publish, reset_preferences, save_preferences, visitor_for_update
from .visitors.request import visitor_context
from .visitors.snapshot import Snapshot
from .widgets.models import PageTopics

if TYPE_CHECKING:
    from cms.models import Page, Placeholder
    from parler.models import TranslatableModel

    from .areas.models import TailoredArea, Variant
    from .rules.recompute import RecomputeSummary
    from .widgets.models import Widget, WidgetBoard

__all__ = [
    "answer_quiz",
    "record_event",
    "add_area",
    "add_variant",
    "add_widget",
    "add_widget_board",
    "create_segment",
    "create_topic",
    "recompute_segments",
    "reset_preferences",
    "get_traits",
    "set_preferences",
    "set_traits",
    "tag_page",
]

_UNSET: Any = object()


def create_topic(
    slug: str,
    name: str = "",
    *,
    description: str = "",
    position: int = 0,
    names: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> Topic:
    """Create (or update) the topic ``slug``. ``name`` and ``description`` are written in the current language;
    ``names`` and ``descriptions`` (``{"es": "Deportes"}``) in theirs (a language the site doesn't have is a
    ``ValidationError`` naming it)."""
    topic = Topic.objects.filter(slug=slug).first() or Topic(slug=slug)
    topic.name = name or slug.replace("-", " ").title()
    topic.description = description
    topic.position = position
    _translate(topic, names or {}, descriptions or {})
    topic.save()
    return topic


def tag_page(page: Page, topics: Iterable[str]) -> PageTopics:
    """Set the topics of a CMS page (by slug; unknown slugs raise ``Topic.DoesNotExist``)."""
    slugs = list(topics)
    found = list(Topic.objects.filter(slug__in=slugs))
    missing = set(slugs) - {t.slug for t in found}
    if missing:
        raise Topic.DoesNotExist(f"Unknown topic(s): {', '.join(sorted(missing))}")
    extension, _ = PageTopics.objects.get_or_create(extended_object=page)
    extension.topics.set(found)
    return extension


def add_area(
    placeholder: Placeholder,
    language: str = "en",
    strategy: str = "customization",
    max_items: int = 1,
    label: str = "",
    holdout_percent: int = 0,
    goal: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    never_shared: bool = False,
    **kwargs: Any,
) -> TailoredArea:
    """Add a ``TailoredAreaPlugin`` at the end of ``placeholder``; ``holdout_percent`` is 0 to 50; ``goal`` the event
    name that counts as a conversion in its results (``""``: clicks only); ``never_shared``: under ``EDGE_MODE``,
    the pages showing it are never stored by a shared cache.

    ``starts_at``/``ends_at``: a campaign window (timezone-aware; either may be ``None``, open on that side):
    outside it the area shows nothing. ``ValidationError`` if it ends before it starts or a moment is naive.
    """
    if not 0 <= holdout_percent <= MAX_HOLDOUT_PERCENT:
        raise ValidationError(f"holdout_percent must be 0 to {MAX_HOLDOUT_PERCENT}, not {holdout_percent}.")
    if goal:
        validate_goal(goal)
    validate_window(starts_at, ends_at)
    return add_plugin(
        placeholder,
        "TailoredAreaPlugin",
        language,
        strategy=strategy,
        max_items=max_items,
        label=label,
        holdout_percent=holdout_percent,
        never_shared=never_shared,
        goal=goal,
        starts_at=starts_at,
        ends_at=ends_at,
        **kwargs,
    )


def add_variant(
    area: TailoredArea,
    label: str,
    topics: Iterable[str] = (),
    themes: Iterable[str] = (),
    layouts: Iterable[str] = (),
    fallback: bool = False,
    priority: int = 0,
    segments: Iterable[str] = (),
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    **kwargs: Any,
) -> Variant:
    """Add a ``VariantPlugin`` to ``area``; put content in it with ``cms.api.add_plugin(..., target=variant)``.

    ``segments``: slugs of the segments it is for (unknown slugs raise ``Segment.DoesNotExist``).
    ``starts_at``/``ends_at``: a campaign window (timezone-aware; either may be ``None``, open on that side):
    outside it the variant is not shown, not even as the fallback. ``ValidationError`` if it ends before it
    starts or a moment is naive.
    """
    validate_window(starts_at, ends_at)
    slugs = list(segments)
    missing = set(slugs) - set(Segment.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    if missing:
        raise Segment.DoesNotExist(f"Unknown segment(s): {', '.join(sorted(missing))}")
    return add_plugin(
        area.placeholder,
        "VariantPlugin",
        area.language,
        target=area,
        label=label,
        topics=list(topics),
        themes=list(themes),
        layouts=list(layouts),
        fallback=fallback,
        priority=priority,
        segments=slugs,
        starts_at=starts_at,
        ends_at=ends_at,
        **kwargs,
    )


def create_segment(
    slug: str,
    name: str = "",
    *,
    rules: dict[str, Any],
    description: str = "",
    enabled: bool = True,
    names: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> Segment:
    """Create (or update) the segment ``slug``; ``rules`` is validated (``ValidationError`` naming the rule and
    parameter at fault, or a reference cycle). Celery recomputes its members once the transaction commits.
    ``name`` and ``description`` are written in the current language, ``names`` and ``descriptions`` in theirs."""
    _check_storable(name=name, description=description)
    segment = Segment.objects.filter(slug=slug).first() or Segment(slug=slug)
    segment.name = name or slug.replace("-", " ").capitalize()
    segment.description = description
    _translate(segment, names or {}, descriptions or {})
    segment.enabled = enabled
    segment.rules = validate_rules(rules, segment=slug)
    segment.full_clean(exclude=["rules"])
    segment.save()
    return segment


def _translate(obj: TranslatableModel, names: Mapping[str, str], descriptions: Mapping[str, str]) -> None:
    """Give ``obj`` (saved after) a translation per language of ``names`` and ``descriptions`` (``{language:
    text}``); a language in ``names`` replaces what ``name`` wrote in the current language. Other languages' are
    left as they are. A language the site does not have (``LANGUAGES``) is a ``ValidationError`` naming it."""
    unknown = sorted((set(names) | set(descriptions)) - {code for code, _label in settings.LANGUAGES})
    if unknown:
        known = ", ".join(code for code, _label in settings.LANGUAGES)
        raise ValidationError({"names": [f"Not a language of the site: {', '.join(unknown)} (it has {known})."]})
    _check_storable(
        **{f"name ({code})": text for code, text in names.items()},
        **{f"description ({code})": text for code, text in descriptions.items()},
    )
    current = obj.get_current_language()
    for language in {**names, **descriptions}:
        obj.set_current_language(language)
        if language in names:
            obj.name = names[language]
        if language in descriptions:
            obj.description = descriptions[language]
    obj.set_current_language(current)


def _check_storable(**fields: Any) -> None:
    """A ``ValidationError`` naming each text field the database would refuse (a NUL character, a lone surrogate)."""
    errors = {}
    for field, value in fields.items():
        if not isinstance(value, str):
            continue
        try:
            check_storable(value)
        except ValueError as exc:
            errors[field] = [f"The {field} {exc}."]
    if errors:
        raise ValidationError(errors)


def recompute_segments(segments: Iterable[str] | None = None) -> RecomputeSummary:
    """Recompute who is in ``segments`` (slugs; all if None) now, in this process: what the Celery task runs.

    Raises ``RecomputeRunning`` if another recompute holds the lock.
    """
    return recompute.recompute_segments(None if segments is None else list(segments))


def add_widget_board(placeholder: Placeholder, language: str = "en", label: str = "") -> WidgetBoard:
    """Add a ``WidgetBoardPlugin`` at the end of ``placeholder``."""
    return add_plugin(placeholder, "WidgetBoardPlugin", language, label=label)


def add_widget(board: WidgetBoard, title: str, *, hideable: bool = True, key: str | None = None) -> Widget:
    """Add a ``WidgetPlugin`` to ``board``; its content goes in with ``cms.api.add_plugin(..., target=widget)``."""
    extra = {"key": key} if key else {}
    return add_plugin(
        board.placeholder,
        "WidgetPlugin",
        board.language,
        target=board,
        label=title,
        hideable=hideable,
        **extra,
    )


def set_preferences(
    request: HttpRequest,
    *,
    topics: Iterable[str] = _UNSET,
    theme: str = _UNSET,
    layout: str = _UNSET,
    widgets: dict[str, list[str]] = _UNSET,
    motion: str = _UNSET,
    text_size: str = _UNSET,
) -> Snapshot:
    """Change the named choices of the request's visitor (others stay); raises ``ValidationError`` if invalid.

    ``motion="reduced"`` and ``text_size="large"`` are the accessibility choices (``""``: the browser's, the site's).
    """
    given = {
        "topics": topics,
        "theme": theme,
        "layout": layout,
        "widgets": widgets,
        "motion": motion,
        "text_size": text_size,
    }
    data = {name: (list(value) if name == "topics" else value) for name, value in given.items() if value is not _UNSET}
    return save_preferences(request, clean_preferences(data, partial=True))


def set_traits(user_or_request: Any, /, **traits: Any) -> dict[str, Any]:
    """Set what the site knows about a visitor: ``set_traits(user, plan="pro", since=date(2024, 3, 1))``.

    ``user_or_request``: a user (their traits follow them to every device they sign in on; a user who never
    visited gets a visitor row), or a request (its signed-in user, else its anonymous visitor, who gets a cookie
    if they had none; at login their traits join the user's, the newer value of each winning). Values are
    strings, numbers, booleans, dates or lists of strings; ``None`` removes a trait; others are left as they are.
    A name keeps the kind of its first value. Raises ``ValidationError`` naming each wrong trait (limits:
    ``MAX_TRAITS``, ``TRAIT_MAX_NAME_LENGTH``, ``TRAIT_MAX_VALUE_BYTES``); nothing is stored then. Returns all the
    visitor's traits. Once stored, the visitor's segments are re-evaluated.
    """
    kinds = visitor_traits.known_kinds(traits)
    cleaned = visitor_traits.clean_traits(traits, kinds)
    request = user_or_request if isinstance(user_or_request, HttpRequest) else None
    with transaction.atomic():
        if request is not None:
            visitor = visitor_for_update(request, visitor_context(request))
        else:
            _check_user(user_or_request)
            visitor, _created = Visitor.objects.select_for_update().get_or_create(user=user_or_request)
        refused = visitor_traits.save_traits([(visitor, cleaned)], kinds)
        if refused:
            raise refused[str(visitor.pk)]
    if request is not None:
        context = visitor_context(request)
        if context.visitor_id != str(visitor.pk):
            publish(context, visitor)  # a new visitor, or the user's: the request (and its cookie) is theirs now
    return visitor_traits.decoded_traits(visitor.traits, visitor_traits.known_kinds(visitor.traits))


def get_traits(user_or_request: Any, /) -> dict[str, Any]:
    """The traits of a user, or of a request's visitor (its signed-in user's if any): ``{name: value}``, dates as
    ``date``; ``{}`` for someone the site set none for. Cost: two queries."""
    if isinstance(user_or_request, HttpRequest):
        user = getattr(user_or_request, "user", None)
        if user is not None and user.is_authenticated:
            rows = Visitor.objects.filter(user=user)
        else:
            visitor_id = visitor_context(user_or_request).visitor_id
            if visitor_id is None:
                return {}
            rows = Visitor.objects.filter(pk=visitor_id, user=None)
    else:
        _check_user(user_or_request)
        rows = Visitor.objects.filter(user=user_or_request)
    stored = rows.values_list("traits", flat=True).first() or {}
    return visitor_traits.decoded_traits(stored, visitor_traits.known_kinds(stored))


def _check_user(user: Any) -> None:
    if getattr(user, "pk", None) is None or not getattr(user, "is_authenticated", False):
        raise TypeError(f"Expected a saved user or a request, not {user!r}.")


def answer_quiz(request: HttpRequest, quiz_id: int, answer_ids: Iterable[int], *, skipped: bool = False) -> Snapshot:
    """The request's visitor answers the quiz ``quiz_id`` with the answers ``answer_ids`` (the answer plugins'
    ids), or skips it: they follow the answers' topics besides theirs, get the answers' traits, and the quiz
    remembers it (``QuizResponse``). What an answer maps to is looked up here, never taken from the browser.

    Raises ``ValidationError`` naming the field: no such quiz, an answer that isn't this quiz's, two answers to a
    one-answer question, answers with a skip. Returns the visitor's snapshot. Cost: about ten queries."""
    quiz = Quiz.objects.filter(pk=quiz_id, plugin_type="QuizPlugin").first()
    if quiz is None:
        raise ValidationError({"quiz": [gettext("No quiz with this id.")]})
    ids = list(dict.fromkeys(answer_ids))
    if skipped and ids:
        raise ValidationError({"answers": [gettext("A skipped quiz has no answers.")]})
    questions = {q.pk: q for q in QuizQuestion.objects.filter(parent_id=quiz.pk, plugin_type="QuizQuestionPlugin")}
    answers = list(
        QuizAnswer.objects.filter(pk__in=ids, parent_id__in=list(questions), plugin_type="QuizAnswerPlugin")
        .order_by("parent__position", "position")
        .prefetch_related("topics")
    )
    unknown = sorted(set(ids) - {answer.pk for answer in answers})
    if unknown:
        raise ValidationError(
            {"answers": [gettext("Not an answer of this quiz: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}]}
        )
    for question in questions.values():
        if not question.multiple and sum(answer.parent_id == question.pk for answer in answers) > 1:
            raise ValidationError({"answers": [gettext("“%(question)s” takes one answer.") % {"question": question}]})
    traits: dict[str, Any] = {}
    for answer in answers:
        traits.update(answer.traits)
    visitor_traits.clean_traits(traits, visitor_traits.known_kinds(traits))  # refused before anything is saved
    snapshot = visitor_context(request).snapshot
    followed = list(dict.fromkeys([*snapshot.topics, *(t.slug for a in answers for t in a.topics.all())]))
    if followed != list(snapshot.topics):
        snapshot = save_preferences(request, clean_preferences({"topics": followed}, partial=True))
    if traits:
        set_traits(request, **traits)
        snapshot = visitor_context(request).snapshot
    with transaction.atomic():
        visitor = visitor_for_update(request, visitor_context(request))
        QuizResponse.objects.update_or_create(
            visitor=visitor,
            quiz_id=quiz.pk,
            defaults={"answers": [answer.label for answer in answers], "skipped": skipped},
        )
    context = visitor_context(request)
    if context.visitor_id != str(visitor.pk):
        snapshot = publish(context, visitor)  # a new visitor: the request (and its cookie) is theirs now
    return snapshot
