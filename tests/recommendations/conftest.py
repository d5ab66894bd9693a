from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from cms.api import add_plugin, create_page
from cms.models import Page
from django.http import HttpResponse
from django.test import Client

from tailored_cms import api, connection
from tailored_cms.conf import tailored_settings
from tailored_cms.recommendations.models import RecommendedPages
from tailored_cms.tracking import TrackedEvent, append
from tailored_cms.tracking.ingest import drain
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor

TECHNOLOGY = ["Chips", "Compilers", "Databases", "Editors", "Networks"]
SPORTS = ["Derby", "Finals", "Marathon"]


@pytest.fixture
def site(db) -> dict[str, Page]:
    """A home page with "Recommended for you", five technology articles and three sports ones."""
    api.create_topic("technology", "Technology", names={"es": "Tecnología"})
    api.create_topic("sports", "Sports", names={"es": "Deportes"})
    pages = {"Home": create_page("Home", "home.html", "en", slug="home")}
    for titles, topic in ((TECHNOLOGY, "technology"), (SPORTS, "sports")):
        for title in titles:
            pages[title] = create_page(title, "page.html", "en", slug=title.lower())
            api.tag_page(pages[title], [topic])
    return pages


@pytest.fixture
def plugin(site) -> RecommendedPages:
    slot = site["Home"].get_content_obj("en").get_placeholders().get(slot="content")
    return add_plugin(slot, "RecommendedPagesPlugin", "en", limit=3)


def read(visitor_id: str, pages: Iterable[Page]) -> None:
    """Page views of ``pages`` by the visitor, through the stream and the ingest, as a browser's would go."""
    events = [TrackedEvent.page_view(visitor_id, page.get_absolute_url(), page_id=page.pk) for page in pages]
    pipeline = connection.get_redis().pipeline(transaction=False)
    append(pipeline, events)
    pipeline.execute()
    drain(5)


@pytest.fixture
def readers(site) -> None:
    """Other visitors: technology readers read Chips, Compilers, Databases and Editors together; many more read
    sports (the popular pages)."""
    for _ in range(3):
        read(str(Visitor.objects.create(tracking_consent=True).pk), [site[t] for t in TECHNOLOGY[:4]])
    for _ in range(6):
        read(str(Visitor.objects.create(tracking_consent=True).pk), [site[t] for t in SPORTS])


@pytest.fixture
def visitor() -> Callable[..., tuple[str, Client]]:
    """A saved visitor and a client whose cookie names them."""

    def make(**choices) -> tuple[str, Client]:
        saved = Visitor.objects.create(**choices)
        response = HttpResponse()
        set_visitor_cookie(response, str(saved.pk))
        client = Client()
        client.cookies[tailored_settings.COOKIE_NAME] = response.cookies[tailored_settings.COOKIE_NAME].value
        return str(saved.pk), client

    return make
