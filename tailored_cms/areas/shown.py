"""What a visitor is shown of a tailored area, decided before django CMS builds the area's content.

``select_for`` applies the area's strategy to the request's visitor (snapshot, segments, holdout, optimize bucket).

django CMS loads a page's plugins in ``cms.utils.plugins.assign_plugins``: one query reads every plugin row of the
page's placeholders, each made a ``CMSPlugin`` instance, then built into its plugin model's instance (one query per
plugin model: every variant's texts, links, pictures…) before anything renders. Left alone, it makes and builds
every variant's content, shown or not, so a page's cost grows with the variants its areas hold. For a request
rendered for a visitor (not the CMS edit or structure mode, where editors get every variant), ``fetch`` reads the
same rows as tuples; ``decide`` selects from them what the visitor is shown of each area and which rows they are
not (each area's other variants and everything in them); django CMS makes and builds the rest, and
``keep_decided`` gives each area its selection (``shown_to``): its render shows exactly the variants that were
built.

The selection needs nothing django CMS builds: the variants' settings come from ``plugin_settings.cache`` (keyed
by the plugin's id and ``changed_date``, both in the rows), the visitor from the middleware's snapshot.

Caches: a placeholder's rendered copy holds what its visitor is shown, kept per variant key as before (the area
still declares its vary headers). A hidden variant's content takes no part in that copy's vary headers and expiry
(``Placeholder.get_vary_cache_on``, ``get_cache_expiration``): it is not in it. Its campaign window still counts:
a hidden variant that starts later changes the copy then. So each area notes, with its selection, when its own
window or any of its variants' starts or ends next (``changes_next``), which its plugin tells the caches.

Cost: no SQL, no Redis beyond the area's own (its variants' settings: from memory, or one query a placeholder,
which its render made before); a pass over the page's rows. What still grows with the variants: a row each (a
tuple, see ``fetch``), and the selection over their settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.models import CMSPlugin
from django.http import HttpRequest

from ..plugin_settings import cache as settings_cache
from ..plugin_settings.models import SettingsView
from ..plugin_settings.rendering import visitor_snapshot
from .models import TailoredArea, Variant
from .optimize import K
from .selection import FALLBACK, Selection, select
from .windows import is_live, live, moment, next_change

__all__ = [
    "AREA",
    "ROW",
    "VARIANT",
    "Decided",
    "changes_next",
    "decide",
    "keep_decided",
    "select_among",
    "select_for",
    "shown_to",
    "visitor_in_holdout",
    "visitor_optimized",
    "visitor_segments",
]

AREA, VARIANT = "TailoredAreaPlugin", "VariantPlugin"  # the plugin types (TailoredAreaPlugin, VariantPlugin)
_DECIDED = "_tailored_shown"  # an area instance's attribute: the selection made while its rows were loaded
_CHANGES = "_tailored_changes"  # and when its window or one of its variants' starts or ends next (or None)
# A plugin row as ``decide`` reads it: CMSPlugin's columns, in the order its instances take them (Model.from_db).
# ``changed_date`` keys an area's or a variant's settings in memory (``plugin_settings.cache``).
ROW = tuple(field.attname for field in CMSPlugin._meta.concrete_fields)
_ID, _PARENT, _TYPE, _CHANGED = (ROW.index(name) for name in ("id", "parent_id", "plugin_type", "changed_date"))


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
    selection = select_among(request, area, views)
    variant_of = {id(view): variant for view, variant in zip(views, variants, strict=True)}
    return Selection([variant_of[id(view)] for view in selection.shown], selection.paths, selection.path)


def select_among(request: HttpRequest | None, area: TailoredArea, views: Sequence[SettingsView]) -> Selection[Any]:
    """``select_for`` among the variants' settings ``views`` (in tree order): the views shown. No I/O."""
    at = moment(request)
    if not is_live(area, at):
        return Selection([], (), FALLBACK)
    views = live(views, at)
    return select(
        area.strategy,
        views,
        visitor_snapshot(request),
        area.max_items,
        visitor_segments(request),
        visitor_in_holdout(request, area),
        visitor_optimized(request, area, views),
    )


def shown_to(request: HttpRequest | None, area: TailoredArea, variants: list[Variant]) -> Selection[Variant]:
    """What the request's visitor sees of ``area``: the selection made when django CMS loaded it (only those
    variants were built, see ``decide``), else ``select_for`` among ``variants``. No I/O."""
    decided: Selection[Variant] | None = area.__dict__.get(_DECIDED)
    return decided if decided is not None else select_for(request, area, variants)


@dataclass(frozen=True)
class Decided:
    """What an area shows the visitor, decided from the page's plugin rows: the selection among its variants'
    settings, and the ids of the variants shown, in the selection's order."""

    selection: Selection[Any]
    shown_ids: tuple[int, ...]
    changes: datetime | None  # when its window or one of its variants' starts or ends next


def decide(rows: Sequence[tuple[Any, ...]], request: HttpRequest, db: str) -> tuple[dict[int, Decided], set[int]]:
    """What ``request``'s visitor is shown of each area among ``rows`` (a page's plugin rows: tuples of ``ROW``,
    read from ``db``, in django CMS's order, with the timestamps of areas and variants), by the area's id; and the
    ids of the rows they are not shown: each area's other variants and everything in them. No I/O but the variants'
    settings (see the module's docstring)."""
    if not any(row[_TYPE] == AREA for row in rows):
        return {}, set()
    children: defaultdict[int | None, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        children[row[_PARENT]].append(row)
    decided: dict[int, Decided] = {}
    hidden: set[int] = set()
    for row in rows:
        if row[_TYPE] != AREA or row[_ID] in hidden:
            continue  # not an area, or one in a variant hidden by an area met before it: left out with it
        area = TailoredArea.from_db(db, ROW, row)  # to read its settings
        variant_rows = [child for child in children[row[_ID]] if child[_TYPE] == VARIANT]
        views = [_settings_view(variant_row, db) for variant_row in variant_rows]
        selection = select_among(request, area, views)
        id_of = {id(view): variant_row[_ID] for view, variant_row in zip(views, variant_rows, strict=True)}
        shown_ids = tuple(id_of[id(view)] for view in selection.shown)
        decided[row[_ID]] = Decided(selection, shown_ids, next_change([area, *views], moment(request)))
        stack = [variant_row for variant_row in variant_rows if variant_row[_ID] not in shown_ids]
        while stack:  # the variants not shown and everything in them
            hidden_row = stack.pop()
            hidden.add(hidden_row[_ID])
            stack.extend(children.get(hidden_row[_ID], ()))
    return decided, hidden


def keep_decided(plugins: Iterable[CMSPlugin], decided: dict[int, Decided]) -> None:
    """Give each area among ``plugins`` (built from the rows ``decide`` kept) what it shows: the instances of its
    shown variants among them, which its render shows (``shown_to``)."""
    by_id = {plugin.id: plugin for plugin in plugins}
    for area_id, decision in decided.items():
        area = by_id.get(area_id)
        shown = [by_id[variant_id] for variant_id in decision.shown_ids if variant_id in by_id]
        if area is not None and len(shown) == len(decision.shown_ids):  # else changed since: its render decides
            area.__dict__[_DECIDED] = Selection(shown, decision.selection.paths, decision.selection.path)
            area.__dict__[_CHANGES] = decision.changes


def changes_next(area: TailoredArea, variants: list[Variant], at: datetime) -> datetime | None:
    """When what ``area`` shows may change next by the clock: the first start or end after ``at`` of its window
    or of any of its variants' (also those the visitor isn't shown: noted when they were left out, see
    ``decide``; else among ``variants``). No I/O."""
    noted = area.__dict__.get(_CHANGES, _CHANGES)
    if noted is not _CHANGES and (noted is None or noted > at):
        return noted
    return next_change([area, *(variant.settings_view for variant in variants)], at)


def _settings_view(row: tuple[Any, ...], db: str) -> SettingsView:
    """The settings of the variant of ``row``: from memory, without an instance (else the instance's)."""
    found = settings_cache.get(row[_ID], row[_CHANGED])
    return found if found is not None else Variant.from_db(db, ROW, row).settings_view
