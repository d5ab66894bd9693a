"""A real Celery worker with bench.settings, as a site runs it: ``celery -A tailored_cms.celery_app worker``.

``CeleryWorker`` starts it with Celery's default pool (prefork) and concurrency (one process per core), on every
queue or only ``queues``, waits until it answers a ping and stops it; ``peak_mb`` is the largest peak RSS of its
processes. Its broker is the bench's private Redis (bench/settings.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .served import start, stop


class CeleryWorker:
    """``celery -A tailored_cms.celery_app worker`` with ``concurrency`` processes (default: one per core)."""

    def __init__(self, concurrency: int | None = None, queues: str | None = None) -> None:
        self.concurrency = concurrency or os.cpu_count() or 1
        self.queues = queues
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
            *(("-Q", self.queues, "--prefetch-multiplier", "1") if self.queues else ()),
        ]
        self.process = start(command, self.env, self.log, lambda: bool(app.control.ping(timeout=0.5)), "celery")
        return self

    def peak_mb(self) -> float:
        """The largest peak RSS (VmHWM) among the worker's processes, in MB (Linux; 0 elsewhere)."""
        assert self.process is not None
        pids = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the parent pid: a pool process
                pids.append(int(stat.parent.name))
        peaks = [0.0]
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
        return max(peaks)

    def __exit__(self, *exc_info: object) -> None:
        stop(self.process, grace=60)  # Celery's warm shutdown: the tasks running finish
        self.log.close()
