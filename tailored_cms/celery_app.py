"""A Celery app for sites without one: ``celery -A tailored_cms.celery_app worker -B``.

It reads Django settings in the ``CELERY_`` namespace (``CELERY_BROKER_URL``, ...) and autodiscovers the tasks of
every installed app. A site with its own Celery app doesn't need this module: its autodiscovery finds our tasks,
and ``tailored_cms.tasks.BEAT_SCHEDULE`` is the schedule to add to its beat.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from .tasks import BEAT_SCHEDULE

app = Celery("tailored_cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def add_beat_schedule(sender: Celery, **kwargs: Any) -> None:
    """Our schedule, merged under the site's ``CELERY_BEAT_SCHEDULE`` (the site's entries win)."""
    sender.conf.beat_schedule = {**BEAT_SCHEDULE, **(sender.conf.beat_schedule or {})}
