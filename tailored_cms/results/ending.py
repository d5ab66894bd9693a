"""Ending an experiment with its winner, from the area's results page: the winner becomes the area's only fallback,
the area's strategy becomes ``AFTER`` (*Static*: everyone sees the fallback), and an ``ExperimentEnd`` records who
ended it, when, and what the figures said.

Why *Static*: the experiment found what works best for everyone, so everyone sees it, from one cached copy. The
strategy the area had before the experiment could bring back variants the experiment beat (a customization
area's topic variants, say); the editor can switch to it from the area's menu when that is what they want. The
other variants stay in the area, unseen, until the editor deletes them.

An area is every plugin with its key (copies on other pages, other languages, versions of a page). Each copy the
editor may change as django CMS's own "Edit" asks (``areas.menu.may_change``) is changed. With
djangocms-versioning, a published version can't be changed in place: its draft is, and the editor is told to
publish the page (``Ended.to_publish``). A page with no draft the editor may change is refused with what to do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..areas.editing import announce_change
from ..areas.explanation import live_areas
from ..areas.menu import may_change
from ..areas.models import TailoredArea, Variant
from ..areas.strategies import get_strategy
from ..areas.strategies.experiment import Experiment
from .models import ExperimentEnd
from .report import AreaResults
from .sentence import sentence
from .verdict import Outcome, Verdict, verdict

__all__ = ["AFTER", "Ended", "Refused", "editable_copies", "end_experiment", "winner_of"]

AFTER = "static"  # the strategy an area takes when its experiment ends


class Refused(Exception):
    """The experiment can't be ended as asked: ``status`` (400, or 403 for an editor who may not change the area)
    and what was wrong, for the editor."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Ended:
    record: ExperimentEnd
    to_publish: list[str] = field(default_factory=list)  # pages whose draft was changed: published, visitors see it


def winner_of(area: AreaResults, winner: str) -> Verdict:
    """The verdict naming ``winner``, if ``area`` is an experiment on a page whose figures name that variant the
    winner; else ``Refused`` (400) saying which of these it isn't."""
    if not area.on_site:
        raise Refused(_("“%(area)s” is no longer on a published page: there is no experiment to end.") % _names(area))
    if not isinstance(get_strategy(area.strategy), Experiment):
        raise Refused(
            _("“%(area)s” is not an experiment: its strategy is %(strategy)s.")
            % {**_names(area), "strategy": get_strategy(area.strategy).short_label()}
        )
    if winner not in area.labels:
        raise Refused(_("“%(area)s” has no variant “%(winner)s”.") % {**_names(area), "winner": winner})
    found = verdict(area)
    leader = found.leader
    if found.outcome != Outcome.WINNER or leader is None or leader.key != winner:
        raise Refused(
            _("The figures don't name “%(winner)s” the winner: %(sentence)s")
            % {"winner": area.variant_label(winner), "sentence": sentence(found)}
        )
    return found


def editable_copies(user: Any, area: AreaResults) -> list[TailoredArea]:
    """The copies of ``area`` the editor may change now; ``Refused`` if none: 403 if they may change no copy of
    it at all, 400 if it is on no page or none is a draft (djangocms-versioning) they may change."""
    copies = list(TailoredArea.objects.filter(tailored_settings__key=area.key).select_related("placeholder"))
    if not copies:
        raise Refused(_("“%(area)s” is no longer on any page: there is no experiment to end.") % _names(area))
    editable = [plugin for plugin in copies if may_change(user, plugin)]
    if editable:
        return editable
    if not any(plugin.placeholder.has_change_plugin_permission(user, plugin) for plugin in copies):
        raise Refused(
            _("You may not change “%(area)s”: that needs the permission to change tailored areas.") % _names(area),
            403,
        )
    raise Refused(
        _(
            "“%(area)s” has no draft you may change now: open its page, click Edit to make a draft, "
            "then end the experiment here."
        )
        % _names(area)
    )


@transaction.atomic
def end_experiment(request: HttpRequest, area: AreaResults, winner: str) -> Ended:
    """Make ``winner`` the fallback of every copy of ``area`` the editor may change, switch them to ``AFTER`` and
    record it; ``Refused`` as ``winner_of`` and ``editable_copies`` say."""
    user = request.user
    editable = editable_copies(user, area)  # who asks, before what they ask
    found = winner_of(area, winner)
    live = set(live_areas().filter(tailored_settings__key=area.key).values_list("pk", flat=True))
    to_publish: list[str] = []
    for plugin in editable:
        _make_fallback(request, plugin, winner, area)
        if plugin.pk not in live:
            title = str(getattr(plugin.placeholder.source, "title", "") or area.page)
            if title not in to_publish:
                to_publish.append(title)
    record = ExperimentEnd.objects.create(
        area=area.key,
        winner=winner,
        winner_label=area.variant_label(winner)[:100],
        strategy=AFTER,
        ended_by=_name(user)[:150],
        verdict=sentence(found),
    )
    return Ended(record, to_publish)


def _make_fallback(request: HttpRequest, plugin: TailoredArea, winner: str, area: AreaResults) -> None:
    """``winner`` the only fallback of the area ``plugin``, which shows it to everyone (``AFTER``)."""
    # The variants before their area, as an editor's save of a variant writes them (``areas.receivers``): taken
    # the other way round, the two would each wait for the other.
    variants = list(Variant.objects.locked(parent_id=plugin.pk))
    locked = TailoredArea.objects.locked(pk=plugin.pk).get()
    if winner not in {variant.key for variant in variants}:
        raise Refused(
            _("A copy of “%(area)s” no longer has “%(winner)s”: add it back there, or delete that copy.")
            % {**_names(area), "winner": area.variant_label(winner)}
        )
    for variant in variants:
        if variant.fallback != (variant.key == winner):
            old = copy.copy(variant)
            variant.fallback = variant.key == winner
            variant.save(update_fields=["fallback"])
            announce_change(request, old, variant)
    old_area = copy.copy(locked)
    locked.strategy = AFTER
    locked.save(update_fields=["strategy"])
    announce_change(request, old_area, locked)


def _name(user: Any) -> str:
    """How the results name the editor: their full name, else their username."""
    return str(user.get_full_name() or user.get_username())


def _names(area: AreaResults) -> dict[str, str]:
    return {"area": area.label}
