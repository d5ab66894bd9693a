"""Django's admin autodiscovery looks here; each subpackage registers its own models."""

from .areas import admin as areas_admin  # noqa: F401
from .results import admin as results_admin  # noqa: F401
from .rules import admin as rules_admin  # noqa: F401
from .tracking import admin as tracking_admin  # noqa: F401
from .visitors import admin as visitors_admin  # noqa: F401
from .widgets import admin as widgets_admin  # noqa: F401
