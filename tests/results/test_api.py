"""``stats/``: the results pages' figures as JSON, for staff who may see results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tailored_cms.results.models import VariantStats

from .conftest import staff_client

pytestmark = pytest.mark.django_db

URL = "/tailored/api/v1/stats/"


@pytest.fixture
def figures(hero):
    today = timezone.localdate()
    for variant, path, impressions, clicks, conversions in (
        (hero.sports.key, "customized", 600, 80, 20),
        (hero.everyone.key, "fallback", 400, 40, 10),
        (hero.everyone.key, "holdout", 100, 5, 1),
    ):
        VariantStats.objects.create(
            area=hero.area.key,
            variant=variant,
            path=path,
            day=today,
            impressions=impressions,
            clicks=clicks,
            conversions=conversions,
        )
    return hero


def test_the_url_is_named():
    assert reverse("tailored_cms:api:stats") == URL


def test_staff_who_may_see_results_get_the_figures(figures, analyst):
    response = analyst.get(URL, {"area": figures.area.key, "days": 7})
    assert response.status_code == 200, response.content
    document = response.json()
    today = timezone.localdate()
    assert (document["days"], document["end"]) == (7, today.isoformat())
    assert document["start"] == (today - timedelta(days=6)).isoformat()
    (area,) = document["areas"]
    assert (area["key"], area["label"], area["page"], area["goal"], area["holdout_percent"]) == (
        figures.area.key,
        "Hero",
        "Home",
        "signup",
        10,
    )
    assert area["total"]["impressions"] == 1100 and area["total"]["clicks"] == 125
    holdout = next(p for p in area["paths"] if p["path"] == "holdout")
    # 5 of 100: 5% with Wilson's 95% interval 2.15%–11.18%.
    assert holdout["ctr"]["value"] == pytest.approx(0.05)
    assert holdout["ctr"]["low"] == pytest.approx(0.02154, abs=1e-4)
    assert holdout["ctr"]["high"] == pytest.approx(0.11175, abs=1e-4)
    # Outside the holdout 120 of 1,000 (12%) against 5 of 100: +7 points, +140%.
    lift = area["lift"]["ctr"]
    assert lift["difference"] == pytest.approx(0.07)
    assert lift["relative"] == pytest.approx(1.4)
    assert lift["low"] < lift["difference"] < lift["high"] and lift["significant"] is (lift["low"] > 0)
    assert area["lift"]["conversion_rate"]["difference"] == pytest.approx(0.02)
    assert {(v["variant"], v["label"], v["path"]) for v in area["variants"]} == {
        (figures.sports.key, "Sports fans", "customized"),
        (figures.everyone.key, "Everyone", "fallback"),
        (figures.everyone.key, "Everyone", "holdout"),
    }
    assert {(d["day"], d["path"], d["impressions"]) for d in area["daily"]} == {
        (today.isoformat(), "customized", 600),
        (today.isoformat(), "fallback", 400),
        (today.isoformat(), "holdout", 100),
    }


def test_without_an_area_every_area_is_listed(figures, analyst):
    document = analyst.get(URL).json()
    assert document["days"] == 30
    assert [area["key"] for area in document["areas"]] == [figures.area.key]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"days": "12"}, "days"), ({"days": "seven"}, "days"), ({"days": " 7"}, "days"), ({"area": "not a key!"}, "area")],
)
def test_bad_parameters_are_a_400_naming_them(analyst, query, field):
    response = analyst.get(URL, query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_an_unknown_area_is_a_404(analyst):
    response = analyst.get(URL, {"area": "no-such-area"})
    assert response.status_code == 404 and "no-such-area" in response.json()["detail"]


def test_others_get_403(figures, client):
    writer = staff_client("writer", "view_segment", "view_tailoredarea")
    for who in (client, writer):
        response = who.get(URL, {"area": figures.area.key})
        assert response.status_code == 403
        assert "tailored_cms.view_results" in response.json()["detail"]


def test_the_schema_lists_it_for_staff(client):
    schema = client.get("/tailored/api/v1/schema/?format=json").json()
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"area", "days", "language"}
    assert set(operation["responses"]) == {"200", "400", "403", "404"}


def test_figures_come_per_language_and_for_one_language(by_language, analyst):
    (area,) = analyst.get(URL, {"area": by_language.area.key}).json()["areas"]
    assert [(row["language"], row["impressions"], row["clicks"]) for row in area["languages"]] == [
        ("es", 300, 60),
        ("it", 100, 5),
    ]
    assert area["languages"][0]["ctr"]["value"] == pytest.approx(0.2)
    assert {(row["language"], row["variant"], row["impressions"]) for row in area["language_variants"]} == {
        ("es", by_language.sports.key, 300),
        ("it", by_language.sports.key, 100),
    }
    assert {(row["language"], row["impressions"]) for row in area["daily"]} == {("es", 300), ("it", 100)}
    document = analyst.get(URL, {"area": by_language.area.key, "language": "it"}).json()
    assert document["language"] == "it"
    (area,) = document["areas"]
    assert area["total"]["impressions"] == 100
    assert [row["language"] for row in area["languages"]] == ["it"]


@pytest.mark.parametrize("language", ["pt", "ES", "", "x" * 200])
def test_a_language_the_site_does_not_have_is_a_400_naming_its_languages(analyst, language):
    response = analyst.get(URL, {"language": language})
    assert response.status_code == 400
    (message,) = response.json()["language"]
    assert message == f"Not a language of the site: {language[:20]!r}. Its languages: en, es, it."
