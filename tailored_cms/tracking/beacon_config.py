"""What the beacon script (tracking.js) is told in its data attributes: where to send events, and the limits."""

from __future__ import annotations

from ..conf import tailored_settings
from ..mounts import api_root

__all__ = ["beacon_config"]


def beacon_config() -> dict[str, str]:
    """What tracking.js reads from its data attributes: the events URL and the endpoint's limits ({} if unmounted).

    ``{% tailored_tracking %}`` writes them; the consent banner carries the same, to start the beacon after the
    visitor says yes.
    """
    root = api_root()
    if not root:
        return {}
    return {
        "events": root + "events/",
        "batch": str(tailored_settings.EVENTS_MAX_BATCH),
        "max-props": str(tailored_settings.EVENT_MAX_PROPS),
        "max-prop-bytes": str(tailored_settings.EVENT_MAX_PROP_BYTES),
    }
