"""The Celery app of the kill test's workers: tailored_cms's, whose worker processes may stall inside a chunk.

With ``TAILORED_TEST_STALLS`` (a directory) and ``TAILORED_TEST_STALL_COUNT`` (n) set, the first n chunks to
write their memberships stall inside their transaction, rows written, after recording ``stall-<i>.json``: the
process's id, the task's id and the visitors whose rows it wrote. The test kills the process there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from celery import current_task
from celery.signals import worker_process_init

from tailored_cms.celery_app import app

__all__ = ["app"]


@worker_process_init.connect
def stall_inside_chunks(**kwargs: Any) -> None:
    """In each pool process: ``recompute._apply`` (the chunk's writes, inside its transaction) stalls after writing."""
    directory = os.environ.get("TAILORED_TEST_STALLS")
    if not directory:
        return
    from tailored_cms.rules import recompute

    apply = recompute._apply

    def apply_then_stall(*args: Any, **options: Any) -> Any:
        changed = apply(*args, **options)
        for n in range(int(os.environ["TAILORED_TEST_STALL_COUNT"])):
            try:
                Path(directory, f"stall-{n}.claim").open("x").close()  # one process per stall
            except FileExistsError:
                continue
            record = {"pid": os.getpid(), "task": current_task.request.id, "visitors": sorted(changed)}
            written = Path(directory, f"stall-{n}.tmp")
            written.write_text(json.dumps(record))
            written.rename(Path(directory, f"stall-{n}.json"))
            time.sleep(600)  # until killed
        return changed

    recompute._apply = apply_then_stall
