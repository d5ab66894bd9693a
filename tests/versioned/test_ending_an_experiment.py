"""Ending an experiment on a site with djangocms-versioning: the published version can't change, so ending it
changes the page's draft (the editor clicks Edit first); visitors keep the experiment until the editor publishes
that draft, and then all see the winner."""

from __future__ import annotations

import html

import pytest
from cms.api import add_plugin, create_page
from cms.models import PageContent
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from djangocms_versioning.constants import DRAFT, PUBLISHED
from djangocms_versioning.models import Version

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.results.models import ExperimentEnd

from ..areas.test_holdouts import new_visitor
from ..results.experiments import decided_experiment

pytestmark = pytest.mark.django_db

TEXTS = {"Standard": "OUR NEWSLETTER", "Plain": "PLAIN OFFER", "Bold": "BOLD OFFER"}
VISITORS = 12  # each sees Plain or Bold, at half each: both are seen unless all twelve fall on one side (1 in 2,000)


@pytest.fixture
def editor():
    user = get_user_model().objects.create_superuser("ada", "ada@example.com", "pw", first_name="Ada")
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def published_experiment(editor):
    """A published page whose area "Offer" tests Plain (the winner by far) against Bold, Standard its fallback."""
    user, _client = editor
    page = create_page("Offers", "page.html", "en", created_by=user, slug="offers")
    content = PageContent.admin_manager.get(page=page, language="en")
    placeholder = content.get_placeholders().get(slot="content")
    area = api.add_area(placeholder, strategy="experiment", label="Offer")
    variants = {}
    for label, body in TEXTS.items():
        variants[label] = api.add_variant(area, label, fallback=label == "Standard")
        add_plugin(placeholder, "TextPlugin", "en", target=variants[label], body=f"<p>{body}</p>")
    decided_experiment(area, variants["Plain"], variants["Bold"])
    version = Version.objects.get_for_content(content)
    version.publish(user)
    return page, area, variants["Plain"]


def shown(client: Client, url: str) -> str:
    """Which of the texts the visitor's page shows (exactly one)."""
    page = client.get(url).content.decode()
    found = [text for text in TEXTS.values() if text in page]
    assert len(found) == 1, page
    return found[0]


def test_ending_changes_the_draft_and_visitors_see_the_winner_once_it_is_published(editor, published_experiment):
    user, ada = editor
    page, area, plain = published_experiment
    url = page.get_absolute_url("en")
    visitors = [new_visitor()[0] for _ in range(VISITORS)]
    before = [shown(visitor, url) for visitor in visitors]
    assert set(before) == {TEXTS["Plain"], TEXTS["Bold"]}  # the experiment is on

    end_url = f"/admin/tailored_cms/variantstats/{area.key}/end/"
    # Only the published version: nothing the editor may change, and the page says what to do.
    refused = ada.post(end_url, {"winner": plain.key})
    assert refused.status_code == 400
    assert "has no draft you may change now: open its page, click Edit to make a draft" in html.unescape(
        refused.content.decode()
    )
    assert not ExperimentEnd.objects.exists()

    # The editor clicks Edit on the page (djangocms-versioning makes a draft), then ends the experiment.
    published = Version.objects.get(content_type__model="pagecontent", state=PUBLISHED)
    edit = reverse("admin:djangocms_versioning_pagecontentversion_edit_redirect", args=[published.pk])
    assert ada.post(edit).status_code == 302
    done = ada.post(end_url, {"winner": plain.key}, follow=True)
    said = html.unescape(done.content.decode())
    assert "“Plain” is its fallback, shown to everyone (strategy: Static)." in said
    assert "This changed the draft of the page “Offers”: publish it for visitors to see the change." in said

    # Visitors: still the experiment, each their own variant, until the draft is published.
    assert [shown(visitor, url) for visitor in visitors] == before
    draft = Version.objects.get(content_type__model="pagecontent", state=DRAFT)
    assert area_of(draft).strategy == "static" and fallbacks(area_of(draft)) == ["Plain"]
    assert area_of(published).strategy == "experiment" and fallbacks(area_of(published)) == ["Standard"]

    # The editor publishes the draft: everyone sees the winner, new visitors and those without an id too.
    publish = reverse("admin:djangocms_versioning_pagecontentversion_publish", args=[draft.pk])
    assert ada.post(publish).status_code == 302
    assert Version.objects.get(pk=draft.pk).state == PUBLISHED
    everyone = [*visitors, new_visitor()[0], Client()]
    assert {shown(visitor, url) for visitor in everyone} == {TEXTS["Plain"]}


def area_of(version: Version) -> TailoredArea:
    """The experiment's area in that version of the page."""
    placeholder = version.content.get_placeholders().get(slot="content")
    return TailoredArea.objects.get(placeholder=placeholder)


def fallbacks(area: TailoredArea) -> list[str]:
    return [variant.label for variant in Variant.objects.filter(parent_id=area.pk) if variant.fallback]
