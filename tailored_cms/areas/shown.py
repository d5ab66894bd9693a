"""What a visitor is shown of a tailored area, decided before django CMS builds the area's content.

``select_for`` applies the area's strategy to the request's visitor (snapshot, segments, holdout, optimize bucket).

django CMS loads a page's plugins in ``cms.utils.plugins.assign_plugins``: one query fetches every plugin row of the
page's placeholders, then ``downcast_plugins`` builds each row into its plugin model's instance (one query per
plugin model: every variant's texts, links, pictures…) before anything renders. Left alone, it builds every
variant's content, shown or not, so a page's cost grows with the variants its areas hold. ``install()`` (run by
``TailoredCmsConfig.ready``) wraps that one step, ``downcast_plugins``: for a request rendered for a visitor (not
the CMS edit or structure mode, where editors get every variant), it hands django CMS the rows less each area's
variants the visitor isn't shown and all their content (``without_hidden_variants``); everything else is django
CMS's own. The area keeps the selection made there (``shown_to``): its render shows exactly the variants that were
built.

Why this step: django CMS has no setting for its content renderer and no hook in the plugin fetch;
``downcast_plugins`` is the documented step between reading the rows and building them, which ``assign_plugins``
looks up in its module each time, and the selection needs nothing it builds (the variants' settings come from
``plugin_settings.cache``, the visitor from the middleware's snapshot). The wrapper passes its arguments through
unchanged but for the rows. ``tests/areas/test_shown.py`` fails if django CMS changes either function underneath
or stops going through the wrapper (it counts the plugins built).

Caches: a placeholder's rendered copy holds what its visitor is shown, kept per variant key as before (the area
still declares its vary headers). A hidden variant's content no longer takes part in that copy's vary headers and
expiry (``Placeholder.get_vary_cache_on``, ``get_cache_expiration``): it is not in it. Its campaign window still
counts: a hidden variant that starts later changes the copy then. So each area notes, with its selection, when its
own window or any of its variants' starts or ends next (``changes_next``), which its plugin tells the caches.

Cost: no SQL, no Redis beyond the area's own (its variants' settings: from memory, or one query a placeholder,
which its render made before); a pass over the page's rows (a look at each row's type on a page without areas).
What still grows with the variants: django CMS's one query reads every variant's rows, content included (bare
``CMSPlugin`` rows, never built), and selection reads every variant's settings. Not reading the hidden content's
rows at all would take a fetch of django CMS's own (``assign_plugins``) and one query more.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from cms.utils import plugins as cms_plugins_utils
from django.http import HttpRequest

from ..plugin_settings.rendering import is_editing, visitor_snapshot
from .models import TailoredArea, Variant
from .selection import FALLBACK, Selection, select
from .windows import is_live, live, moment, next_change

__all__ = [
    "changes_next",
    "install",
    "select_for",
    "shown_to",
    "visitor_in_holdout",
    "visitor_optimized",
    "visitor_segments",
    "without_hidden_variants",
]

AREA, VARIANT = "TailoredAreaPlugin", "VariantPlugin"  # the plugin types (TailoredAreaPlugin, VariantPlugin)
_DECIDED = "_tailored_shown"  # an area instance's attribute: the selection made while its rows were loaded
_CHANGES = "_tailored_changes"  # and when its window or one of its variants' starts or ends next (or None)
_INSTALLED = "tailored_shown_only"  # marks the wrapper, so install() wraps once


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


def visitor_optimized(request: HttpRequest | None, area: TailoredArea, variants: list[Variant]) -> Variant | None:
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
    at = moment(request)
    if not is_live(area, at):
        return Selection([], (), FALLBACK)
    views = [variant.settings_view for variant in variants]
    eligible = live(views, at)
    if eligible is not views:
        kept = {id(view) for view in eligible}
        variants = [variant for variant, view in zip(variants, views, strict=True) if id(view) in kept]
        views = list(eligible)
    optimized = visitor_optimized(request, area, variants)
    selection = select(
        area.strategy,
        views,
        visitor_snapshot(request),
        area.max_items,
        visitor_segments(request),
        visitor_in_holdout(request, area),
        views[variants.index(optimized)] if optimized is not None else None,
    )
    variant_of = {id(view): variant for view, variant in zip(views, variants, strict=True)}
    return Selection([variant_of[id(view)] for view in selection.shown], selection.paths, selection.path)


def shown_to(request: HttpRequest | None, area: TailoredArea, variants: list[Variant]) -> Selection[Variant]:
    """What the request's visitor sees of ``area``: the selection made when django CMS loaded it (only those
    variants were built, see ``without_hidden_variants``), else ``select_for`` among ``variants``. No I/O."""
    decided: Selection[Variant] | None = area.__dict__.get(_DECIDED)
    return decided if decided is not None else select_for(request, area, variants)


def changes_next(area: TailoredArea, variants: list[Variant], at: datetime) -> datetime | None:
    """When what ``area`` shows may change next by the clock: the first start or end after ``at`` of its window
    or of any of its variants' (also those the visitor isn't shown: noted when they were left out, see
    ``without_hidden_variants``; else among ``variants``). No I/O."""
    noted = area.__dict__.get(_CHANGES, _CHANGES)
    if noted is not _CHANGES and (noted is None or noted > at):
        return noted
    return next_change([area, *(variant.settings_view for variant in variants)], at)


def without_hidden_variants(plugins: Sequence[Any], request: HttpRequest) -> list[Any]:
    """``plugins`` (a page's plugin rows, not yet built) less each area's variants that ``request``'s visitor
    isn't shown, with everything in them; each area keeps its selection (``shown_to``). No I/O but the variants'
    settings (see the module's docstring)."""
    areas = [plugin for plugin in plugins if plugin.plugin_type == AREA]
    if not areas:
        return list(plugins)
    # Rows of CMSPlugin, whose primary key is ``id``: read as a plain attribute (``pk`` is a property that asks
    # the model's options, a cost paid per row on every page).
    children: defaultdict[int | None, list[Any]] = defaultdict(list)
    for plugin in plugins:
        children[plugin.parent_id].append(plugin)
    hidden: set[int] = set()
    for area in areas:
        if area.id in hidden:
            continue  # in a variant hidden by an area met before it: left out with it
        # Proxies of CMSPlugin: what downcast_plugins makes of these rows too, without a query.
        area.__class__ = TailoredArea
        variants = [child for child in children[area.id] if child.plugin_type == VARIANT]
        for variant in variants:
            variant.__class__ = Variant
        selection = select_for(request, area, variants)
        area.__dict__[_DECIDED] = selection
        area.__dict__[_CHANGES] = next_change([area, *(variant.settings_view for variant in variants)], moment(request))
        shown = {id(variant) for variant in selection.shown}
        _hide((variant for variant in variants if id(variant) not in shown), children, hidden)
    return [plugin for plugin in plugins if plugin.id not in hidden] if hidden else list(plugins)


def _hide(plugins: Iterable[Any], children: dict[int | None, list[Any]], hidden: set[int]) -> None:
    """Add the ids of ``plugins`` and of everything in them to ``hidden``."""
    stack = list(plugins)
    while stack:
        plugin = stack.pop()
        hidden.add(plugin.id)
        stack.extend(children.get(plugin.id, ()))


def install() -> None:
    """Wrap django CMS's ``cms.utils.plugins.downcast_plugins`` (once) so that visitors' requests build only what
    they are shown (see the module's docstring)."""
    original = cms_plugins_utils.downcast_plugins
    if getattr(original, _INSTALLED, False):
        return
    cms_plugins_utils.downcast_plugins = shown_only(original)


def shown_only(downcast_plugins: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
    """``downcast_plugins`` (django CMS's, whose signature this repeats) given only what the request's visitor is
    shown: the rows of the page's placeholders for a request rendered for a visitor, other calls unchanged."""

    @functools.wraps(downcast_plugins)
    def shown_only_downcast_plugins(
        plugins: Iterable[Any],
        placeholders: Sequence[Any] | None = None,
        select_placeholder: bool = False,
        request: HttpRequest | None = None,
    ) -> Iterable[Any]:
        if request is not None and placeholders and not is_editing(request):
            plugins = without_hidden_variants(list(plugins), request)
        return downcast_plugins(plugins, placeholders, select_placeholder=select_placeholder, request=request)

    setattr(shown_only_downcast_plugins, _INSTALLED, True)
    return shown_only_downcast_plugins
