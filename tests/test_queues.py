"""The Celery queues: each task goes where docs/deployment.md says, a site's own routes win, and a worker started
without ``-Q`` consumes both of ours."""

from __future__ import annotations

import re
from pathlib import Path

from celery import Celery

from tailored_cms import tasks
from tailored_cms.celery_app import add_beat_schedule, app

DEPLOYMENT = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"


def documented_routes() -> dict[str, str]:
    """``{task: queue}`` from the table of docs/deployment.md's Queues section."""
    section = DEPLOYMENT.read_text().split("## Queues", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([\w.]+)` \| `(\w+)` \|", section, flags=re.MULTILINE))


def routed_queue(celery: Celery, name: str) -> str:
    """The queue a message of task ``name`` lands in: its routing key (the queue's name is not enough: a queue
    bound with another routing key would receive nothing)."""
    queue = celery.amqp.router.route({}, name)["queue"]
    assert queue.routing_key == queue.name
    return queue.name


def test_every_task_goes_to_the_queue_the_deployment_docs_name():
    documented = documented_routes()
    registered = {name for name in app.tasks if name.startswith("tailored_cms.")}
    assert set(documented) == registered
    assert {name: routed_queue(app, name) for name in registered} == documented
    assert documented["tailored_cms.tracking.ingest_events"] == tasks.FRESH_QUEUE
    assert set(documented.values()) == {tasks.FRESH_QUEUE, tasks.BULK_QUEUE}


def test_a_worker_without_q_consumes_the_default_queue_and_both_of_ours():
    assert set(app.amqp.queues) == {"celery", tasks.FRESH_QUEUE, tasks.BULK_QUEUE}


def test_the_sites_own_routes_win():
    site = Celery("site", set_as_current=False)
    site.conf.task_routes = {tasks.recompute_all.name: {"queue": "nightly"}}
    add_beat_schedule(site)
    assert routed_queue(site, tasks.recompute_all.name) == "nightly"
    assert routed_queue(site, tasks.ingest_events.name) == tasks.FRESH_QUEUE
