"""Which events may count as a conversion (an area's goal): those the page or the site send, not the beacon's own.

Here, beside the event names, because both the settings of an area (its ``goal`` column) and the results roll-up
(which looks for conversions only in batches with other events) read it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .stream import CLICK, IMPRESSION, PAGE_VIEW, TIME_ON_PAGE

__all__ = ["NOT_GOALS", "validate_goal"]

# Events that can't be an area's goal: the server's and the beacon's own (results count clicks anyway). So the
# ingest looks for conversions only in batches with other events.
NOT_GOALS = frozenset({PAGE_VIEW, IMPRESSION, CLICK, TIME_ON_PAGE})


def validate_goal(value: str) -> None:
    """An event name the page or the site sends (``tailored.track``, ``api.record_event``), not the beacon's own."""
    RegexValidator(
        r"^[A-Za-z0-9_.:-]+$", _("An event name: letters, digits and _ . : - (as sent with tailored.track).")
    )(value)
    if value in NOT_GOALS:
        raise ValidationError(
            _("“%(name)s” can't be a goal: clicks are counted anyway; name the event that means success here."),
            params={"name": value},
        )
