from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TailoredCmsConfig(AppConfig):
    name = "tailored_cms"
    verbose_name = _("Tailored content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .rules import receivers as rules_receivers  # noqa: F401 - a saved segment is recomputed
        from .visitors import receivers  # noqa: F401 - connects the login/logout receivers
        from .widgets import receivers as widgets_receivers  # noqa: F401 - tagging drops cached feeds and panels

        # isort: off
        # Last: receivers run in the order they were connected, and the results' counters of events_stored are the
        # rows concurrent ingest batches share most, so they are written last, locked for the shortest time.
        from .results import receivers as results_receivers  # noqa: F401 - the ingest's events are rolled up
        # isort: on
