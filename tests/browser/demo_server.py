"""The example site with the demo content, served by ``runserver`` in a subprocess (browser tests, screenshots).

It gets a SQLite file of its own in ``directory`` (migrated, seeded by ``tailored_demo``, plus the staff user
``READER``) and the given Redis. Why not pytest-django's ``live_server``: the front end fires overlapping
requests (a save, the page re-fetch, static files), and ``live_server`` serves them from threads that share
the test's one in-memory SQLite connection; a server process on a file is the site as a visitor meets it,
the CMS's page and placeholder caches included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
READER = ("reader", "reader-password")  # staff: the admin's login page lets only staff in
SEED = f"""
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("tailored_demo")
get_user_model().objects.create_user({READER[0]!r}, "reader@example.com", {READER[1]!r}, is_staff=True)
"""


class DemoServerError(RuntimeError):
    """The site could not be seeded or served; the message ends with the server's output."""


@dataclass(frozen=True)
class DemoSite:
    """The example site with the demo content, served at ``base_url``."""

    base_url: str
    log: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextmanager
def serve_demo(directory: Path, redis_url: str, startup_timeout: float = 30) -> Iterator[DemoSite]:
    """Seed a fresh database in ``directory`` and serve the example site on a free port until the block ends."""
    log = directory / "server.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.site_settings",
        "TAILORED_BROWSER_DB": str(directory / "db.sqlite3"),
        "TAILORED_TEST_REDIS_URL": redis_url,
        "TAILORED_REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    seeded = subprocess.run(
        [sys.executable, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    if seeded.returncode:
        raise DemoServerError(f"Seeding the example site failed:\n{seeded.stdout}\n{seeded.stderr}")

    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    site = DemoSite(base_url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _answers(site.url("/")):
            if server.poll() is not None:
                raise DemoServerError(f"runserver exited with {server.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise DemoServerError(f"runserver did not answer within {startup_timeout} s:\n{_tail(log)}")
            time.sleep(0.1)
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
