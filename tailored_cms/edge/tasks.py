"""The Celery task that purges the edges: retried while an edge doesn't answer, never run in the editor's request."""

from __future__ import annotations

from celery import shared_task

from ..retries import RetriedFromRedis

PURGE_EDGE_TASK = "tailored_cms.edge.purge"
RETRIES = 8  # with exponential backoff from 2 s: an edge down for about ten minutes still gets the purge


# Its retries wait in Redis, not in a worker (retries.py).
@shared_task(
    name=PURGE_EDGE_TASK,
    base=RetriedFromRedis,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=RETRIES,
)
def purge_edge(paths: list[str]) -> int:
    """``BAN`` these paths (or ``purge.TAILORED``) at every edge of ``EDGE_PURGE_URLS``."""
    from .purge import ban

    return ban(paths)
