"""The CMS pages and visitors of the widgets' tests: the same fixtures and helpers."""

from __future__ import annotations

from tests.widgets.conftest import make_page, placeholder, text, visitor_client  # noqa: F401
