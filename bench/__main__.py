"""Run every bench and print one table: figure, baseline measured in the same run, ratio, target.

The database is PostgreSQL when one answers at 127.0.0.1:5432 (a throwaway database, dropped at the end), else
a throwaway SQLite file; the table's heading says which. Redis is a private redis-server.
``python -m bench render``, ``events``, ``recompute``, ``recommendations`` or ``edge`` runs one of them
(``TAILORED_BENCH_VISITORS=10000`` makes the recompute bench smaller,
``TAILORED_BENCH_RECOMMENDATION_VISITORS=10000`` the recommendations one; the whole bench, without
``TAILORED_BENCH_VISITORS``, also runs the recompute bench at a million visitors, in a process and a database of
its own, after the others, on PostgreSQL: ``MILLION``); ``variants``: the render bench's rows of
one area with 2 to 100 variants only); ``python -m bench profile`` prints where a page view's time goes instead
(cProfile, bench/profile.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MILLION = 1_000_000  # the recompute bench's second size, in the whole bench
ROWS_FILE = "TAILORED_BENCH_ROWS_FILE"  # where a bench run by another writes its rows (JSON) for that one's table


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """A fresh PostgreSQL database if the server at 127.0.0.1:5432 answers, else a fresh SQLite file."""
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "bench.sqlite3").unlink(missing_ok=True)
    try:
        import psycopg

        admin = psycopg.connect(
            host=os.environ.get("TAILORED_DB_HOST", "127.0.0.1"),
            port=os.environ.get("TAILORED_DB_PORT", "5432"),
            user=os.environ.get("TAILORED_DB_USER", "postgres"),
            dbname="postgres",
            autocommit=True,
            connect_timeout=3,
        )
    except Exception as exc:  # noqa: BLE001 - no driver, no server, no access: all mean SQLite
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        yield f"SQLite (no PostgreSQL at 127.0.0.1:5432: {reason})"
        return
    name = f"tailored_bench_{os.getpid()}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["TAILORED_BENCH_DB_NAME"] = name
        try:
            yield "PostgreSQL at 127.0.0.1:5432"
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> str:
    """Cores, CPU and the load average now: other work on the machine moves every figure."""
    loads = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    return f"{platform.node()}, {os.cpu_count()} cores, {cpu_model()}, load average at start {loads}"


def main() -> None:
    from tests.redis_server import RedisServer

    whole = not sys.argv[1:]
    wanted = set(sys.argv[1:]) or {"render", "events", "recompute", "recommendations", "edge"}
    host = machine()
    print(f"tailored_cms bench — {host}")
    server = RedisServer()
    server.start()
    os.environ["TAILORED_BENCH_REDIS_URL"] = server.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    try:
        with bench_database() as database:
            print(f"tailored_cms bench on {database}")
            import django

            django.setup()
            from bench import edge, events, recommendations, recompute, render

            if "profile" in wanted:  # not in the table: where the time goes (bench/profile.py)
                from bench import profile

                profile.run()
                return
            rows = render.run() if "render" in wanted else render.run(("variants",)) if "variants" in wanted else []
            rows += events.run() if "events" in wanted else []
            rows += recompute.run() if "recompute" in wanted else []
            rows += recommendations.run() if "recommendations" in wanted else []
            rows += edge.run() if "edge" in wanted else []
    finally:
        server.stop()
    if whole and "TAILORED_BENCH_VISITORS" not in os.environ and database.startswith("PostgreSQL"):
        rows += recompute_at_a_million()
    if ROWS_FILE in os.environ:
        Path(os.environ[ROWS_FILE]).write_text(json.dumps(rows))
    print_table(rows, database, host)


def recompute_at_a_million() -> list[dict[str, str]]:
    """The recompute bench's rows at ``MILLION`` visitors: ``python -m bench recompute`` in a process (and so a
    database and a Redis) of its own, its rows read back. Its data takes a couple of minutes to make."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {**os.environ, "TAILORED_BENCH_VISITORS": str(MILLION), ROWS_FILE: out.name}
        subprocess.run([sys.executable, "-m", "bench", "recompute"], cwd=ROOT, env=env, check=True)
        return json.loads(Path(out.name).read_text())


def print_table(rows: list[dict[str, str]], database: str, host: str) -> None:
    print(f"\ntailored_cms bench — {host}; Python {platform.python_version()}, {database}")
    print(f"load average at the end {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    headers = ["figure", "tailored", "baseline", "ratio", "target", "how"]
    rows = [{"how": "-", **row} for row in rows]
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(row[h].ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
