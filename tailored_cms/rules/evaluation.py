"""Evaluating rule trees: in SQL for behavioural rules, partially, leaving request-time rules for the request.

A visitor's result for a segment is ``True``, ``False`` or a **residual**: the part of the tree made of
request-time rules that still decides it (``all[topic_views ≥ 3, device = mobile]`` is ``{"rule": "device",
"is": ["mobile"]}`` for a sports fan and ``False`` for everyone else). Celery stores ``True`` and residuals as
memberships; the request path checks residuals (``request_time.segments_for``).

Every behavioural leaf is one SQL expression. A set of visitors is evaluated with ONE query that selects, for
each visitor, one boolean per distinct behavioural leaf of all the segments being computed; the trees are then
folded in Python once per distinct combination of leaf values (memoized), not once per visitor. So queries don't
grow with the number of visitors, nor Python work with the number of events.

- ``members(segment or tree)``: the same logic as one SQL filter (Kleene's three-valued logic over the tree,
  request-time leaves unknown), for counts and previews;
- ``evaluate_visitors(ids)``: the incremental path (leaves as correlated ``EXISTS``, one visitor at a time
  in the database's index);
- ``evaluate_range(after, upto)``: the full recompute's chunks (leaves as ``IN (subquery)`` restricted to the
  chunk's id range, which databases compute once per query).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections, router
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from ..visitors.models import Visitor
from .models import Segment
from .registry import BRANCHES, BehaviouralRule, _registry
from .trees import iter_leaves as iter_leaves

__all__ = [
    "FALSE",
    "TRUE",
    "Plan",
    "Result",
    "Scope",
    "evaluate_range",
    "evaluate_visitors",
    "expand",
    "load_plans",
    "members",
    "partial",
]

logger = logging.getLogger(__name__)

# Constant trees (never written by editors: validation refuses empty lists).
TRUE: dict[str, Any] = {"all": []}
FALSE: dict[str, Any] = {"any": []}

Result = bool | dict[str, Any]  # True, False, or a residual tree of request-time rules

# Visitor columns the request path's referrer and UTM rules fall back to (the latest tracking saw).
ATTRIBUTION_FIELDS = ("referrer_domain", "utm_source", "utm_medium", "utm_campaign")


# --- trees ---------------------------------------------------------------------------------------------------


def leaf_key(leaf: Mapping[str, Any]) -> str:
    """A leaf's identity: the same rule with the same parameters is evaluated once, however many trees use it."""
    return json.dumps(leaf, sort_keys=True, separators=(",", ":"))


def _rule_kind(leaf: Mapping[str, Any]) -> bool | None:
    """True: behavioural; False: request-time; None: no such rule registered (any more)."""
    rule = _registry.get(leaf.get("rule", ""))
    return None if rule is None else rule.behavioural


def expand(tree: Mapping[str, Any], definitions: Mapping[str, Any], _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """``tree`` with every ``segment`` reference replaced by that segment's (expanded) rules.

    A reference to a missing segment, or one that would loop (validation refuses those, but a segment may be
    deleted later), becomes ``FALSE``; so does a leaf naming a rule no longer registered.
    """
    if "rule" in tree:
        if tree["rule"] == "segment":
            slug = tree.get("slug")
            target = definitions.get(slug) if isinstance(slug, str) else None
            if not isinstance(slug, str) or target is None or slug in _seen:
                logger.warning("Segment reference %r can't be resolved; it matches nobody.", slug)
                return FALSE
            return expand(target, definitions, (*_seen, slug))
        if _rule_kind(tree) is None:
            logger.warning("Rule %r is not registered; it matches nobody.", tree.get("rule"))
            return FALSE
        return dict(tree)
    if "not" in tree:
        return {"not": expand(tree["not"], definitions, _seen)}
    for kind in BRANCHES:
        if kind in tree:
            return {kind: [expand(child, definitions, _seen) for child in tree[kind]]}
    return FALSE


def behavioural_leaves(tree: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The distinct behavioural leaves of an expanded tree, by ``leaf_key``."""
    return {leaf_key(leaf): leaf for leaf in iter_leaves(tree) if _rule_kind(leaf)}


def is_request_time(tree: Mapping[str, Any]) -> bool:
    """An expanded tree whose every leaf is a request-time rule (and has at least one): decided per request."""
    leaves = list(iter_leaves(tree))
    return bool(leaves) and all(_rule_kind(leaf) is False for leaf in leaves)


def partial(tree: Mapping[str, Any], values: Mapping[str, bool]) -> Result:
    """Evaluate the behavioural leaves of an expanded tree from ``values`` (by ``leaf_key``); simplify the rest."""
    if "rule" in tree:
        kind = _rule_kind(tree)
        if kind is None:
            return False
        return bool(values.get(leaf_key(tree))) if kind else dict(tree)
    if "not" in tree:
        inner = partial(tree["not"], values)
        return (not inner) if isinstance(inner, bool) else {"not": inner}
    if "all" in tree:
        kept: list[dict[str, Any]] = []
        for child in tree["all"]:
            result = partial(child, values)
            if result is False:
                return False
            if result is not True:
                kept.append(result)
        return True if not kept else kept[0] if len(kept) == 1 else {"all": kept}
    kept = []
    for child in tree.get("any", ()):
        result = partial(child, values)
        if result is True:
            return True
        if result is not False:
            kept.append(result)
    return False if not kept else kept[0] if len(kept) == 1 else {"any": kept}


# --- SQL -----------------------------------------------------------------------------------------------------


class Scope:
    """What a behavioural rule's ``visitors()`` may use: the time, and the set of visitors being evaluated.

    ``visitors_in(queryset, field)`` turns rows of another table (counters…) into a filter over ``Visitor``,
    restricted to the visitors at hand: a chunk's id range (``IN (subquery)``, computed once per query), the
    visitors of an incremental update (correlated ``EXISTS``, an index probe each), or everyone.
    """

    def __init__(
        self,
        *,
        now: datetime | None = None,
        after: Any = None,
        upto: Any = None,
        correlated: bool = False,
    ) -> None:
        self.now = now or timezone.now()
        self.zone = timezone.get_default_timezone()
        # Counters are per day in the site's time zone (the ingest's), so windows are too.
        self.today: date = timezone.localdate(self.now, self.zone)
        self.after, self.upto, self.correlated = after, upto, correlated
        self.visitor_model = Visitor
        self.vendor = connections[router.db_for_read(Visitor)].vendor

    def first_day(self, days: int) -> date:
        """The first day of a window of ``days`` days ending today (today counts as one)."""
        return self.today - timedelta(days=days - 1)

    def start_of(self, day: date) -> datetime:
        """When ``day`` begins in the site's time zone."""
        return timezone.make_aware(datetime.combine(day, datetime.min.time()), self.zone)

    def visitors_in(self, queryset: QuerySet, field: str = "visitor") -> Q:
        """Visitors whose id is in ``field`` of ``queryset``'s rows, as a filter over ``Visitor``."""
        if self.correlated:
            return Q(Exists(queryset.filter(**{field: OuterRef("pk")})))
        if self.after is not None:
            queryset = queryset.filter(**{f"{field}__gt": self.after})
        if self.upto is not None:
            queryset = queryset.filter(**{f"{field}__lte": self.upto})
        return Q(pk__in=queryset.values(field))


def leaf_filter(leaf: Mapping[str, Any], scope: Scope) -> Q:
    rule = _registry[leaf["rule"]]
    assert isinstance(rule, BehaviouralRule)
    params = {key: value for key, value in leaf.items() if key != "rule"}
    return rule.visitors(params, scope)


def _never() -> Q:
    return Q(pk__isnull=True)


def _always() -> Q:
    return Q(pk__isnull=False)


def kleene(tree: Mapping[str, Any], scope: Scope) -> tuple[Q, Q]:
    """(certainly, possibly): filters for visitors the tree is True for whatever the request, and for whom it
    may be True on some request. Request-time leaves are unknown: never certain, always possible."""
    if "rule" in tree:
        kind = _rule_kind(tree)
        if kind is None:
            return _never(), _never()
        if not kind:
            return _never(), _always()
        q = leaf_filter(tree, scope)
        return q, q
    if "not" in tree:
        certain, possible = kleene(tree["not"], scope)
        return ~possible, ~certain
    branch = "all" if "all" in tree else "any"
    children = [kleene(child, scope) for child in tree.get(branch, ())]
    if not children:
        return (_always(), _always()) if branch == "all" else (_never(), _never())
    certain, possible = children[0]
    for child_certain, child_possible in children[1:]:
        if branch == "all":
            certain, possible = certain & child_certain, possible & child_possible
        else:
            certain, possible = certain | child_certain, possible | child_possible
    return certain, possible


# --- segments ready to evaluate --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One segment, its tree expanded, ready to evaluate."""

    id: int
    slug: str
    enabled: bool
    tree: dict[str, Any]
    leaf_keys: tuple[str, ...]  # its distinct behavioural leaves
    request_time: bool  # decided per request for everyone: no memberships stored

    @property
    def computed(self) -> bool:
        """Celery computes who is in it (enabled, and not purely request-time)."""
        return self.enabled and not self.request_time


@dataclass
class Plans:
    """The segments to evaluate and the distinct behavioural leaves of them all."""

    plans: list[Plan]
    leaves: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def computed(self) -> list[Plan]:
        return [plan for plan in self.plans if plan.computed]


def plan_segments(rows: Iterable[tuple[int, str, bool, Any]], only: Iterable[str] | None = None) -> Plans:
    """Plans from ``(id, slug, enabled, rules)`` rows of every segment (references need them all)."""
    rows = list(rows)
    definitions = {slug: rules for _id, slug, _enabled, rules in rows if isinstance(rules, Mapping)}
    wanted = None if only is None else set(only)
    plans: list[Plan] = []
    leaves: dict[str, Mapping[str, Any]] = {}
    for pk, slug, enabled, rules in rows:
        if wanted is not None and slug not in wanted:
            continue
        tree = expand(rules, definitions, (slug,)) if isinstance(rules, Mapping) else FALSE
        own = behavioural_leaves(tree)
        request_time = is_request_time(tree)
        plans.append(Plan(pk, slug, bool(enabled), tree, tuple(own), request_time))
        if enabled and not request_time:
            leaves.update(own)
    return Plans(plans, leaves)


def load_plans(segments: Iterable[str | Segment] | None = None) -> Plans:
    """Plans of ``segments`` (slugs or ``Segment``s; all segments if None). Cost: one query."""
    only = None if segments is None else [s if isinstance(s, str) else s.slug for s in segments]
    return plan_segments(Segment.objects.order_by("pk").values_list("pk", "slug", "enabled", "rules"), only)


def members(
    segment: Segment | str | Mapping[str, Any], *, certain: bool = False, now: datetime | None = None
) -> QuerySet:
    """Ids of the visitors in a segment (a ``Segment``, its slug, or a rule tree), as one SQL query.

    By default everyone who is in the segment on some request (its size, as memberships count it);
    ``certain=True``: only those in it on every request (no request-time condition left).
    """
    if isinstance(segment, Segment | str):
        slug = segment.slug if isinstance(segment, Segment) else segment
        rows = list(Segment.objects.values_list("pk", "slug", "enabled", "rules"))
        plans = plan_segments(rows, [slug]).plans
        if not plans:
            raise Segment.DoesNotExist(f"No segment {slug!r}.")
        tree = plans[0].tree
    else:
        definitions = dict(Segment.objects.values_list("slug", "rules"))
        tree = expand(segment, definitions)
    sure, possible = kleene(tree, Scope(now=now))
    return Visitor.objects.filter(sure if certain else possible).values("pk")


# --- evaluating visitors -----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One visitor's evaluation: the results (True or a residual) of the segments they are in, and attribution."""

    visitor_id: str
    results: dict[str, Result]
    attribution: dict[str, str]


def _rows(visitors: QuerySet, plans: Plans, scope: Scope) -> Iterator[Row]:
    """Evaluate every computed plan for ``visitors`` with one query; fold trees once per leaf combination.

    Rows with the same leaf values share one ``results`` dict, and rows with the same attribution one
    ``attribution`` dict: read them, never change them.
    """
    keys = list(plans.leaves)
    names = [f"l{index}" for index in range(len(keys))]
    annotations = {
        name: ExpressionWrapper(leaf_filter(plans.leaves[key], scope), output_field=BooleanField())
        for name, key in zip(names, keys, strict=True)
    }
    computed = plans.computed
    # Per plan: the positions of its leaves in a row, and a memo from their values to the result.
    positions = [[keys.index(key) for key in plan.leaf_keys] for plan in computed]
    memos: list[dict[tuple[bool, ...], Result]] = [{} for _ in computed]

    def fold(values: tuple[Any, ...]) -> dict[str, Result]:
        truth = tuple(bool(value) for value in values)  # NULL (a comparison with NULL) is False
        results: dict[str, Result] = {}
        for plan, where, memo in zip(computed, positions, memos, strict=True):
            combination = tuple(truth[index] for index in where)
            result = memo.get(combination)
            if result is None:
                result = memo[combination] = partial(plan.tree, dict(zip(plan.leaf_keys, combination, strict=True)))
            if result is not False:
                results[plan.slug] = result
        return results

    # Most rows repeat a combination of all the leaves (and of the attribution) seen before: one look-up each.
    folded: dict[tuple[Any, ...], dict[str, Result]] = {}
    attributions: dict[tuple[Any, ...], dict[str, str]] = {}
    width = len(ATTRIBUTION_FIELDS)
    query = visitors.annotate(**annotations).values_list("pk", *ATTRIBUTION_FIELDS, *names)
    for row in query.iterator(chunk_size=2000):
        values = row[1 + width :]
        results = folded.get(values)
        if results is None:
            results = folded[values] = fold(values)
        attribution = row[1 : 1 + width]
        fields = attributions.get(attribution)
        if fields is None:
            fields = attributions[attribution] = dict(zip(ATTRIBUTION_FIELDS, attribution, strict=True))
        yield Row(str(row[0]), results, fields)


def evaluate_range(after: Any, upto: Any, plans: Plans, *, now: datetime | None = None) -> Iterator[Row]:
    """Rows for the visitors with ``after < id <= upto`` (either bound may be None), in id order: the memberships
    a chunk writes then go into their indexes in order, which costs the database less. Cost: one query."""
    visitors = Visitor.objects.all()
    if after is not None:
        visitors = visitors.filter(pk__gt=after)
    if upto is not None:
        visitors = visitors.filter(pk__lte=upto)
    return _rows(visitors.order_by("pk"), plans, Scope(now=now, after=after, upto=upto))


def evaluate_rows(visitor_ids: Sequence[Any], plans: Plans, *, now: datetime | None = None) -> Iterator[Row]:
    """Rows for the given visitors (unknown ids are skipped). Cost: one query."""
    if not visitor_ids:
        return iter(())
    return _rows(Visitor.objects.filter(pk__in=list(visitor_ids)).order_by(), plans, Scope(now=now, correlated=True))


def evaluate_visitors(
    visitor_ids: Iterable[Any], *, plans: Plans | None = None, now: datetime | None = None
) -> dict[str, dict[str, Result]]:
    """``{visitor_id: {slug: True or residual}}`` for the enabled segments Celery computes (segments made only of
    request-time rules are decided per request for everyone and are not listed). Cost: two queries."""
    plans = plans if plans is not None else load_plans()
    return {row.visitor_id: dict(row.results) for row in evaluate_rows(list(visitor_ids), plans, now=now)}
