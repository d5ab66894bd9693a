"""Edge mode at the origin: what each response tells a shared cache, and the key cookie that keeps it right."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import cms.cache.page
import cms.views
import pytest
from django.test import Client
from django.utils import timezone

from tailored_cms import api
from tailored_cms.edge import BUCKET_HEADER, KEY_COOKIE, KEY_HEADER, MARK_HEADER
from tailored_cms.rules.request_time import DEVICE_HEADER
from tests.areas.conftest import make_page, placeholder, text, visitor_client  # noqa: F401
from tests.rules.test_geoip import PARIS, write_database

pytestmark = pytest.mark.django_db
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture(autouse=True)
def edge_mode(settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_MODE": True, "EDGE_MAX_AGE": 120}


@pytest.fixture
def tailored_url(make_page, django_capture_on_commit_callbacks):  # noqa: F811
    api.create_topic("sports")
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("mobile", "Mobile", rules={"rule": "device", "is": "mobile"})
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="customization", label="Hero")
    sports = api.add_variant(area, label="Sports", topics=["sports"])
    text(ph, "<p>SPORTS</p>", target=sports)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=everyone)
    return page.get_absolute_url()


def get(client: Client, url: str, **headers):
    return client.get(url, HTTP_USER_AGENT=DESKTOP, **headers)


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}


def test_a_first_visit_is_public_and_varies_on_the_key(client, tailored_url):
    response = get(client, tailored_url, **{"HTTP_" + KEY_HEADER.upper().replace("-", "_"): ""})
    assert "<p>EVERYONE</p>" in response.content.decode()
    control = response["Cache-Control"]
    assert "public" in control and "s-maxage=120" in control and "private" not in control
    assert {KEY_HEADER.lower(), "sec-gpc", "dnt"} <= vary(response)
    assert response[MARK_HEADER] == "tailored"
    assert KEY_COOKIE not in response.cookies  # nothing of the visitor: no key to keep


def test_a_visitor_with_choices_gets_a_key_then_pages_stored_under_it(visitor_client, tailored_url):  # noqa: F811
    fan = visitor_client(topics=["sports"])
    first = get(fan, tailored_url)  # no key yet: the page is theirs, and they get the key
    assert "<p>SPORTS</p>" in first.content.decode()
    assert "private" in first["Cache-Control"] and "no-store" in first["Cache-Control"]
    key = first.cookies[KEY_COOKIE].value
    assert key and "." in key  # the key, then the holdout bucket of a visitor with an id
    second = get(fan, tailored_url)  # the test client sends the cookie; the origin reads it without an edge
    assert "public" in second["Cache-Control"] and KEY_COOKIE not in second.cookies
    assert "<p>SPORTS</p>" in second.content.decode()


def test_a_forged_key_gets_the_visitors_own_page_never_stored(client, visitor_client, tailored_url):  # noqa: F811
    fan = visitor_client(topics=["sports"])
    fans_key = get(fan, tailored_url).cookies[KEY_COOKIE].value
    nobody = visitor_client()  # a visitor with an id and no choices, presenting the fan's key
    nobody.cookies[KEY_COOKIE] = fans_key
    response = get(nobody, tailored_url)
    assert "<p>EVERYONE</p>" in response.content.decode()  # their own content, not the fan's
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert MARK_HEADER not in response
    assert response.cookies[KEY_COOKIE].value != fans_key  # corrected: their own key (here, only a bucket)


def test_a_saved_choice_refreshes_the_key_in_the_same_response(visitor_client, tailored_url):  # noqa: F811
    visitor = visitor_client()
    get(visitor, tailored_url)
    before = visitor.cookies[KEY_COOKIE].value if KEY_COOKIE in visitor.cookies else ""
    saved = visitor.patch("/tailored/api/v1/preferences/", {"topics": ["sports"]}, content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert saved.cookies[KEY_COOKIE].value not in ("", before)
    page = get(visitor, tailored_url)
    assert "<p>SPORTS</p>" in page.content.decode() and "public" in page["Cache-Control"]


def test_the_device_class_the_edge_derived_is_varied_on(client, tailored_url):
    response = get(client, tailored_url, **{"HTTP_" + DEVICE_HEADER.upper().replace("-", "_"): "desktop"})
    assert DEVICE_HEADER.lower() in vary(response)


def test_a_segment_on_the_time_of_day_keeps_pages_from_the_edge(
    client, tailored_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("evening", "Evening", rules={"rule": "local_time", "from": 18, "to": 23})
    # "evening" reads the clock, which the edge can't vary on: every tailored page is the request's own.
    response = get(client, tailored_url)
    assert "private" in response["Cache-Control"]


def test_a_holdout_area_varies_on_the_bucket_too(visitor_client, make_page):  # noqa: F811
    page = make_page("Held", slug="held")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="customization", label="Held", holdout_percent=50)
    fallback = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=fallback)
    visitor = visitor_client(theme="dark")
    get(visitor, page.get_absolute_url())  # learns the key
    response = get(visitor, page.get_absolute_url())
    assert "public" in response["Cache-Control"]
    assert BUCKET_HEADER.lower() in vary(response)


def test_signed_in_users_are_never_shared(admin_client, tailored_url):
    response = get(admin_client, tailored_url)
    assert "private" in response["Cache-Control"] and MARK_HEADER not in response


def test_off_by_default_pages_stay_private(client, tailored_url, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_MODE": False}
    response = get(client, tailored_url)
    assert "private" in response["Cache-Control"] and "cookie" in vary(response)
    assert KEY_COOKIE not in response.cookies


def test_a_page_with_an_area_never_from_a_shared_cache_is_each_visitors_own(client, make_page):  # noqa: F811
    page = make_page("Offers", slug="offers")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="CRM offer", never_shared=True)
    text(ph, "<p>OFFER</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    url = page.get_absolute_url()
    rendered, from_cms_caches = get(client, url), get(client, url)  # the second from django CMS's caches
    for response in (rendered, from_cms_caches):
        assert "<p>OFFER</p>" in response.content.decode()
        assert "private" in response["Cache-Control"] and MARK_HEADER not in response


def test_the_beacon_renews_the_key_once_the_worker_put_the_visitor_in_a_segment(
    visitor_client,  # noqa: F811
    tailored_url,
    django_capture_on_commit_callbacks,
):
    reader = visitor_client(tracking_consent=True, visits=5)
    get(reader, tailored_url)  # the page from the site, and the key as it is
    before = reader.cookies[KEY_COOKIE].value
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("regulars", "Regulars", rules={"rule": "visit_count", "min": 3})
    api.recompute_segments()  # as the worker does: memberships, then the snapshots in Redis
    event = {"id": str(uuid.uuid4()), "name": "click", "ts": timezone.now().isoformat(), "path": "/home/"}
    sent = reader.post("/tailored/api/v1/events/", {"events": [event]}, content_type="application/json")
    assert sent.status_code == 202, sent.content
    renewed = sent.cookies[KEY_COOKIE].value
    assert renewed not in ("", before)
    page = get(reader, tailored_url)  # their next page is stored under the new key
    assert "public" in page["Cache-Control"] and KEY_COOKIE not in page.cookies


def test_renewing_the_key_on_events_costs_no_sql_and_stays_one_round_trip(
    visitor_client,  # noqa: F811
    redis_round_trips,
    django_assert_num_queries,
):
    reader = visitor_client(tracking_consent=True, theme="dark")
    event = {"id": str(uuid.uuid4()), "name": "click", "ts": timezone.now().isoformat(), "path": "/home/"}
    reader.post("/tailored/api/v1/events/", {"events": [event]}, content_type="application/json")  # snapshot stored
    current = reader.cookies[KEY_COOKIE].value
    reader.cookies[KEY_COOKIE] = "0123456789abcdef01234567.7"  # an old key
    redis_round_trips.commands.clear()
    event = {**event, "id": str(uuid.uuid4())}
    with django_assert_num_queries(0):
        sent = reader.post("/tailored/api/v1/events/", {"events": [event]}, content_type="application/json")
    assert sent.status_code == 202 and sent.cookies[KEY_COOKIE].value == current
    assert redis_round_trips.round_trips == 1, redis_round_trips.commands


def stop_clock(monkeypatch, moment: datetime) -> None:
    """Every clock the page and django CMS's page cache read says ``moment``, however long the request takes."""
    for module in (timezone, cms.cache.page, cms.views):
        monkeypatch.setattr(module, "now", lambda: moment)


def s_maxage(response) -> int:
    found = re.search(r"s-maxage=(\d+)", response["Cache-Control"])
    assert found is not None and "public" in response["Cache-Control"], response["Cache-Control"]
    return int(found.group(1))


@pytest.fixture
def campaign_url(make_page):  # noqa: F811
    """A page showing EVERYONE, and SALE (first, also a fallback) from 30 seconds after ``NOW``."""
    page = make_page("Sale", slug="sale")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="static", label="Hero")
    sale = api.add_variant(area, label="Sale", fallback=True, starts_at=NOW + timedelta(seconds=30))
    text(ph, "<p>SALE</p>", target=sale)
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page.get_absolute_url()


NOW = timezone.now().replace(microsecond=0)


def test_the_edge_keeps_a_page_no_longer_than_until_a_campaign_starts(client, campaign_url, monkeypatch):
    stop_clock(monkeypatch, NOW)
    rendered, from_page_cache = get(client, campaign_url), get(client, campaign_url)
    for response in (rendered, from_page_cache):
        assert "<p>EVERYONE</p>" in response.content.decode() and "SALE" not in response.content.decode()
        assert s_maxage(response) == 30  # not EDGE_MAX_AGE (120)


def test_a_page_whose_campaign_starts_within_the_second_is_not_stored(client, campaign_url, monkeypatch):
    stop_clock(monkeypatch, NOW + timedelta(seconds=29.5))
    response = get(client, campaign_url)
    assert "<p>EVERYONE</p>" in response.content.decode()
    assert "public" not in response["Cache-Control"] and MARK_HEADER not in response


def test_a_page_django_cms_served_from_its_page_cache_keeps_its_remaining_life(client, campaign_url, monkeypatch):
    stop_clock(monkeypatch, NOW)
    get(client, campaign_url)  # rendered: django CMS keeps it until the sale starts
    stop_clock(monkeypatch, NOW + timedelta(seconds=20))
    from_page_cache = get(client, campaign_url)
    assert "<p>EVERYONE</p>" in from_page_cache.content.decode()
    assert s_maxage(from_page_cache) == 10


@pytest.fixture
def french_url(make_page, django_capture_on_commit_callbacks, tmp_path, settings):  # noqa: F811
    """A page whose area shows FRENCH to visitors from France; countries from a GeoIP database listing Paris."""
    database = write_database(tmp_path / "countries.mmdb", {"81.2.69.0/24": "FR"})
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "GEOIP_DATABASE": str(database)}
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("french", "French", rules={"rule": "country", "is": ["FR"]})
    page = make_page("Bonjour", slug="bonjour")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="personalization", label="Hero")
    text(ph, "<p>FRENCH</p>", target=api.add_variant(area, label="French", segments=["french"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page.get_absolute_url()


def test_a_country_from_the_geoip_database_keeps_the_page_from_the_edge(client, french_url, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "COUNTRY_HEADER": ""}
    for address, shown in ((PARIS, "FRENCH"), ("127.0.0.1", "EVERYONE")):
        response = get(client, french_url, REMOTE_ADDR=address)
        assert f"<p>{shown}</p>" in response.content.decode()
        assert "private" in response["Cache-Control"] and MARK_HEADER not in response, address


def test_a_country_from_the_cdns_header_is_varied_on_the_database_only_without_it(client, french_url, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "COUNTRY_HEADER": "CF-IPCountry"}
    from_header = get(client, french_url, REMOTE_ADDR="127.0.0.1", HTTP_CF_IPCOUNTRY="FR")
    assert "<p>FRENCH</p>" in from_header.content.decode()
    assert "public" in from_header["Cache-Control"] and "cf-ipcountry" in vary(from_header)
    from_database = get(client, french_url + "?no-header", REMOTE_ADDR=PARIS)  # the edge's header missing
    assert "<p>FRENCH</p>" in from_database.content.decode()
    assert "private" in from_database["Cache-Control"] and MARK_HEADER not in from_database


def test_without_a_geoip_database_a_request_without_the_country_header_is_shared_too(client, french_url, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "COUNTRY_HEADER": "CF-IPCountry", "GEOIP_DATABASE": None}
    response = get(client, french_url, REMOTE_ADDR=PARIS)  # no header: no country, the same for all such requests
    assert "<p>EVERYONE</p>" in response.content.decode()
    assert "public" in response["Cache-Control"] and "cf-ipcountry" in vary(response)
