"""Every built-in rule at its boundaries. Behavioural rules are checked three ways (incremental, full, one SQL
filter: ``evaluate_three_ways``); request-time rules against real requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.utils import translation

from tailored_cms import api
from tailored_cms.rules.request_time import RequestFacts, matches
from tailored_cms.rules.trees import validate_tree
from tailored_cms.visitors.snapshot import Snapshot

from .conftest import NOW, evaluate_three_ways

factory = RequestFactory()
MOBILE_UA = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"
TABLET_UA = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/604.1"
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)


def who(tree, visitors, now=NOW) -> set[str]:
    return set(evaluate_three_ways(tree, visitors, now))


@pytest.mark.django_db
def test_topic_views_counts_min_inclusive_within_the_days_window(make_visitor):
    visitors = {
        "three-today": make_visitor(views={"sports": [(0, 3)]}),
        "two": make_visitor(views={"sports": [(0, 2)]}),
        "spread": make_visitor(views={"sports": [(0, 1), (10, 1), (29, 1)]}),  # day 30 of 30 still counts
        "one-too-old": make_visitor(views={"sports": [(0, 1), (10, 1), (30, 1)]}),  # the 31st day doesn't
        "other-topic": make_visitor(views={"news": [(0, 5)], "sports": [(0, 2)]}),
        "nothing": make_visitor(),
    }
    tree = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}
    assert who(tree, visitors) == {"three-today", "spread"}
    assert who({"rule": "topic_views", "topic": "sports", "min": 3, "days": 1}, visitors) == {"three-today"}
    # Without days: everything retained counts.
    assert who({"rule": "topic_views", "topic": "sports", "min": 3}, visitors) == {
        "three-today",
        "spread",
        "one-too-old",
    }


@pytest.mark.django_db
def test_the_days_window_moves_with_time(make_visitor):
    visitors = {"fan": make_visitor(views={"sports": [(0, 3)]})}
    tree = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 7}
    assert who(tree, visitors, now=NOW + timedelta(days=6)) == {"fan"}
    assert who(tree, visitors, now=NOW + timedelta(days=7)) == set()


@pytest.mark.django_db
def test_event_count_by_name_min_inclusive_and_window(make_visitor):
    visitors = {
        "signed-up": make_visitor(events={"signup": [(0, 1)]}),
        "old-signup": make_visitor(events={"signup": [(7, 1)]}),
        "clicker": make_visitor(events={"click": [(0, 4), (6, 1)]}),
        "few-clicks": make_visitor(events={"click": [(0, 4)]}),
    }
    assert who({"rule": "event_count", "name": "signup", "min": 1, "days": 7}, visitors) == {"signed-up"}
    assert who({"rule": "event_count", "name": "signup", "min": 1, "days": 8}, visitors) == {"signed-up", "old-signup"}
    assert who({"rule": "event_count", "name": "click", "min": 5, "days": 7}, visitors) == {"clicker"}


@pytest.mark.django_db
def test_visit_count_min_and_max_are_inclusive(make_visitor):
    visitors = {str(n): make_visitor(visits=n) for n in (0, 1, 2, 5, 6)}
    assert who({"rule": "visit_count", "min": 2, "max": 5}, visitors) == {"2", "5"}
    assert who({"rule": "visit_count", "min": 5}, visitors) == {"5", "6"}
    assert who({"rule": "visit_count", "max": 1}, visitors) == {"0", "1"}


@pytest.mark.django_db
def test_days_since_last_visit_counts_calendar_days_both_ends_inclusive(make_visitor):
    def seen(days: int, hour: int) -> datetime:
        return datetime.combine(NOW.date() - timedelta(days=days), datetime.min.time(), UTC) + timedelta(hours=hour)

    visitors = {
        "today": make_visitor(last_seen=seen(0, 1)),
        "yesterday-late": make_visitor(last_seen=seen(1, 23)),
        "3-days-early": make_visitor(last_seen=seen(3, 0)),
        "7-days": make_visitor(last_seen=seen(7, 12)),
        "8-days-late": make_visitor(last_seen=seen(8, 23)),
        "never": make_visitor(),
    }
    assert who({"rule": "days_since_last_visit", "min": 1, "max": 7}, visitors) == {
        "yesterday-late",
        "3-days-early",
        "7-days",
    }
    assert who({"rule": "days_since_last_visit", "min": 8}, visitors) == {"8-days-late"}
    assert who({"rule": "days_since_last_visit", "max": 0}, visitors) == {"today"}
    # "never seen" is in neither a segment nor its negation's "seen" part: not[days ≤ 3] holds for them.
    assert "never" in who({"not": {"rule": "days_since_last_visit", "max": 3}}, visitors)


@pytest.mark.django_db
def test_follows_topic_matches_the_whole_slug(make_visitor):
    visitors = {
        "fan": make_visitor(topics=["news", "sports"]),
        "prefix": make_visitor(topics=["sport"]),
        "longer": make_visitor(topics=["sports-cars"]),
        "none": make_visitor(topics=[]),
    }
    assert who({"rule": "follows_topic", "topic": "sports"}, visitors) == {"fan"}


@pytest.mark.django_db
def test_logged_in_and_in_group(make_visitor):
    editors = Group.objects.create(name="Editors")
    Group.objects.create(name="Readers").user_set.add(reader := User.objects.create(username="reader"))
    editor = User.objects.create(username="editor")
    editor.groups.add(editors)
    User.objects.get(username="editor").groups.add(Group.objects.get(name="Readers"))
    visitors = {
        "editor": make_visitor(user=editor),
        "reader": make_visitor(user=reader),
        "anonymous": make_visitor(),
    }
    assert who({"rule": "logged_in", "is": True}, visitors) == {"editor", "reader"}
    assert who({"rule": "logged_in", "is": False}, visitors) == {"anonymous"}
    assert who({"rule": "in_group", "group": "Editors"}, visitors) == {"editor"}
    assert who({"rule": "in_group", "group": "Readers"}, visitors) == {"editor", "reader"}


@pytest.mark.django_db
def test_segment_references_use_the_referenced_rules_even_when_it_is_switched_off(make_visitor):
    api.create_segment("fans", rules={"rule": "topic_views", "topic": "sports", "min": 3}, enabled=False)
    visitors = {"fan": make_visitor(views={"sports": [(0, 3)]}), "not": make_visitor()}
    assert who({"rule": "segment", "slug": "fans"}, visitors) == {"fan"}
    assert who({"not": {"rule": "segment", "slug": "fans"}}, visitors) == {"not"}


# --- request-time rules ----------------------------------------------------------------------------------------


def check(leaf: dict, request=None, snapshot=None, now=None) -> bool:
    return matches(validate_tree(leaf), RequestFacts(request, snapshot, now))


def test_device_from_the_requests_user_agent():
    rule = {"rule": "device", "is": ["mobile", "tablet"]}
    assert check(rule, factory.get("/", HTTP_USER_AGENT=MOBILE_UA))
    assert check(rule, factory.get("/", HTTP_USER_AGENT=TABLET_UA))
    assert not check(rule, factory.get("/", HTTP_USER_AGENT=DESKTOP_UA))
    assert not check(rule, factory.get("/"))  # no user agent: no device


def test_referrer_domain_from_the_request_else_the_latest_tracking_saw():
    rule = {"rule": "referrer_domain", "is": "google.com"}
    assert check(rule, factory.get("/", HTTP_REFERER="https://www.google.com/search?q=x"))
    assert check(rule, factory.get("/", HTTP_REFERER="https://news.google.com/"))  # subdomains match
    assert not check(rule, factory.get("/", HTTP_REFERER="https://notgoogle.com/"))
    assert not check(rule, factory.get("/", HTTP_REFERER="https://google.com.evil.org/"))
    # A page of the visit after the landing page: the referrer is the site itself; the snapshot remembers.
    inside = factory.get("/next/", HTTP_REFERER="http://testserver/landing/")
    assert check(rule, inside, Snapshot(referrer_domain="google.com"))
    assert not check(rule, inside, Snapshot())
    # A new external referrer wins over the remembered one.
    assert not check(rule, factory.get("/", HTTP_REFERER="https://bing.com/"), Snapshot(referrer_domain="google.com"))


def test_utm_every_given_parameter_must_match_ignoring_case():
    rule = {"rule": "utm", "source": "newsletter", "campaign": "Spring"}
    assert check(rule, factory.get("/?utm_source=Newsletter&utm_campaign=spring&utm_medium=email"))
    assert not check(rule, factory.get("/?utm_source=newsletter"))
    assert not check(rule, factory.get("/?utm_source=ads&utm_campaign=spring"))
    remembered = Snapshot(utm_source="newsletter", utm_campaign="spring")
    assert check(rule, factory.get("/next/"), remembered)
    assert not check(rule, factory.get("/next/?utm_source=ads"), remembered)  # this request's UTM wins


def test_local_time_from_included_to_excluded_and_across_midnight(settings):
    settings.TIME_ZONE = "UTC"
    office = {"rule": "local_time", "from": 9, "to": 17}
    night = {"rule": "local_time", "from": 22, "to": 6}
    at = lambda hour, minute=0: datetime(2026, 3, 10, hour, minute, tzinfo=UTC)  # noqa: E731
    assert check(office, now=at(9)) and check(office, now=at(16, 59))
    assert not check(office, now=at(8, 59)) and not check(office, now=at(17))
    assert check(night, now=at(23)) and check(night, now=at(0)) and check(night, now=at(5, 59))
    assert not check(night, now=at(6)) and not check(night, now=at(21, 59))
    # In another time zone: 8:00 UTC is 9:00 in Paris (winter).
    assert check({**office, "tz": "Europe/Paris"}, now=at(8))


def test_day_of_week(settings):
    tuesday = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert check({"rule": "day_of_week", "days": ["tue", "wed"]}, now=tuesday)
    assert not check({"rule": "day_of_week", "days": ["sat", "sun"]}, now=tuesday)
    # Late Tuesday in UTC is already Wednesday in Tokyo.
    late = datetime(2026, 3, 10, 20, tzinfo=UTC)
    assert check({"rule": "day_of_week", "days": "wed", "tz": "Asia/Tokyo"}, now=late)


def test_country_from_the_configured_header(settings):
    rule = {"rule": "country", "is": ["fr", "be"]}
    assert check(rule, factory.get("/", HTTP_CF_IPCOUNTRY="FR"))
    assert not check(rule, factory.get("/", HTTP_CF_IPCOUNTRY="DE"))
    assert not check(rule, factory.get("/"))
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "COUNTRY_HEADER": "X-Country"}
    assert check(rule, factory.get("/", HTTP_X_COUNTRY="be"))
    assert not check(rule, factory.get("/", HTTP_CF_IPCOUNTRY="FR"))
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "COUNTRY_HEADER": ""}
    assert not check(rule, factory.get("/", HTTP_X_COUNTRY="be"))


@pytest.mark.parametrize(
    ("country", "continent"),
    [
        ("FR", "EU"),
        ("RU", "EU"),
        ("TR", "AS"),
        ("JP", "AS"),
        ("EG", "AF"),
        ("US", "NA"),
        ("MX", "NA"),
        ("BR", "SA"),
        ("AU", "OC"),
        ("AQ", "AN"),
    ],
)
def test_continent_by_the_country(country, continent):
    request = factory.get("/", HTTP_CF_IPCOUNTRY=country)
    assert check({"rule": "continent", "is": continent}, request)
    others = [code for code in ("AF", "AN", "AS", "EU", "NA", "OC", "SA") if code != continent]
    assert not check({"rule": "continent", "is": others}, request)


def test_every_country_has_one_continent():
    from django_countries.data import COUNTRIES

    from tailored_cms.rules.countries import continent_of

    assert {code for code in COUNTRIES if not continent_of(code)} == set()


@pytest.mark.parametrize(
    ("country", "member"),
    [("FR", True), ("CY", True), ("HR", True), ("GB", False), ("CH", False), ("NO", False), ("US", False), ("", False)],
)
def test_eu_is_the_27_member_states(country, member):
    from tailored_cms.rules.countries import EU_MEMBERS

    assert len(EU_MEMBERS) == 27
    assert check({"rule": "eu"}, factory.get("/", HTTP_CF_IPCOUNTRY=country)) is member
    assert check({"not": {"rule": "eu"}}, factory.get("/", HTTP_CF_IPCOUNTRY=country)) is not member


def test_the_country_in_words_is_its_name_in_the_editors_language():
    from tailored_cms.rules import describe_tree

    with translation.override("de"):
        assert describe_tree({"rule": "country", "is": ["DE", "fr"]}) == "ist in Deutschland oder Frankreich"


def test_language_is_the_language_the_page_is_served_in():
    rule = {"rule": "language", "is": ["es"]}
    with translation.override("es"):
        assert check(rule, factory.get("/"))
    with translation.override("en"):
        assert not check(rule, factory.get("/"))
    with translation.override("es-ar"):  # a variant the site doesn't list: its language
        assert check(rule, factory.get("/"))
    with translation.override("de"):  # not a language of the site (en, es, it): no language matches
        assert not check({"rule": "language", "is": ["en", "es", "it"]}, factory.get("/"))
