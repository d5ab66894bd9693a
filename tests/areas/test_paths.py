"""Which path put each variant on the page (what results count by): ``selection.select``, and the markup the beacon
reads it from — variant keys, not pks, and the path, the same from django CMS's caches."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponse
from django.test import Client

from tailored_cms import api
from tailored_cms.areas.selection import (
    CUSTOMIZED,
    FALLBACK,
    HOLDOUT,
    PERSONALIZED,
    in_holdout,
    select,
)
from tailored_cms.conf import tailored_settings
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

from .conftest import placeholder, text
from .test_selection import EVERYONE, SPORTS, V, names, visitor

FANS = V("fans", segments=["sports-fans"], priority=1)


@pytest.mark.parametrize(
    ("strategy", "choices", "segments", "held_out", "expected"),
    [
        ("customization", (["sports"],), (), False, (["sports"], (CUSTOMIZED,), CUSTOMIZED)),
        ("customization", ((),), (), False, (["everyone"], (FALLBACK,), FALLBACK)),
        ("personalization", ((),), ("sports-fans",), False, (["fans"], (PERSONALIZED,), PERSONALIZED)),
        ("personalization", ((),), ("vip",), False, (["everyone"], (FALLBACK,), FALLBACK)),
        ("static", (["sports"],), ("sports-fans",), False, (["everyone"], (FALLBACK,), FALLBACK)),
        ("customization", (["sports"],), (), True, (["everyone"], (HOLDOUT,), HOLDOUT)),
        ("hybrid", (["sports"],), ("sports-fans",), True, (["everyone"], (HOLDOUT,), HOLDOUT)),
    ],
)
def test_each_strategy_says_which_path_chose(strategy, choices, segments, held_out, expected):
    chosen = select(strategy, [SPORTS, FANS, EVERYONE], visitor(*choices), 1, segments, held_out)
    assert (names(chosen.shown), chosen.paths, chosen.path) == expected
    assert chosen.shown == select(strategy, [SPORTS, FANS, EVERYONE], visitor(*choices), 1, segments, held_out).shown


def test_hybrid_names_a_path_per_variant():
    chosen = select("hybrid", [SPORTS, FANS, EVERYONE], visitor(["sports"]), 3, ["sports-fans"])
    assert list(zip(names(chosen.shown), chosen.paths, strict=True)) == [
        ("sports", CUSTOMIZED),
        ("fans", PERSONALIZED),
    ]
    assert chosen.path == CUSTOMIZED  # the area's: its first variant's


def test_an_area_without_a_fallback_says_why_it_shows_nothing():
    assert select("customization", [SPORTS], visitor(["travel"])).path == FALLBACK
    held = select("customization", [SPORTS], visitor(["sports"]), held_out=True)
    assert (held.shown, held.paths, held.path) == ([], (), HOLDOUT)


# On real pages

VARIANT = re.compile(r'<div class="tailored-variant" data-tailored-variant="([^"]*)" data-tailored-path="([^"]*)"')
AREA = re.compile(r'data-tailored-area-key="([^"]*)" data-tailored-strategy="[^"]*" data-tailored-path="([^"]*)"')


def client_of(visitor_id: str) -> Client:
    response = HttpResponse()
    set_visitor_cookie(response, visitor_id)
    client = Client()
    client.cookies[tailored_settings.COOKIE_NAME] = response.cookies[tailored_settings.COOKIE_NAME].value
    return client


@pytest.fixture
def hero(make_page):
    api.create_topic("sports")
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="customization", label="Hero", holdout_percent=50)
    sports = api.add_variant(area, label="Sports fans", topics=["sports"])
    text(ph, "<p>SPORTS</p>", target=sports)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=everyone)
    return page, area, sports, everyone


def held_visitors(area_key: str) -> tuple[Visitor, Visitor]:
    """A sports fan in the area's holdout and one outside it."""
    held = outside = None
    while held is None or outside is None:
        fan = Visitor.objects.create(topics=["sports"])
        if in_holdout(str(fan.pk), area_key, 50):
            held = held or fan
        else:
            outside = outside or fan
    return held, outside


def test_the_markup_names_variants_by_key_and_the_path_of_each(hero, client):
    page, area, sports, everyone = hero
    held, outside = held_visitors(area.key)
    url = page.get_absolute_url()
    for who, expected in (
        (client_of(str(outside.pk)), (sports.key, CUSTOMIZED)),
        (client_of(str(held.pk)), (everyone.key, HOLDOUT)),
        (client, (everyone.key, FALLBACK)),  # no choices: the fallback
    ):
        for _ in range(2):  # rendered, then from django CMS's caches: the same markup
            html = who.get(url).content.decode()
            assert VARIANT.findall(html) == [expected]
            assert AREA.findall(html) == [(area.key, expected[1])]
    assert f'data-tailored-variant="{sports.pk}"' not in html  # keys, which survive copies and versions
