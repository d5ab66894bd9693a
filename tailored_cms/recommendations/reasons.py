"""Why a page is recommended, and how the whole list was made, in sentences for the visitor (the request's
language)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext

from ..areas.matching import SelectionPath
from .ranking import NEW, READ, TOPIC

__all__ = ["PINNED", "describe", "explain_list"]

PINNED = "pinned"  # the plugin's editors pinned it


def describe(kind: str, subject: str, titles: Mapping[int, str], topics: Mapping[str, str]) -> str:
    """The reason of a pick (``ranking.Pick``'s kind and subject), naming the page read or the topic."""
    if kind == READ and subject.isdigit() and int(subject) in titles:
        return gettext("Because you read “%(page)s”") % {"page": titles[int(subject)]}
    if kind == TOPIC and subject:
        return gettext("Popular in %(topic)s") % {"topic": topics.get(subject, subject)}
    if kind == NEW and subject:
        return gettext("New in %(topic)s, a topic you follow") % {"topic": topics.get(subject, subject)}
    if kind == PINNED:
        return gettext("Picked by the editors")
    return gettext("Popular on this site these days")


def explain_list(path: str) -> str:
    """How a visitor's list was made ("Why am I seeing this?"), by the path that chose it."""
    if path == SelectionPath.PERSONALIZED:
        return gettext(
            "Recommended pages: from the pages you read here, what their other readers read, and the topics you "
            "read most."
        )
    if path == SelectionPath.CUSTOMIZED:
        return gettext("Recommended pages: from the topics you follow. What you read here is not used.")
    if path == SelectionPath.HOLDOUT:
        return gettext(
            "Recommended pages: the most read pages. Some visitors get this list so the site can tell whether "
            "its recommendations help."
        )
    return gettext("Recommended pages: the most read pages, as the site doesn't know what you like yet.")
