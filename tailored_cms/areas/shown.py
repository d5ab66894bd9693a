"""What a visitor is shown of a tailored area, decided before django CMS builds the area's content.

``select_for`` applies the area's strategy to the request's visitor (snapshot, segments, holdout, optimize bucket).

django CMS loads a page's plugins in ``cms.utils.plugins.assign_plugins``: one query reads every plugin row of the
page's placeholders, each made a ``CMSPlugin`` instance, then built into its plugin model's instance (one query per
plugin model: every variant's texts, links, pictures…) before anything renders. Left alone, it reads, makes and
builds every variant's content, shown or not, so a page's cost grows with the variants its areas hold. For a
request rendered for a visitor (not the CMS edit or structure mode, where editors get every variant), ``fetch``
reads the rows itself, as tuples (``ROW``):

- before the query, ``predict`` decides what the visitor is shown of each area from its ``Layout`` as this process
  last read it (the area's and its variants' rows, their settings): the query leaves out the variants it expects
  hidden, their rows and their content (``Predicted.left_out``), but each area's last variant, whose row moves
  when a variant before it is moved out of the area or past it;
- ``decide`` checks each area's rows against the layout predicted from: the area's row and those of the variants
  read the same (ids, positions, the text of their ``changed_date``), the prediction stands. The variants left out
  are seen through their area's row: ``receivers`` moves the area's ``changed_date`` whenever one of its variants
  is saved, added or deleted, and whenever an editor changes its placeholder in django CMS (a move, a paste…);
  a variant moved across one read moves that one. An area laid out otherwise is decided from the rows read if none
  of its variants was left out; else ``decide`` gives ``None`` and ``fetch`` reads the rows again, all of them,
  once. It keeps the rows the visitor is shown (each area's other variants and everything in them left out);
- django CMS makes and builds the rows kept, and ``keep_decided`` gives each area what it shows (``Shown``: the
  selection, and what its render tells the caches), which its render reads (``shown_to``): it shows exactly the
  variants that were built.

A decision is remembered for the next visitor who gives the area's strategy the same (``_decide``): the same
choices and segments, holdout and allocated variant, at a moment between the same two edges of the campaign windows
(``Strategy.select`` is a function of its arguments); the visitors of a page are most often a few kinds.

The selection needs nothing django CMS builds: the variants' settings come from ``plugin_settings.cache`` (keyed
by the plugin's id and ``changed_date``, which the rows give as the database's text of it: ``get_stamped``), the
visitor from the middleware's snapshot; the moment (``windows.moment``) is read once. The layouts are kept by
placeholder and language (at most ``MAX_PLACEHOLDERS``): a page's first view in a process reads every row.

Caches: a placeholder's rendered copy holds what its visitor is shown, kept per variant key as before (the area
still declares its vary headers). A hidden variant's content takes no part in that copy's vary headers and expiry
(``Placeholder.get_vary_cache_on``, ``get_cache_expiration``): it is not in it. Its campaign window still counts:
a hidden variant that starts later changes the copy then. So each area notes, with its selection, when its own
window or any of its variants' starts or ends next (``changes_next``), which its plugin tells the caches.

Cost: no SQL, no Redis beyond the area's own (its variants' settings: from memory, or one query a placeholder,
which its render made before). What still grows with the variants: per variant, the strategy's look at its
settings (once for each kind of visitor); the database's look at each hidden variant's row and content, which it
filters out.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from cms.models import CMSPlugin
from django.core.signals import setting_changed
from django.http import HttpRequest

from ..conf import SETTING_NAME
from ..languages import current_language
from ..plugin_settings import cache as settings_cache
from ..plugin_settings.models import SettingsView, load
from ..plugin_settings.rendering import children_of, is_editing, visitor_snapshot
from .models import TailoredArea, Variant
from .optimize import K
from .selection import FALLBACK, Choices, Selection, SelectionPath, select
from .windows import edges, is_live, live, moment, next_change, next_edge

__all__ = [
    "AREA",
    "ROW",
    "STAMPED",
    "VARIANT",
    "Decided",
    "Shown",
    "changed_date",
    "changes_next",
    "decide",
    "forget",
    "keep_decided",
    "select_among",
    "select_for",
    "shown_to",
    "visitor_in_holdout",
    "visitor_optimized",
    "visitor_segments",
]

AREA, VARIANT = "TailoredAreaPlugin", "VariantPlugin"  # the plugin types (TailoredAreaPlugin, VariantPlugin)
_SHOWN = "_tailored_shown"  # an area instance's attribute: its ``Shown``, decided while its rows were loaded
# A plugin row as ``decide`` reads it (``fetch`` reads them so): CMSPlugin's columns but ``language`` (the query's),
# with, for the types ``decide`` reads the settings of (``STAMPED``), the database's text of ``changed_date``
# (``stamp``: it keys their settings in ``plugin_settings.cache``) in place of the timestamps.
ROW = ("id", "placeholder_id", "parent_id", "position", "plugin_type", "stamp", "changed_date", "creation_date")
STAMPED = (AREA, VARIANT)
_ID, _PLACEHOLDER, _PARENT, _TYPE, _STAMP = (
    ROW.index(name) for name in ("id", "placeholder_id", "parent_id", "plugin_type", "stamp")
)
# The fields of an area's instance made to decide (``Model.from_db``'s order), its creation_date not read.
_AREA_FIELDS = ("id", "placeholder_id", "parent_id", "position", "language", "plugin_type", "changed_date")


def visitor_segments(request: HttpRequest | None) -> tuple[str, ...]:
    """The active segments the request's visitor is in (no SQL; see ``VisitorContext.segments``)."""
    context = getattr(request, "tailored", None)
    return context.segments(request) if context is not None and request is not None else ()


def visitor_in_holdout(request: HttpRequest | None, area: TailoredArea) -> bool:
    """``True`` if the request's visitor is in the area's holdout (never where the strategy takes none). No I/O."""
    context = getattr(request, "tailored", None)
    if context is None or not area.strategy_class.holdouts:
        return False
    return bool(context.in_holdout(area.key, area.holdout_percent))


def visitor_optimized(request: HttpRequest | None, area: TailoredArea, variants: Sequence[K]) -> K | None:
    """The variant an allocation gives the request's visitor (the optimize strategy's, see ``optimize``). No I/O."""
    context = getattr(request, "tailored", None)
    if context is None:
        return None
    return area.strategy_class.allocated_variant(area.key, variants, context.visitor_id)


def select_for(request: HttpRequest | None, area: TailoredArea, variants: list[Variant]) -> Selection[Variant]:
    """What the request's visitor sees of ``area``: its strategy applied to their snapshot, segments, holdout
    and optimize bucket, among the variants inside their campaign windows (``windows``); nothing if the area is
    outside its own. No I/O.

    Selection reads the variants' read-only settings (``settings_view``): reading their lists off the variants
    would copy them, 120 dicts and lists kept alive to the end of the request on a page of four areas, which made
    Python's garbage collector run more often.
    """
    views = [variant.settings_view for variant in variants]
    return _of_variants(select_among(request, area, views, moment(request)), views, variants)


def _of_variants(selection: Selection[Any], views: list[SettingsView], variants: list[Variant]) -> Selection[Variant]:
    """``selection`` among the ``views`` of ``variants`` (in the same order), as the variants it shows."""
    variant_of = {id(view): variant for view, variant in zip(views, variants, strict=True)}
    return Selection([variant_of[id(view)] for view in selection.shown], selection.paths, selection.path)


def select_among(
    request: HttpRequest | None, area: TailoredArea, views: Sequence[SettingsView], at: datetime
) -> Selection[Any]:
    """``select_for`` among the variants' settings ``views`` (in tree order) at the moment ``at`` (``moment``): the
    views shown. No I/O."""
    if not is_live(area, at):
        return Selection([], (), FALLBACK)
    views = live(views, at)
    held_out, allocated = visitor_in_holdout(request, area), visitor_optimized(request, area, views)
    return _pick(area, views, VisitorInputs.of(request), held_out, allocated)


def _pick(
    area: TailoredArea, views: Sequence[Any], visitor: VisitorInputs, held_out: bool, allocated: Any
) -> Selection[Any]:
    """The area's strategy applied among ``views`` (those inside their windows) for ``visitor``. No I/O."""
    return select(area.strategy, views, visitor.choices, area.max_items, visitor.segments, held_out, allocated)


class Shown(NamedTuple):
    """What an area shows the request's visitor, and what its render tells django CMS's caches: the variants shown
    (instances, best first), the path that put each there and the area's (``Selection``), whether the area is inside
    its own window at the moment ``at`` the page is shown as of, when that or one of its variants' windows changes
    next (also those of variants not shown), the request headers its strategy varies on
    (``Strategy.get_vary_cache_on``), the page's language (``current_language``), and whether an editor is at work
    (every variant shows: ``variants`` only marks what a visitor would see). A tuple: one is made per area and
    page view."""

    variants: list[Variant]
    paths: tuple[SelectionPath, ...]
    path: SelectionPath
    live: bool
    at: datetime
    changes: datetime | None
    headers: tuple[str, ...]
    language: str
    editing: bool = False


def shown_to(request: HttpRequest | None, area: TailoredArea) -> Shown:
    """What the request's visitor sees of ``area``: what was decided when django CMS loaded it (only those variants
    were built, see ``decide``), else worked out now among its loaded variants. No I/O."""
    decided: Shown | None = area.__dict__.get(_SHOWN)
    if decided is not None:
        return decided
    at = moment(request)
    variants = children_of(area, Variant)
    views = [variant.settings_view for variant in variants]
    selection = _of_variants(select_among(request, area, views, at), views, variants)
    return Shown(
        selection.shown,
        selection.paths,
        selection.path,
        is_live(area, at),
        at,
        next_change([area, *views], at),
        vary_headers(area),
        current_language(),
        is_editing(request),
    )


def vary_headers(area: TailoredArea) -> tuple[str, ...]:
    """The request headers django CMS's caches keep a copy of ``area`` per value of (its strategy's). No I/O."""
    return tuple(area.strategy_class.get_vary_cache_on(area))


Row = tuple[Any, ...]


@dataclass(frozen=True)
class Decided:
    """What an area shows the visitor, decided from the page's plugin rows: the selection among its variants'
    settings, the ids of the variants shown (in the selection's order), what ``Shown`` says besides, and what a
    page's query may leave out of its variants and then reads."""

    selection: Selection[Any]
    shown_ids: tuple[int, ...]
    area_view: SettingsView  # the area's settings (the variants shown: ``selection.shown``)
    live: bool  # the area is inside its own window
    changes: datetime | None  # when its window or one of its variants' starts or ends next
    headers: tuple[str, ...]  # what its strategy varies on (``vary_headers``)
    left_out: frozenset[int]  # the variants a page's query may leave out: the hidden ones but the last
    read: tuple[Row, ...]  # the rows of the variants it then reads (the shown ones and the last), in tree order


MAX_PLACEHOLDERS = 10_000  # placeholders whose layouts are kept (a few hundred bytes a variant), then none


@dataclass(frozen=True, eq=False)
class Layout:
    """An area as read from the page's rows: its row and its variants' rows (``rows``, in tree order), the variants'
    settings (``variant_views``, in the same order), the area's instance made to decide (with its settings), the
    variants' ids, every start and end of the area's and its variants' campaign windows, in order (``edges``),
    what its strategy varies on (``vary_headers``), and what was decided from it for the kinds of visitors seen
    (``_decide``; they go with it when the area changes)."""

    rows: tuple[Row, tuple[Row, ...]]
    variant_views: tuple[SettingsView, ...]
    area: TailoredArea
    variant_ids: frozenset[int]
    edges: tuple[datetime, ...]
    headers: tuple[str, ...]
    decisions: dict[tuple[Any, ...], Decided] = field(default_factory=dict)  # what ``_decide`` decided, by what it read


_layouts: dict[tuple[int, str], tuple[Layout, ...]] = {}  # by placeholder id and language: its areas', as last read


@dataclass(frozen=True)
class VisitorInputs:
    """What selection reads of a request's visitor that is the same for every area: their choices (``Choices``)
    and segments, and those as a key (``key``)."""

    choices: Choices
    segments: tuple[str, ...]
    key: tuple[Any, ...]

    @classmethod
    def of(cls, request: HttpRequest | None) -> VisitorInputs:
        choices, segments = visitor_snapshot(request), visitor_segments(request)
        return cls(
            choices, segments, (tuple(choices.topics), choices.effective_theme, choices.effective_layout, segments)
        )


MAX_DECISIONS = 10_000  # decisions kept in the layouts (a few hundred bytes each, more for areas of many variants)
_decisions_kept = 0  # about how many: counted without a lock, so a few more or less


@dataclass(frozen=True)
class Predicted:
    """What ``predict`` expects the visitor is shown of a page's placeholders: for each area it remembers, the
    layout it decided from and the decision, by the area's id; and the variants whose rows and content the page's
    query leaves out (``left_out``: those it expects hidden, but each area's last)."""

    placeholders: tuple[int, ...]
    decided: dict[int, tuple[Layout, Decided]]
    left_out: frozenset[int]
    at: datetime  # the moment the page is shown as of (``windows.moment``), read once for the request
    visitor: VisitorInputs | None  # None: no area decided (a page without areas doesn't depend on the visitor)


def predict(placeholders: Sequence[int], request: HttpRequest, language: str) -> Predicted:
    """What ``request``'s visitor is shown of the areas this process last read in the ``placeholders`` (their
    ids) in ``language``, if they are still laid out so (``decide`` checks it against the rows). No I/O."""
    decided: dict[int, tuple[Layout, Decided]] = {}
    left_out: set[int] = set()
    at = moment(request)
    visitor = None
    for placeholder in placeholders:
        for layout in _layouts.get((placeholder, language), ()):
            visitor = visitor or VisitorInputs.of(request)
            decision = _decide(layout, request, at, visitor)
            decided[layout.area.pk] = (layout, decision)
            left_out.update(decision.left_out)
    return Predicted(tuple(placeholders), decided, frozenset(left_out), at, visitor)


def decide(
    rows: Sequence[Row], request: HttpRequest, language: str, db: str, predicted: Predicted
) -> tuple[dict[int, Decided], list[Row]] | None:
    """What ``request``'s visitor is shown of each area among ``rows`` (a page's plugin rows in ``language``: tuples
    of ``ROW``, read from ``db``, in django CMS's order: a plugin before its children), by the area's id; and the
    rows they are shown: all but each area's other variants and everything in them. No I/O but the variants'
    settings (see the module's docstring).

    ``rows`` may lack the variants ``predicted`` left out (``predict``), their rows and content: an area whose rows
    read are those predicted keeps the prediction's decision; ``None`` if one read otherwise had variants left out
    (read the rows again, all of them); any other is decided from its rows. Remembers the areas' layouts for
    ``predict``."""
    variants_of: defaultdict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row[_TYPE] == VARIANT:
            variants_of[row[_PARENT]].append(row)
    guesses, visitor = predicted.decided, predicted.visitor
    layouts: defaultdict[int, list[Layout]] = defaultdict(list)
    decided: dict[int, Decided] = {}
    hidden: set[int] = set()  # the variants not shown and everything in them
    read = {row[_ID] for row in rows} if predicted.left_out else None  # a row whose parent wasn't read: left out
    kept = []
    for row in rows:
        parent = row[_PARENT]
        if row[_ID] in hidden or parent in hidden or (read is not None and parent is not None and parent not in read):
            hidden.add(row[_ID])
            continue
        kept.append(row)
        if row[_ID] in variants_of and row[_TYPE] == AREA:
            variant_rows = tuple(variants_of[row[_ID]])
            guess = guesses.get(row[_ID])
            if guess is not None and guess[0].rows[0] == row and guess[1].read == variant_rows:
                layout, decision = guess
            elif guess is not None and guess[1].left_out:  # laid out otherwise, and not all of it read
                return None
            else:
                layout = _layout((row, variant_rows), language, db)  # type: ignore[assignment]
                if layout is None:  # its settings changed since: its render decides among all of them
                    continue
                visitor = visitor or VisitorInputs.of(request)
                decision = _decide(layout, request, predicted.at, visitor)
            layouts[row[_PLACEHOLDER]].append(layout)
            decided[row[_ID]] = decision
            hidden.update(layout.variant_ids.difference(decision.shown_ids))
    _remember(predicted.placeholders, language, layouts)
    return decided, kept


def changed_date(row: Row) -> datetime | None:
    """The ``changed_date`` of a ``STAMPED`` row (``None`` if this process never read its settings)."""
    return settings_cache.changed_date_of(row[_STAMP])


def keep_decided(plugins: Iterable[CMSPlugin], decided: dict[int, Decided], at: datetime) -> None:
    """Give each area among ``plugins`` (built from the rows ``decide`` kept) what it shows as of ``at``: the
    instances of its shown variants among them, which its render shows (``shown_to``), and to those and the area
    the settings it was decided from."""
    if not decided:
        return
    by_id = {plugin.id: plugin for plugin in plugins}
    language = current_language()  # the same for every area of the page
    for area_id, decision in decided.items():
        area = by_id.get(area_id)
        shown = [by_id[variant_id] for variant_id in decision.shown_ids if variant_id in by_id]
        if area is not None and len(shown) == len(decision.shown_ids):  # else changed since: its render decides
            selection, changes = decision.selection, decision.changes
            area.__dict__[_SHOWN] = Shown(
                shown, selection.paths, selection.path, decision.live, at, changes, decision.headers, language
            )
            # the settings decided from are theirs: read for the same changed_date (the rows predicted)
            area.keep_settings_view(decision.area_view)
            for variant, view in zip(shown, selection.shown, strict=True):
                variant.keep_settings_view(view)


def changes_next(area: TailoredArea, at: datetime) -> datetime | None:
    """When what ``area`` shows may change next by the clock: the first start or end after ``at`` of its window
    or of any of its variants' (also those the visitor isn't shown: noted when they were left out, see
    ``decide``; else among its loaded variants). No I/O."""
    decided: Shown | None = area.__dict__.get(_SHOWN)
    if decided is not None and (decided.changes is None or decided.changes > at):
        return decided.changes
    return next_change([area, *(variant.settings_view for variant in children_of(area, Variant))], at)


def _decide(layout: Layout, request: HttpRequest, at: datetime, visitor: VisitorInputs) -> Decided:
    """What ``request``'s visitor (``visitor``: what selection reads of them) is shown of the area laid out as
    ``layout`` at the moment ``at``.

    Remembered in the layout for the next visitor who gives the area's strategy the same (``Strategy.select`` is
    a function of its arguments): the same choices and segments, holdout and allocated variant, at a moment between
    the same two of the campaign windows' edges (what is inside its window is the same all through)."""
    area, edges = layout.area, layout.edges
    views = live(layout.variant_views, at) if edges else layout.variant_views
    held_out = visitor_in_holdout(request, area)
    allocated = visitor_optimized(request, area, views)
    strategy, picked = area.strategy_class, None if allocated is None else id(allocated)
    key = (strategy, visitor.key, held_out, picked, bisect_right(edges, at))
    decided = layout.decisions.get(key)
    if decided is not None:
        return decided
    live_area = not edges or is_live(area, at)
    selection = _pick(area, views, visitor, held_out, allocated) if live_area else Selection([], (), FALLBACK)
    variant_rows, variant_views = layout.rows[1], layout.variant_views
    # the places of the views shown (a view is equal to no other variant's: each has a key of its own)
    places = [variant_views.index(view) for view in selection.shown]
    shown_ids = tuple(variant_rows[place][_ID] for place in places)
    last = len(variant_rows) - 1
    read = tuple(variant_rows[place] for place in sorted({*places, last}))
    left_out = layout.variant_ids.difference(row[_ID] for row in read)
    changes, area_view = next_edge(edges, at), area.settings_view
    decided = Decided(selection, shown_ids, area_view, live_area, changes, layout.headers, left_out, read)
    _keep(layout, key, decided)
    return decided


def _keep(layout: Layout, key: tuple[Any, ...], decided: Decided) -> None:
    """Remember ``decided`` in ``layout`` under ``key``; past ``MAX_DECISIONS`` in all, the layouts kept forget
    theirs first."""
    global _decisions_kept
    if _decisions_kept >= MAX_DECISIONS:
        for layouts in list(_layouts.values()):
            for known in layouts:
                known.decisions.clear()
        _decisions_kept = 0
    layout.decisions[key] = decided
    _decisions_kept += 1


def _layout(rows: tuple[Row, tuple[Row, ...]], language: str, db: str) -> Layout | None:
    """The ``Layout`` of an area's ``rows`` (its own and its variants'), their settings from memory, else with
    all of the placeholder's (one query); ``None`` if some changed since the rows were read."""
    area_row, variant_rows = rows
    stamped = (area_row, *variant_rows)
    views = [settings_cache.get_stamped(row[_ID], row[_STAMP]) for row in stamped]
    if None in views:
        missing = [row[_ID] for row, view in zip(stamped, views, strict=True) if view is None]
        load(missing, area_row[_PLACEHOLDER], language)
        views = [settings_cache.get_stamped(row[_ID], row[_STAMP]) for row in stamped]
        if None in views:
            return None
    values = (*area_row[:_TYPE], language, area_row[_TYPE], changed_date(area_row))
    area = TailoredArea.from_db(db, _AREA_FIELDS, values)  # its settings: views[0], from memory
    variant_ids = frozenset(row[_ID] for row in variant_rows)
    headers = vary_headers(area)
    return Layout(rows, tuple(views[1:]), area, variant_ids, edges(views), headers)  # type: ignore[arg-type]


def _remember(placeholders: tuple[int, ...], language: str, layouts: dict[int, list[Layout]]) -> None:
    """Keep the areas' ``layouts`` (by placeholder id) of the ``placeholders`` read, for ``predict``."""
    for placeholder in placeholders:
        key, found = (placeholder, language), tuple(layouts.get(placeholder, ()))
        known = _layouts.get(key, ())
        if [layout.rows for layout in known] != [layout.rows for layout in found]:
            if len(_layouts) >= MAX_PLACEHOLDERS:
                _layouts.clear()
            if found:
                _layouts[key] = found
            else:
                _layouts.pop(key, None)


def forget() -> None:
    """Forget the areas' layouts and the decisions this process kept, as a process just started."""
    global _decisions_kept
    _layouts.clear()
    _decisions_kept = 0


def _forget_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """The layouts and decisions hold what the areas' strategies vary on, which names headers of ``TAILORED_CMS``."""
    if setting == SETTING_NAME:
        forget()


setting_changed.connect(_forget_on_setting_changed)
