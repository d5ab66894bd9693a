"""After the ingest, Celery computes the readers' lists again (debounced), and the page lists the popular pages
for everyone, explained by "Why am I seeing this?"."""

from __future__ import annotations

import pytest

from tailored_cms import connection
from tailored_cms.celery_app import app
from tailored_cms.recommendations import store
from tailored_cms.recommendations.compute import compute_all

from .conftest import read

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


def test_a_readers_list_follows_what_they_just_read(eager, site, readers, visitor):
    me, _client = visitor(tracking_consent=True)
    read(me, [site["Chips"]])  # the ingest's visitors_touched queues the compute (eager here: at once)
    first = store.read(me)[0]
    assert first is not None and site["Chips"].pk not in {pick.page_id for pick in first}
    read(me, [site["Compilers"]])
    again = store.read(me)[0]
    assert again is not None and site["Compilers"].pk not in {pick.page_id for pick in again}
    assert not connection.get_redis().smembers(connection.key("recs", "touched"))  # all taken


def test_visitors_touched_while_a_compute_is_queued_are_computed_together(eager, site, readers, visitor, monkeypatch):
    compute_all()
    queued = []
    monkeypatch.setattr(
        "tailored_cms.recommendations.receivers.compute_touched_task.apply_async",
        lambda **options: queued.append(options),
    )
    store.take_touched()
    a, _ = visitor(tracking_consent=True)
    b, _ = visitor(tracking_consent=True)
    read(a, [site["Chips"]])
    read(b, [site["Derby"]])
    assert queued == [{}]  # one compute, for both
    assert store.take_touched() == sorted([a, b])


def test_the_page_lists_the_popular_pages_the_same_for_everyone(site, plugin, readers, client, visitor):
    compute_all()
    html = client.get(site["Home"].get_absolute_url()).content.decode()
    assert f'data-tailored-recommendations="{plugin.pk}"' in html
    assert "Recommended for you" in html and "Popular on this site these days" in html
    assert "recommendations.js" in html
    _me, other = visitor(tracking_consent=True, topics=["technology"])
    listed = html[html.index("data-tailored-recommendations-list") :]
    assert listed.split("</section>")[0] in other.get(site["Home"].get_absolute_url()).content.decode()


def test_why_am_i_seeing_this_explains_the_list(site, plugin, readers, client):
    compute_all()
    answer = client.get("/tailored/api/v1/explain/", {"areas": plugin.area_key}).json()
    assert answer["unknown"] == []
    [area] = answer["areas"]
    assert area["strategy"] == "recommendations"
    assert area["shown"][0]["text"].startswith("Recommended pages: the most read pages")
