"""``manage.py tailored_recompute``: recompute segment memberships now (what Celery beat runs every 10 minutes), in
this process, or with ``--workers`` across the Celery workers (following their progress). Either way the run is
recorded (``rules.runs``): the admin shows its progress, and the next scheduled run starts from it."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, TextIO

import redis
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...rules.models import Segment
from ...rules.recompute import RecomputeRunning, RecomputeSummary
from ...rules.runs import RunProgress, run_here, wait_for_run
from ...rules.tasks import start_recompute

BAR_WIDTH = 30


class ProgressBar:
    """A one-line text bar redrawn in place (on a terminal only), at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.drawn_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.drawn_at < 0.1 and done < total:
            return
        self.drawn_at = now
        share = done / total if total else 1.0
        filled = int(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {share:4.0%} {done:,}/{total:,} visitors, {now - self.started:.1f} s")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Recompute who is in each segment (or only --segment SLUG ...) and update visitors' snapshots. Shows a "
        "progress bar on a terminal and ends with a summary: visitors, joins, leaves, seconds. --workers sends the "
        "chunks to the Celery workers and follows their progress."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--segment", action="append", dest="segments", metavar="SLUG", help="Only this segment (repeatable)."
        )
        parser.add_argument("--chunk", type=int, default=None, help="Visitors per chunk (default RECOMPUTE_CHUNK).")
        parser.add_argument(
            "--workers",
            action="store_true",
            help="Send the chunks to the Celery workers (queue tailored_bulk) and follow their progress.",
        )
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Show the progress bar (default: only on a terminal).",
        )

    def handle(
        self,
        *args: Any,
        segments: list[str] | None,
        chunk: int | None,
        workers: bool,
        progress: bool | None,
        **options: Any,
    ) -> None:
        # The stream under Django's wrapper: is it a terminal? (The stubs leave the wrapper's _out out.)
        stream: TextIO = self.stdout._out  # type: ignore[assignment]
        if progress is None:
            progress = bool(getattr(stream, "isatty", lambda: False)())
        bar = ProgressBar(stream) if progress else None
        try:
            summary = _across_workers(segments, chunk, bar) if workers else _here(segments, chunk, bar)
        except Segment.DoesNotExist as exc:
            raise CommandError(f"{exc} Known segments: {', '.join(_known()) or 'none'}.") from exc
        except RecomputeRunning as exc:
            raise CommandError(f"{exc} Try again when it is done.") from exc
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            f"Recomputed {summary.segments} segments: visitors {summary.visitors:,}, joins {summary.joins:,}, "
            f"leaves {summary.leaves:,}, {summary.seconds:.2f} seconds"
        )


def _here(segments: list[str] | None, chunk: int | None, bar: ProgressBar | None) -> RecomputeSummary:
    """A run whose chunks this process does, recorded as one across the workers (the admin shows its progress, the
    next scheduled run starts from it)."""
    try:
        return run_here(segments, chunk_size=chunk, report=None if bar is None else _drawing(bar)).summary()
    except (Segment.DoesNotExist, RecomputeRunning):
        raise
    except redis.RedisError as exc:
        raise CommandError(f"Could not reach Redis: {exc}") from exc
    except LookupError as exc:
        raise CommandError(str(exc)) from exc


def _drawing(bar: ProgressBar) -> Callable[[RunProgress], None]:
    """What draws a run's progress on ``bar``: the visitors its chunks did."""
    return lambda found: bar(found.visitors, max(found.visitors_total, found.visitors))


def _across_workers(segments: list[str] | None, chunk: int | None, bar: ProgressBar | None) -> RecomputeSummary:
    """Start a run across the workers and wait for it, drawing the visitors its chunks did, whichever worker."""
    try:
        run = start_recompute(segments, chunk_size=chunk)
    except (Segment.DoesNotExist, RecomputeRunning):
        raise
    except Exception as exc:  # the broker or Redis: say so, not a traceback
        raise CommandError(f"Could not send the recompute to the Celery workers: {exc}") from exc
    try:
        return wait_for_run(run, report=None if bar is None else _drawing(bar)).summary()
    except LookupError as exc:
        raise CommandError(str(exc)) from exc


def _known() -> list[str]:
    return list(Segment.objects.order_by("slug").values_list("slug", flat=True))
