"""Fixtures of the results tests: a page with a tailored area (a goal, a holdout, two variants), editors with and
without the permission to see results, and events as the beacon sends them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pytest
import redis
from cms.api import add_plugin, create_page
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.results.models import VariantStats
from tailored_cms.tracking import TrackedEvent, append

from ..rules.conftest import make_visitor  # noqa: F401 - a fixture of the segment sizes' tests


@dataclass
class Hero:
    """The page's tailored area and its variants."""

    page: object
    area: TailoredArea
    sports: Variant
    everyone: Variant


@pytest.fixture
def hero(db) -> Hero:
    """A customization area "Hero" with goal ``signup`` and a 10% holdout: Sports fans (topic), Everyone (fallback)."""
    api.create_topic("sports", "Sports")
    page = create_page("Home", "page.html", "en", slug="home")
    placeholder = page.get_content_obj("en").get_placeholders().get(slot="content")
    area = api.add_area(placeholder, strategy="customization", label="Hero", holdout_percent=10, goal="signup")
    sports = api.add_variant(area, "Sports fans", topics=["sports"])
    add_plugin(placeholder, "TextPlugin", "en", target=sports, body="<p>SPORTS</p>")
    everyone = api.add_variant(area, "Everyone", fallback=True)
    add_plugin(placeholder, "TextPlugin", "en", target=everyone, body="<p>EVERYONE</p>")
    return Hero(page, area, sports, everyone)


def staff_client(username: str, *codenames: str, superuser: bool = False) -> Client:
    """A signed-in staff member with these permissions of the app (or a superuser)."""
    model = get_user_model()
    if superuser:
        user = model.objects.create_superuser(username, f"{username}@example.com", "pw")
    else:
        user = model.objects.create_user(username, password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="tailored_cms", codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def analyst(db) -> Client:
    """Staff who may see results, and nothing else of tailoring."""
    return staff_client("analyst", "view_results")


def vid() -> str:
    return str(uuid.uuid4())


def impression(
    visitor: str, area: str, shown: Iterable[tuple[str, str]], ts: datetime, language: str | None = None
) -> TrackedEvent:
    """What tracking.js sends for an area shown: its key, the variants' keys and the path of each (and the page's
    language, from the area's data-tailored-language)."""
    pairs = list(shown)
    props = {"area": area, "variants": [v for v, _p in pairs], "paths": [p for _v, p in pairs]}
    if language is not None:
        props["language"] = language
    return TrackedEvent(visitor, "impression", ts=ts, props=props, path="/home/")


def click(visitor: str, area: str, variant: str, path: str, ts: datetime, language: str | None = None) -> TrackedEvent:
    props = {"area": area, "variant": variant, "path": path, "link": "/sports/"}
    if language is not None:
        props["language"] = language
    return TrackedEvent(visitor, "click", ts=ts, props=props, path="/home/")


def goal(visitor: str, name: str, ts: datetime) -> TrackedEvent:
    return TrackedEvent(visitor, name, ts=ts, props={"plan": "pro"}, path="/signup/")


def add_events(client: redis.Redis, events: Iterable[TrackedEvent]) -> None:
    pipeline = client.pipeline(transaction=False)
    append(pipeline, events)
    pipeline.execute()


@pytest.fixture
def by_language(hero):
    """Today: Sports fans shown 300 times on Spanish pages (60 clicks), 100 on Italian ones (5 clicks)."""
    for language, impressions, clicks in (("es", 300, 60), ("it", 100, 5)):
        VariantStats.objects.create(
            area=hero.area.key,
            variant=hero.sports.key,
            path="customized",
            day=timezone.localdate(),
            language=language,
            impressions=impressions,
            clicks=clicks,
        )
    return hero
