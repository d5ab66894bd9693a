"""The built-in rule types. Behavioural rules (here) compile to SQL (a ``Q`` over ``Visitor``); request-time rules
(``builtin_request``, registered by importing this module) read ``RequestFacts`` only. Models are imported inside
methods: importing this module must not load them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .builtin_request import DAY_NAMES
from .registry import NOBODY, BehaviouralRule, Param, ParamError, named, register

if TYPE_CHECKING:
    from .evaluation import Scope

__all__ = ["DAY_NAMES"]

# Counter windows: ``days`` counts today as day 1, so ``days: 7`` is today and the six days before.
DAYS = Param(
    int,
    required=False,
    min_value=1,
    max_value=3650,
    label=_("Within the last (days)"),
    help=_("window in days, today included; all if omitted"),
)


def _times(count: int) -> str:
    return ngettext("once", "%(count)s times", count) % {"count": count}


def _window(params: dict[str, Any]) -> str:
    days = params.get("days")
    if days is None:
        return ""
    if days == 1:
        return " " + gettext("today")
    return " " + ngettext("in the last %(count)s day", "in the last %(count)s days", days) % {"count": days}


def _between(
    params: dict[str, Any], between: str, at_least: Callable[[int], str], at_most: Callable[[int], str]
) -> str:
    """One of three phrases (translated by the caller), as ``min`` and ``max`` are given: "made between 2 and 5
    visits", "made at least 2 visits", "made at most 1 visit"."""
    low, high = params.get("min"), params.get("max")
    if low is not None and high is not None:
        return between % {"low": low, "high": high}
    if low is not None:
        return at_least(low) % {"count": low}
    return at_most(params["max"]) % {"count": params["max"]}


def _check_range(params: dict[str, Any], low: str = "min", high: str = "max") -> None:
    if low not in params and high not in params:
        raise ValueError(gettext("give %(low)r, %(high)r or both.") % {"low": low, "high": high})
    if low in params and high in params and params[low] > params[high]:
        raise ParamError(
            low,
            gettext("%(low)r (%(low_value)s) is greater than %(high)r (%(high_value)s).")
            % {"low": low, "low_value": params[low], "high": high, "high_value": params[high]},
        )


def _fallen_out(rows: Any, params: dict[str, Any], scope: Scope, since: date) -> Q:
    """Visitors with a counter (of ``rows``) on a day the window of ``days`` held on ``since`` and no longer holds.
    Days that came into the window are after the last run: their counters' visitors were marked. Without ``days``
    the window is every day retained, and the retention purge announces the visitors whose counters it removed."""
    if "days" not in params:
        return NOBODY
    days = params["days"]
    rows = rows.filter(day__gte=since - timedelta(days=days - 1), day__lt=scope.first_day(days))
    return scope.visitors_in(rows, "visitor")


@register
class TopicViews(BehaviouralRule):
    """Counts views of pages tagged with the topic (a page's topics in the CMS, or ``api.tag_page``), from the daily
    counters the event ingest keeps. ``days: 7`` is today and the six days before; without ``days``, every day
    still retained (``RETENTION_DAYS``)."""

    name = "topic_views"
    changes_tracked = True
    label = _("Viewed pages about a topic")
    description = _("Has read at least so many pages about the topic, in the last so many days (left empty: ever).")
    params = {
        "topic": Param(
            str, max_length=50, help=_("views of pages tagged with it count"), label=_("Topic"), refers_to="topic"
        ),
        "min": Param(int, min_value=1, max_value=1_000_000, label=_("At least (views)")),
        "days": DAYS,
    }

    def describe(self, params: dict[str, Any]) -> str:
        count = params["min"]
        words = ngettext(
            "read at least %(count)s page about %(topic)s", "read at least %(count)s pages about %(topic)s", count
        )
        return words % {"count": count, "topic": named("topic", params["topic"])} + _window(params)

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        from ..tracking.models import TopicViews as Counter  # here: this module loads before Django's apps

        rows = Counter.objects.filter(topic=params["topic"])
        if "days" in params:
            rows = rows.filter(day__gte=scope.first_day(params["days"]))
        return scope.visitors_in(
            rows.values("visitor").annotate(total=Sum("count")).filter(total__gte=params["min"]), "visitor"
        )

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        from ..tracking.models import TopicViews as Counter  # here: this module loads before Django's apps

        return _fallen_out(Counter.objects.filter(topic=params["topic"]), params, scope, since)


@register
class EventCount(BehaviouralRule):
    """Counts events by name from the daily counters: the page's own (``page_view``, ``click``, ``impression``) or a
    site's custom events (``window.tailored.track("signup")``, ``data-tailored-track``)."""

    name = "event_count"
    changes_tracked = True
    label = _("Sent an event")
    description = _(
        "Has done something the site records (a click, a sign-up…) at least so many times, in the last so many days "
        "(left empty: ever)."
    )
    params = {
        "name": Param(
            str, max_length=100, help=_("what the visitor did, as the site names it: click, signup…"), label=_("Event")
        ),
        "min": Param(int, min_value=1, max_value=1_000_000, label=_("At least (events)")),
        "days": DAYS,
    }

    def describe(self, params: dict[str, Any]) -> str:
        words = gettext("sent the event %(name)r at least %(times)s")
        return words % {"name": params["name"], "times": _times(params["min"])} + _window(params)

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        from ..tracking.models import EventCounts  # here: this module loads before Django's apps

        rows = EventCounts.objects.filter(name=params["name"])
        if "days" in params:
            rows = rows.filter(day__gte=scope.first_day(params["days"]))
        return scope.visitors_in(
            rows.values("visitor").annotate(total=Sum("count")).filter(total__gte=params["min"]), "visitor"
        )

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        from ..tracking.models import EventCounts  # here: this module loads before Django's apps

        return _fallen_out(EventCounts.objects.filter(name=params["name"]), params, scope, since)


@register
class VisitCount(BehaviouralRule):
    name = "visit_count"
    changes_tracked = True
    label = _("Number of visits")
    description = _("Has visited the site between so many and so many times (both included; either may be left empty).")
    params = {
        "min": Param(int, required=False, min_value=0, max_value=10_000_000, label=_("At least (visits)")),
        "max": Param(int, required=False, min_value=0, max_value=10_000_000, label=_("At most (visits)")),
    }

    def check(self, params: dict[str, Any]) -> None:
        _check_range(params)

    def describe(self, params: dict[str, Any]) -> str:
        return _between(
            params,
            gettext("made between %(low)s and %(high)s visits"),
            lambda count: ngettext("made at least %(count)s visit", "made at least %(count)s visits", count),
            lambda count: ngettext("made at most %(count)s visit", "made at most %(count)s visits", count),
        )

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        q = Q(visits__gte=params.get("min", 0))
        if "max" in params:
            q &= Q(visits__lte=params["max"])
        return q

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        return NOBODY


@register
class DaysSinceLastVisit(BehaviouralRule):
    name = "days_since_last_visit"
    changes_tracked = True
    label = _("Days since the last visit")
    description = _(
        "Was last seen between so many and so many days ago (both included; 0 is today, 1 yesterday). Visitors "
        "never seen don't match."
    )
    params = {
        "min": Param(int, required=False, min_value=0, max_value=3650, label=_("At least (days ago)")),
        "max": Param(int, required=False, min_value=0, max_value=3650, label=_("At most (days ago)")),
    }

    def check(self, params: dict[str, Any]) -> None:
        _check_range(params)

    def describe(self, params: dict[str, Any]) -> str:
        return _between(
            params,
            gettext("was last seen between %(low)s and %(high)s days ago"),
            lambda count: ngettext(
                "was last seen at least %(count)s day ago", "was last seen at least %(count)s days ago", count
            ),
            lambda count: ngettext(
                "was last seen at most %(count)s day ago", "was last seen at most %(count)s days ago", count
            ),
        )

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        # Calendar days in the site's time zone, as plain comparisons of last_seen (no date function per row).
        q = Q(last_seen__isnull=False)
        if "min" in params:  # last seen on or before the day `min` days ago: before the next day started
            q &= Q(last_seen__lt=scope.start_of(scope.today - timedelta(days=params["min"] - 1)))
        if "max" in params:  # last seen on or after the day `max` days ago
            q &= Q(last_seen__gte=scope.start_of(scope.today - timedelta(days=params["max"])))
        return q

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        # Last seen on a day that was `max` days ago or less on `since` and is more now, or more than `min` days
        # ago on `since` and is `min` or more now: one day each when a day passed (an indexed range of last_seen).
        q = NOBODY
        if "max" in params:
            q |= self._seen_between(
                scope, since - timedelta(days=params["max"]), scope.today - timedelta(days=params["max"])
            )
        if "min" in params:
            first = since - timedelta(days=params["min"] - 1)
            q |= self._seen_between(scope, first, scope.today - timedelta(days=params["min"] - 1))
        return q

    @staticmethod
    def _seen_between(scope: Scope, first: date, end: date) -> Q:
        """Last seen on ``first`` or a later day before ``end``."""
        return Q(last_seen__gte=scope.start_of(first), last_seen__lt=scope.start_of(end))


@register
class FollowsTopic(BehaviouralRule):
    name = "follows_topic"
    changes_tracked = True
    label = _("Follows a topic")
    description = _("Chose to follow the topic in the preferences panel.")
    params = {
        "topic": Param(
            str, max_length=50, help=_("chosen in the preferences panel"), label=_("Topic"), refers_to="topic"
        )
    }

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("follows %(topic)s") % {"topic": named("topic", params["topic"])}

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        if scope.vendor == "postgresql":
            return Q(topics__contains=[params["topic"]])  # jsonb @>
        # Elsewhere JSON containment isn't available: match the slug, quoted, in the JSON text. Slugs need no
        # escaping in JSON, and the quotes keep "sport" from matching "sports".
        quoted = f'"{params["topic"]}"'
        rows = scope.visitor_model.objects.alias(text=Cast("topics", TextField())).filter(text__contains=quoted)
        return scope.visitors_in(rows, "pk")

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        return NOBODY


@register
class LoggedIn(BehaviouralRule):
    name = "logged_in"
    changes_tracked = True
    label = _("Logged in")
    description = _("Is signed in with a user account on the site, or is not.")
    params = {"is": Param(bool, label=_("Logged in"))}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is logged in") if params["is"] else gettext("is not logged in")

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        return Q(user__isnull=not params["is"])

    def day_moved(self, params: dict[str, Any], scope: Scope, since: date) -> Q:
        return NOBODY


@register
class InGroup(BehaviouralRule):
    name = "in_group"
    label = _("In a user group")
    description = _("Has a user account in the user group.")
    params = {"group": Param(str, max_length=150, help=_("group name"), label=_("Group"), refers_to="group")}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is in the user group %(group)r") % {"group": params["group"]}

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        through = get_user_model().groups.through
        # A subquery, not user__groups__name: a join would repeat the visitor's row once per group.
        return Q(user__in=through.objects.filter(group__name=params["group"]).values("user"))


@register
class SegmentReference(BehaviouralRule):
    """Before evaluation the reference is replaced by the other segment's rules, so it is computed in the background
    or checked on each page view as those rules are. A chain of references that comes back to the segment (a
    cycle) is refused when the segment is saved."""

    name = "segment"
    label = _("In another segment")
    description = _("Is in the other segment, by its rules (even while it is switched off).")
    params = {
        "slug": Param(
            str,
            max_length=50,
            help=_("by its rules, even while it is switched off"),
            label=_("Segment"),
            refers_to="segment",
        )
    }

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is in the segment “%(name)s”") % {"name": named("segment", params["slug"])}

    def visitors(self, params: dict[str, Any], scope: Scope) -> Q:
        # Never called: references are replaced by the referenced segment's rules before evaluation
        # (evaluation.expand), so a mix of behavioural and request-time rules behind one stays exact.
        raise AssertionError("segment references are expanded before evaluation")


def start_of_day(day: Any, zone: Any) -> datetime:
    """The aware datetime at which ``day`` begins in ``zone``."""
    return timezone.make_aware(datetime.combine(day, time.min), zone)
