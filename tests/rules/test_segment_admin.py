"""The segment admin: the rule builder's form (what it posts, what it is told), errors naming the parameter, the
rules in words, and the "Recompute now" action with a real broker and worker, and without a broker."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import pytest
import redis
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from tailored_cms import api
from tailored_cms.rules import BehaviouralRule, Param, register, unregister
from tailored_cms.rules import models as segment_models
from tailored_cms.rules.models import Segment
from tailored_cms.rules.trees import describe_tree

pytestmark = pytest.mark.django_db
ADD = "admin:tailored_cms_segment_add"
CHANGELIST = "admin:tailored_cms_segment_changelist"
SPORTS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}
RETURNING = {"rule": "visit_count", "min": 2}


def post_segment(client: Client, rules, name: str = "Mobile fans", url: str | None = None):
    """The admin's form as the builder posts it: no slug (a new segment takes one from its name)."""
    body = rules if isinstance(rules, str) else json.dumps(rules)
    data = {"name": name, "description": "", "enabled": "on", "rules": body}
    return client.post(url or reverse(ADD), data)


def builder_config(html: str) -> dict:
    found = re.search(r'<script id="id_rules_builder_config" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the builder's configuration block is missing"
    return json.loads(found.group(1))


def rules_errors(response) -> list[str]:
    return list(response.context["adminform"].form.errors.get("rules", []))


@pytest.fixture
def site_rule():
    @register
    class Newsletter(BehaviouralRule):
        name = "newsletter_reader"
        label = "Reads the newsletter"
        params = {"min": Param(int, min_value=1)}

    yield
    unregister("newsletter_reader")


def test_the_add_form_carries_the_builder_its_data_and_the_json_without_inline_script(admin_client, site_rule):
    api.create_topic("sports", "Sports")
    api.create_segment("subscribers", name="Subscribers", rules={"rule": "logged_in", "is": True})
    html = admin_client.get(reverse(ADD)).content.decode()
    # The JSON field stays (for no-JS editors), with the builder's hooks, its script and styles.
    assert (
        '<div class="tailored-builder" data-tailored-builder="id_rules_builder_config" data-textarea="id_rules" '
        'data-segment="">' in html
    )
    assert re.search(r'<textarea name="rules"[^>]*id="id_rules"[^>]*>\s*\{&quot;all&quot;: \[\]\}</textarea>', html)
    assert '<script src="/static/tailored_cms/segment_builder.js"></script>' in html
    assert 'href="/static/tailored_cms/segment_builder.css"' in html
    config = builder_config(html)
    rules = {rule["name"]: rule for rule in config["rules"]}
    assert rules["newsletter_reader"]["label"] == "Reads the newsletter"  # a site's own rule is offered too
    assert rules["topic_views"]["params"][0]["type"] == "topic"
    assert config["topics"] == [{"value": "sports", "label": "Sports"}]
    assert config["segments"] == [{"value": "subscribers", "label": "Subscribers"}]
    assert config["preview_url"] == "/tailored/api/v1/segments/preview/"
    assert config["csrf_header"] == "X-CSRFToken"
    # Only our data block and files: no inline JavaScript from the builder (CSP).
    builder = html[html.index('<div class="tailored-builder"') :]
    builder = builder[: builder.index("</div>")]
    assert re.findall(r"<script[^>]*>", builder) == ['<script id="id_rules_builder_config" type="application/json">']


def test_the_form_saves_the_tree_the_builder_posts_cleaned(admin_client):
    response = post_segment(admin_client, {"all": [SPORTS, {"not": {"rule": "device", "is": "mobile"}}]})
    assert response.status_code == 302, rules_errors(response)
    segment = Segment.objects.get(slug="mobile-fans")
    assert segment.rules == {"all": [SPORTS, {"not": {"rule": "device", "is": ["mobile"]}}]}  # a list, as cleaned
    # And again, as saved, in words on the change form.
    html = admin_client.get(reverse("admin:tailored_cms_segment_change", args=[segment.pk])).content.decode()
    assert "read at least 3 pages about sports in the last 30 days and not (is on a mobile device)" in html


def test_the_add_form_asks_for_no_slug_and_makes_one_from_the_name(admin_client):
    html = admin_client.get(reverse(ADD)).content.decode()
    assert 'name="slug"' not in html and "id_slug" not in html
    response = post_segment(admin_client, RETURNING, name="Fútbol fans")
    assert response.status_code == 302, rules_errors(response)
    assert Segment.objects.get().slug == "futbol-fans"


def test_two_segments_named_the_same_get_slugs_of_their_own(admin_client):
    api.create_segment("mobile-fans-2", name="Taken already", rules=RETURNING)
    for _ in range(3):
        assert post_segment(admin_client, RETURNING).status_code == 302
    assert sorted(Segment.objects.values_list("slug", flat=True)) == [
        "mobile-fans",
        "mobile-fans-2",
        "mobile-fans-3",
        "mobile-fans-4",
    ]
    assert {str(segment) for segment in Segment.objects.exclude(slug="mobile-fans-2")} == {"Mobile fans"}


def test_two_editors_saving_the_same_name_at_once_both_get_their_segment(admin_client, monkeypatch):
    """Another editor's "Mobile fans" is saved after this one's slug is chosen and before it is inserted."""
    chosen = segment_models.unique_slug

    def chosen_then_taken(name: str, **kwargs) -> str:
        slug = chosen(name, **kwargs)
        if slug == "mobile-fans" and not Segment.objects.filter(slug=slug).exists():
            api.create_segment(slug, name="Mobile fans", rules=SPORTS)  # the other editor, first to insert
        return slug

    monkeypatch.setattr(segment_models, "unique_slug", chosen_then_taken)
    response = post_segment(admin_client, RETURNING)
    assert response.status_code == 302, rules_errors(response)
    saved = {segment.slug: (str(segment), segment.rules) for segment in Segment.objects.all()}
    assert saved == {
        "mobile-fans": ("Mobile fans", SPORTS),
        "mobile-fans-2": ("Mobile fans", RETURNING),
    }


def test_a_name_without_letters_for_a_slug_and_a_long_one_still_give_a_valid_slug(admin_client):
    for name in ("スポーツ", "x" * 100, "x" * 100):
        assert post_segment(admin_client, RETURNING, name=name).status_code == 302
    assert sorted(Segment.objects.values_list("slug", flat=True)) == ["segment", "x" * 48 + "-2", "x" * 50]


def test_renaming_a_segment_keeps_its_slug(admin_client):
    assert post_segment(admin_client, RETURNING).status_code == 302
    segment = Segment.objects.get()
    change = reverse("admin:tailored_cms_segment_change", args=[segment.pk])
    html = admin_client.get(change).content.decode()
    assert 'data-segment="mobile-fans"' in html and 'name="slug"' not in html  # for the builder's developer view
    response = post_segment(admin_client, RETURNING, name="Regulars", url=change)
    assert response.status_code == 302, rules_errors(response)
    segment.refresh_from_db()
    assert (segment.slug, str(segment)) == ("mobile-fans", "Regulars")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"all": [{**SPORTS, "min": 0}]}, "Rule 'topic_views': parameter 'min' must be at least 1, not 0."),
        ({"all": [{"rule": "topic_views", "min": 3}]}, "Rule 'topic_views' needs the parameter 'topic'."),
        ({"all": [{"rule": "device", "is": ["phone"]}]}, "Rule 'device': parameter 'is' must be one of mobile, tablet"),
        ({"all": []}, 'rules: "all" must be a non-empty list of rules.'),
        ({"rule": "segment", "slug": "mobile-fans"}, "the references make a cycle (mobile-fans → mobile-fans)"),
    ],
)
def test_an_invalid_tree_is_refused_with_the_error_naming_the_rule_and_parameter(admin_client, rules, message):
    response = post_segment(admin_client, rules)
    assert response.status_code == 200
    errors = rules_errors(response)
    assert len(errors) == 1 and message in errors[0], errors
    assert message.replace("'", "&#x27;").replace('"', "&quot;") in response.content.decode()  # shown on the page
    assert not Segment.objects.exists()


def test_unparseable_json_gets_one_error_about_the_json(admin_client):
    response = post_segment(admin_client, '{"all": [')
    assert rules_errors(response) == ["Enter a valid JSON."]
    assert not Segment.objects.exists()


def test_the_list_shows_the_rules_in_words(admin_client):
    api.create_segment("mobile-fans", name="Mobile fans", rules={"all": [SPORTS, {"rule": "device", "is": "mobile"}]})
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert (
        '<td class="field-rules_in_words">read at least 3 pages about sports in the last 30 days and is on a mobile '
        "device</td>" in html
    )


def run_action(client: Client, *segments: Segment):
    return client.post(
        reverse(CHANGELIST),
        {"action": "recompute_now", "_selected_action": [s.pk for s in segments]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_recompute_now_queues_the_task_for_the_chosen_segments(admin_client, celery_app, redis_server):
    fans = api.create_segment("sports-fans", name="Sports fans", rules=SPORTS)
    mobile = api.create_segment("mobile", name="On mobile", rules={"rule": "device", "is": "mobile"})
    api.create_segment("others", rules=RETURNING)
    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    response = run_action(admin_client, fans, mobile)
    assert messages_of(response) == [
        "Queued the recompute of 2 segments (On mobile, Sports fans). A Celery worker runs it: their sizes and "
        "“last computed” change when it is done; reload this page to see them."
    ]
    [raw] = broker.lrange("tailored_bulk", 0, -1)  # docs/deployment.md: Queues
    message = json.loads(raw)
    assert message["headers"]["task"] == "tailored_cms.rules.recompute_segments"
    assert message["headers"]["argsrepr"] == "(['mobile', 'sports-fans'],)"


@pytest.mark.django_db(transaction=True)
def test_recompute_now_is_run_by_a_real_worker(make_visitor, celery_worker, shared_db):
    make_visitor(visits=3)
    make_visitor(visits=1)
    User.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.login(username="boss", password="pw")
    # bulk_create sends no post_save: no recompute is queued on save, only the action's.
    [returning] = Segment.objects.bulk_create([Segment(slug="returning", name="Returning", rules=RETURNING)])
    assert run_action(client, returning).status_code == 200
    deadline = time.monotonic() + 30
    while Segment.objects.get().computed_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Segment.objects.get().size == 1
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert '<td class="field-size">1</td>' in html


def test_without_a_broker_recompute_now_runs_nothing_and_says_so(admin_client, celery_app):
    fans = api.create_segment("sports-fans", name="Sports fans", rules=SPORTS)
    reachable = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = run_action(admin_client, fans)
    finally:
        celery_app.conf.broker_url = reachable
    [message] = messages_of(response)
    assert message.startswith("Nothing was recomputed: the task queue (Celery's broker) can't be reached (")
    assert "Connection refused" in message and "manage.py tailored_recompute" in message
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Segment.objects.get().computed_at is None
    assert redis.Redis.from_url(reachable).llen("celery") == 0


def test_recompute_now_runs_in_process_when_celery_is_eager(admin_client, celery_app, make_visitor):
    make_visitor(visits=3)
    fans = api.create_segment("returning", name="Returning", rules=RETURNING)
    celery_app.conf.task_always_eager = True
    try:
        response = run_action(admin_client, fans)
    finally:
        celery_app.conf.task_always_eager = False
    assert messages_of(response) == ["Recomputed 1 segment: Returning."]
    assert Segment.objects.get().size == 1


def test_recompute_now_is_offered_to_editors_who_may_change_segments_only(client):
    editor = User.objects.create_user("viewer", password="pw", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.login(username="viewer", password="pw")
    api.create_segment("returning", rules=RETURNING)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert "Returning" in html and 'value="recompute_now"' not in html
    editor.user_permissions.add(Permission.objects.get(codename="change_segment"))
    assert 'value="recompute_now"' in client.get(reverse(CHANGELIST)).content.decode()


def test_staff_who_may_only_view_a_segment_read_its_rules_in_words_not_as_json(client):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.login(username="viewer", password="pw")
    segment = api.create_segment("returning", rules=RETURNING)
    html = client.get(reverse("admin:tailored_cms_segment_change", args=[segment.pk])).content.decode()
    assert describe_tree(RETURNING) in html
    assert "visit_count" not in html and '"min"' not in html


class RefusingBroker:
    """A TCP port that accepts connections and closes them at once, counting them: a broker that is down."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _address = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.listener.close()


def test_saving_a_segment_while_the_broker_is_down_saves_it_and_tries_the_broker_once(
    admin_client, celery_app, caplog, django_capture_on_commit_callbacks
):
    """The editor's save must not sit through Celery's and redis-py's retries (it took 6 s): one quick try, a
    warning in the log, and beat's next full recompute catches up."""
    broker, reachable = RefusingBroker(), celery_app.conf.broker_url
    celery_app.conf.broker_url = broker.url
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_segment(admin_client, SPORTS, name="Sports fans")
    finally:
        celery_app.conf.broker_url = reachable
        broker.close()
    assert response.status_code == 302
    assert Segment.objects.get().rules == SPORTS
    assert 1 <= broker.connections <= 2  # tried, and retried once without waiting: not a retry loop
    assert "Could not queue the recompute of segment 'sports-fans'" in caplog.text


def test_the_builder_offers_the_sites_languages_named_in_the_editors_language(admin_client):
    config = builder_config(admin_client.get(reverse(ADD), HTTP_ACCEPT_LANGUAGE="it").content.decode())
    language = {rule["name"]: rule for rule in config["rules"]}["language"]
    assert language["label"] == "Lingua"
    assert (language["params"][0]["type"], language["params"][0]["many"]) == ("language", True)
    assert config["languages"] == [
        {"value": "en", "label": "Inglese"},
        {"value": "es", "label": "Spagnolo"},
        {"value": "it", "label": "Italiano"},
    ]


def test_the_builder_offers_countries_and_continents_named_in_the_editors_language(admin_client):
    config = builder_config(admin_client.get(reverse(ADD), HTTP_ACCEPT_LANGUAGE="it").content.decode())
    rules = {rule["name"]: rule for rule in config["rules"]}
    assert [(rule["label"], rule["params"][0]["type"]) for rule in (rules["country"], rules["continent"])] == [
        ("Nazione", "country"),
        ("Continente", "continent"),
    ]
    assert rules["eu"]["label"] == "Nell'Unione europea" and rules["eu"]["params"] == []
    countries = config["countries"]
    assert len(countries) == 249
    assert {"value": "DE", "label": "Germania"} in countries
    names = [country["label"] for country in countries]
    assert names.index("Francia") < names.index("Germania") < names.index("Italia")  # by name, not by code
    assert config["continents"][3] == {"value": "EU", "label": "Europa"}


def test_a_segment_on_a_country_that_does_not_exist_is_refused_naming_the_rule(admin_client):
    response = post_segment(admin_client, {"rule": "country", "is": ["FR", "EN"]})
    assert response.status_code == 200
    assert rules_errors(response) == [
        "Rule 'country': parameter 'is' takes ISO 3166 country codes such as FR or DE, not 'EN'."
    ]


def test_a_segment_on_a_language_the_site_does_not_have_is_refused_naming_the_valid_ones(admin_client):
    response = post_segment(admin_client, {"rule": "language", "is": ["es", "pt"]})
    assert response.status_code == 200
    assert rules_errors(response) == [
        "Rule 'language': parameter 'is' names no language of the site: 'pt' (the site's languages: en, es, it)."
    ]


def test_the_builder_offers_the_traits_the_site_has_set_with_their_kinds(admin_client):
    from django.contrib.auth.models import User

    api.set_traits(User.objects.create_user("ada"), plan="pro", seats=3)
    config = builder_config(admin_client.get(reverse(ADD)).content.decode())
    assert config["traits"] == [
        {"value": "plan", "label": "plan (text)", "kind": "string"},
        {"value": "seats", "label": "seats (number)", "kind": "number"},
    ]
    trait = {rule["name"]: rule for rule in config["rules"]}["trait"]
    assert [(param["name"], param["type"]) for param in trait["params"]] == [
        ("name", "trait"),
        ("op", "str"),
        ("value", "value"),
    ]


def test_a_refused_change_shows_the_rules_as_saved_in_words_not_as_posted(admin_client):
    """The posted tree may hold what a page can't show (a lone surrogate, from a "\\ud800" escape): it was a 500."""
    segment = api.create_segment("mobile-fans", name="Mobile fans", rules=RETURNING)
    change = reverse("admin:tailored_cms_segment_change", args=[segment.pk])
    response = post_segment(admin_client, '{"rule": "topic_views", "topic": "a\\ud800", "min": 1}', url=change)
    assert response.status_code == 200 and rules_errors(response)
    assert '<div class="readonly">made at least 2 visits</div>' in response.content.decode()
