"""Run every bench and print one table: figure, baseline measured in the same run, ratio, target."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from tests.redis_server import RedisServer

    server = RedisServer()
    server.start()
    os.environ["TAILORED_BENCH_REDIS_URL"] = server.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    try:
        import django

        (ROOT / "var").mkdir(exist_ok=True)
        (ROOT / "var" / "bench.sqlite3").unlink(missing_ok=True)
        django.setup()
        from bench import render

        rows = render.run()
    finally:
        server.stop()
    print_table(rows)


def print_table(rows: list[dict[str, str]]) -> None:
    cpu = platform.processor() or platform.machine()
    print(
        f"\ntailored_cms bench — {platform.node()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
    )
    headers = ["figure", "tailored", "baseline", "ratio", "target"]
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(row[h].ljust(w) for h, w in zip(headers, widths, strict=True)))


if __name__ == "__main__":
    main()
