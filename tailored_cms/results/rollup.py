"""The roll-up: impressions, clicks and conversions of an ingest batch, added to the daily ``VariantStats``.

``roll_up()`` runs inside the ingest's transaction (a receiver of ``events_stored``), on the batch's new events
only, after their ``Event`` rows are inserted: so each event is counted exactly once, like everything the ingest
writes (a redelivered batch finds its events stored, and counts nothing again).

- An ``impression`` (the beacon's, one per tailored area shown) adds one to each (area, variant, path) it names.
- A ``click`` inside a variant (the beacon names its area, variant and path) adds one click there.
- A **conversion** is a goal event (its name is an area's ``goal``) from a visitor whose latest impression of that
  area, at most ``CONVERSION_WINDOW_DAYS`` before it, showed variant V by path P: it counts for (area, V, P) in the
  impression's language, on the goal event's day. Each impression converts at most once (the first goal event
  after it), so a conversion rate is a share of impressions; goal events are matched to impressions already
  ingested (the beacon sends impressions as the page shows, goal events come later).
- **Language**: the beacon says which language the page was served in (``language`` in the props of impressions and
  clicks: the area's ``data-tailored-language``, which the server wrote). It counts only if it is one of the site's
  ``LANGUAGES`` (a variant such as ``es-ar`` as its language); anything else is counted under no language (``""``),
  so a page cached before the site dropped a language still counts.

Cost per batch, whatever its size: no query when the batch has only page views, impressions, clicks and time on
page and counts nothing; otherwise at most three statements — the areas' goals (when the batch holds other
events), the goal visitors' impressions and goal events within the window (when it holds goal events), and one
upsert of the counters (per parameter-limit chunk on SQLite).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections, router
from django.utils import timezone

from .. import bulk_sql as sql
from ..areas.explanation import live_areas
from ..areas.selection import PATHS
from ..conf import tailored_settings
from ..languages import site_language
from ..tracking.goals import NOT_GOALS
from ..tracking.models import Event
from ..tracking.stream import CLICK, IMPRESSION, TrackedEvent
from .models import VariantStats

__all__ = ["area_goals", "clicked", "roll_up", "shown_in"]

KEY = re.compile(r"[-A-Za-z0-9_]{1,40}")  # PluginSettings.key
MAX_SHOWN = 20  # an area shows at most 20 variants (MAX_ITEMS_RANGE)
COUNTERS = ("impressions", "clicks", "conversions")

Key = tuple[str, str, str, date, str]  # (area, variant, path, day, language)


@dataclass(frozen=True)
class Shown:
    """What one impression says: the area, the (variant, path) pairs it showed, and the page's language."""

    area: str
    pairs: tuple[tuple[str, str], ...]
    language: str = ""


def shown_in(props: Any) -> Shown | None:
    """An impression's props (``{"area": key, "variants": [...], "paths": [...], "language": code}``), checked;
    ``None`` if malformed.

    ``variants`` is ``[""]`` for an area that showed nothing (its ``paths`` says why). ``language`` is optional: one
    that is none of the site's counts as ``""``.
    """
    if not isinstance(props, Mapping):
        return None
    area, variants, paths = props.get("area"), props.get("variants"), props.get("paths")
    if not isinstance(area, str) or not KEY.fullmatch(area):
        return None
    if not isinstance(variants, list) or not isinstance(paths, list) or not 0 < len(variants) == len(paths):
        return None
    if len(variants) > MAX_SHOWN:
        return None
    pairs: dict[tuple[str, str], None] = {}
    for variant, path in zip(variants, paths, strict=True):
        if not isinstance(variant, str) or not (variant == "" or KEY.fullmatch(variant)) or path not in PATHS:
            return None
        pairs[(variant, path)] = None
    return Shown(area, tuple(pairs), site_language(props.get("language")))


def clicked(props: Any) -> tuple[str, str, str, str] | None:
    """(area, variant, path, language) of a click inside a variant; ``None`` for other clicks (a widget's) or
    malformed ones. A language that is none of the site's is ``""``."""
    if not isinstance(props, Mapping):
        return None
    area, variant, path = props.get("area"), props.get("variant"), props.get("path")
    if isinstance(area, str) and isinstance(variant, str) and KEY.fullmatch(area) and KEY.fullmatch(variant):
        return (area, variant, path, site_language(props.get("language"))) if path in PATHS else None
    return None


def area_goals() -> dict[str, str]:
    """Goal event name by area key, of the areas visitors can meet (the oldest of a key wins). Cost: one query."""
    goals: dict[str, str] = {}
    for key, goal in (
        live_areas()
        .exclude(tailored_settings__goal="")
        .values_list("tailored_settings__key", "tailored_settings__goal")
    ):
        goals.setdefault(key, goal)
    return goals


def roll_up(events: Sequence[tuple[TrackedEvent, datetime]]) -> dict[Key, list[int]]:
    """Count the impressions, clicks and conversions of a batch's new ``(event, time)`` pairs; return the counts.

    Must run inside the ingest's transaction, after the batch's ``Event`` rows are inserted (see the module).
    """
    zone = timezone.get_current_timezone()
    counts: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for event, ts in events:
        if event.name == IMPRESSION:
            shown = shown_in(event.props)
            if shown is not None:
                day = ts.astimezone(zone).date()
                for variant, path in shown.pairs:
                    counts[(shown.area, variant, path, day, shown.language)][0] += 1
        elif event.name == CLICK:
            where = clicked(event.props)
            if where is not None:
                area, variant, path, language = where
                counts[(area, variant, path, ts.astimezone(zone).date(), language)][1] += 1
    if any(event.name not in NOT_GOALS for event, _ts in events):
        goals = area_goals()
        names = set(goals.values())
        candidates = [(event, ts) for event, ts in events if event.name in names]
        if candidates:
            _count_conversions(candidates, goals, counts)
    _write(counts)
    return dict(counts)


@dataclass
class _Impression:
    shown: Shown
    ts: datetime
    converted_on: date | None = None  # the day of its first goal event in this batch
    converted_before: bool = False  # a goal event of an earlier batch converted it already


def _count_conversions(
    goal_events: Sequence[tuple[TrackedEvent, datetime]], goals: Mapping[str, str], counts: dict[Key, list[int]]
) -> None:
    """Attribute the batch's goal events to the latest impression of each area whose goal they are. One query."""
    window = timedelta(days=tailored_settings.CONVERSION_WINDOW_DAYS)
    new_ids = {event.id for event, _ts in goal_events}
    names = {event.name for event, _ts in goal_events}
    areas_of: dict[str, list[str]] = defaultdict(list)
    for area, goal in goals.items():
        if goal in names:
            areas_of[goal].append(area)
    # The timeline of every visitor with a goal event: their impressions and goal events since the window before
    # the earliest of them (this batch's included: they were inserted before the roll-up).
    since = min(ts for _event, ts in goal_events) - window
    timelines: dict[str, list[tuple[datetime, int, str, str, Any]]] = defaultdict(list)
    rows = Event.objects.filter(
        visitor_id__in=sorted({event.visitor_id for event, _ts in goal_events}),
        ts__gte=since,
        name__in=[IMPRESSION, *sorted(names)],
    ).values_list("visitor_id", "ts", "name", "id", "props")
    for visitor_id, ts, name, event_id, props in rows:
        # At one instant the impression comes first: a goal event sent with the page converts it.
        timelines[str(visitor_id)].append((ts, 0 if name == IMPRESSION else 1, str(event_id), name, props))
    for timeline in timelines.values():
        timeline.sort(key=lambda entry: entry[:3])
        goal_names = {entry[3] for entry in timeline if entry[2] in new_ids}
        for goal in goal_names:
            for area in areas_of[goal]:
                for impression in _attribute(timeline, area, goal, new_ids, window):
                    if impression.converted_on is not None and not impression.converted_before:
                        day = impression.converted_on
                        for variant, path in impression.shown.pairs:
                            counts[(area, variant, path, day, impression.shown.language)][2] += 1


def _attribute(
    timeline: Iterable[tuple[datetime, int, str, str, Any]],
    area: str,
    goal: str,
    new_ids: set[str],
    window: timedelta,
) -> list[_Impression]:
    """The visitor's impressions of ``area``, each marked with the goal events that followed it (before the next)."""
    zone = timezone.get_current_timezone()
    impressions: list[_Impression] = []
    latest: _Impression | None = None
    for ts, _order, event_id, name, props in timeline:
        if name == IMPRESSION:
            shown = shown_in(props)
            if shown is not None and shown.area == area:
                latest = _Impression(shown, ts)
                impressions.append(latest)
        elif name == goal and latest is not None and ts - latest.ts <= window:
            if event_id not in new_ids:
                latest.converted_before = True
            elif latest.converted_on is None:
                latest.converted_on = ts.astimezone(zone).date()
    return impressions


def _write(counts: Mapping[Key, Sequence[int]]) -> None:
    """Add ``counts`` to the stored counters: one upsert (rows in key order, so concurrent batches lock alike)."""
    rows = [(*key, *values) for key, values in sorted(counts.items()) if any(values)]
    if not rows:
        return
    connection = connections[router.db_for_write(VariantStats)]
    quote = connection.ops.quote_name
    table = quote(VariantStats._meta.db_table)
    columns = [quote(sql.column_of(VariantStats, name)) for name in COUNTERS]
    action = "UPDATE SET " + ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in columns)
    sql.insert(
        VariantStats,
        ("area", "variant", "path", "day", "language", *COUNTERS),
        rows,
        conflict=("area", "day", "variant", "path", "language"),
        action=action,
    )
