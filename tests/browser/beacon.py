"""What the browser tests need of the beacon (tracking.js): a page's events all sent before the test looks."""

from __future__ import annotations

from playwright.sync_api import Page


def settled(page: Page) -> None:
    """What the page would send now is sent: the beacon's flush as the visitor leaves (``pagehide``, which
    tracking.js listens for; a ``visibilitychange`` while the page is visible flushes nothing), then a request of
    the page's own answered, so a beacon sent before it has been seen, and the network quiet."""
    page.evaluate(
        """async () => {
            window.dispatchEvent(new PageTransitionEvent("pagehide", {persisted: false}));
            await fetch("/static/tailored_cms/tracking.js", {method: "HEAD", cache: "no-store"});
        }"""
    )
    page.wait_for_load_state("networkidle")
