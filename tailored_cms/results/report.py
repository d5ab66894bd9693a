"""Results as editors read them: the daily counters of a range of days, summed per variant, path, language and day,
with their rates, intervals and the lift over the holdout (``stats``). What the results pages, the CSV export and
the ``stats/`` endpoint show; all of it for every language, or for one (``language``), and split by language.

**Lift.** The holdout is a random share of all visitors (a hash of their id), so the fair comparison is with
everyone else: every visitor outside the holdout, whichever path showed them what they saw (tailored, or the
fallback because nothing matched them). Comparing the tailored path alone with the holdout would credit
tailoring with the difference between visitors who made choices (or joined segments) and those who didn't.

Rates are per impression: the click-through rate is clicks per impression (a page view with two clicks counts
two; past one per impression the rate stops at 100%), the conversion rate converted impressions per impression.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from ..areas.explanation import live_areas
from ..areas.models import Variant
from ..areas.selection import HOLDOUT, PATHS
from ..areas.strategies import get_strategy
from ..languages import language_name, site_languages
from ..recommendations.naming import list_names
from ..rules.models import Segment
from ..translations import by_name
from .chart import Window
from .models import SegmentSize, VariantStats
from .stats import Lift, Rate, lift

__all__ = [
    "DEFAULT_DAYS",
    "RANGES",
    "AreaResults",
    "Counts",
    "Line",
    "SegmentHistory",
    "area_results",
    "by_language",
    "language_label",
    "period",
    "segment_sizes",
]

RANGES = (7, 30, 90)  # the ranges editors pick from (days, today included)
DEFAULT_DAYS = 30


@dataclass
class Counts:
    """Impressions, clicks and conversions, and their rates."""

    impressions: int = 0
    clicks: int = 0
    conversions: int = 0

    def add(self, impressions: int, clicks: int, conversions: int) -> None:
        self.impressions += impressions
        self.clicks += clicks
        self.conversions += conversions

    def __iadd__(self, other: Counts) -> Counts:
        self.add(other.impressions, other.clicks, other.conversions)
        return self

    @property
    def ctr(self) -> Rate:
        """Clicks per impression (at most one per impression counts towards the rate)."""
        return Rate(min(self.clicks, self.impressions), self.impressions)

    @property
    def conversion_rate(self) -> Rate:
        return Rate(min(self.conversions, self.impressions), self.impressions)


@dataclass
class Line:
    """One variant shown by one path, over the range (on pages in ``language``, where the line is of one)."""

    variant: str  # its key; "" for "nothing shown"
    label: str
    path: str
    counts: Counts
    language: str = ""


def language_label(code: str) -> str:
    """A language of results by its name in the reader's language; ``""``: figures the beacon gave no language of
    the site for (and those counted before results were split by language)."""
    return language_name(code) if code else gettext("(no language)")


def _language_order(code: str) -> tuple[int, str]:
    """The site's languages in ``LANGUAGES`` order, then anything else, then no language."""
    languages = site_languages()
    if code in languages:
        return languages.index(code), code
    return len(languages) + (1 if not code else 0), code


@dataclass
class AreaResults:
    """An area's results over ``days``."""

    key: str
    label: str
    page: str = ""
    strategy: str = ""
    goal: str = ""
    holdout_percent: int = 0
    on_site: bool = True  # False: no area visitors can meet has this key now (deleted, or only in a draft)
    changed_at: datetime | None = None  # when the area visitors meet was last changed
    days: list[date] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)  # by variant and path
    by_path: dict[str, Counts] = field(default_factory=dict)  # in PATHS order, only paths with figures
    by_language: dict[str, Counts] = field(default_factory=dict)  # in LANGUAGES order, only languages with figures
    language_lines: list[Line] = field(default_factory=list)  # by language, variant and path
    daily: dict[tuple[date, str, str, str], Counts] = field(default_factory=dict)  # (day, variant, path, language)
    labels: dict[str, str] = field(default_factory=dict)  # variant key -> label
    windows: list[Window] = field(default_factory=list)  # the area's campaign window, then its variants'

    @property
    def strategy_name(self) -> str:
        """The strategy's name as editors read it in the area's menu ("Experiment"); "" without a strategy."""
        return get_strategy(self.strategy).short_label() if self.strategy else ""

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.by_path.values():
            total += counts
        return total

    @property
    def outside_holdout(self) -> Counts:
        """Everyone not held out, whatever path showed them what they saw: what the holdout is compared with."""
        total = Counts()
        for path, counts in self.by_path.items():
            if path != HOLDOUT:
                total += counts
        return total

    @property
    def holdout(self) -> Counts:
        return self.by_path.get(HOLDOUT, Counts())

    @property
    def ctr_lift(self) -> Lift | None:
        """The click-through rate outside the holdout over the holdout's; ``None`` without both."""
        return lift(self.outside_holdout.ctr, self.holdout.ctr)

    @property
    def conversion_lift(self) -> Lift | None:
        """The same for the conversion rate; ``None`` also without a goal."""
        return lift(self.outside_holdout.conversion_rate, self.holdout.conversion_rate) if self.goal else None

    def per_day(self, path: str) -> list[Counts]:
        """A path's counts on each day of the range (all variants together)."""
        by_day: dict[date, Counts] = defaultdict(Counts)
        for (day, _variant, line_path, _language), counts in self.daily.items():
            if line_path == path:
                by_day[day] += counts
        return [by_day.get(day, Counts()) for day in self.days]

    def daily_rows(self) -> list[tuple[date, Line]]:
        """Each day's figures per variant, path and language, oldest day first (what the CSV export holds)."""
        return [
            (day, Line(variant, self.variant_label(variant), path, counts, language))
            for (day, variant, path, language), counts in sorted(self.daily.items(), key=_daily_order)
        ]

    def variant_label(self, variant: str) -> str:
        if not variant:
            return gettext("(nothing shown)")
        return self.labels.get(variant) or variant


def _daily_order(item: tuple[tuple[date, str, str, str], Counts]) -> tuple[date, str, int, tuple[int, str]]:
    (day, variant, path, language), _counts = item
    return day, variant, _path_order(path), _language_order(language)


def period(days: int, today: date | None = None) -> list[date]:
    """The ``days`` days ending today (the site's time zone), oldest first."""
    today = today or timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def window_days(label: str, starts_at: datetime | None, ends_at: datetime | None) -> Window:
    """A campaign window as the days it was open, in the site's time zone (the end is excluded: a window ending at
    midnight was last open the day before)."""
    last = timezone.localtime(ends_at - timedelta(microseconds=1)).date() if ends_at is not None else None
    return Window(label, timezone.localtime(starts_at).date() if starts_at is not None else None, last)


def area_results(
    days: int = DEFAULT_DAYS, *, key: str | None = None, language: str | None = None, today: date | None = None
) -> list[AreaResults]:
    """The results of every area (or the one with ``key``) over the last ``days`` days, on pages in every language
    or in ``language`` only (a code of ``LANGUAGES``).

    Areas visitors can meet come first, in page and placeholder order; then keys with figures but no such area
    (``on_site`` False) or that a *Recommended pages* plugin counts under (named after its page). An unknown
    ``key`` gives ``[]``. Cost: 5 queries (areas, their pages, variants, counters; the pages by content type),
    2 more with figures of recommended pages, whatever the number of areas and days.
    """
    dates = period(days, today)
    areas = live_areas().select_related("placeholder").prefetch_related("placeholder__source")
    if key is not None:
        areas = areas.filter(tailored_settings__key=key)
    found: dict[str, AreaResults] = {}
    order: dict[str, tuple[str, str, int, int]] = {}
    area_pks: dict[int, str] = {}
    for area in areas:
        if area.key in found:
            continue
        source = area.placeholder.source if area.placeholder else None
        page = str(getattr(source, "title", "") or source or "") if source is not None else ""
        found[area.key] = AreaResults(
            key=area.key,
            label=area.label or str(area.get_strategy_display()),
            page=page,
            strategy=area.strategy,
            goal=area.goal,
            holdout_percent=area.holdout_percent if area.strategy_class.holdouts else 0,
            changed_at=area.changed_date,
            days=dates,
        )
        if area.starts_at or area.ends_at:
            found[area.key].windows.append(window_days(found[area.key].label, area.starts_at, area.ends_at))
        order[area.key] = (page.lower(), area.placeholder.slot if area.placeholder else "", area.position, area.pk)
        area_pks[area.pk] = area.key
    if area_pks:
        for parent_id, variant_key, label, starts_at, ends_at in Variant.objects.filter(
            parent_id__in=list(area_pks)
        ).values_list(
            "parent_id",
            "tailored_settings__key",
            "tailored_settings__label",
            "tailored_settings__starts_at",
            "tailored_settings__ends_at",
        ):
            of_area = found[area_pks[parent_id]]
            if variant_key not in of_area.labels and (starts_at or ends_at):
                of_area.windows.append(window_days(label, starts_at, ends_at))
            of_area.labels.setdefault(variant_key, label)
    rows = VariantStats.objects.filter(day__gte=dates[0], day__lte=dates[-1])
    if key is not None:
        rows = rows.filter(area=key)
    if language is not None:
        rows = rows.filter(language=language)
    gone: dict[str, AreaResults] = {}
    for area_key, variant, path, day, row_language, impressions, clicks, conversions in rows.values_list(
        "area", "variant", "path", "day", "language", *("impressions", "clicks", "conversions")
    ):
        results = found.get(area_key) or gone.get(area_key)
        if results is None:
            results = gone[area_key] = AreaResults(key=area_key, label=area_key, on_site=False, days=dates)
        results.daily.setdefault((day, variant, path, row_language), Counts()).add(impressions, clicks, conversions)
    for list_key, name in list_names(gone).items():  # a Recommended pages plugin's list: no area, but on the site
        gone[list_key].label, gone[list_key].page, gone[list_key].on_site = name.label, name.page, True
        gone[list_key].holdout_percent, gone[list_key].labels = name.holdout_percent, name.variants
    listed = [found[k] for k in sorted(found, key=order.__getitem__)] + [gone[k] for k in sorted(gone)]
    for results in listed:
        _summarize(results)
    return listed


def by_language(results: list[AreaResults]) -> dict[str, Counts]:
    """Every area's figures together, per language (in ``LANGUAGES`` order)."""
    languages: dict[str, Counts] = defaultdict(Counts)
    for area in results:
        for language, counts in area.by_language.items():
            languages[language] += counts
    return {language: languages[language] for language in sorted(languages, key=_language_order)}


def _summarize(results: AreaResults) -> None:
    """Fill ``lines``, ``by_path``, ``by_language`` and ``language_lines`` from ``daily``."""
    lines: dict[tuple[str, str], Counts] = defaultdict(Counts)
    paths: dict[str, Counts] = defaultdict(Counts)
    languages: dict[str, Counts] = defaultdict(Counts)
    language_lines: dict[tuple[str, str, str], Counts] = defaultdict(Counts)
    for (_day, variant, path, language), counts in results.daily.items():
        lines[(variant, path)] += counts
        paths[path] += counts
        languages[language] += counts
        language_lines[(language, variant, path)] += counts
    results.by_path = {path: paths[path] for path in sorted(paths, key=_path_order)}
    results.by_language = {language: languages[language] for language in sorted(languages, key=_language_order)}
    results.language_lines = [
        Line(variant, results.variant_label(variant), path, counts, language)
        for (language, variant, path), counts in sorted(
            language_lines.items(),
            key=lambda item: (_language_order(item[0][0]), _path_order(item[0][2]), -item[1].impressions, item[0][1]),
        )
    ]
    results.lines = [
        Line(variant, results.variant_label(variant), path, counts)
        for (variant, path), counts in sorted(
            lines.items(), key=lambda item: (_path_order(item[0][1]), -item[1].impressions, item[0][0])
        )
    ]


def _path_order(path: str) -> int:
    return PATHS.index(path) if path in PATHS else len(PATHS)


@dataclass
class SegmentHistory:
    """A segment's size on each day of a range (``None``: not recomputed that day)."""

    slug: str
    name: str
    sizes: list[int | None]


def segment_sizes(days: int = DEFAULT_DAYS, *, today: date | None = None) -> tuple[list[date], list[SegmentHistory]]:
    """The days of the range and the sizes of the segments recorded in it, by segment name (in the current
    language). Cost: two queries."""
    dates = period(days, today)
    index = {day: number for number, day in enumerate(dates)}
    sizes: dict[str, list[int | None]] = defaultdict(lambda: [None] * len(dates))
    rows = SegmentSize.objects.filter(day__gte=dates[0], day__lte=dates[-1]).values_list("segment__slug", "day", "size")
    for slug, day, size in rows:
        sizes[slug][index[day]] = size
    names = by_name(Segment.objects.filter(slug__in=list(sizes)).names()) if sizes else {}
    return dates, [SegmentHistory(slug, name, sizes[slug]) for slug, name in names.items()]
