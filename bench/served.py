"""The site served for real: gunicorn with bench.settings on a free local port, loaded by ``wrk`` or in turns.

``Served`` starts gunicorn, waits until it answers and stops it; ``load`` runs ``wrk`` for a while with a Lua
script (POST bodies) and reads its figures; ``alternate`` times one request at a time, the pages in turn. Traffic
goes to 127.0.0.1 only, for a bounded time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.redis_server import free_port

from .cpu_time import HEADER as CPU_HEADER

ROOT = Path(__file__).resolve().parent.parent


class Served:
    """``gunicorn example_site.wsgi`` with ``bench.settings``: ``workers`` processes of ``threads`` threads each,
    each holding at most ``connections_per_worker`` connections (gthread; gunicorn's default is 1,000).

    A gthread worker accepts every connection it can while it is awake: the few connections of a load often all
    land on one worker, which then serves them on one core while the other idles (rounds at half the rate). A
    cap of the load's connections divided by the workers spreads them evenly, as many clients would.
    """

    def __init__(
        self, workers: int = 2, threads: int = 1, env: dict[str, str] | None = None, connections_per_worker: int = 1000
    ) -> None:
        self.workers, self.threads, self.connections_per_worker = workers, threads, connections_per_worker
        self.port = free_port()
        self.env = {**os.environ, **(env or {}), "DJANGO_SETTINGS_MODULE": "bench.settings"}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="tailored-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def kind(self) -> str:
        return f"{self.workers} sync workers" if self.threads == 1 else f"{self.workers}×{self.threads} gthread"

    def __enter__(self) -> Served:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "example_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync" if self.threads == 1 else "gthread",
            "--threads",
            str(self.threads),
            "--worker-connections",
            str(self.connections_per_worker),
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ]
        self.process = start(command, self.env, self.log, self.answers, "gunicorn")
        return self

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/tailored/api/v1/themes/", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
            return False

    def __exit__(self, *exc_info: object) -> None:
        stop(self.process, grace=20)
        self.log.close()


def start(
    command: list[str], env: dict[str, str], log: IO[bytes], ready: Callable[[], bool], name: str
) -> subprocess.Popen[bytes]:
    """Start ``command`` (output to ``log``) and wait up to 60 s until ``ready()``; raise with the log if not."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} stopped: {Path(log.name).read_text()[-2000:]}")
        if ready():
            return process
    stop(process, grace=10)
    raise RuntimeError(f"{name} did not answer within 60 s: {Path(log.name).read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM (a graceful stop: what runs finishes), then SIGKILL after ``grace`` seconds."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class Load:
    """What ``wrk`` measured, and what its script counted."""

    requests_per_second: float
    sent: int  # requests the script built
    answered: int  # responses received
    ok: int  # responses with the expected status
    output: str


def wrk_binary() -> str:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (scripts/ensure-system.sh).")
    return binary


# What load() adds to each script: response() counts the answers and those with the expected status, done() prints
# every thread's counts in the line load() reads.
COUNTING = """
function response(status, headers, body)
  answered = answered + 1
  if status == $ok_status then ok = ok + 1 end
end

function done(summary, latency, requests)
  local s, a, k = 0, 0, 0
  for _, thread in ipairs(threads) do
    s = s + thread:get("sent")
    a = a + thread:get("answered")
    k = k + thread:get("ok")
  end
  io.write(string.format("bench: sent %d answered %d ok %d\\n", s, a, k))
end
"""


def load(url: str, script: str, *, seconds: int, connections: int, threads: int = 1, ok_status: int = 200) -> Load:
    """Run ``wrk`` against ``url`` for ``seconds`` with the Lua ``script``. The script declares the globals
    ``sent``, ``answered`` and ``ok``, keeps each thread in ``threads`` from its ``setup()`` and adds 1 to ``sent``
    in ``request()``; ``load`` adds the ``response()`` and ``done()`` that count the rest (``COUNTING``)."""
    with tempfile.NamedTemporaryFile("w", prefix="tailored-wrk-", suffix=".lua") as file:
        file.write(script + COUNTING.replace("$ok_status", str(ok_status)))
        file.flush()
        command = [wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", file.name, url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    output = result.stdout + result.stderr
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    counts = re.search(r"bench: sent (\d+) answered (\d+) ok (\d+)", output)
    if result.returncode != 0 or rate is None or counts is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {output[-2000:]}")
    sent, answered, ok = (int(n) for n in counts.groups())
    return Load(float(rate.group(1)), sent, answered, ok, output)


@dataclass
class Timed:
    """One page's requests in ``alternate``: each one's latency and the CPU time its view took (ms)."""

    latencies: list[float] = field(default_factory=list)  # from connecting until the server closed
    cpu: list[float] = field(default_factory=list)  # the site's ``cpu_time.HEADER``, if it sends it


def alternate(requests: dict[str, tuple[int, bytes]], seconds: float) -> dict[str, Timed]:
    """Send each of the ``requests`` (name: (port on 127.0.0.1, raw HTTP/1.1 with ``Connection: close``)) in
    turn, one at a time (a, b, c, a, b, …), for ``seconds``; each one's latencies, from connecting until the
    server has sent the whole response and closed, and the CPU times the responses report.

    Consecutive requests meet the machine in the same state: load that comes and goes, and this VM's speed,
    which changes from one second to the next, weigh on all alike. Give each its own server (``Served``), so that
    what a request leaves to the next one of its process (a garbage collection its allocations trigger) stays
    with it. A raw socket: what Python adds to each request (tens of µs) is the same for all, and small."""
    timed = {name: Timed() for name in requests}
    cpu_header = re.compile(rf"\r\n{re.escape(CPU_HEADER)}: (\d+)\r\n".encode(), re.IGNORECASE)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, (port, request) in requests.items():
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
                connection.sendall(request)
                response = b"".join(iter(lambda: connection.recv(65536), b""))  # noqa: B023 - used at once
            timed[name].latencies.append((time.perf_counter() - started) * 1000)
            if not response.startswith(b"HTTP/1.1 200 "):
                raise AssertionError(f"{name}: {response[:200]!r}")
            if cpu := cpu_header.search(response, 0, response.find(b"\r\n\r\n") + 2):
                timed[name].cpu.append(int(cpu.group(1)) / 1000)
    return timed
