"""A real Celery worker with bench.settings, as a site runs it: ``celery -A tailored_cms.celery_app worker``.

``CeleryWorker`` starts it with Celery's default pool (prefork) and concurrency (one process per core), waits until
it answers a ping and stops it. Its broker is the bench's private Redis (bench/settings.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker stopped: {Path(self.log.name).read_text()[-2000:]}")
            if app.control.ping(timeout=0.5):
                return self
        self.__exit__()
        raise RuntimeError(f"the Celery worker did not answer within 60 s: {Path(self.log.name).read_text()[-2000:]}")

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: the tasks running finish
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
