"""``segments/`` and ``segments/preview/``: staff see the segments, and how many visitors a rule tree matches now."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tailored_cms import api
from tailored_cms.rules.models import Segment
from tailored_cms.rules.recompute import recompute_segments
from tests.rules.conftest import TODAY, make_visitor  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.django_db

LIST = "/tailored/api/v1/segments/"
PREVIEW = "/tailored/api/v1/segments/preview/"
SPORTS_30 = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}
SPORTS = {"rule": "topic_views", "topic": "sports", "min": 3}
MOBILE = {"rule": "device", "is": "mobile"}


def test_the_url_names():
    assert reverse("tailored_cms:api:segments") == LIST
    assert reverse("tailored_cms:api:segment-preview") == PREVIEW


def staff(*permissions: str, is_staff: bool = True) -> Client:
    """A browser signed in as a user with these permissions, CSRF checked, holding the csrftoken cookie."""
    user = User.objects.create_user(f"user{User.objects.count()}", password="pw", is_staff=is_staff)
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client = Client(enforce_csrf_checks=True)
    client.login(username=user.username, password="pw")
    client.get(PREVIEW)  # sets the csrftoken cookie, whatever the answer (405: preview is POSTed)
    return client


def preview(client: Client, body, *, token: bool = True):
    headers = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value} if token else {}
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.post(PREVIEW, payload, content_type="application/json", **headers)


@pytest.fixture
def editor() -> Client:
    return staff("view_segment")


@pytest.fixture
def visitors(make_visitor):  # noqa: F811
    """Sports views counted back from the real today (the endpoint counts now): a recent fan, a fan from
    long ago, a casual reader, and a newcomer."""
    shift = (timezone.localdate() - TODAY).days  # make_visitor counts days back from the tests' fixed TODAY

    def views(*counts: tuple[int, int]) -> dict:
        return {"sports": [(ago - shift, count) for ago, count in counts]}

    return {
        "fan": make_visitor(views=views((0, 2), (29, 1))),  # 3 within 30 days, today counted
        "old fan": make_visitor(views=views((30, 5))),  # 5, just outside 30 days
        "casual": make_visitor(views=views((1, 1))),
        "newcomer": make_visitor(),
    }


@pytest.mark.parametrize(
    ("rules", "counts"),
    [
        (SPORTS_30, {"matching": 1, "certain": 1, "total": 4, "per_page_view": [], "everyone": False}),
        (SPORTS, {"matching": 2, "certain": 2, "total": 4, "per_page_view": [], "everyone": False}),
        ({"not": SPORTS_30}, {"matching": 3, "certain": 3, "total": 4, "per_page_view": [], "everyone": False}),
        ({"any": [SPORTS_30, {"rule": "topic_views", "topic": "sports", "min": 1, "days": 2}]}, {"matching": 2}),
        # Request-time leaves: counted as unknown. With a behavioural part: who matches it, none certainly.
        ({"all": [SPORTS_30, MOBILE]}, {"matching": 1, "certain": 0, "per_page_view": ["device"], "everyone": False}),
        ({"any": [SPORTS_30, MOBILE]}, {"matching": 4, "certain": 1, "everyone": False}),
        # Only request-time rules: everyone may match, decided on each page view.
        (
            {"all": [MOBILE, {"rule": "local_time", "from": 9, "to": 17}]},
            {"matching": 4, "certain": 0, "per_page_view": ["device", "local_time"], "everyone": True},
        ),
    ],
)
def test_preview_counts_the_visitors_matching_now(editor, visitors, rules, counts):
    response = preview(editor, {"rules": rules})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {key: body[key] for key in counts} == counts


def test_preview_says_it_in_words_for_the_editor(editor, visitors):
    body = preview(editor, {"rules": SPORTS_30}).json()
    assert body["summary"] == "1 of 4 visitors match now."
    assert body["in_words"] == "read at least 3 pages about sports in the last 30 days"
    assert body["rules"] == SPORTS_30
    body = preview(editor, {"rules": {"all": [SPORTS_30, MOBILE]}}).json()
    assert body["summary"] == (
        "1 of 4 visitors match now. “Device” is checked on each page view: they are in it when it holds."
    )
    assert body["rules"] == {"all": [SPORTS_30, {"rule": "device", "is": ["mobile"]}]}  # cleaned, as it would save
    body = preview(editor, {"rules": {"all": [MOBILE, {"rule": "local_time", "from": 9, "to": 17}]}}).json()
    assert body["summary"] == (
        "Any of the 4 visitors may match: “Device” and “Time of day” are checked on each page view, not counted ahead."
    )


def test_preview_names_the_rules_as_the_builder_labels_them_in_german(editor, visitors, settings):
    """German capitalizes nouns: the labels are quoted as they are, never lowercased ("Gerät", not "gerät")."""
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    del editor.cookies[settings.LANGUAGE_COOKIE_NAME]  # django CMS remembered English: the editor now reads German
    payload = json.dumps({"rules": {"all": [SPORTS_30, MOBILE]}})
    headers = {"HTTP_X_CSRFTOKEN": editor.cookies["csrftoken"].value, "HTTP_ACCEPT_LANGUAGE": "de"}
    summary = editor.post(PREVIEW, payload, content_type="application/json", **headers).json()["summary"]
    assert "„Gerät“ wird bei jedem Seitenaufruf geprüft" in summary


def test_preview_counts_what_the_recompute_then_finds(editor, visitors):
    for rules in (SPORTS_30, {"all": [SPORTS, MOBILE]}, {"not": SPORTS}):
        expected = preview(editor, {"rules": rules}).json()["matching"]
        api.create_segment("under-test", rules=rules)
        recompute_segments(["under-test"])
        assert Segment.objects.get(slug="under-test").size == expected


def test_preview_follows_references_to_other_segments(editor, visitors):
    api.create_segment("fans", rules=SPORTS)
    assert preview(editor, {"rules": {"rule": "segment", "slug": "fans"}}).json()["matching"] == 2
    # Editing "fans" itself: a tree referring back to it is a cycle, named.
    body = preview(editor, {"rules": {"rule": "segment", "slug": "fans"}, "segment": "fans"}).json()
    assert body == {
        "rules": ["Rule 'segment': the references make a cycle (fans → fans); a segment can't contain itself."],
        "invalid": [{"rule": "segment", "parameter": "slug"}],
    }


def test_preview_counts_with_one_query_three_with_references(visitors, django_assert_num_queries):
    """And the topics' names for the words (one query), the segments' when a rule names one (another)."""
    from tailored_cms.rest.segments import preview_segment

    with django_assert_num_queries(1 + 1):
        assert preview_segment({"all": [SPORTS_30, {"not": SPORTS}, MOBILE]})["matching"] == 0
    api.create_segment("fans", rules=SPORTS)
    with django_assert_num_queries(3 + 2):
        assert preview_segment({"any": [{"rule": "segment", "slug": "fans"}, SPORTS_30]})["matching"] == 2


def test_preview_of_a_new_segment_with_no_visitors_yet(editor):
    assert preview(editor, {"rules": SPORTS}).json()["summary"] == "0 of 0 visitors match now."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"rules": {**SPORTS, "min": 0}},
            {
                "rules": ["Rule 'topic_views': parameter 'min' must be at least 1, not 0."],
                "invalid": [{"rule": "topic_views", "parameter": "min"}],
            },
        ),
        (
            {"rules": {"all": [{"rule": "topic_views", "min": 3}]}},
            {
                "rules": ["Rule 'topic_views' needs the parameter 'topic'."],
                "invalid": [{"rule": "topic_views", "parameter": "topic"}],
            },
        ),
        (
            {"rules": {"rule": "page_views"}},
            {
                "rules": [
                    "Unknown rule 'page_views'. Known rules: continent, country, day_of_week, "
                    "days_since_last_visit, device, eu, event_count, follows_topic, in_group, language, local_time, "
                    "logged_in, referrer_domain, segment, topic_views, trait, utm, visit_count."
                ]
            },
        ),
        (
            {"rules": {"any": [{"rule": "eu"}, {"rule": "country", "is": ["FR", "UK"]}]}},
            {
                "rules": ["Rule 'country': parameter 'is' takes ISO 3166 country codes such as FR or DE, not 'UK'."],
                "invalid": [{"rule": "country", "parameter": "is"}],
            },
        ),
        (
            {"rules": {"rule": "segment", "slug": "nobody"}},
            {
                "rules": ["Rule 'segment': no segment nobody exists."],
                "invalid": [{"rule": "segment", "parameter": "slug"}],
            },
        ),
        (
            {"rules": {"rule": "visit_count", "min": 5, "max": 2}},
            {
                "rules": ["Rule 'visit_count': 'min' (5) is greater than 'max' (2)."],
                "invalid": [{"rule": "visit_count", "parameter": "min"}],
            },
        ),
        (
            {"rules": {"rule": "language", "is": ["es", "xx"]}},
            {
                "rules": [
                    "Rule 'language': parameter 'is' names no language of the site: 'xx' (the site's languages: "
                    "en, es, it)."
                ],
                "invalid": [{"rule": "language", "parameter": "is"}],
            },
        ),
        (
            {"rules": {"rule": "device", "is": ["mobile"], "on": "x"}},
            {
                "rules": ["Rule 'device' has no parameter 'on' (its parameters: is)."],
                "invalid": [{"rule": "device", "parameter": ""}],
            },
        ),
        ({"rules": {"all": []}}, {"rules": ['rules: "all" must be a non-empty list of rules.']}),
        ({"rules": None}, {"rules": ["This field may not be null."]}),
        ({}, {"rules": ["This field is required."]}),
        (
            {"rules": SPORTS, "segment": "not a slug!"},
            {"segment": ['Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']},
        ),
        ([SPORTS], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_preview_refuses_a_bad_tree_naming_what_is_wrong(editor, body, expected):
    response = preview(editor, body)
    assert response.status_code == 400
    assert response.json() == expected


def test_preview_refuses_bad_json_and_big_bodies(editor):
    response = preview(editor, '{"rules": ')
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    response = preview(editor, {"rules": SPORTS, "pad": "x" * 20_000})
    assert response.status_code == 413


DENIED = (
    "Only staff with the permission to view, add or change segments (tailored_cms.view_segment, add_segment or "
    "change_segment) may do this."
)


@pytest.mark.parametrize(
    "client_for",
    [
        pytest.param(lambda: Client(enforce_csrf_checks=True), id="anonymous"),
        pytest.param(lambda: staff("view_segment", is_staff=False), id="not staff, even with the permission"),
        pytest.param(lambda: staff("view_topic"), id="staff without the permission"),
    ],
)
def test_only_staff_who_may_view_segments_get_in(client_for):
    client = client_for()
    client.get(PREVIEW)  # the csrftoken cookie
    api.create_segment("fans", rules=SPORTS)
    response = client.get(LIST)
    assert (response.status_code, response.json()) == (403, {"detail": DENIED})
    response = preview(client, {"rules": SPORTS})
    assert (response.status_code, response.json()) == (403, {"detail": DENIED})


@pytest.mark.parametrize("permission", ["view_segment", "add_segment", "change_segment"])
def test_staff_who_may_view_add_or_change_segments_get_the_list_and_the_builders_count(permission):
    """The rule builder of the admin's add and change forms counts as the editor types: editors who may add or
    change segments, not only view them, need it."""
    api.create_segment("fans", rules=SPORTS)
    client = staff(permission)
    assert [s["slug"] for s in client.get(LIST).json()] == ["fans"]
    assert preview(client, {"rules": SPORTS}).status_code == 200


def test_preview_needs_the_csrf_token(editor):
    response = preview(editor, {"rules": SPORTS}, token=False)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"] and "X-CSRFToken header" in response.json()["detail"]


def test_the_list_of_segments_with_size_times_and_whether_a_recompute_runs(editor, visitors):
    api.create_segment("sports-fans", name="Sports fans", rules=SPORTS)
    api.create_segment("mobile", name="Mobile", rules=MOBILE, enabled=False)
    recompute_segments(["sports-fans"])
    Segment.objects.filter(slug="mobile").update(recompute_started_at=timezone.now())
    response = editor.get(LIST)
    assert response.status_code == 200
    mobile, fans = response.json()
    assert fans["computed_at"] is not None
    assert {key: value for key, value in fans.items() if key != "computed_at"} == {
        "slug": "sports-fans",
        "name": "Sports fans",
        "enabled": True,
        "size": 2,
        "recompute_running": False,
        "rules": SPORTS,
        "in_words": "read at least 3 pages about sports",
    }
    assert mobile == {
        "slug": "mobile",
        "name": "Mobile",
        "enabled": False,
        "size": None,
        "computed_at": None,
        "recompute_running": True,
        "rules": {"rule": "device", "is": ["mobile"]},
        "in_words": "is on a mobile device",
    }
    assert "private" in response["Cache-Control"]


def test_the_schema_documents_both_endpoints():
    schema = Client().get("/tailored/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert set(schema["paths"]["/tailored/api/v1/segments/"]) == {"get"}
    post = schema["paths"]["/tailored/api/v1/segments/preview/"]["post"]
    assert set(post["responses"]) == {"200", "400", "403", "413", "415"}
    assert post["security"] == [{"staffSession": []}, {}]
    assert {"matching", "certain", "total", "per_page_view", "everyone", "summary", "in_words", "rules"} == set(
        schema["components"]["schemas"]["SegmentPreview"]["properties"]
    )


@pytest.mark.parametrize("poison", ["\x00", "sp\x00orts", "\ud800", "a\udfffb"])
@pytest.mark.parametrize("where", ["param", "list", "key"])
def test_a_nul_or_a_lone_surrogate_in_a_rule_tree_is_a_400(editor, poison, where):
    # PostgreSQL refuses NUL in text, UTF-8 a lone surrogate: on PostgreSQL both were a 500.
    leaf = {
        "param": {"rule": "topic_views", "topic": poison, "min": 1, "days": 30},
        "list": {"rule": "referrer_domain", "is": ["a.com", poison]},
        "key": {"rule": "visit_count", "min": 1, poison: 1},
    }[where]
    response = preview(editor, {"rules": {"all": [leaf]}})
    assert response.status_code == 400, response.content
    assert response.json()["rules"]


def test_a_rule_tree_nested_1000_deep_is_a_400(editor):
    body = '{"rules": ' + '{"not": ' * 1000 + '{"rule": "logged_in", "is": true}' + "}" * 1001
    response = preview(editor, body)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
