from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TailoredCmsConfig(AppConfig):
    name = "tailored_cms"
    verbose_name = _("Tailored content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: these modules load models, which ready() is the first place allowed to.
        from . import checks  # noqa: F401 - registers the system checks
        from .areas import fetch
        from .areas import receivers as areas_receivers  # noqa: F401 - a variant changed moves its area's row
        from .edge import receivers as edge_receivers  # noqa: F401 - editors' changes purge the edge caches
        from .recommendations import receivers as recommendations_receivers  # noqa: F401 - lists after ingest
        from .rules import receivers as rules_receivers  # noqa: F401 - a saved segment is recomputed
        from .translations import configure_languages
        from .visitors import receivers  # noqa: F401 - connects the login/logout receivers
        from .widgets import receivers as widgets_receivers  # noqa: F401 - tagging drops cached feeds and panels

        compose_round_trips()
        configure_languages()
        fetch.install()  # django CMS builds only the variants a visitor is shown
        # isort: off
        # Last: receivers run in the order they were connected, and the results' counters of events_stored are the
        # rows concurrent ingest batches share most, so they are written last, locked for the shortest time.
        from .results import receivers as results_receivers  # noqa: F401 - the ingest's events are rolled up
        # isort: on


def compose_round_trips() -> None:
    """Register each subsystem's piece of a request's one Redis round trip (see ``round_trip``): here, because the
    snapshot store that sends the trips sits below the subsystems riding on them. Imported here: their modules
    load models, which ``ready()`` is the first place allowed to."""
    from . import round_trip
    from .areas.cache_budget import NOTES
    from .rules.active import ACTIVE_SEGMENTS
    from .tracking.beacon import EVENTS
    from .tracking.capture import PAGE_VIEW

    for piece in (PAGE_VIEW, ACTIVE_SEGMENTS, NOTES):
        round_trip.PAGE.register(piece)
    # The active segments ride on events/ too: under EDGE_MODE its answer renews the visitor's edge key, which
    # counts only the segments still active.
    for piece in (EVENTS, ACTIVE_SEGMENTS):
        round_trip.EVENTS.register(piece)
