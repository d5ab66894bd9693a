from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TailoredCmsConfig(AppConfig):
    name = "tailored_cms"
    verbose_name = _("Tailored content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .results import receivers as results_receivers  # noqa: F401 - the ingest's events are rolled up
        from .rules import receivers as rules_receivers  # noqa: F401 - a saved segment is recomputed
        from .visitors import receivers  # noqa: F401 - connects the login/logout receivers
        from .widgets import receivers as widgets_receivers  # noqa: F401 - tagging drops cached feeds and panels
