"""Screenshots of the demo homepage in every theme and layout: ``docs/screenshots/home-<theme>-<layout>.png``.

Run with ``make screenshots``. Serves the example site as the browser tests do (a fresh SQLite file seeded by
``tailored_demo``, a private redis-server), and drives Debian's Chromium at 1280x900. The visitor follows
Sports and Technology, so the tailored areas show what they are for.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from tests.browser.chromium import CHROMIUM, VIEWPORT, launch_chromium  # noqa: E402
from tests.browser.demo_server import DemoSite, serve_demo  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
THEMES = ["light", "dark", "high-contrast"]
LAYOUTS = ["one-column", "two-columns", "grid"]
TOPICS = ["sports", "technology"]


def shoot(browser: Browser, site: DemoSite, theme: str, layout: str) -> Path:
    """One new visitor with these choices (saved through the REST API, as the page's script does)."""
    context = browser.new_context(viewport=VIEWPORT, base_url=site.base_url)
    api = site.url("/tailored/api/v1/preferences/")
    assert context.request.get(api).ok  # sets the csrftoken cookie
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    answer = context.request.patch(
        api, data={"topics": TOPICS, "theme": theme, "layout": layout}, headers={"X-CSRFToken": token}
    )
    assert answer.ok, answer.text()
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("[data-tailored-panel][data-tailored-ready]")
    path = OUT / f"home-{theme}-{layout}.png"
    page.screenshot(path=str(path))
    context.close()
    return path


def main() -> int:
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium).", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    redis = RedisServer()
    redis.start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="tailored-screenshots-") as directory,
            serve_demo(Path(directory), redis.url) as site,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            for theme in THEMES:
                for layout in LAYOUTS:
                    print(shoot(browser, site, theme, layout).relative_to(ROOT))
            browser.close()
    finally:
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
