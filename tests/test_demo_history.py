"""``tailored_demo --history``: 30 days of simulated visits through the ingest give the results page something to
say about every area (the events go through the stream and the ingest's roll-up, nothing is written into the
results directly)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from tailored_cms.areas.matching import SelectionPath
from tailored_cms.results.report import area_results
from tailored_cms.results.verdict import verdict
from tailored_cms.tracking.models import Event, SpooledEvent

pytestmark = [pytest.mark.urls("example_site.urls"), pytest.mark.usefixtures("tailored_redis")]

INDEX = "/admin/tailored_cms/variantstats/"


@pytest.fixture
def seeded(db) -> str:
    out = io.StringIO()
    call_command("tailored_demo", "--history", stdout=out)
    return out.getvalue()


def editor() -> Client:
    client = Client()
    assert client.login(username="editor", password="editor")
    return client


def test_every_area_has_a_months_figures_that_came_through_the_ingest(seeded):
    assert re.search(r"Seeded 30 days of visits: \d+ events through the ingest", seeded)
    assert Event.objects.filter(name="impression").count() > 1000  # stored by the ingest, as a beacon's would be
    results = area_results(30)
    assert {area.strategy for area in results} == {"customization", "personalization", "optimize", "experiment"}
    assert len(results) == 5 * 3  # five homepage areas in English, Spanish and Italian
    for area in results:
        assert area.on_site and area.total.impressions > 100 and area.total.clicks > 0, area.label
        busy_days = {day for (day, _variant, _path, _language) in area.daily}
        assert len(busy_days) >= 28, area.label  # spread over the month, not one day
    index = editor().get(INDEX)
    assert index.status_code == 200
    html = index.content.decode()
    for label in ("Weekend teaser", "Newsletter sign-up", "Recommended for you", "Avance del fin de semana"):
        assert label in html


def test_the_experiment_names_its_winner(seeded):
    (experiment,) = [area for area in area_results(30) if area.label == "Newsletter sign-up"]
    page = editor().get(f"{INDEX}{experiment.key}/").content.decode()
    assert re.search(r"With a sample issue beats Short invitation with (&gt; )?\d+% probability on conversions", page)
    assert verdict(experiment).leader.label == "With a sample issue"


def test_the_optimize_area_moves_its_visitors_to_the_teaser_clicked_most_and_beats_its_holdout(seeded):
    (teaser,) = [area for area in area_results(30) if area.label == "Weekend teaser"]
    winner = next(key for key, label in teaser.labels.items() if label == "Night train guide")

    def share(days: list) -> float:
        views = [
            (variant, counts.impressions)
            for (day, variant, path, _language), counts in teaser.daily.items()
            if path == SelectionPath.OPTIMIZED and day in days
        ]
        return sum(n for variant, n in views if variant == winner) / sum(n for _variant, n in views)

    first_day, last_week = share(teaser.days[:1]), share(teaser.days[-7:])
    # About a third at first, most of the views by the end (0.8–0.9 typically; visitors' ids, and so their buckets,
    # are random, so the bar leaves room).
    assert last_week > 0.6 and last_week > first_day + 0.2
    lift = teaser.ctr_lift
    assert lift is not None and lift.difference > 0 and lift.interval.low > 0  # tailoring beats the holdout
    page = editor().get(f"{INDEX}{teaser.key}/").content.decode()
    assert "Share of views per variant and day" in page


def test_seeding_again_adds_no_history(seeded):
    events = Event.objects.count()
    out = io.StringIO()
    call_command("tailored_demo", "--history", stdout=out)
    assert "Results already there: no history added." in out.getvalue()
    assert Event.objects.count() == events


def test_without_redis_the_history_goes_through_the_spool_and_the_ingest_all_the_same(db, settings):
    from tailored_cms.connection import reset

    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nobody listens there
    reset()
    out = io.StringIO()
    call_command("tailored_demo", "--history", stdout=out)
    assert re.search(r"Seeded 30 days of visits: \d+ events through the ingest", out.getvalue())
    assert not SpooledEvent.objects.exists()  # every spooled event was ingested
    assert Event.objects.filter(name="impression").count() > 1000
    assert all(area.total.impressions > 100 for area in area_results(30))
