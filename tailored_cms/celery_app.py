"""A Celery app for sites without one: ``celery -A tailored_cms.celery_app worker -B``.

It reads Django settings in the ``CELERY_`` namespace (``CELERY_BROKER_URL``, ...) and autodiscovers the tasks of
every installed app. A site with its own Celery app doesn't need this module: its autodiscovery finds our tasks,
``tailored_cms.tasks.BEAT_SCHEDULE`` is the schedule to add to its beat and ``tailored_cms.tasks.TASK_ROUTES``
the routes to add to its ``task_routes``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from .tasks import BEAT_SCHEDULE, BULK_QUEUE, FRESH_QUEUE, TASK_ROUTES

app = Celery("tailored_cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def add_beat_schedule(sender: Celery, **kwargs: Any) -> None:
    """Our schedule and routes, merged under the site's ``CELERY_BEAT_SCHEDULE`` and ``CELERY_TASK_ROUTES`` (the
    site's entries win: Celery takes the first router that names a queue). A worker started without ``-Q`` consumes
    the default queue and both of ours, unless the site lists its own ``CELERY_TASK_QUEUES``."""
    sender.conf.beat_schedule = {**BEAT_SCHEDULE, **(sender.conf.beat_schedule or {})}
    sender.conf.task_routes = [*_routers(sender.conf.task_routes), TASK_ROUTES]
    if not sender.conf.task_queues:
        default = sender.conf.task_default_queue
        exchange = sender.conf.task_default_exchange or default
        sender.conf.task_queues = [
            Queue(default, Exchange(exchange), routing_key=sender.conf.task_default_routing_key or default),
            *(Queue(name, Exchange(name), routing_key=name) for name in (FRESH_QUEUE, BULK_QUEUE)),
        ]


def _routers(routes: Any) -> list[Any]:
    """The site's ``task_routes`` as a list of routers (Celery takes one dict, one router, or a list of them)."""
    if not routes:
        return []
    return list(routes) if isinstance(routes, list | tuple) else [routes]
