"""Strategies: how a tailored area picks what a visitor sees. A registry of classes, one module per built-in one.

Importing this package loads no models (a site's module may ``from tailored_cms.areas.strategies import
register_strategy, Strategy`` at import time).
"""

from __future__ import annotations

# The built-in strategies register as they are imported, in the order editors see them (and migrations record).
# isort: off
from . import static  # noqa: F401
from . import customization  # noqa: F401
from . import personalization  # noqa: F401
from . import hybrid  # noqa: F401
from . import optimize  # noqa: F401
from . import experiment  # noqa: F401

# isort: on
from .registry import (
    Strategy,
    get_strategy,
    register_strategy,
    registered_strategies,
    shipped_choices,
    strategy_choices,
    unregister_strategy,
)

__all__ = [
    "Strategy",
    "get_strategy",
    "register_strategy",
    "registered_strategies",
    "shipped_choices",
    "strategy_choices",
    "unregister_strategy",
]
