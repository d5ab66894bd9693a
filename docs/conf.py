"""Sphinx configuration of the documentation site: ``make docs`` builds it into ``docs/_build/html`` (warnings fail it).

The pages are Markdown (MyST). The reference pages are generated at build time from the code itself (the settings'
defaults, the rule registry, the OpenAPI schema, the Python API's docstrings), so they can't drift from it; the
extensions that generate them are in ``docs/_ext``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")
django.setup()

from tailored_cms import __version__  # noqa: E402

project = "tailored_cms"
author = "The tailored_cms authors"
copyright = "the tailored_cms authors"  # noqa: A001 (Sphinx's name)
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "tailored_settings",
    "tailored_rules",
    "tailored_openapi",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True  # a default as written (``_UNSET``), not its repr

# Types the signatures name that no page documents (nitpicky mode warns on each; intersphinx needs the network).
nitpick_ignore_regex = [
    ("py:class", r"(collections\.abc|datetime|django|cms|parler)\..+"),  # the standard library's, Django's, CMS's
    ("py:class", r"tailored_cms\..+\.[A-Z]"),  # type variables (V, K, R, S)
]
nitpick_ignore = [
    ("py:class", name)
    for name in (
        # Annotations imported only for type checkers, which autodoc sees as written.
        "date",
        "datetime",
        "HttpRequest",
        "Page",
        "Placeholder",
        "Q",
        "StrOrPromise",
        "TailoredArea",
        "Variant",
        "Widget",
        "WidgetBoard",
        "PageTopics",
        "RecomputeSummary",
        "Snapshot",
        # tailored_cms's own types that the Python API page names without documenting them.
        "tailored_cms.visitors.snapshot.Snapshot",
        "tailored_cms.visitors.models.Topic",
        "tailored_cms.rules.models.Segment",
        "tailored_cms.tracking.stream.TrackedEvent",
        "tailored_cms.areas.reasons.Reason",
        "tailored_cms.areas.matching.Choices",
        "tailored_cms.areas.strategies.registry.AreaSettings",
        "tailored_cms.areas.strategies.registry.ExplainedChoices",
    )
]

html_theme = "furo"
html_title = f"tailored_cms {release}"
html_static_path: list[str] = []
