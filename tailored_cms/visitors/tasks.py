"""Celery tasks of visitors: importing traits from a CSV file (thin: ``trait_import`` does the work).

An import's progress is kept in Redis for a day under ``<prefix>:trait-import:<job>`` (JSON: state, rows read,
rows in the file, stored, errors counted, the first errors), where the admin's progress page reads it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from celery import shared_task

IMPORT_TASK = "tailored_cms.visitors.import_traits"
PROGRESS_SECONDS = 60 * 60 * 24


def progress_key(job: str) -> str:
    from .. import connection

    return connection.key("trait-import", job)


def save_progress(job: str, **state: Any) -> None:
    """Write an import's state (never raises: a Redis that is down loses the progress, not the import)."""
    from .. import connection

    text = json.dumps(state, default=str)
    connection.call(lambda client: client.set(progress_key(job), text, ex=PROGRESS_SECONDS), None)


def read_progress(job: str) -> dict[str, Any] | None:
    """An import's state, or ``None`` if Redis doesn't know it (expired, or unreachable)."""
    from .. import connection

    raw = connection.call(lambda client: client.get(progress_key(job)), None)
    return json.loads(raw) if raw else None


@shared_task(name=IMPORT_TASK, ignore_result=True)
def import_traits_task(job: str, name: str, by: str) -> dict[str, Any]:
    """Import the CSV file ``name`` of the default storage (users named ``by``), then delete the file."""
    # Imported here: importing a task module must not load models (it is imported before Django is set up).
    from django.core.files.storage import default_storage

    from .trait_import import ImportSummary, import_traits

    def report(state: str, summary: ImportSummary, total: int) -> None:
        errors = [error.as_dict() for error in summary.errors[:50]]
        save_progress(
            job,
            state=state,
            rows=summary.rows,
            total=total,
            stored=summary.stored,
            error_count=summary.error_count,
            errors=errors,
        )

    try:
        with default_storage.open(name, "rb") as raw:
            total = max(0, sum(1 for line in raw if line.strip()) - 1)
        with default_storage.open(name, "rb") as raw:
            lines = (line.decode("utf-8-sig", errors="replace") for line in raw)
            summary = import_traits(lines, by=by, progress=lambda summary: report("running", summary, total))
        report("done", summary, total)
        return {"rows": summary.rows, "stored": summary.stored, "errors": summary.error_count}
    except Exception as exc:
        save_progress(job, state="failed", detail=str(exc)[:500])
        raise
    finally:
        default_storage.delete(name)


def start_import(name: str, by: str) -> str:
    """Queue the import of the stored file ``name``; returns the job's id. Runs here and now with
    ``CELERY_TASK_ALWAYS_EAGER``. Raises what the broker raised."""
    job = uuid.uuid4().hex
    save_progress(job, state="queued", rows=0, total=0, stored=0, error_count=0, errors=[])
    app = import_traits_task.app
    if app.conf.task_always_eager:
        import_traits_task.apply(args=(job, name, by))
        return job
    with app.connection_for_write() as connection:
        # Tried twice without waiting (as a segment's recompute is): the editor gets the page back at once.
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
        import_traits_task.apply_async((job, name, by), connection=connection, retry=False)  # type: ignore[call-arg]
    return job
