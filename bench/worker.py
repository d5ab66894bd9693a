"""A real Celery worker with bench.settings, as a site runs it: ``celery -A tailored_cms.celery_app worker``.

``CeleryWorker`` starts it with Celery's default pool (prefork) and concurrency (one process per core), waits until
it answers a ping and stops it. Its broker is the bench's private Redis (bench/settings.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from .served import start, stop


class CeleryWorker:
    """``celery -A tailored_cms.celery_app worker`` with ``concurrency`` processes (default: one per core)."""

    def __init__(self, concurrency: int | None = None) -> None:
        self.concurrency = concurrency or os.cpu_count() or 1
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="tailored-celery-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def kind(self) -> str:
        return f"a Celery worker, prefork × {self.concurrency} (Celery's default: one process per core)"

    def __enter__(self) -> CeleryWorker:
        from tailored_cms.celery_app import app

        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tailored_cms.celery_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(self.concurrency),
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "warning",
        ]
        self.process = start(command, self.env, self.log, lambda: bool(app.control.ping(timeout=0.5)), "celery")
        return self

    def __exit__(self, *exc_info: object) -> None:
        stop(self.process, grace=60)  # Celery's warm shutdown: the tasks running finish
        self.log.close()
