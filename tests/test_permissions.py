"""Who may use each staff endpoint and admin page of tailored_cms: a permission matrix over every URL it adds.

``ROWS`` gives every staff URL pattern (per method), admin action and editable list the permission it needs;
``PUBLIC`` names the visitor's own endpoints, public by design; ``OWN_SESSION`` the one a signed-in user uses on
their own session. ``test_every_url_action_and_editable_list_is_classified`` walks the URL resolver (the
``tailored_cms`` namespace and the admin of tailored_cms's models) and the admin's actions: a URL or action added
without a line here fails it, so a new staff endpoint has its permission checked before it ships.

Per row and role (``test_the_matrix``):

- anonymous, and a signed-in user who is not staff but holds the permission: sent to log in or 403 (the API: 401
  or 403), and nothing changes;
- staff holding every permission of tailored_cms and django CMS except the one(s) the row needs: 403 (an admin
  action: not run, back to the list), and nothing changes;
- staff holding exactly what the row needs: 200 (or the admin's redirect after saving), and the change is made.
  A row nobody may use (read-only models) is tried as a superuser: 403.

Every POST also needs the CSRF token (``Client(enforce_csrf_checks=True)``): without it 403 and no change; a GET
on a state-changing URL changes nothing. The visitor endpoints give a visitor only their own data, whatever id
they name or cookie they forge; a staff member's preview reaches nobody else (``tests/test_toolbar_preview.py``
has the rest of the preview's tests).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from cms.api import add_plugin, create_page
from cms.models import Page
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core import signing
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from tailored_cms import api
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.conf import tailored_settings
from tailored_cms.editors.preview import SESSION_KEY
from tailored_cms.results.models import ExperimentEnd
from tailored_cms.rules.models import Segment
from tailored_cms.tracking import TrackedEvent, stream_key
from tailored_cms.tracking.models import Event
from tailored_cms.visitors.identity import SALT, set_visitor_cookie
from tailored_cms.visitors.models import Topic, Trait, Visitor
from tailored_cms.widgets.models import PageTopics
from tests.results.experiments import decided_experiment
from tests.tracking.conftest import celery_app  # noqa: F401 - a fixture: the recompute action's private broker

pytestmark = pytest.mark.django_db

APPS = ("tailored_cms", "cms")  # the "staff lacking" role holds every permission of these but the row's
LOGIN = settings.LOGIN_URL
API = "/tailored/api/v1/"
HOME = "/home/"


# --- the site under test ----------------------------------------------------------------------------------------


@dataclass
class World:
    """One of everything the staff endpoints act on."""

    page: Page  # with the area: REGULARS for the segment, SPORTS for the topic, EVERYONE as the fallback
    bare_page: Page  # no topics yet (PageTopics are added to it)
    area: TailoredArea
    segment: Segment
    topic: Topic
    page_topics: PageTopics
    visitor: Visitor
    event: Event
    broker: redis.Redis  # Celery's, private: the recompute action's messages


@pytest.fixture
def world(celery_app) -> World:  # noqa: F811
    topic = api.create_topic("sports", "Sports", names={"es": "Deportes"})
    segment = api.create_segment(
        "regulars", "Regulars", rules={"all": [{"rule": "visit_count", "min": 3}]}, names={"es": "Habituales"}
    )
    page = create_page("Home", "page.html", "en", slug="home")
    bare_page = create_page("About", "page.html", "en", slug="about")
    placeholder = page.get_content_obj("en").get_placeholders().get(slot="content")
    area = api.add_area(placeholder, strategy="hybrid", label="Hero")
    for label, text, targeting in (
        ("Regulars", "REGULARS", {"segments": ["regulars"]}),
        ("Sports fans", "SPORTS", {"topics": ["sports"]}),
        ("Everyone", "EVERYONE", {"fallback": True}),
    ):
        variant = api.add_variant(area, label=label, **targeting)
        add_plugin(placeholder, "TextPlugin", "en", target=variant, body=f"<p>{text}</p>")
    visitor = Visitor.objects.create(theme="dark", topics=["sports"], tracking_consent=True)
    event = Event.objects.create(id=uuid.uuid4(), visitor=visitor, name="click", ts=timezone.now(), props={})
    return World(
        page=page,
        bare_page=bare_page,
        area=TailoredArea.objects.get(pk=area.pk),
        segment=segment,
        topic=topic,
        page_topics=api.tag_page(page, ["sports"]),
        visitor=visitor,
        event=event,
        broker=redis.Redis.from_url(celery_app.conf.broker_url),
    )


def shown(client: Client, url: str = HOME) -> set[str]:
    """Which of the area's variants the page shows to ``client``."""
    html = client.get(url).content.decode()
    return {word for word in ("REGULARS", "SPORTS", "EVERYONE") if f"<p>{word}" in html}


# --- who asks ---------------------------------------------------------------------------------------------------


def user(name: str, permissions: list[Permission] | None = None, *, staff: bool = True) -> AbstractBaseUser:
    account = get_user_model().objects.create_user(name, password="pw", is_staff=staff)
    account.user_permissions.set(permissions or [])
    return account


def permissions(*names: str) -> list[Permission]:
    """``"app_label.codename"`` names → their Permission rows (every one must exist)."""
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def every_permission_but(*names: str) -> list[Permission]:
    held = Permission.objects.filter(content_type__app_label__in=APPS)
    for name in names:
        app_label, codename = name.split(".")
        held = held.exclude(content_type__app_label=app_label, codename=codename)
    return list(held)


def browser(account: AbstractBaseUser | None = None) -> Client:
    """A client that checks CSRF as a browser's requests are checked, signed in as ``account`` (if any)."""
    client = Client(enforce_csrf_checks=True)
    if account is not None:
        client.force_login(account)
    return client


def csrf_token(client: Client) -> str:
    """Give ``client`` a csrftoken cookie; the token to send with it (as a page's form or JS would)."""
    if settings.CSRF_COOKIE_NAME not in client.cookies:
        client.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(32)
    return client.cookies[settings.CSRF_COOKIE_NAME].value


# --- the table --------------------------------------------------------------------------------------------------


def tc(codename: str) -> str:
    return f"tailored_cms.{codename}"


def admin_url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:tailored_cms_{model}_{view}", args=args)


def viewing(model: str) -> dict[str, Any]:
    """What an admin page that shows ``model`` needs: its view permission (change is as good, so lacking both)."""
    return {"needs": (tc(f"view_{model}"),), "lacking": ((tc(f"view_{model}"), tc(f"change_{model}")),)}


NOBODY: dict[str, Any] = {"needs": ()}  # a read-only model's add/change/delete: not even a superuser


@dataclass(frozen=True)
class Row:
    """One staff URL and method (or admin action), what it needs, and what it changes."""

    route: str  # the URL pattern as the resolver has it, from the root URLconf
    method: str
    url: Callable[[World], str]
    needs: tuple[str, ...]  # the "staff with" role holds exactly these; () = nobody may (a superuser is tried)
    lacking: tuple[tuple[str, ...], ...] = ()  # one "staff lacking" role per group; default: one per need
    data: Callable[[World], dict[str, Any]] | None = None  # form data (POST), sent with the CSRF token
    body: dict[str, Any] | None = None  # a JSON body (the API), sent with X-CSRFToken
    effect: Callable[[World, Client], Any] | None = None  # state the row changes (a state-changing row)
    ok: int = 200  # the answer to "staff with"
    api: bool = False  # the REST API: 401/403 for anonymous visitors, never a redirect
    action: str = ""  # an admin action of the model (its changelist's POST)
    list_editable: bool = False  # the model's changelist saving its editable columns
    to_change_page: bool = False  # the admin's <object_id>/ redirect, followed to the change page

    @property
    def label(self) -> str:
        what = f"action {self.action}" if self.action else "editable list" if self.list_editable else self.method
        return f"{what} {self.route}"

    def lacking_groups(self) -> tuple[tuple[str, ...], ...]:
        if not self.needs:
            return ((),)  # every permission: still nobody
        return self.lacking or tuple((need,) for need in self.needs)


def segment_form(name: str, slug: str) -> dict[str, str]:
    rules = json.dumps({"all": [{"rule": "visit_count", "min": 2}]})
    return {"name": name, "slug": slug, "description": "", "enabled": "on", "rules": rules}


def topic_form(name: str, slug: str) -> dict[str, str]:
    return {"name": name, "slug": slug, "description": "", "position": "3"}


def area_form(strategy: str) -> dict[str, str]:
    return {"label": "Hero", "strategy": strategy, "max_items": "1", "holdout_percent": "0", "goal": ""}


def action(name: str, obj: Any, **extra: str) -> dict[str, Any]:
    return {"action": name, "_selected_action": [str(obj.pk)], "index": "0", **extra}


def editable_list(pk_field: str, pk: Any, **columns: str) -> dict[str, str]:
    """The POST of a changelist's editable columns, one row."""
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        f"form-0-{pk_field}": str(pk),
        "_save": "Save",
    }
    data.update({f"form-0-{name}": value for name, value in columns.items()})
    return data


def exists(model: type, **lookup: Any) -> Callable[[World, Client], bool]:
    return lambda w, c: model.objects.filter(**lookup).exists()


def model_rows(model: str, obj: Callable[[World], Any]) -> list[Row]:
    """What every registered model's admin has: its list, an object's history, the <id>/ redirect."""
    base = f"admin/tailored_cms/{model}/"
    return [
        Row(base, "GET", lambda w: admin_url(model, "changelist"), **viewing(model)),
        Row(
            base + "<path:object_id>/history/",
            "GET",
            lambda w: admin_url(model, "history", obj(w).pk),
            **viewing(model),
        ),
        Row(
            base + "<path:object_id>/",
            "GET",
            lambda w: admin_url(model, "changelist") + f"{obj(w).pk}/",
            to_change_page=True,
            **viewing(model),
        ),
    ]


def translation_rows(model: str, obj: Callable[[World], Any]) -> list[Row]:
    """A translated model's "delete translation" page (parler's admin): deleting one language needs delete."""
    route = f"admin/tailored_cms/{model}/^(.+)/change/delete-translation/(.+)/$"
    url = lambda w: admin_url(model, "delete_translation", obj(w).pk, "es")  # noqa: E731
    languages = lambda w, c: sorted(obj(w).translations.values_list("language_code", flat=True))  # noqa: E731
    needs = (tc(f"delete_{model}"),)
    return [
        Row(route, "GET", url, needs=needs),
        Row(route, "POST", url, needs=needs, data=lambda w: {"post": "yes"}, effect=languages, ok=302),
    ]


def read_only_rows(model: str, obj: Callable[[World], Any]) -> list[Row]:
    """A read-only model: its change page shows it; adding, changing and deleting are nobody's."""
    base = f"admin/tailored_cms/{model}/"
    change = base + "<path:object_id>/change/"
    delete = base + "<path:object_id>/delete/"
    count = lambda w, c: (Visitor.objects.count(), Event.objects.count())  # noqa: E731
    return [
        Row(change, "GET", lambda w: admin_url(model, "change", obj(w).pk), **viewing(model)),
        Row(base + "add/", "GET", lambda w: admin_url(model, "add"), **NOBODY),
        Row(base + "add/", "POST", lambda w: admin_url(model, "add"), data=lambda w: {}, effect=count, **NOBODY),
        Row(
            change,
            "POST",
            lambda w: admin_url(model, "change", obj(w).pk),
            data=lambda w: {"theme": "light", "name": "page_view"},
            effect=lambda w, c: (Visitor.objects.get(pk=w.visitor.pk).theme, Event.objects.get(pk=w.event.pk).name),
            **NOBODY,
        ),
        Row(delete, "GET", lambda w: admin_url(model, "delete", obj(w).pk), **NOBODY),
        Row(
            delete,
            "POST",
            lambda w: admin_url(model, "delete", obj(w).pk),
            data=lambda w: {"post": "yes"},
            effect=count,
            **NOBODY,
        ),
    ]


SEGMENT = "admin/tailored_cms/segment/"
TOPIC = "admin/tailored_cms/topic/"
AREA = "admin/tailored_cms/tailoredarea/"
PAGE_TOPICS = "admin/tailored_cms/pagetopics/"
RESULTS = "admin/tailored_cms/variantstats/"
CHANGE_PAGE = "cms.change_page"
SEGMENT_EDITING = tuple(f"tailored_cms.{action}_segment" for action in ("view", "add", "change"))

ROWS: list[Row] = [
    # /tailored/: preview as any visitor, an area's strategy, the staff endpoints of the API
    Row("tailored/preview/", "GET", lambda w: reverse("tailored_cms:preview"), needs=(tc("preview_tailoring"),)),
    Row(
        "tailored/preview/",
        "POST",
        lambda w: reverse("tailored_cms:preview"),
        needs=(tc("preview_tailoring"),),
        data=lambda w: {"segments": ["regulars"], "next": HOME},
        effect=lambda w, c: SESSION_KEY in c.session,
        ok=302,
    ),
    Row(
        "tailored/areas/<int:plugin_id>/strategy/",
        "POST",
        lambda w: reverse("tailored_cms:area_strategy", args=[w.area.pk]),
        needs=(tc("change_tailoredarea"), CHANGE_PAGE),
        data=lambda w: {"strategy": "static"},
        effect=lambda w, c: TailoredArea.objects.get(pk=w.area.pk).strategy,
    ),
    Row(
        f"{API[1:]}segments/",
        "GET",
        lambda w: f"{API}segments/",
        needs=(tc("view_segment"),),
        lacking=(SEGMENT_EDITING,),  # any of view, add, change lets in (tests/rest/test_segments.py)
        api=True,
    ),
    Row(
        f"{API[1:]}segments/preview/",
        "POST",
        lambda w: f"{API}segments/preview/",
        needs=(tc("view_segment"),),
        lacking=(SEGMENT_EDITING,),
        body={"rules": {"all": [{"rule": "visit_count", "min": 2}]}},
        api=True,
    ),
    Row(f"{API[1:]}stats/", "GET", lambda w: f"{API}stats/", needs=(tc("view_results"),), api=True),
    Row(
        f"{API[1:]}traits/",
        "POST",
        lambda w: f"{API}traits/",
        needs=(tc("change_traits"),),
        body={"by": "username", "users": []},  # who may call it; what it stores: tests/rest/test_traits.py
        api=True,
    ),
    # Segments: the rule builder's add and change forms, delete, "Recompute now"
    *model_rows("segment", lambda w: w.segment),
    *translation_rows("segment", lambda w: w.segment),
    Row(SEGMENT + "add/", "GET", lambda w: admin_url("segment", "add"), needs=(tc("add_segment"),)),
    Row(
        SEGMENT + "add/",
        "POST",
        lambda w: admin_url("segment", "add"),
        needs=(tc("add_segment"),),
        data=lambda w: segment_form("Newcomers", "newcomers"),
        effect=exists(Segment, slug="newcomers"),
        ok=302,
    ),
    Row(
        SEGMENT + "<path:object_id>/change/",
        "GET",
        lambda w: admin_url("segment", "change", w.segment.pk),
        **viewing("segment"),
    ),
    Row(
        SEGMENT + "<path:object_id>/change/",
        "POST",
        lambda w: admin_url("segment", "change", w.segment.pk),
        needs=(tc("change_segment"),),
        data=lambda w: segment_form("Renamed", "regulars"),
        effect=lambda w, c: Segment.objects.get(pk=w.segment.pk).name,
        ok=302,
    ),
    Row(
        SEGMENT + "<path:object_id>/delete/",
        "GET",
        lambda w: admin_url("segment", "delete", w.segment.pk),
        needs=(tc("delete_segment"),),
    ),
    Row(
        SEGMENT + "<path:object_id>/delete/",
        "POST",
        lambda w: admin_url("segment", "delete", w.segment.pk),
        needs=(tc("delete_segment"),),
        data=lambda w: {"post": "yes"},
        effect=exists(Segment, slug="regulars"),
        ok=302,
    ),
    Row(
        SEGMENT,
        "POST",
        lambda w: admin_url("segment", "changelist"),
        needs=(tc("change_segment"),),
        action="recompute_now",
        data=lambda w: action("recompute_now", w.segment),
        effect=lambda w, c: w.broker.llen("tailored_bulk"),
        ok=302,
    ),
    Row(
        SEGMENT,
        "POST",
        lambda w: admin_url("segment", "changelist"),
        needs=(tc("view_segment"), tc("delete_segment")),
        lacking=((tc("delete_segment"),),),
        action="delete_selected",
        data=lambda w: action("delete_selected", w.segment, post="yes"),
        effect=exists(Segment, slug="regulars"),
        ok=302,
    ),
    # Topics
    *model_rows("topic", lambda w: w.topic),
    *translation_rows("topic", lambda w: w.topic),
    Row(TOPIC + "add/", "GET", lambda w: admin_url("topic", "add"), needs=(tc("add_topic"),)),
    Row(
        TOPIC + "add/",
        "POST",
        lambda w: admin_url("topic", "add"),
        needs=(tc("add_topic"),),
        data=lambda w: topic_form("Cooking", "cooking"),
        effect=exists(Topic, slug="cooking"),
        ok=302,
    ),
    Row(
        TOPIC + "<path:object_id>/change/",
        "GET",
        lambda w: admin_url("topic", "change", w.topic.pk),
        **viewing("topic"),
    ),
    Row(
        TOPIC + "<path:object_id>/change/",
        "POST",
        lambda w: admin_url("topic", "change", w.topic.pk),
        needs=(tc("change_topic"),),
        data=lambda w: topic_form("Football", "sports"),
        effect=lambda w, c: Topic.objects.get(pk=w.topic.pk).name,
        ok=302,
    ),
    Row(
        TOPIC + "<path:object_id>/delete/",
        "GET",
        lambda w: admin_url("topic", "delete", w.topic.pk),
        needs=(tc("delete_topic"),),
    ),
    Row(
        TOPIC + "<path:object_id>/delete/",
        "POST",
        lambda w: admin_url("topic", "delete", w.topic.pk),
        needs=(tc("delete_topic"),),
        data=lambda w: {"post": "yes"},
        effect=exists(Topic, slug="sports"),
        ok=302,
    ),
    Row(
        TOPIC,
        "POST",
        lambda w: admin_url("topic", "changelist"),
        needs=(tc("view_topic"), tc("delete_topic")),
        lacking=((tc("delete_topic"),),),
        action="delete_selected",
        data=lambda w: action("delete_selected", w.topic, post="yes"),
        effect=exists(Topic, slug="sports"),
        ok=302,
    ),
    Row(
        TOPIC,
        "POST",
        lambda w: admin_url("topic", "changelist"),
        needs=(tc("change_topic"),),
        list_editable=True,
        data=lambda w: editable_list("id", w.topic.pk, position="7"),
        effect=lambda w, c: Topic.objects.get(pk=w.topic.pk).position,
        ok=302,
    ),
    # Visitors and events: read-only
    *model_rows("visitor", lambda w: w.visitor),
    *read_only_rows("visitor", lambda w: w.visitor),
    *model_rows("trait", lambda w: Trait.objects.get_or_create(name="plan", kind="string")[0]),
    *read_only_rows("trait", lambda w: Trait.objects.get_or_create(name="plan", kind="string")[0]),
    # Importing traits from CSV (tests/visitors/test_trait_import_admin.py): the permission to set traits
    Row(
        "admin/tailored_cms/visitor/import-traits/",
        "GET",
        lambda w: reverse("admin:tailored_cms_visitor_import_traits"),
        needs=(tc("change_traits"),),
    ),
    Row(
        "admin/tailored_cms/visitor/import-traits/",
        "POST",
        lambda w: reverse("admin:tailored_cms_visitor_import_traits"),
        needs=(tc("change_traits"),),
        data=lambda w: {"by": "email"},  # no file: the form again, with its error (nothing stored either way)
    ),
    Row(
        "admin/tailored_cms/visitor/import-traits/<slug:job>/",
        "GET",
        lambda w: reverse("admin:tailored_cms_visitor_import_progress", args=["0" * 32]),
        needs=(tc("change_traits"),),
    ),
    *model_rows("event", lambda w: w.event),
    *read_only_rows("event", lambda w: w.event),
    # Tailored areas: added and deleted in the CMS only; the strategy and limits editable here
    *model_rows("tailoredarea", lambda w: w.area),
    Row(
        AREA + "<path:object_id>/change/",
        "GET",
        lambda w: admin_url("tailoredarea", "change", w.area.pk),
        **viewing("tailoredarea"),
    ),
    Row(
        AREA + "<path:object_id>/change/",
        "POST",
        lambda w: admin_url("tailoredarea", "change", w.area.pk),
        needs=(tc("change_tailoredarea"),),
        data=lambda w: area_form("static"),
        effect=lambda w, c: TailoredArea.objects.get(pk=w.area.pk).strategy,
        ok=302,
    ),
    Row(
        AREA,
        "POST",
        lambda w: admin_url("tailoredarea", "changelist"),
        needs=(tc("change_tailoredarea"),),
        list_editable=True,
        data=lambda w: editable_list("id", w.area.pk, strategy="static", max_items="1", holdout_percent="0", goal=""),
        effect=lambda w, c: TailoredArea.objects.get(pk=w.area.pk).strategy,
        ok=302,
    ),
    Row(AREA + "add/", "GET", lambda w: admin_url("tailoredarea", "add"), **NOBODY),
    Row(
        AREA + "add/",
        "POST",
        lambda w: admin_url("tailoredarea", "add"),
        data=lambda w: area_form("static"),
        effect=lambda w, c: TailoredArea.objects.count(),
        **NOBODY,
    ),
    Row(AREA + "<path:object_id>/delete/", "GET", lambda w: admin_url("tailoredarea", "delete", w.area.pk), **NOBODY),
    Row(
        AREA + "<path:object_id>/delete/",
        "POST",
        lambda w: admin_url("tailoredarea", "delete", w.area.pk),
        data=lambda w: {"post": "yes"},
        effect=lambda w, c: TailoredArea.objects.count(),
        **NOBODY,
    ),
    # Page topics: opened from the CMS toolbar; saving them also needs the page's change permission
    *model_rows("pagetopics", lambda w: w.page_topics),
    Row(
        PAGE_TOPICS + "add/",
        "GET",
        lambda w: admin_url("pagetopics", "add") + f"?extended_object={w.bare_page.pk}",
        needs=(tc("add_pagetopics"),),
    ),
    Row(
        PAGE_TOPICS + "add/",
        "POST",
        lambda w: admin_url("pagetopics", "add") + f"?extended_object={w.bare_page.pk}",
        needs=(tc("add_pagetopics"), CHANGE_PAGE),
        data=lambda w: {"topics": [str(w.topic.pk)]},
        effect=lambda w, c: PageTopics.objects.filter(extended_object=w.bare_page).exists(),
        ok=302,
    ),
    Row(
        PAGE_TOPICS + "<path:object_id>/change/",
        "GET",
        lambda w: admin_url("pagetopics", "change", w.page_topics.pk),
        **viewing("pagetopics"),
    ),
    Row(
        PAGE_TOPICS + "<path:object_id>/change/",
        "POST",
        lambda w: admin_url("pagetopics", "change", w.page_topics.pk),
        needs=(tc("change_pagetopics"), CHANGE_PAGE),
        data=lambda w: {"topics": []},
        effect=lambda w, c: list(PageTopics.objects.get(pk=w.page_topics.pk).topics.values_list("slug", flat=True)),
        ok=302,
    ),
    Row(
        PAGE_TOPICS + "<path:object_id>/delete/",
        "GET",
        lambda w: admin_url("pagetopics", "delete", w.page_topics.pk),
        needs=(tc("delete_pagetopics"),),
    ),
    Row(
        PAGE_TOPICS + "<path:object_id>/delete/",
        "POST",
        lambda w: admin_url("pagetopics", "delete", w.page_topics.pk),
        needs=(tc("delete_pagetopics"), CHANGE_PAGE),
        data=lambda w: {"post": "yes"},
        effect=lambda w, c: PageTopics.objects.filter(pk=w.page_topics.pk).exists(),
        ok=302,
    ),
    Row(
        PAGE_TOPICS,
        "POST",
        lambda w: admin_url("pagetopics", "changelist"),
        needs=(tc("view_pagetopics"), tc("delete_pagetopics"), CHANGE_PAGE),
        lacking=((tc("delete_pagetopics"),), (CHANGE_PAGE,)),
        action="delete_selected",
        data=lambda w: action("delete_selected", w.page_topics, post="yes"),
        effect=lambda w, c: PageTopics.objects.filter(pk=w.page_topics.pk).exists(),
        ok=302,
    ),
    # Results: the list, one area, the CSV
    Row(RESULTS, "GET", lambda w: admin_url("variantstats", "changelist"), needs=(tc("view_results"),)),
    Row(
        RESULTS + "<slug:key>/",
        "GET",
        lambda w: reverse("admin:tailored_cms_variantstats_area", kwargs={"key": w.area.key}),
        needs=(tc("view_results"),),
    ),
    Row(RESULTS + "export.csv", "GET", lambda w: admin_url("variantstats", "export"), needs=(tc("view_results"),)),
    # Ending an experiment with its winner: seeing results, and changing the area as django CMS's Edit asks
    Row(
        RESULTS + "<slug:key>/end/",
        "GET",
        lambda w: ending_url(w),
        needs=(tc("view_results"), tc("change_tailoredarea"), CHANGE_PAGE),
        data=lambda w: {"winner": experiment_winner(w).key},
    ),
    Row(
        RESULTS + "<slug:key>/end/",
        "POST",
        lambda w: ending_url(w),
        needs=(tc("view_results"), tc("change_tailoredarea"), CHANGE_PAGE),
        data=lambda w: {"winner": experiment_winner(w).key},
        effect=lambda w, c: (
            ExperimentEnd.objects.count(),
            [v.label for v in Variant.objects.filter(parent_id=w.area.pk) if v.fallback],
        ),
        ok=302,
    ),
]


def experiment_winner(world: World) -> Variant:
    """The world's area made an experiment whose figures name Regulars the winner over Sports fans."""
    regulars, sports = (
        Variant.objects.get(parent_id=world.area.pk, tailored_settings__label=n) for n in ("Regulars", "Sports fans")
    )
    decided_experiment(TailoredArea.objects.get(pk=world.area.pk), regulars, sports)
    return regulars


def ending_url(world: World) -> str:
    experiment_winner(world)
    return reverse("admin:tailored_cms_variantstats_end", kwargs={"key": world.area.key})


# Public by design: the visitor's own data (their cookie says whose), what anyone may choose, the API's schema.
PUBLIC = {
    f"{API[1:]}preferences/": "the visitor's own choices",
    f"{API[1:]}topics/": "the topics anyone may follow (and whether this visitor does)",
    f"{API[1:]}themes/": "the themes anyone may choose",
    f"{API[1:]}layouts/": "the layouts anyone may choose",
    f"{API[1:]}consent/": "the visitor's own consent",
    f"{API[1:]}events/": "the visitor's own events (the beacon)",
    f"{API[1:]}me/": "the visitor's own data: export, erase",
    f"{API[1:]}explain/": "why this visitor sees what they see",
    f"{API[1:]}recommendations/": "the pages recommended to this visitor, each with why",
    f"{API[1:]}quiz/": "the visitor's own answers to a quiz (what they map to is looked up on the server)",
    f"{API[1:]}schema/": "the API's OpenAPI schema",
    "tailored/quiz/<int:quiz_id>/": "the quiz's answers without JavaScript, from a page of this site",
    "tailored/preferences/": "the visitor's own choices and consent, without JavaScript",
    "tailored/preferences/consent/": "the consent banner's answer without JavaScript, from a page of this site",
    "tailored/jsi18n/<str:language>/": "the scripts' translations, the same for everyone",
}
# Signed-in users, each on their own session only.
OWN_SESSION = {"tailored/preview/stop/": "stop one's own preview"}


# --- every URL and action is in the table -----------------------------------------------------------------------


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "", namespaces: tuple[str, ...] = ()):
    """(route, callback, namespaces) of every URL pattern, the routes joined from the root URLconf."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from walk(pattern.url_patterns, route, inner)
        else:
            yield route, pattern.callback, namespaces


def tailored_urls() -> dict[str, Any]:
    """Route → view of every URL tailored_cms adds: its own namespace, and the admin of its models."""
    return {
        route: callback
        for route, callback, namespaces in walk(get_resolver().url_patterns)
        if "tailored_cms" in namespaces or (namespaces[:1] == ("admin",) and route.startswith("admin/tailored_cms/"))
    }


def handled_methods(callback: Any) -> set[str]:
    """The methods a class-based view answers (HEAD and OPTIONS aside); empty for a function view."""
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return set()
    return {method.upper() for method in ("get", "post", "put", "patch", "delete") if hasattr(view_class, method)}


def tailored_model_admins() -> dict[str, admin.ModelAdmin]:
    return {
        model._meta.model_name: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "tailored_cms"
    }


def test_every_url_action_and_editable_list_is_classified(admin_user):
    found = tailored_urls()
    assert len(found) > 40, "the walk found too few of tailored_cms's URLs: is it mounted?"
    staff_routes = {row.route for row in ROWS}
    classified = staff_routes | set(PUBLIC) | set(OWN_SESSION)
    assert sorted(set(found) - classified) == [], "URLs nobody decided the permission of: add them to ROWS or PUBLIC"
    assert sorted(classified - set(found)) == [], "rows of URLs that are gone"
    assert not staff_routes & set(PUBLIC), "a URL both public and staff-only"

    for route in staff_routes:
        methods = handled_methods(found[route])
        rows = {row.method for row in ROWS if row.route == route and not row.action and not row.list_editable}
        if methods and not route.startswith("admin/"):  # our own views: each method they answer has its row
            assert methods == rows, f"{route}: answers {sorted(methods)}, rows for {sorted(rows)}"

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model_name, model_admin in tailored_model_admins().items():
        base = f"admin/tailored_cms/{model_name}/"
        actions = set(model_admin.get_actions(request))
        rowed = {row.action for row in ROWS if row.route == base and row.action}
        assert actions == rowed, f"{model_name}: actions {sorted(actions)}, rows for {sorted(rowed)}"
        editable = any(row.list_editable for row in ROWS if row.route == base)
        assert bool(model_admin.list_editable) == editable, f"{model_name}: editable list without its row"


# --- the matrix -------------------------------------------------------------------------------------------------


ANONYMOUS, MEMBER, LACKING, WITH = "anonymous", "not staff, with the permission", "staff lacking", "staff with"


def cases() -> Iterator[Any]:
    for row in ROWS:
        roles: list[tuple[str, tuple[str, ...]]] = [(ANONYMOUS, ()), (MEMBER, ())]
        roles += [(LACKING, group) for group in row.lacking_groups()]
        roles.append((WITH, ()))
        for role, lacked in roles:
            suffix = f" {'+'.join(name.split('.')[1] for name in lacked)}" if lacked else ""
            name = "superuser" if role == WITH and not row.needs else role
            yield pytest.param(row, role, lacked, id=f"{row.label} - {name}{suffix}")


def client_for(role: str, row: Row, lacked: tuple[str, ...]) -> Client:
    if role == ANONYMOUS:
        return browser()
    if role == MEMBER:
        return browser(user("member", permissions(*row.needs), staff=False))
    if role == LACKING:
        return browser(user("lacking", every_permission_but(*lacked)))
    if not row.needs:
        return browser(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return browser(user("holder", permissions(*row.needs)))


def send(client: Client, row: Row, world: World, *, method: str | None = None, token: bool = True) -> HttpResponse:
    """The row's request (``method`` instead of its own: the same data as a query string)."""
    url, method = row.url(world), method or row.method
    if method == "GET":
        return client.get(url, row.data(world) if row.data else {})
    headers = {"HTTP_X_CSRFTOKEN": csrf_token(client)} if token else {}
    if row.body is not None:
        return client.post(url, json.dumps(row.body), content_type="application/json", **headers)
    data = row.data(world) if row.data else {}
    if token:
        data = {**data, "csrfmiddlewaretoken": csrf_token(client)}
    return client.post(url, data)


def sent_to_log_in(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("row, role, lacked", list(cases()))
def test_the_matrix(world, row: Row, role: str, lacked: tuple[str, ...]):
    client = client_for(role, row, lacked)
    before = row.effect(world, client) if row.effect else None
    response = send(client, row, world)
    if row.to_change_page and response.status_code == 302 and response["Location"].endswith("/change/"):
        response = client.get(response["Location"])  # the redirect itself shows nothing: the change page decides
    answer = f"{response.status_code} {response.get('Location', '')} {response.content[:300]!r}"

    if role in (ANONYMOUS, MEMBER):
        if row.api:
            assert response.status_code in (401, 403), answer
        else:
            assert sent_to_log_in(response) or response.status_code == 403, answer
    elif role == LACKING or not row.needs:
        if row.action and response.status_code != 403:  # not offered: the list again (what it did: below)
            assert response.status_code == 200 or response.get("Location") == row.url(world), answer
        else:
            assert response.status_code == 403, answer
    else:
        assert response.status_code == row.ok, answer
        if row.ok == 302:
            assert not sent_to_log_in(response), answer
    if row.effect:
        after = row.effect(world, client)
        if role == WITH and row.needs:
            assert after != before, f"the permitted request changed nothing: {answer}"
        else:
            assert after == before, f"a refused request changed {before!r} into {after!r}"


POSTS = [pytest.param(row, id=row.label) for row in ROWS if row.method == "POST" and row.needs]
CHANGING = [pytest.param(row, id=row.label) for row in ROWS if row.effect and row.needs]


@pytest.mark.parametrize("row", POSTS)
def test_every_post_needs_the_csrf_token(world, row: Row):
    client = client_for(WITH, row, ())
    before = row.effect(world, client) if row.effect else None
    response = send(client, row, world, token=False)
    assert response.status_code == 403, response.content[:300]
    assert b"CSRF" in response.content
    if row.effect:
        assert row.effect(world, client) == before
    assert send(client, row, world).status_code == row.ok  # the same request with the token goes through


@pytest.mark.parametrize("row", CHANGING)
def test_a_get_changes_nothing(world, row: Row):
    client = client_for(WITH, row, ())
    before = row.effect(world, client)
    response = send(client, row, world, method="GET")
    assert response.status_code in (200, 302, 405), response.content[:300]
    assert row.effect(world, client) == before


# --- stopping a preview: anyone signed in, on their own session -------------------------------------------------


STOP = "/tailored/preview/stop/"


def previewing_editor(name: str = "editor") -> Client:
    client = browser(user(name, permissions(tc("preview_tailoring"))))
    response = client.post(
        reverse("tailored_cms:preview"),
        {"segments": ["regulars"], "next": HOME, "csrfmiddlewaretoken": csrf_token(client)},
    )
    assert response.status_code == 302, response.content[:300]
    return client


def test_stopping_a_preview_is_a_post_with_the_token_by_someone_signed_in(world):
    anonymous = browser()
    assert anonymous.post(STOP, {"next": HOME, "csrfmiddlewaretoken": csrf_token(anonymous)}).status_code == 403
    editor = previewing_editor()
    assert editor.get(STOP, {"next": HOME}).status_code == 405
    assert editor.post(STOP, {"next": HOME}).status_code == 403  # no token
    assert shown(editor) == {"REGULARS"}  # still previewing
    member = browser(user("member", staff=False))
    assert member.post(STOP, {"next": HOME, "csrfmiddlewaretoken": csrf_token(member)}).status_code == 302
    assert shown(editor) == {"REGULARS"}  # another user's stop is theirs alone
    response = editor.post(STOP, {"next": HOME, "csrfmiddlewaretoken": csrf_token(editor)})
    assert response.status_code == 302 and response["Location"] == HOME
    assert shown(editor) == {"EVERYONE"}


# --- a preview reaches nobody else (beyond tests/test_toolbar_preview.py) ---------------------------------------


def test_another_signed_in_editor_never_sees_an_editors_preview(world, tailored_redis):
    editor = previewing_editor()
    keys_before = set(tailored_redis.keys())
    assert shown(editor) == {"REGULARS"}
    colleague = browser(user("colleague", permissions(tc("preview_tailoring"), tc("view_results"))))
    html = colleague.get(HOME).content.decode()
    assert "<p>EVERYONE" in html and "<p>REGULARS" not in html and "Previewing as:" not in html
    assert shown(browser()) == {"EVERYONE"}
    assert shown(editor) == {"REGULARS"}
    assert Visitor.objects.count() == 1  # the world's own visitor: the preview stored nobody
    assert set(tailored_redis.keys()) == keys_before  # nor anything in Redis


def test_a_preview_copied_into_another_users_session_is_ignored(world):
    editor = previewing_editor()
    stored = editor.session[SESSION_KEY]
    colleague = browser(user("colleague", permissions(tc("preview_tailoring"))))
    session = colleague.session
    session[SESSION_KEY] = stored  # a signed preview, but bound to the editor's user id
    session.save()
    html = colleague.get(HOME).content.decode()
    assert "<p>EVERYONE" in html and "Previewing as:" not in html


def test_a_preview_ends_when_the_editor_is_no_longer_staff(world):
    editor = previewing_editor()
    get_user_model().objects.filter(username="editor").update(is_staff=False)
    assert shown(editor) == {"EVERYONE"}


@pytest.mark.parametrize(
    "query",
    [
        {"segments": "regulars"},
        {"topics": "sports", "theme": "dark", "holdout": "on"},
        {"preview": "1", "segments": "regulars", "toolbar_on": "1", "edit": "1"},
    ],
)
def test_preview_parameters_do_nothing_for_visitors_and_for_a_get(world, query):
    assert shown(browser(), HOME + "?" + "&".join(f"{k}={v}" for k, v in query.items())) == {"EVERYONE"}
    editor = browser(user("editor", permissions(tc("preview_tailoring"))))
    assert editor.get(reverse("tailored_cms:preview"), {**query, "next": HOME}).status_code == 200  # the form
    assert SESSION_KEY not in editor.session
    assert shown(editor) == {"EVERYONE"}


# --- the visitor endpoints: public, and each visitor's own ------------------------------------------------------


SECRET_EVENT = "a-secret-click"


def call_api(client: Client, path: str, body: dict[str, Any], method: str = "put") -> HttpResponse:
    """A PUT (or ``method``) of the API as a page's script sends it: JSON, with X-CSRFToken."""
    client.get(API + "consent/")  # the csrftoken cookie
    send_as = getattr(client, method)
    return send_as(
        API + path,
        json.dumps(body),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )


def post_events(client: Client, body: dict[str, Any]) -> HttpResponse:
    return client.post(API + "events/", json.dumps(body), content_type="application/json")


def one_event(**props: Any) -> dict[str, Any]:
    return {"events": [{"id": str(uuid.uuid4()), "name": SECRET_EVENT, "props": props, "path": HOME}]}


@pytest.fixture
def alice(world) -> tuple[Client, str]:
    """A visitor with choices, consent and a pending event; returns her browser and her visitor id."""
    client = browser()
    assert (
        call_api(client, "preferences/", {"topics": ["sports"], "theme": "dark", "layout": "grid"}).status_code == 200
    )
    assert call_api(client, "consent/", {"tracking": True}).status_code == 200
    assert post_events(client, one_event(secret="ALICE-ONLY")).json() == {"accepted": 1, "tracking": True}
    visitor_id = Visitor.objects.exclude(pk=world.visitor.pk).get().pk
    return client, str(visitor_id)


def stream_visitors(client: redis.Redis) -> list[str]:
    return [TrackedEvent.decode(entry[b"e"]).visitor_id for _, entry in client.xrange(stream_key())]


def nothing_of(visitor_id: str, response: HttpResponse) -> None:
    body = response.content.decode()
    assert visitor_id not in body and SECRET_EVENT not in body and "ALICE-ONLY" not in body, body[:500]


NAMING_HER = ("visitor", "visitor_id", "id", "vid", "tailored_vid", "user")


def test_another_visitor_gets_nothing_of_hers_whatever_id_they_name(world, alice):
    _alice_browser, alice_id = alice
    bob = browser()
    assert call_api(bob, "preferences/", {"theme": "high-contrast"}, method="patch").status_code == 200
    naming = {name: alice_id for name in NAMING_HER}
    for path in ("preferences/", "topics/", "themes/", "layouts/", "consent/", "me/", "schema/"):
        nothing_of(alice_id, bob.get(API + path, naming))
    nothing_of(alice_id, bob.get(API + "explain/", {**naming, "areas": world.area.key}))
    nothing_of(alice_id, bob.get("/tailored/preferences/", naming))
    choices = bob.get(API + "preferences/", naming).json()
    assert (choices["topics"], choices["theme"], choices["layout"]) == ([], "high-contrast", None)
    assert [t["followed"] for t in bob.get(API + "topics/", naming).json()] == [False]
    assert bob.get(API + "consent/", naming).json()["tracking"] is None
    exported = bob.get(API + "me/", naming).json()
    assert exported["visitor"]["theme"] == "high-contrast" and exported["pending_events"] == []


def test_another_visitors_changes_and_erasure_never_reach_her(world, alice, tailored_redis):
    alice_browser, alice_id = alice
    bob = browser()
    naming = "?" + "&".join(f"{name}={alice_id}" for name in NAMING_HER)
    assert call_api(bob, "consent/" + naming, {"tracking": True}).status_code == 200
    assert call_api(bob, "preferences/" + naming, {"theme": "light"}, method="patch").status_code == 200
    bob_id = str(Visitor.objects.exclude(pk__in=[world.visitor.pk, alice_id]).get().pk)
    # Her id in an event's props stays a property: the event is Bob's. Her id as a field of the batch is refused.
    assert post_events(bob, one_event(visitor=alice_id)).json() == {"accepted": 1, "tracking": True}
    assert post_events(bob, {**one_event(), "visitor": alice_id}).status_code == 400
    assert stream_visitors(tailored_redis) == [alice_id, bob_id]
    assert call_api(bob, "preferences/" + naming, {}, method="delete").status_code == 200
    assert call_api(bob, "me/" + naming, {}, method="delete").status_code == 200
    assert not Visitor.objects.filter(pk=bob_id).exists()
    mine = alice_browser.get(API + "me/").json()
    assert mine["visitor"]["theme"] == "dark" and mine["visitor"]["tracking_consent"] is True
    assert [event["name"] for event in mine["pending_events"]] == [SECRET_EVENT]


def test_staff_get_only_their_own_data_from_the_visitor_endpoints(world, alice, admin_user):
    _alice_browser, alice_id = alice
    boss = browser(admin_user)
    for path in ("preferences/", "consent/", "me/"):
        nothing_of(alice_id, boss.get(API + path, {name: alice_id for name in NAMING_HER}))


def cookie_of(visitor_id: str) -> str:
    response = HttpResponse()
    set_visitor_cookie(response, visitor_id)
    return response.cookies[tailored_settings.COOKIE_NAME].value


def forged(visitor_id: str, forgery: str) -> str:
    """A cookie naming the visitor that the site never signed for her (set_signed_cookie salts with the name)."""
    salt = tailored_settings.COOKIE_NAME + SALT
    if forgery == "a tampered signature":
        genuine = cookie_of(visitor_id)
        return genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    if forgery == "her bare id":
        return visitor_id
    if forgery == "signed with another salt":
        return signing.get_cookie_signer(salt=tailored_settings.COOKIE_NAME + "another").sign(visitor_id)
    assert forgery == "signed with another key"
    return signing.Signer(key=b"django.http.cookies" + b"not the site's secret", salt=salt).sign(visitor_id)


FORGERIES = ["a tampered signature", "her bare id", "signed with another salt", "signed with another key"]


def test_her_cookie_as_the_site_signs_it_is_her(world, alice):
    """The control of the forgeries below: the cookie the site signed gets her data, on any browser."""
    _alice_browser, alice_id = alice
    genuine = cookie_of(alice_id)
    assert genuine.startswith(alice_id + ":")
    assert all(forged(alice_id, forgery) not in (genuine, "") for forgery in FORGERIES)
    holder = browser()
    holder.cookies[tailored_settings.COOKIE_NAME] = genuine
    exported = holder.get(API + "me/").json()
    assert exported["visitor"]["id"] == alice_id and exported["visitor"]["theme"] == "dark"


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_visitor_cookie_is_a_stranger_everywhere(world, alice, tailored_redis, forgery):
    _alice_browser, alice_id = alice
    forger = browser()
    forger.cookies[tailored_settings.COOKIE_NAME] = forged(alice_id, forgery)
    exported = forger.get(API + "me/")
    nothing_of(alice_id, exported)
    assert exported.cookies[tailored_settings.COOKIE_NAME].value == ""  # the forged cookie is dropped
    forger.cookies[tailored_settings.COOKIE_NAME] = forged(alice_id, forgery)
    nothing_of(alice_id, forger.get(API + "preferences/"))
    forger.cookies[tailored_settings.COOKIE_NAME] = forged(alice_id, forgery)
    assert post_events(forger, one_event()).json() == {"accepted": 0, "tracking": False}
    forger.cookies[tailored_settings.COOKIE_NAME] = forged(alice_id, forgery)
    assert call_api(forger, "consent/", {"tracking": False}).status_code == 200
    forger.cookies[tailored_settings.COOKIE_NAME] = forged(alice_id, forgery)
    assert call_api(forger, "me/", {}, method="delete").status_code == 200
    alice_row = Visitor.objects.get(pk=alice_id)
    assert (alice_row.theme, alice_row.tracking_consent) == ("dark", True)
    assert stream_visitors(tailored_redis) == [alice_id]  # her one event; nothing new in her name
