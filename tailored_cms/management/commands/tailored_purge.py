"""``manage.py tailored_purge``: remove what is older than ``RETENTION_DAYS`` (what the daily Celery task runs)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...tracking.retention import CHUNK, purge


class Command(BaseCommand):
    help = (
        "Delete events, daily counters and spooled events older than RETENTION_DAYS, and anonymous visitors "
        "inactive for longer. Safe to run at any time; Celery beat runs it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=CHUNK, help=f"Rows per DELETE (default {CHUNK}).")

    def handle(self, *args: Any, chunk: int, **options: Any) -> None:
        result = purge(chunk=max(1, chunk))
        self.stdout.write(str(result))
