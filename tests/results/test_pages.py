"""The results pages in the admin: who may see them, what they show (figures, intervals, lift, charts), the CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from tailored_cms.results.models import SegmentSize, VariantStats
from tailored_cms.rules.models import Segment

from .conftest import staff_client

pytestmark = pytest.mark.django_db

INDEX = "/admin/tailored_cms/variantstats/"


def area_url(key: str) -> str:
    return f"{INDEX}{key}/"


@pytest.fixture
def figures(hero):
    """Today and yesterday: 1,000 impressions outside the holdout (120 clicks, 30 signups), 100 in it (5, 1)."""
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    area, sports, everyone = hero.area.key, hero.sports.key, hero.everyone.key
    rows = [
        (sports, "customized", today, 300, 45, 12),
        (sports, "customized", yesterday, 300, 35, 8),
        (everyone, "fallback", today, 400, 40, 10),
        (everyone, "holdout", today, 60, 3, 1),
        (everyone, "holdout", yesterday, 40, 2, 0),
        (everyone, "fallback", today - timedelta(days=40), 999, 999, 999),  # outside 30 days
    ]
    for variant, path, day, impressions, clicks, conversions in rows:
        VariantStats.objects.create(
            area=area,
            variant=variant,
            path=path,
            day=day,
            impressions=impressions,
            clicks=clicks,
            conversions=conversions,
        )
    return hero


# Who may see them


def test_staff_without_the_permission_get_403_everywhere(figures):
    writer = staff_client("writer", "view_tailoredarea", "change_tailoredarea")
    for url in (INDEX, area_url(figures.area.key), f"{INDEX}export.csv"):
        assert writer.get(url).status_code == 403, url


def test_visitors_and_non_staff_are_sent_to_log_in(figures, client):
    member = get_user_model().objects.create_user("member", password="pw")  # not staff, with the permission
    member.user_permissions.add(Permission.objects.get(codename="view_results"))
    signed_in = Client()
    signed_in.force_login(member)
    for who in (client, signed_in):
        for url in (INDEX, area_url(figures.area.key), f"{INDEX}export.csv"):
            response = who.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_the_admin_index_lists_results_for_those_who_may_see_them(analyst, client):
    assert 'href="/admin/tailored_cms/variantstats/"' in analyst.get("/admin/").content.decode()
    writer = staff_client("writer", "view_segment")
    assert "/admin/tailored_cms/variantstats/" not in writer.get("/admin/").content.decode()


# What they show


def test_the_list_shows_every_area_with_rates_intervals_and_lift(figures, analyst):
    html = analyst.get(INDEX).content.decode()
    row = html[html.index(f'data-tailored-area-results="{figures.area.key}"') :]
    row = row[: row.index("</tr>")]
    # 1,100 impressions, 125 clicks: 11.4% [9.6–13.4%]; 31 conversions: 2.8%.
    assert ">Hero</a>" in row and "Home · Customization · holdout 10% · goal: signup" in row
    assert ">1100<" in row and "11.4%" in row and "9.6–13.4%" in row and "2.8%" in row
    # The lift on the goal: outside the holdout 30/1000 = 3.0%, holdout 1/100 = 1.0%: +2.0 points.
    assert "+2.0 pts" in row and "on conversions" in row
    # Behind the disclosure: the counts and both lifts (clicks 120/1000 = 12.0% against 5/100: +7.0, +140%).
    details = html[html.index(f'data-tailored-area-details="{figures.area.key}"') :]
    details = details[: details.index("</tr>")]
    assert ">125<" in details and ">31<" in details
    assert "+7.0 pts" in details and "(+140%)" in details and "tailored-lift-up" in details
    assert "+2.0 pts" in details


def test_the_area_page_shows_paths_variants_lift_charts_and_the_daily_table(figures, analyst):
    response = analyst.get(area_url(figures.area.key))
    assert response.status_code == 200
    html = response.content.decode()
    paths = html[html.index("data-tailored-results-paths") : html.index("data-tailored-results-variants")]
    # Customized 600 impressions / 80 clicks = 13.3%; fallback 400/40 = 10.0%; holdout 100/5 = 5.0% [2.2–11.2%].
    assert 'data-path="customized"' in paths and "13.3%" in paths
    assert 'data-path="fallback"' in paths and "10.0%" in paths
    assert 'data-path="holdout"' in paths and "5.0%" in paths and "2.2–11.2%" in paths
    assert paths.index('data-path="customized"') < paths.index('data-path="holdout"')
    variants = html[html.index("data-tailored-results-variants") :]
    assert f'data-variant="{figures.sports.key}"' in variants and "Sports fans" in variants
    lift = html[html.index("data-tailored-lift") : html.index("data-tailored-results-paths")]
    assert "+7.0 pts" in lift and "Tailoring gets more clicks" in lift
    assert "12.0%" in lift and "5.0%" in lift  # outside the holdout, in it
    assert "Conversion rate" in lift and "+2.0 pts" in lift  # 30/1000 = 3.0% against 1/100 = 1.0%
    # Two charts (click-through, conversions), each an accessible SVG with a line per path, and the table.
    assert html.count('<svg class="tailored-chart"') == 2
    assert 'role="img"' in html and '<title id="chart-ctr-title">Click-through rate per day, by path' in html
    assert html.count('class="tailored-chart-series"') == 6  # 3 paths × 2 charts
    assert "stroke-dasharray" in html  # the holdout's line is dashed
    daily = html[html.index("data-tailored-results-daily") :]
    today = timezone.localdate()
    assert daily.count('<tr><th scope="row">') == 30
    assert f"{today:%Y-%m-%d}" in daily and f"{today - timedelta(days=29):%Y-%m-%d}" in daily


def test_the_range_is_chosen_from_7_30_and_90_days(figures, analyst):
    html = analyst.get(area_url(figures.area.key) + "?days=90").content.decode()
    assert '<strong aria-current="page">90 days</strong>' in html
    fallback = html[html.index('<tr data-path="fallback">') :]
    assert fallback[: fallback.index("</tr>")].count(">1399<") == 1  # 400 today and 999 forty days ago
    week = analyst.get(area_url(figures.area.key) + "?days=7").content.decode()
    assert week[week.index("data-tailored-results-daily") :].count('<tr><th scope="row">') == 7
    odd = analyst.get(area_url(figures.area.key) + "?days=12345").content.decode()
    assert '<strong aria-current="page">30 days</strong>' in odd  # anything else: the default


def test_an_area_without_holdout_or_goal_says_what_to_do(hero, analyst):
    hero.area.holdout_percent = 0
    hero.area.goal = ""
    hero.area.save()
    html = analyst.get(area_url(hero.area.key)).content.decode()
    assert "This area has no holdout" in html
    assert "No goal: only clicks are counted" in html
    assert "No impressions in the last 30 days" in html
    assert "tailored-chart" not in html


def test_an_unknown_area_is_a_404(analyst):
    assert analyst.get(area_url("no-such-area")).status_code == 404


def test_figures_of_an_area_no_longer_on_a_page_stay_listed(hero, analyst):
    VariantStats.objects.create(
        area="gone-area", variant="v1", path="fallback", day=timezone.localdate(), impressions=7
    )
    html = analyst.get(INDEX).content.decode()
    assert 'data-tailored-area-results="gone-area"' in html and "no longer on a published page" in html
    assert analyst.get(area_url("gone-area")).status_code == 200


def test_segment_sizes_over_time_are_charted_and_tabled(analyst, db):
    today = timezone.localdate()
    fans = Segment.objects.create(slug="sports-fans", name="Sports fans", rules={"all": []})
    for offset, size in ((2, 10), (1, 12), (0, 15)):
        SegmentSize.objects.create(segment=fans, day=today - timedelta(days=offset), size=size)
    html = analyst.get(INDEX + "?days=7").content.decode()
    assert '<svg class="tailored-chart"' in html and "Segment sizes per day" in html
    table = html[html.index("data-tailored-segment-sizes") :]
    assert "Sports fans" in table
    assert f'<th scope="row">{today:%Y-%m-%d}</th><td class="tailored-number">15</td>' in table
    assert f'<th scope="row">{today - timedelta(days=3):%Y-%m-%d}</th><td class="tailored-number">–</td>' in table


def test_the_pages_cost_a_constant_number_of_queries(figures, analyst, django_assert_max_num_queries):
    analyst.get(INDEX)  # warm the session and permission caches of this client
    with django_assert_max_num_queries(12):
        assert analyst.get(INDEX).status_code == 200
    with django_assert_max_num_queries(12):
        assert analyst.get(area_url(figures.area.key)).status_code == 200


# CSV


def test_the_csv_holds_the_daily_rows(figures, analyst):
    response = analyst.get(f"{INDEX}export.csv?area={figures.area.key}&days=30")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="tailored-results-{figures.area.key}-30-days.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 5  # the row 40 days ago is outside the range
    today = timezone.localdate().isoformat()
    assert {
        "day": today,
        "area": figures.area.key,
        "area_label": "Hero",
        "variant": figures.sports.key,
        "variant_label": "Sports fans",
        "path": "customized",
        "language": "",
        "impressions": "300",
        "clicks": "45",
        "conversions": "12",
    } in rows
    assert [row["day"] for row in rows] == sorted(row["day"] for row in rows)


def test_the_csv_of_all_areas_and_a_label_that_looks_like_a_formula(figures, analyst):
    figures.area.label = "=HYPERLINK(1)"
    figures.area.save()
    rows = list(csv.DictReader(io.StringIO(analyst.get(f"{INDEX}export.csv").content.decode())))
    assert len(rows) == 5 and rows[0]["area_label"] == "'=HYPERLINK(1)"
    assert analyst.get(f"{INDEX}export.csv?area=nope").status_code == 404


# By language


def language_rows(html: str, table: str) -> list[tuple[str, ...]]:
    """(data-language, row header, impressions) of each row of the table marked ``table``."""
    body = html[html.index(table) :]
    body = body[: body.index("</table>")]
    return re.findall(r'<tr data-language="([^"]*)"[^>]*><th scope="row">([^<]*)</th><td[^>]*>([^<]*)</td>', body)


def test_the_pages_split_the_figures_by_language_and_filter_one(by_language, analyst):
    html = analyst.get(INDEX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert language_rows(html, "data-tailored-results-languages") == [
        ("es", "Spanish", "300"),
        ("it", "Italian", "100"),
    ]
    assert '<strong aria-current="page">All languages</strong>' in html
    assert '<a href="?days=30&amp;language=es">Spanish</a>' in html
    area = analyst.get(area_url(by_language.area.key), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert language_rows(area, "data-tailored-results-languages") == [
        ("es", "Spanish", "300"),
        ("it", "Italian", "100"),
    ]
    assert [row[0] for row in language_rows(area, "data-tailored-results-language-variants")] == ["es", "it"]
    # One language: every figure of the page is that language's.
    spanish = analyst.get(area_url(by_language.area.key), {"language": "es"}, HTTP_ACCEPT_LANGUAGE="en")
    html = spanish.content.decode()
    assert language_rows(html, "data-tailored-results-languages") == [("es", "Spanish", "300")]
    assert '<strong aria-current="page">Spanish</strong>' in html
    assert re.search(r'<tr data-path="customized"><th scope="row">[^<]*</th><td class="tailored-number">300</td>', html)
    assert "?days=7&amp;language=es" in html  # the range keeps the language
    # A language the site doesn't have shows every language (the page offers only the site's).
    assert analyst.get(INDEX, {"language": "pt"}).status_code == 200


def test_the_pages_name_the_languages_in_the_editors_language(by_language, analyst):
    html = analyst.get(area_url(by_language.area.key), HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert language_rows(html, "data-tailored-results-languages") == [
        ("es", "Spagnolo", "300"),
        ("it", "Italiano", "100"),
    ]
    assert '<strong aria-current="page">Tutte le lingue</strong>' in html


def test_the_csv_says_the_language_and_follows_the_filter(by_language, analyst):
    rows = list(csv.DictReader(io.StringIO(analyst.get(f"{INDEX}export.csv").content.decode())))
    assert [(row["language"], row["impressions"]) for row in rows] == [("es", "300"), ("it", "100")]
    response = analyst.get(f"{INDEX}export.csv", {"language": "it"})
    assert 'filename="tailored-results-all-it-30-days.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["language"], row["impressions"]) for row in rows] == [("it", "100")]


def test_the_area_page_marks_a_campaign_window_on_its_charts(figures, analyst):
    today = timezone.localtime()
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    sports = figures.sports
    sports.starts_at, sports.ends_at = midnight - timedelta(days=3), midnight + timedelta(days=1)
    sports.save()
    html = analyst.get(area_url(figures.area.key)).content.decode()
    assert html.count('class="tailored-chart-window" data-window="Sports fans"') == 2  # both charts
    description = re.search(r'<desc id="chart-ctr-desc">([^<]*)</desc>', html).group(1)
    assert "Shaded: when a campaign window was open (Sports fans: " in description


# What the figures say


def test_the_area_page_says_whether_tailoring_beats_the_holdout(figures, analyst):
    page = analyst.get(area_url(figures.area.key)).content.decode()
    sentence = re.search(r"data-tailored-verdict-sentence>([^<]*)<", page)
    assert sentence is not None
    # Conversions: 30 of 1,000 outside the holdout, 1 of 100 in it: likely better, not sure yet. Their common rate
    # 31/1,100 against 10% more needs 56,755 views each (stats.sample_size); the holdout gets 1 view in 11, so
    # (56,755 - 100) · 11 = 623,205 more.
    assert sentence.group(1) == (
        "Not enough data yet: about 623,205 more views are needed to tell which does better on conversions to “signup”."
    )
    rows = re.findall(r'<tr data-contender="([^"]*)"><th scope="row">([^<]*)</th><td[^>]*>([^<]*)<', page)
    assert [(key, label) for key, label, _p in rows] == [("", "Tailoring"), ("holdout", "No tailoring (the holdout)")]
    assert 0.5 < float(rows[0][2].rstrip("%")) / 100 < 0.95
    assert "Probability of being best" in page
    assert "Lines: Customized: their choices (blue), " in page  # the charts' legend in words


@pytest.fixture
def optimized(hero):
    """The hero area optimizing: today Sports fans 1,800 views (300 signups), Everyone 1,200 (120), 70 and 30
    buckets now."""
    from tailored_cms.rules.active import publish_allocations

    hero.area.strategy = "optimize"
    hero.area.save()
    today = timezone.localdate()
    for variant, impressions, conversions in ((hero.sports, 1800, 300), (hero.everyone, 1200, 120)):
        VariantStats.objects.create(
            area=hero.area.key,
            variant=variant.key,
            path="optimized",
            day=today,
            impressions=impressions,
            clicks=conversions,
            conversions=conversions,
        )
    VariantStats.objects.create(
        area=hero.area.key,
        variant=hero.sports.key,
        path="optimized",
        day=today - timedelta(days=1),
        impressions=100,
        clicks=10,
        conversions=10,
    )
    publish_allocations({hero.area.key: [hero.sports.key] * 70 + [hero.everyone.key] * 30})
    return hero


def test_an_optimize_area_names_its_winner_the_shares_over_time_and_the_allocation_now(optimized, analyst):
    page = analyst.get(area_url(optimized.area.key)).content.decode()
    assert 'data-tailored-verdict="winner"' in page
    assert "Sports fans beats Everyone with &gt; 99% probability on conversions to “signup” (n = 3,100)." in page
    best = re.search(r'<tr data-contender="([^"]+)">.*?data-probability>([^<]*)<.*?data-allocated>([^<]*)<', page, re.S)
    assert best is not None and best.groups() == (optimized.sports.key, "&gt; 99%", "70.0%")
    shares = re.search(r"data-tailored-results-shares>(.*?)</table>", page, re.S)
    assert shares is not None
    yesterday, today = re.findall(r"<tr><th scope=\"row\">[^<]*</th>(.*?)</tr>", shares.group(1))
    assert re.findall(r">([^<]+)</td>", yesterday) == ["100.0%", "0.0%"]
    assert re.findall(r">([^<]+)</td>", today) == ["60.0%", "40.0%"]
    assert "Share of views per variant and day" in page
