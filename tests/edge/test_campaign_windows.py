"""A campaign window starts while the page sits at a real Varnish (the shipped VCL): the page switches right then."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from tailored_cms import api
from tests.areas.conftest import make_page, placeholder, text  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
LEAD = 4  # seconds from the first view of the page until the sale starts


def test_the_page_switches_to_the_campaign_right_after_it_starts(varnish, make_page):  # noqa: F811
    page = make_page("Sale", slug="sale")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="static", label="Hero")
    starts_at = timezone.now() + timedelta(seconds=LEAD)
    text(ph, "<p>SALE</p>", target=api.add_variant(area, label="Sale", fallback=True, starts_at=starts_at))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    url = varnish.url + page.get_absolute_url()
    before = requests.get(url)
    assert "EVERYONE" in before.text and before.headers["X-Cache"] == "MISS"
    assert requests.get(url).headers["X-Cache"] == "HIT"  # stored, for the seconds until the start only
    time.sleep(max(0.0, (starts_at - timezone.now()).total_seconds()) + 0.1)
    after = requests.get(url)
    assert "SALE" in after.text and "EVERYONE" not in after.text
