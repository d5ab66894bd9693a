"""Debian's Chromium driven by Playwright (``playwright install`` can't download a browser here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


class ChromiumMissing(RuntimeError):
    """Chromium is not installed, or would not start."""


def launch_chromium(playwright: Any) -> Browser:
    """Launch Chromium; ``ChromiumMissing`` says what to install when it can't."""
    if not os.access(CHROMIUM, os.X_OK):
        raise ChromiumMissing(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
            "(`apt-get install chromium`, or `make test`, which installs it). They fail, never skip, without it."
        )
    try:
        return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:  # any launch failure is the same failure to report
        raise ChromiumMissing(f"Chromium at {CHROMIUM} did not start: {exc}") from exc


def launch_for_test(playwright: Any) -> Browser:
    """Launch Chromium in a test; fails the test (never skips it) when Chromium is missing."""
    import pytest

    try:
        return launch_chromium(playwright)
    except ChromiumMissing as exc:
        pytest.fail(str(exc), pytrace=False)
