"""A Celery app for sites without one: ``celery -A tailored_cms.celery_app worker -B``.

It reads Django settings in the ``CELERY_`` namespace (``CELERY_BROKER_URL``, ...) and autodiscovers the tasks of
every installed app. A site with its own Celery app doesn't need this module: its autodiscovery finds our tasks.
"""

from __future__ import annotations

from celery import Celery

app = Celery("tailored_cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
