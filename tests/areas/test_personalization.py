"""Personalization and hybrid areas on real CMS pages: content targeted at the visitor's segments."""

from __future__ import annotations

import re

import pytest
from cms.api import add_plugin, create_page_content
from django.conf import settings
from django.contrib.auth.views import LoginView
from django.test import Client, override_settings
from django.urls import path

from tailored_cms import api
from tailored_cms.rules.models import Segment
from tests import urls as tests_urls

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def build_area(ph, strategy="personalization"):
    area = api.add_area(ph, strategy=strategy, label="Hero")
    regulars = api.add_variant(area, label="Regulars", segments=["regulars"], priority=1)
    text(ph, "<p>REGULARS</p>", target=regulars)
    mobile = api.add_variant(area, label="On the go", segments=["mobile"])
    text(ph, "<p>MOBILE</p>", target=mobile)
    sports = api.add_variant(area, label="Sports", topics=["sports"])
    text(ph, "<p>SPORTS</p>", target=sports)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=everyone)
    return area


@pytest.fixture
def segments(db, django_capture_on_commit_callbacks):
    api.create_topic("sports")
    with django_capture_on_commit_callbacks(execute=True):  # as after the editor's save commits
        api.create_segment("regulars", "Regulars", rules={"all": [{"rule": "visit_count", "min": 3}]})
        api.create_segment("mobile", "Mobile", rules={"rule": "device", "is": "mobile"})


def page_with_area(make_page, strategy="personalization"):
    page = make_page("Home", slug="home")
    build_area(placeholder(page, "content"), strategy)
    return page.get_absolute_url()


def shown(client: Client, url: str, user_agent: str = DESKTOP) -> set[str]:
    html = client.get(url, HTTP_USER_AGENT=user_agent).content.decode()
    return {name for name in ("REGULARS", "MOBILE", "SPORTS", "EVERYONE") if f"<p>{name}</p>" in html}


def test_a_visitor_in_a_segment_sees_its_variant_a_new_visitor_the_fallback(
    make_page, segments, visitor_client, client
):
    url = page_with_area(make_page)
    regular = visitor_client(visits=5)
    newcomer = visitor_client(visits=1)
    api.recompute_segments()
    assert shown(regular, url) == {"REGULARS"}
    assert shown(newcomer, url) == {"EVERYONE"}
    assert shown(client, url) == {"EVERYONE"}


def test_request_time_segments_apply_to_visitors_without_a_cookie(make_page, segments, client):
    url = page_with_area(make_page)
    assert shown(client, url, IPHONE) == {"MOBILE"}
    assert shown(client, url, DESKTOP) == {"EVERYONE"}


def test_priority_decides_between_two_segments_and_choices_are_ignored(make_page, segments, visitor_client):
    url = page_with_area(make_page)
    both = visitor_client(visits=5, topics=["sports"])
    api.recompute_segments()
    assert shown(both, url, IPHONE) == {"REGULARS"}  # priority 1 beats the mobile variant's 0


def test_hybrid_shows_the_visitors_choice_first_and_segments_fill(make_page, segments, visitor_client):
    page = make_page("Home", slug="home")
    area = build_area(placeholder(page, "content"), "hybrid")
    area.max_items = 2
    area.save()
    fan = visitor_client(visits=5, topics=["sports"])
    api.recompute_segments()
    html = fan.get(page.get_absolute_url(), HTTP_USER_AGENT=DESKTOP).content.decode()
    assert html.index("<p>SPORTS</p>") < html.index("<p>REGULARS</p>") and "EVERYONE" not in html


def test_a_segment_switched_off_stops_showing_at_once(
    make_page, segments, visitor_client, django_capture_on_commit_callbacks
):
    url = page_with_area(make_page)
    regular = visitor_client(visits=5)
    api.recompute_segments()
    assert shown(regular, url) == {"REGULARS"}
    segment = Segment.objects.get(slug="regulars")
    segment.enabled = False
    with django_capture_on_commit_callbacks(execute=True):
        segment.save()
    assert shown(regular, url) == {"EVERYONE"}


@override_settings(CMS_PAGE_CACHE=True, CMS_PLACEHOLDER_CACHE=True, CMS_PLUGIN_CACHE=True)
def test_cached_pages_keep_one_copy_per_segment_set(make_page, segments, visitor_client, client):
    url = page_with_area(make_page)
    regular = visitor_client(visits=5)
    api.recompute_segments()
    for _ in range(2):  # the second round comes from the caches
        assert shown(regular, url) == {"REGULARS"}
        assert shown(client, url, IPHONE) == {"MOBILE"}
        assert shown(client, url, DESKTOP) == {"EVERYONE"}
        assert shown(visitor_client(visits=0), url) == {"EVERYONE"}


@override_settings(CMS_PAGE_CACHE=False, CMS_PLACEHOLDER_CACHE=False, CMS_PLUGIN_CACHE=False)
def test_rendering_costs_the_same_with_1_or_50_segments(
    make_page, segments, visitor_client, redis_round_trips, django_capture_on_commit_callbacks
):
    url = page_with_area(make_page)
    regular = visitor_client(visits=5)
    api.recompute_segments()
    regular.get(url)  # the snapshot is in Redis from now on

    def cost() -> tuple[int, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        redis_round_trips.commands.clear()
        with CaptureQueriesContext(connection) as queries:
            assert shown(regular, url) == {"REGULARS"}
        return len(queries), redis_round_trips.round_trips

    with_one = cost()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(48):
            api.create_segment(f"s{n}", rules={"all": [{"rule": "visit_count", "min": n}]})
    api.recompute_segments()
    assert len(Segment.objects.filter(enabled=True)) == 50
    cost()  # this process learns the new segments (they come with the snapshot's round trip)
    assert cost() == with_one
    assert with_one[1] == 1


def test_editors_pick_segments_in_the_variant_form_and_see_them_on_the_structure_board(make_page, segments):
    from tailored_cms.areas.forms import VariantForm
    from tailored_cms.areas.models import Variant

    form = VariantForm(data={"label": "Loyal", "segments": ["regulars", "mobile"], "priority": 2})
    assert dict(form.fields["segments"].choices) == {"mobile": "Mobile", "regulars": "Regulars"}
    assert form.is_valid(), form.errors
    assert form.cleaned_data["segments"] == ["regulars", "mobile"]
    assert not VariantForm(data={"label": "x", "segments": ["nobody"], "priority": 0}).is_valid()

    page = make_page("Home", slug="home")
    build_area(placeholder(page, "content"))
    regulars = Variant.objects.get(tailored_settings__label="Regulars")
    assert regulars.get_short_description() == "Regulars · segments: regulars · priority 1"


@pytest.fixture
def spanish_page(make_page, django_capture_on_commit_callbacks):
    """A page in English and Spanish, each with an area whose variant targets the segment of Spanish readers."""
    page = make_page("Home", slug="home")
    create_page_content("es", "Inicio", page, slug="inicio", template="page.html")
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("spanish", "Spanish readers", rules={"rule": "language", "is": ["es"]})
    for language in ("en", "es"):
        slot = placeholder(page, "content", language)
        area = api.add_area(slot, language, strategy="personalization", label="Hero")
        spanish = api.add_variant(area, label="Spanish readers", segments=["spanish"])
        add_plugin(slot, "TextPlugin", language, target=spanish, body="<p>HOLA</p>")
        everyone = api.add_variant(area, label="Everyone", fallback=True)
        add_plugin(slot, "TextPlugin", language, target=everyone, body="<p>EVERYONE</p>")
    return page


def greeting(client: Client, language: str) -> str:
    url = {"en": "/home/", "es": "/inicio/"}[language]
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)  # django CMS remembers the last language in a cookie
    html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return "HOLA" if "<p>HOLA</p>" in html else "EVERYONE" if "<p>EVERYONE</p>" in html else ""


@override_settings(CMS_PAGE_CACHE=True, CMS_PLACEHOLDER_CACHE=True, CMS_PLUGIN_CACHE=True)
def test_a_language_segment_shows_its_variant_on_pages_in_that_language(spanish_page, visitor_client, client):
    for _ in range(2):  # the second round comes from the caches
        assert greeting(client, "es") == "HOLA"
        assert greeting(client, "en") == "EVERYONE"
        assert greeting(visitor_client(), "es") == "HOLA"


@override_settings(CMS_PAGE_CACHE=False, CMS_PLACEHOLDER_CACHE=False, CMS_PLUGIN_CACHE=False)
def test_a_language_segment_costs_no_query_and_no_round_trip(
    spanish_page, visitor_client, redis_round_trips, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader = visitor_client(visits=2)
    reader.get("/inicio/", HTTP_ACCEPT_LANGUAGE="es")  # the snapshot is in Redis from now on

    def cost(expected: str) -> tuple[int, int]:
        redis_round_trips.commands.clear()
        with CaptureQueriesContext(connection) as queries:
            assert greeting(reader, "es") == expected
        return len(queries), redis_round_trips.round_trips

    with_language = cost("HOLA")
    segment = Segment.objects.get(slug="spanish")
    segment.enabled = False
    with django_capture_on_commit_callbacks(execute=True):
        segment.save()
    cost("EVERYONE")  # this process learns the change (it comes with the snapshot's round trip)
    assert cost("EVERYONE") == with_language
    assert with_language[1] == 1


def test_a_live_area_says_the_language_of_its_page_for_results(spanish_page, client):
    spanish = client.get("/inicio/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    english = client.get("/home/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r'<div class="tailored-area" [^>]*data-tailored-language="es">', spanish)
    assert re.search(r'<div class="tailored-area" [^>]*data-tailored-language="en">', english)


@pytest.fixture
def pro_page(make_page, django_capture_on_commit_callbacks) -> str:
    """A page whose area shows the segment `plan = pro and customer_since before 2025-01-01` its variant."""
    rules = {
        "all": [
            {"rule": "trait", "name": "plan", "op": "eq", "value": "pro"},
            {"rule": "trait", "name": "customer_since", "op": "before", "value": "2025-01-01"},
        ]
    }
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("pro-customers", "Pro customers", rules=rules)
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="personalization", label="Hero")
    text(ph, "<p>PRO</p>", target=api.add_variant(area, label="Pro", segments=["pro-customers"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page.get_absolute_url()


def crm_sets_pro(django_capture_on_commit_callbacks) -> None:
    """The CRM posts ada's traits to traits/, as a server does."""
    from django.contrib.auth.models import Permission, User

    crm_user = User.objects.create_user("crm", is_staff=True)
    crm_user.user_permissions.add(Permission.objects.get(codename="change_traits"))
    crm = Client()
    crm.force_login(crm_user)
    body = {"by": "username", "users": [{"user": "ada", "traits": {"plan": "pro", "customer_since": "2024-03-01"}}]}
    with django_capture_on_commit_callbacks(execute=True):
        answer = crm.post("/tailored/api/v1/traits/", body, content_type="application/json")
    assert answer.json() == {"stored": 1}


def test_a_signed_in_customer_sees_the_variant_their_crm_traits_select_on_the_next_page(
    pro_page, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import User

    url = pro_page
    ada = User.objects.create_user("ada", password="pw")
    browser = Client()
    browser.force_login(ada)
    consent = "/tailored/api/v1/consent/"
    assert browser.put(consent, '{"tracking": true}', content_type="application/json").status_code == 200
    assert "<p>EVERYONE</p>" in browser.get(url).content.decode()
    crm_sets_pro(django_capture_on_commit_callbacks)
    html = browser.get(url).content.decode()
    assert "<p>PRO</p>" in html and "<p>EVERYONE</p>" not in html


urlpatterns = [path("login/", LoginView.as_view()), *tests_urls.urlpatterns]  # a site's own sign-in page


def visitor_id_in(client: Client) -> str:
    """The visitor id the client's signed cookie holds."""
    from django.test import RequestFactory

    from tailored_cms.visitors.identity import read_visitor_id

    request = RequestFactory().get("/")
    request.COOKIES["tailored_vid"] = client.cookies["tailored_vid"].value
    return str(read_visitor_id(request))


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("tracked_before", [False, True], ids=["no-cookie", "tracked-cookie"])
def test_a_customer_who_signed_in_before_the_crm_knew_them_sees_their_variant_on_the_next_page(
    pro_page, django_capture_on_commit_callbacks, settings, tracked_before
):
    """Signed in with no visitor row (nothing chosen, no consent asked; or tracked under implied consent, their
    first events not stored yet): the sign-in makes the browser the user's visitor, so the traits the CRM sets
    afterwards reach the next page view, with no new sign-in."""
    from django.contrib.auth.models import User

    from tailored_cms.visitors.models import Visitor

    if tracked_before:
        settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CONSENT": "implied"}
    ada = User.objects.create_user("ada", password="pw")
    browser = Client()
    assert "<p>EVERYONE</p>" in browser.get(pro_page).content.decode()
    cookie = browser.cookies.get("tailored_vid")
    assert bool(cookie) is tracked_before and not Visitor.objects.exists()

    assert browser.post("/login/", {"username": "ada", "password": "pw"}).status_code == 302
    visitor = Visitor.objects.get()
    assert visitor.user == ada and visitor.traits == {}
    assert str(visitor.pk) == visitor_id_in(browser)  # the browser is the user's visitor now
    if tracked_before:  # under the id it was tracked with: its events, stored later, are the user's
        assert browser.cookies["tailored_vid"].value == cookie.value
    assert "<p>EVERYONE</p>" in browser.get(pro_page).content.decode()

    crm_sets_pro(django_capture_on_commit_callbacks)
    html = browser.get(pro_page).content.decode()
    assert "<p>PRO</p>" in html and "<p>EVERYONE</p>" not in html
    assert Visitor.objects.count() == 1


@pytest.fixture
def french_page(make_page, tmp_path, settings, django_capture_on_commit_callbacks):
    """A page whose area shows visitors in France their variant, behind no CDN: GeoIP finds the country."""
    from tests.rules.test_geoip import write_database

    database = write_database(tmp_path / "countries.mmdb", {"81.2.69.0/24": "FR", "203.0.113.0/24": "JP"})
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "GEOIP_DATABASE": str(database)}
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("france", "In France", rules={"rule": "country", "is": ["FR"]})
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="personalization", label="Hero")
    text(ph, "<p>BONJOUR</p>", target=api.add_variant(area, label="France", segments=["france"]))
    text(ph, "<p>EVERYONE</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page.get_absolute_url()


def seen_from(client: Client, url: str, address: str) -> str:
    html = client.get(url, REMOTE_ADDR=address).content.decode()
    return "BONJOUR" if "<p>BONJOUR</p>" in html else "EVERYONE" if "<p>EVERYONE</p>" in html else ""


@override_settings(CMS_PAGE_CACHE=True, CMS_PLACEHOLDER_CACHE=True, CMS_PLUGIN_CACHE=True)
def test_behind_no_cdn_the_visitors_address_says_their_country(french_page, visitor_client, client):
    for _ in range(2):  # the second round comes from the caches
        assert seen_from(client, french_page, "81.2.69.142") == "BONJOUR"
        assert seen_from(client, french_page, "203.0.113.7") == "EVERYONE"
        assert seen_from(visitor_client(), french_page, "81.2.69.142") == "BONJOUR"
        from_japan_via_a_cdn = client.get(french_page, REMOTE_ADDR="203.0.113.7", HTTP_CF_IPCOUNTRY="FR")
        assert "<p>BONJOUR</p>" in from_japan_via_a_cdn.content.decode()  # the header wins


@override_settings(CMS_PAGE_CACHE=False, CMS_PLACEHOLDER_CACHE=False, CMS_PLUGIN_CACHE=False)
def test_the_country_from_the_address_costs_no_query_and_no_round_trip(french_page, visitor_client, redis_round_trips):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader = visitor_client(visits=2)
    reader.get(french_page, HTTP_CF_IPCOUNTRY="DE")  # the snapshot is in Redis from now on

    def cost(address: str, expected: str) -> tuple[int, int]:
        redis_round_trips.commands.clear()
        with CaptureQueriesContext(connection) as queries:
            assert seen_from(reader, french_page, address) == expected
        return len(queries), redis_round_trips.round_trips

    from_header = cost("203.0.113.7", "EVERYONE")
    assert cost("81.2.69.142", "BONJOUR") == from_header  # the first lookup of this address reads the database
    assert cost("81.2.69.142", "BONJOUR") == from_header  # then this process remembers it
    assert from_header[1] == 1


def test_the_address_is_never_stored(french_page, client, tailored_redis, django_capture_on_commit_callbacks):
    from tailored_cms.tracking.ingest import drain
    from tests.rest.test_me import all_app_rows_mentioning, redis_mentions

    consent = "/tailored/api/v1/consent/"
    client.get(consent)
    answer = client.put(consent, '{"tracking": true}', content_type="application/json", REMOTE_ADDR="81.2.69.142")
    assert answer.status_code == 200
    for _ in range(3):
        assert seen_from(client, french_page, "81.2.69.142") == "BONJOUR"
    assert redis_mentions(tailored_redis, "81.2.69.142") == []
    with django_capture_on_commit_callbacks(execute=True):
        assert drain(10).new == 3  # the page views, stored as events
    assert all_app_rows_mentioning("81.2.69.142") == []
    assert all_app_rows_mentioning("81.2.69") == []
