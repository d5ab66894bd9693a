"""Visitors browse the example site through a real Varnish running the shipped VCL: each gets exactly their
tailoring, first visits come from the cache, a segment joined shows, publishing purges."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from django.utils.text import slugify

from example_site.demo import content

from .conftest import KEY_MAX_AGE, Edge

pytestmark = pytest.mark.workers  # a Celery worker ingests the page views and computes the segments

DEVICES = {
    "desktop": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/604.1",
}
ARTICLES = [f"/en/{slugify(texts['en'][0].replace('’', ' '))}/" for _topic, texts in content.ARTICLES]
SPORTS = [f"/en/{slugify(texts['en'][0].replace('’', ' '))}/" for topic, texts in content.ARTICLES if topic == "sports"]
PAGES = ["/en/", "/en/", *ARTICLES]  # the homepage, the most tailored, twice as likely
SPORTS_FANS = "For sports fans: the weekend"  # the homepage's recommended variant for the sports-fans segment


def save_choices(session: requests.Session, base: str, choices: dict) -> None:
    """As customize.js saves them: the token from a GET of the API, then a PATCH (both pass through Varnish)."""
    url = base + "/tailored/api/v1/preferences/"
    token = session.get(url).headers["X-CSRFToken"]
    saved = session.patch(url, json=choices, headers={"X-CSRFToken": token, "Origin": base})
    assert saved.status_code == 200, saved.text


def origin_page(edge: Edge, session: requests.Session, path: str) -> str:
    """What the site alone renders for this visitor now (their cookies, their browser), its answer not kept."""
    return requests.get(edge.site.url(path), cookies=session.cookies.get_dict(), headers=session.headers).text


class Visitor:
    def __init__(self, number: int, rng: random.Random, base: str) -> None:
        self.session = requests.Session()
        self.device = rng.choice(list(DEVICES))
        self.session.headers["User-Agent"] = DEVICES[self.device]
        self.choices: dict = {}
        if rng.random() < 0.3:  # 30 % made choices; the others are first-time visitors
            self.choices = {
                "topics": rng.sample(["sports", "technology", "culture", "science", "travel"], rng.randint(0, 3)),
                "theme": rng.choice(["light", "dark", "high-contrast"]),
                "layout": rng.choice(["one-column", "two-columns", "grid"]),
            }
        self.pages = [rng.choice(PAGES) for _ in range(3)]
        self.base = base


def browse(edge: Edge, visitor: Visitor) -> list[tuple[str, str, bool, bool]]:
    """(path, how Varnish answered, same as the origin's, first-time visitor) for each page the visitor views."""
    if visitor.choices:
        save_choices(visitor.session, visitor.base, visitor.choices)
    seen = []
    for path in visitor.pages:
        response = visitor.session.get(visitor.base + path)
        assert response.status_code == 200, (path, response.status_code)
        same = response.text == origin_page(edge, visitor.session, path)
        seen.append((path, response.headers.get("X-Cache", ""), same, not visitor.choices))
    return seen


def test_two_hundred_visitors_each_get_exactly_their_tailoring_and_first_visits_come_from_the_cache(edge: Edge):
    rng = random.Random(26)
    visitors = [Visitor(number, rng, edge.varnish.url) for number in range(200)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        views = [view for seen in pool.map(lambda v: browse(edge, v), visitors) for view in seen]
    mismatches = [(path, cache) for path, cache, same, _first in views if not same]
    assert mismatches == [], f"{len(mismatches)} of {len(views)} pages were not the visitor's: {mismatches[:5]}"
    first_time = Counter(cache for _path, cache, _same, first in views if first)
    # Each page is fetched once per device class (and a few times more while the first fetch is under way).
    assert first_time["HIT"] >= 0.8 * sum(first_time.values()), first_time
    tailored = Counter(cache for _path, cache, _same, first in views if not first)
    assert tailored["HIT"] > 0, tailored  # visitors who chose alike share copies too


def test_a_forged_key_gets_no_other_visitors_page_stored(edge: Edge):
    fan = requests.Session()
    save_choices(fan, edge.varnish.url, {"topics": ["sports"], "theme": "dark"})
    fan.get(edge.varnish.url + "/en/")
    fans_key = fan.cookies["tailored_key"]
    forger = requests.Session()
    save_choices(forger, edge.varnish.url, {"theme": "light"})  # a visitor of their own, claiming the fan's key
    forger.cookies.set("tailored_key", fans_key)
    path = ARTICLES[-1] + "?forged"  # a page nobody has viewed yet
    forged = forger.get(edge.varnish.url + path)
    assert forged.text == origin_page(edge, forger, path)  # the forger's own page
    assert "private" in forged.headers["Cache-Control"]
    page = fan.get(edge.varnish.url + path)  # the fan's view of that page is theirs, not the forger's
    assert page.headers["X-Cache"] == "MISS"
    assert page.text == origin_page(edge, fan, path)


PAGE_VIEW = re.compile(r'data-tailored-page-view="([^"]+)"')


def view(reader: requests.Session, url: str, path: str) -> requests.Response:
    """A page viewed through the edge, and its page view sent as its beacon (tracking.js) sends it."""
    page = reader.get(url + path)
    assert page.status_code == 200, page.status_code
    [page_path] = PAGE_VIEW.findall(page.text)
    event = {"id": str(uuid.uuid4()), "name": "page_view", "ts": datetime.now(UTC).isoformat(), "path": page_path}
    sent = reader.post(url + "/tailored/api/v1/events/", json={"events": [event]})
    assert sent.json() == {"accepted": 1, "tracking": True}, sent.text
    return page


def sports_reader(url: str, theme: str) -> requests.Session:
    """A desktop visitor who agreed to tracking and has read three sports articles through the edge, with the
    homepage cached as it was. ``theme``: a choice of their own, so that their pages are stored under their own key."""
    reader = requests.Session()
    reader.headers["User-Agent"] = DEVICES["desktop"]
    save_choices(reader, url, {"theme": theme})
    token = reader.get(url + "/tailored/api/v1/preferences/").headers["X-CSRFToken"]
    agreed = reader.put(url + "/tailored/api/v1/consent/", json={"tracking": True}, headers={"X-CSRFToken": token})
    assert agreed.status_code == 200, agreed.text
    assert SPORTS_FANS not in reader.get(url + "/en/").text  # stored under their key as it is now
    for article in SPORTS:  # three sports articles make a sports fan
        view(reader, url, article)
    return reader


def test_a_visitor_who_joins_a_segment_sees_its_variant_once_the_beacon_or_the_key_cookies_end_renews_the_key(
    edge: Edge,
):
    url = edge.varnish.url
    beaconing, quiet = sports_reader(url, "dark"), sports_reader(url, "high-contrast")
    key_before = beaconing.cookies["tailored_key"]  # given by their last page, before the worker's change
    deadline = time.monotonic() + 30
    for reader in (beaconing, quiet):
        while SPORTS_FANS not in origin_page(edge, reader, "/en/"):  # until the worker has put them in the segment
            assert time.monotonic() < deadline, "the worker never put the reader in sports-fans:\n" + edge.site.logs()
            time.sleep(0.2)
    # The beacon of the page they leave, through the edge to the site: its answer carries their new key.
    leaving = {
        "id": str(uuid.uuid4()),
        "name": "time_on_page",
        "ts": datetime.now(UTC).isoformat(),
        "path": SPORTS[-1],
        "props": {"seconds": 5, "path": SPORTS[-1]},
    }
    sent = beaconing.post(url + "/tailored/api/v1/events/", json={"events": [leaving]})
    assert sent.status_code == 202, sent.text
    assert sent.cookies["tailored_key"] != key_before
    assert SPORTS_FANS in beaconing.get(url + "/en/").text
    # Without a beacon: once the key cookie has ended, their next page reaches the site, which gives it anew.
    time.sleep(KEY_MAX_AGE)
    assert SPORTS_FANS in quiet.get(url + "/en/").text
    quiet.get(url + "/en/")  # stored under their new key
    assert quiet.get(url + "/en/").headers["X-Cache"] == "HIT"  # and served from the cache again
