"""The example site with the demo content, served by ``runserver`` in a subprocess (browser tests, screenshots).

It gets a SQLite file of its own in ``directory`` (migrated, seeded by ``tailored_demo``, plus the staff user
``READER``) and the given Redis. Why not pytest-django's ``live_server``: the front end fires overlapping
requests (a save, the page re-fetch, static files), and ``live_server`` serves them from threads that share
the test's one in-memory SQLite connection; a server process on a file is the site as a visitor meets it,
the CMS's page and placeholder caches included.

With ``worker=True`` a Celery worker with beat runs beside it, as ``scripts/demo.sh`` starts one
(``celery -A tailored_cms.celery_app worker -B``), on the same database and Redis (its broker too): tracked
page views are ingested and segments recomputed as on a real site. That Redis must be the site's alone: the
worker drains its event stream, and a FLUSHDB would take its broker's queues away.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from celery import Celery

from ..redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
READER = ("reader", "reader-password")  # staff: the admin's login page lets only staff in
EDITOR = ("segments-viewer", "viewer-password")  # staff who may view segments
SEED = f"""
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("tailored_demo")
get_user_model().objects.create_user({READER[0]!r}, "reader@example.com", {READER[1]!r}, is_staff=True)
from django.contrib.auth.models import Permission
editor = get_user_model().objects.create_user({EDITOR[0]!r}, "viewer@example.com", {EDITOR[1]!r}, is_staff=True)
editor.user_permissions.add(Permission.objects.get(codename="view_segment"))
"""


class DemoServerError(RuntimeError):
    """The site could not be seeded or served; the message ends with the server's output."""


@dataclass(frozen=True)
class DemoSite:
    """The example site with the demo content, served at ``base_url``."""

    base_url: str
    log: Path
    worker_log: Path | None = None  # the Celery worker's (and beat's) output, when one runs

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def logs(self) -> str:
        """The end of the server's and the worker's output: what a failing test shows."""
        parts = [f"--- runserver ({self.log}) ---\n{_tail(self.log)}"]
        if self.worker_log is not None:
            parts.append(f"--- Celery worker with beat ({self.worker_log}) ---\n{_tail(self.worker_log)}")
        return "\n".join(parts)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def _site_env(directory: Path, redis_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.site_settings",
        "TAILORED_BROWSER_DB": str(directory / "db.sqlite3"),
        "TAILORED_TEST_REDIS_URL": redis_url,
        "TAILORED_REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }


def seed_demo(directory: Path, redis_url: str) -> Path:
    """A SQLite file in ``directory``, migrated and seeded with the demo content: to serve, or to copy for several
    sites (``serve_demo(..., seeded=...)``)."""
    seeded = subprocess.run(
        [sys.executable, "-c", SEED],
        cwd=ROOT,
        env=_site_env(directory, redis_url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    if seeded.returncode:
        raise DemoServerError(f"Seeding the example site failed:\n{seeded.stdout}\n{seeded.stderr}")
    return directory / "db.sqlite3"


def run_in_site(directory: Path, redis_url: str, code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` (Python, after ``django.setup()``) on the database in ``directory`` and ``redis_url``, as the
    site's own shell would: what it printed. ``DemoServerError`` with its output if it fails."""
    ran = subprocess.run(
        [sys.executable, "-c", "import django\ndjango.setup()\n" + code],
        cwd=ROOT,
        env=_site_env(directory, redis_url, env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ran.returncode:
        raise DemoServerError(f"Running code in the example site failed:\n{ran.stdout}\n{ran.stderr}")
    return ran.stdout


@contextmanager
def serve_demo(
    directory: Path,
    redis_url: str,
    startup_timeout: float = 30,
    *,
    worker: bool = False,
    seeded: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[DemoSite]:
    """Seed a fresh database in ``directory`` (or copy the ``seeded`` one there) and serve the example site on a
    free port until the block ends; with ``worker``, a Celery worker with beat too (``redis_url`` is then the
    site's alone). ``env``: environment variables of the site's processes (what ``site_settings`` reads)."""
    log = directory / "server.log"
    if seeded is None:
        seed_demo(directory, redis_url)
    else:
        shutil.copyfile(seeded, directory / "db.sqlite3")
    env = _site_env(directory, redis_url, env)

    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    worker_log = directory / "worker.log"
    site = DemoSite(base_url=f"http://127.0.0.1:{port}", log=log, worker_log=worker_log if worker else None)
    celery: subprocess.Popen[bytes] | None = None
    try:
        if worker:
            celery = _start_worker(worker_log, env)
        deadline = time.monotonic() + startup_timeout
        while not _answers(site.url("/")):
            if server.poll() is not None:
                raise DemoServerError(f"runserver exited with {server.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise DemoServerError(f"runserver did not answer within {startup_timeout} s:\n{_tail(log)}")
            time.sleep(0.1)
        if celery is not None:
            _wait_for_worker(celery, redis_url, worker_log)
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if celery is not None:
            _stop_worker(celery)


def _start_worker(log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``celery -A tailored_cms.celery_app worker -B``: one worker consuming every queue (scripts/demo.sh runs two,
    one per queue; docs/deployment.md allows either), its output in ``log``.

    Celery logs warnings and errors only (a line per task every second would bury them); tailored_cms's own
    logger says what each ingest did (the example site's LOGGING). A session of its own, so that stopping it
    can reach the pool's and beat's processes too.
    """
    command = [
        *(sys.executable, "-m", "celery", "-A", "tailored_cms.celery_app", "worker", "-B"),
        *("--loglevel=WARNING", "--concurrency=2", "--hostname=demo@%h"),
        *("--schedule", str(log.parent / "celerybeat-schedule")),
    ]
    with log.open("wb") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for_worker(worker: subprocess.Popen[bytes], broker_url: str, log: Path, timeout: float = 60) -> None:
    """Until the worker answers a ping through its broker; ``DemoServerError`` with its log if it never does."""
    deadline = time.monotonic() + timeout
    with Celery("demo-site-ping", broker=broker_url, set_as_current=False) as app:
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None:
                raise DemoServerError(f"The Celery worker exited with {worker.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise DemoServerError(f"The Celery worker did not answer a ping within {timeout} s:\n{_tail(log)}")


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """A warm shutdown (SIGTERM: the running ingest finishes); if it hangs, its whole process group is killed."""
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)  # the group it leads: the worker, its pool and beat
        worker.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
