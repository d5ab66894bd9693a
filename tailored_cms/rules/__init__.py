"""Segments: the rule registry and rule types, evaluation, Celery recompute (full and incremental), memberships.

Importing this package loads no models (a site's ``rules.py`` may ``from tailored_cms.rules import register``
at import time): ``models``, ``evaluation``, ``recompute`` and ``tasks`` are imported where they are used.
"""

from __future__ import annotations

from . import builtin, builtin_traits  # noqa: F401 - register the built-in rule types
from .registry import (
    NOBODY,
    BehaviouralRule,
    Param,
    RequestRule,
    Rule,
    describe_rules,
    get_rule,
    register,
    registered_rules,
    unregister,
)
from .request_time import RequestFacts, segments_for
from .trees import MAX_DEPTH, MAX_RULES, describe_tree, validate_tree

__all__ = [
    "MAX_DEPTH",
    "MAX_RULES",
    "NOBODY",
    "BehaviouralRule",
    "Param",
    "RequestFacts",
    "RequestRule",
    "Rule",
    "describe_rules",
    "describe_tree",
    "get_rule",
    "register",
    "registered_rules",
    "segments_for",
    "unregister",
    "validate_tree",
]
