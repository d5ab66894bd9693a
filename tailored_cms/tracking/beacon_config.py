"""What the beacon script (tracking.js) is told in its data attributes: where to send events, the limits, and which
of the site's analytics tools it also reports to (``ANALYTICS``)."""

from __future__ import annotations

from enum import StrEnum

from ..conf import tailored_settings
from ..mounts import api_root

__all__ = ["AnalyticsTarget", "analytics_targets", "beacon_config"]


class AnalyticsTarget(StrEnum):
    """Where tracking.js reports what a visitor was shown and clicked, besides tailored_cms's own results."""

    DATALAYER = "datalayer"  # window.dataLayer: Google Tag Manager, GA4
    MATOMO = "matomo"  # Matomo's _paq
    EVENTS = "events"  # the DOM events tailored:impression and tailored:click, for any other tool


def analytics_targets() -> list[str]:
    """The ``ANALYTICS`` targets tracking.js knows, in the setting's order (check E022 names the others)."""
    targets = tailored_settings.ANALYTICS
    if not isinstance(targets, list | tuple):
        return []
    return [target for target in dict.fromkeys(targets) if target in tuple(AnalyticsTarget)]


def beacon_config() -> dict[str, str]:
    """What tracking.js reads from its data attributes: the events URL and the endpoint's limits ({} if unmounted);
    with ``ANALYTICS``, its targets and the Matomo dimension.

    ``{% tailored_tracking %}`` writes them; the consent banner and the consent bridge carry the same, to start the
    beacon after the visitor says yes.
    """
    root = api_root()
    if not root:
        return {}
    config = {
        "events": root + "events/",
        "batch": str(tailored_settings.EVENTS_MAX_BATCH),
        "max-props": str(tailored_settings.EVENT_MAX_PROPS),
        "max-prop-bytes": str(tailored_settings.EVENT_MAX_PROP_BYTES),
    }
    targets = analytics_targets()
    if targets:
        config["analytics"] = " ".join(targets)
        dimension = tailored_settings.ANALYTICS_MATOMO_DIMENSION
        if AnalyticsTarget.MATOMO in targets and dimension is not None:
            config["matomo-dimension"] = str(dimension)
    return config
