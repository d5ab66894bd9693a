"""``tailored_demo`` seeds personalization: segments, and "Recommended for you" on the homepage, which changes for a
visitor who reads three sports articles (ingest run in-process; ``tests/browser/test_personalization_journey.py``
does the same in Chromium with a real worker)."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, time, timedelta

import pytest
from cms.models import CMSPlugin, Page, PageContent, PageUrl, Placeholder
from django.conf import settings
from django.core.management import call_command, get_commands
from django.test import Client
from django.utils import timezone

from example_site.demo.content import ARTICLES, LANGUAGES
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.rules.models import Segment
from tailored_cms.tracking.ingest import drain
from tailored_cms.widgets.models import PageTopics
from tests.areas.test_windows import clock  # noqa: F401 - the fixture, by name
from tests.tracking.conftest import DESKTOP_UA, MOBILE_UA, celery_app  # noqa: F401 - segments queue a recompute

SPORTS = "For sports fans: the weekend's fixtures, live"
MOBILE = "On the go: today in two minutes"
FALLBACK = "Most read this week: night trains are back"
RECOMMENDED = re.compile(r'<section class="recommended".*?</section>', re.DOTALL)

pytestmark = pytest.mark.urls("example_site.urls")  # the example site's: pages under /en/, /es/, /it/


def placeholder(page: Page, slot: str) -> Placeholder:
    return page.get_content_obj("en").get_placeholders().get(slot=slot)


def seed() -> str:
    out = io.StringIO()
    call_command("tailored_demo", stdout=out)
    return out.getvalue()


def recommended(client: Client) -> str:
    """The text of the homepage's "Recommended for you" section, as this browser gets it."""
    response = client.get("/en/")
    assert response.status_code == 200
    (section,) = RECOMMENDED.findall(response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)).strip()


def consenting(**headers: str) -> Client:
    """A browser that said yes to tracking in the consent banner."""
    client = Client(**headers)
    client.get("/tailored/api/v1/consent/")
    answer = client.put(
        "/tailored/api/v1/consent/",
        json.dumps({"tracking": True}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert answer.status_code == 200 and answer.json()["allowed"] is True
    return client


def sports_articles() -> list[str]:
    tagged = PageTopics.objects.filter(topics__slug="sports").select_related("extended_object")
    return sorted(extension.extended_object.get_absolute_url("en") for extension in tagged)


@pytest.fixture
def demo(transactional_db, celery_app) -> None:  # noqa: F811
    """The demo content, committed (segments publish to Redis on commit)."""
    seed()


def test_a_visitor_who_reads_three_sports_articles_is_recommended_sports_and_nobody_else_is(demo):
    fan = consenting(HTTP_USER_AGENT=DESKTOP_UA)
    assert recommended(fan).startswith(f"Recommended for you {FALLBACK}")
    articles = sports_articles()
    assert len(articles) >= 3
    for path in articles[:3]:
        assert fan.get(path).status_code == 200

    # What the worker's ingest task runs: the page views become topic views, and the visitor's segments.
    assert drain(max_seconds=10).read >= 3
    assert SPORTS in recommended(fan)
    assert FALLBACK not in recommended(fan)
    assert recommended(Client(HTTP_USER_AGENT=DESKTOP_UA)) == f"Recommended for you {FALLBACK} " + (
        "Read a few articles and this space picks something for you."
    )


def test_two_sports_articles_are_not_enough(demo):
    reader = consenting(HTTP_USER_AGENT=DESKTOP_UA)
    for path in sports_articles()[:2]:
        reader.get(path)
    drain(max_seconds=10)
    assert FALLBACK in recommended(reader)


def test_a_phone_is_recommended_the_short_version_at_once(demo):
    # "mobile" is a request-time rule: no tracking and no worker needed.
    assert MOBILE in recommended(Client(HTTP_USER_AGENT=MOBILE_UA))


@pytest.mark.django_db
def test_the_demo_seeds_segments_and_one_recommended_area_when_run_twice():
    seed()
    seed()
    home = Page.objects.get(reverse_id="home")
    (area,) = TailoredArea.objects.filter(placeholder=placeholder(home, "recommended"))
    assert (area.label, area.strategy, area.max_items) == ("Recommended for you", "personalization", 1)
    variants = Variant.objects.filter(parent=area).order_by("position")
    assert [(v.label, v.segments, v.fallback) for v in variants] == [
        ("Black Friday to Cyber Monday", [], True),  # first: while it runs, it is the fallback shown
        ("For sports fans", ["sports-fans"], False),
        ("For tech fans", ["tech-fans"], False),
        ("Welcome back", ["returning"], False),
        ("On a phone", ["mobile"], False),
        ("Everyone else", [], True),
    ]
    assert dict(Segment.objects.values_list("slug", "rules")) == {
        "sports-fans": {"all": [{"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}]},
        "tech-fans": {"all": [{"rule": "topic_views", "topic": "technology", "min": 2, "days": 30}]},
        "mobile": {"rule": "device", "is": ["mobile"]},
        "returning": {"rule": "visit_count", "min": 2},
    }
    # Each sports article has one "More to read" list leading to the other two: three pages to browse.
    articles = sports_articles()
    for path in articles:
        html = Client().get(path).content.decode()
        assert html.count("More to read") == 1
        assert all(f'href="{other}"' in html for other in articles if other != path), path


@pytest.mark.django_db
def test_a_site_seeded_before_personalization_gets_it_and_an_editors_changes_are_kept():
    seed()
    home = Page.objects.get(reverse_id="home")
    slot = placeholder(home, "recommended")
    slot.delete_plugin(TailoredArea.objects.get(placeholder=slot))
    Segment.objects.filter(slug__in=["tech-fans", "mobile"]).delete()
    Segment.objects.filter(slug="sports-fans").update(
        rules={"all": [{"rule": "topic_views", "topic": "sports", "min": 5, "days": 30}]}
    )

    assert "added the segments and the recommended area" in seed()
    assert TailoredArea.objects.filter(placeholder=slot).count() == 1
    assert set(Segment.objects.values_list("slug", flat=True)) == {"sports-fans", "tech-fans", "mobile", "returning"}
    assert Segment.objects.get(slug="sports-fans").rules["all"][0]["min"] == 5  # the editor's, not the demo's
    assert "left as it is" in seed()


@pytest.mark.parametrize(
    ("today", "friday"),
    [
        (date(2026, 1, 10), date(2026, 11, 27)),
        (date(2026, 11, 27), date(2026, 11, 27)),
        (date(2026, 11, 30), date(2026, 11, 27)),  # Cyber Monday: still this one
        (date(2026, 12, 1), date(2027, 11, 26)),
        (date(2028, 11, 1), date(2028, 11, 24)),  # November starting on a Wednesday
        (date(2029, 11, 20), date(2029, 11, 23)),  # on a Thursday
    ],
)
def test_the_campaign_runs_from_the_next_black_friday_until_the_end_of_cyber_monday(settings, today, friday):
    from example_site.demo.management.commands.tailored_demo import black_friday

    starts_at, ends_at = black_friday(today)
    zone = timezone.get_current_timezone()
    assert starts_at == datetime.combine(friday, time.min, tzinfo=zone)
    assert starts_at.weekday() == 4 and ends_at - starts_at == timedelta(days=4)


def test_the_homepage_shows_the_campaign_from_its_start_until_its_end(demo, clock):  # noqa: F811
    home = Page.objects.get(reverse_id="home")
    area = TailoredArea.objects.get(placeholder=placeholder(home, "recommended"))
    variant = Variant.objects.filter(parent=area).order_by("position").first()
    starts_at, ends_at = variant.starts_at, variant.ends_at
    assert starts_at > timezone.now() - timedelta(days=4)  # the next one: the demo shows a scheduled variant
    visitor = Client(HTTP_USER_AGENT=DESKTOP_UA)
    clock.move_to(starts_at - timedelta(seconds=1))
    assert recommended(visitor).startswith(f"Recommended for you {FALLBACK}")
    clock.move_to(starts_at)
    assert recommended(visitor).startswith("Recommended for you Black Friday: half price on a year of Tailored News")
    assert MOBILE in recommended(Client(HTTP_USER_AGENT=MOBILE_UA))  # a segment's visitor keeps their variant
    clock.move_to(ends_at - timedelta(seconds=1))
    assert "Black Friday" in recommended(visitor)
    clock.move_to(ends_at)
    assert recommended(visitor).startswith(f"Recommended for you {FALLBACK}")


@pytest.mark.django_db
def test_a_site_seeded_before_the_campaign_gets_it_once_in_every_language():
    seed()
    campaigns = Variant.objects.exclude(tailored_settings__starts_at=None)
    for campaign in campaigns:
        campaign.placeholder.delete_plugin(campaign)
    assert "added the Black Friday campaign." in seed()
    assert sorted(campaigns.values_list("language", flat=True)) == ["en", "es", "it"]
    assert "left as it is" in seed()


def plugins_by_language() -> dict[tuple[str, str], int]:
    """How many plugins of each type there are in each language."""
    counts: dict[tuple[str, str], int] = {}
    for plugin_type, language in CMSPlugin.objects.values_list("plugin_type", "language"):
        counts[(plugin_type, language)] = counts.get((plugin_type, language), 0) + 1
    return counts


@pytest.mark.django_db
def test_every_page_is_seeded_in_english_spanish_and_italian_once():
    assert [code for code, _name in settings.LANGUAGES] == list(LANGUAGES)
    seed()
    seeded = plugins_by_language()
    assert "left as it is" in seed()
    assert plugins_by_language() == seeded

    pages = Page.objects.all()
    assert len(pages) == 1 + len(ARTICLES)
    for page in pages:
        assert sorted(PageContent.objects.filter(page=page).values_list("language", flat=True)) == ["en", "es", "it"]
        for language in LANGUAGES:
            response = Client().get(page.get_absolute_url(language))
            assert response.status_code == 200, (page, language)
            html = response.content.decode()
            assert f'<html lang="{language}">' in html
            assert f"{page.get_title(language)} · Tailored News" in html
    # Every language has the whole homepage: three areas, the board's four widgets, the panel, the feeds,
    # "Why am I seeing this?", a banner on every page, each article's text.
    for language in LANGUAGES:
        assert {plugin: count for (plugin, code), count in seeded.items() if code == language} == {
            "TailoredAreaPlugin": 3,
            "VariantPlugin": 5 + 5 + 6,
            "TextPlugin": 5 + 5 + 6 + 4 + len(ARTICLES),
            "RecommendedPagesPlugin": 1,
            "QuizPlugin": 1,
            "QuizQuestionPlugin": 2,
            "QuizAnswerPlugin": 5,
            "WidgetBoardPlugin": 1,
            "WidgetPlugin": 4,
            "TopicFeedPlugin": 1 + len(ARTICLES),
            "PreferencesPanelPlugin": 1,
            "ExplanationPlugin": 1,
            "ConsentBannerPlugin": 1 + len(ARTICLES),
        }, language
    spanish = Client().get("/es/").content.decode()
    for words in ("Le damos la bienvenida a Tailored News", "Lo más leído de la semana", "Sus widgets", "Tiempo"):
        assert words in spanish


@pytest.mark.django_db
def test_a_site_seeded_in_english_only_gets_spanish_and_italian():
    seed()
    english = plugins_by_language()
    PageContent.objects.filter(language__in=["es", "it"]).delete()
    PageUrl.objects.filter(language__in=["es", "it"]).delete()
    assert {code for _plugin, code in plugins_by_language()} == {"en"}

    assert "added the pages and the hero and today's picks" in seed()
    assert plugins_by_language() == english
    assert "Le diamo il benvenuto su Tailored News" in Client().get("/it/").content.decode()


def test_the_seeder_is_the_example_sites_not_the_packages():
    """It creates the editor login: no command of the installed package may create users."""
    assert get_commands()["tailored_demo"] == "example_site.demo"


@pytest.mark.usefixtures("tailored_redis")
def test_every_demo_page_has_one_h1_in_every_language(db):
    seed()
    visitor = Client()
    paths = [page.get_absolute_url(language) for page in Page.objects.order_by("path") for language in LANGUAGES]
    paths.append("/tailored/preferences/")
    assert len(paths) > len(LANGUAGES)  # the homepage and the articles
    for path in paths:
        response = visitor.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert len(re.findall(r"<h1[\s>]", html)) == 1, (path, re.findall(r"<h1[^>]*>.*?</h1>", html, re.S))
