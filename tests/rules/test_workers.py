"""End to end with a real Celery worker (and beat): page views become membership in the DB and in the snapshot."""

from __future__ import annotations

import time
import uuid

from cms.api import add_plugin, create_page
from django.contrib.auth.models import AnonymousUser
from django.db.models import Sum
from django.http import HttpResponse
from django.test import Client, RequestFactory

from tailored_cms import api, connection
from tailored_cms.middleware import TailoredMiddleware
from tailored_cms.rules.models import Membership, Segment
from tailored_cms.rules.runs import progress, wait_for_run
from tailored_cms.rules.tasks import start_recompute
from tailored_cms.tracking.models import TopicViews
from tailored_cms.visitors.models import Visitor
from tailored_cms.visitors.preferences import save_consent
from tailored_cms.visitors.snapshot import Snapshot

factory = RequestFactory()
SPORTS_FANS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def run(request, view=lambda r: HttpResponse("ok")):
    request.user = AnonymousUser()
    return TailoredMiddleware(view)(request)


def consenting_visitor() -> str:
    response = run(factory.post("/"), lambda r: save_consent(r, True) and HttpResponse())
    return response.cookies["tailored_vid"].value


def view_page(cookie: str, path: str) -> tuple[str, ...]:
    """A page view through the middleware (captured into the event stream); the segments the page sees."""
    seen = {}

    def page(request):
        seen["segments"] = request.tailored.segments(request)
        return HttpResponse("page")

    run(factory.get(path, HTTP_COOKIE=f"tailored_vid={cookie}", HTTP_USER_AGENT=DESKTOP_UA), page)
    return seen["segments"]


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def stored_snapshot(tailored_redis, visitor_id: str) -> Snapshot | None:
    raw = tailored_redis.get(connection.key("snap", visitor_id))
    return Snapshot.from_json(raw) if raw else None


def test_three_sports_page_views_make_a_sports_fan_on_a_real_worker(
    tagged_page, shared_db, celery_worker, tailored_redis
):
    for n in range(1, 4):
        tagged_page(f"sports-{n}", topics=["sports"])
    tagged_page("about")
    api.create_segment("sports-fans", rules={"rule": "topic_views", "topic": "sports", "min": 3, "days": 30})
    fan = consenting_visitor()
    fan_id = str(Visitor.objects.get().pk)
    newcomer = consenting_visitor()

    assert view_page(fan, "/sports-1/") == ()
    view_page(fan, "/about/")
    view_page(fan, "/sports-2/")
    view_page(newcomer, "/sports-1/")
    view_page(fan, "/sports-3/")

    # Beat runs the ingest every second; the worker re-evaluates the visitors of each batch and mirrors them.
    wait_for(lambda: (s := stored_snapshot(tailored_redis, fan_id)) is not None and s.segments == ("sports-fans",))
    assert view_page(fan, "/about/") == ("sports-fans",)
    assert view_page(newcomer, "/about/") == ()
    [(member, slug, left_at)] = Membership.objects.values_list("visitor_id", "segment__slug", "left_at")
    assert (str(member), slug, left_at) == (fan_id, "sports-fans", None)

    # The homepage's personalization area now shows the fan the sports variant; the newcomer the fallback.
    url = personalized_home()
    assert "SPORTS FANS" in page_html(fan, url) and "EVERYONE" not in page_html(fan, url)
    assert "EVERYONE" in page_html(newcomer, url) and "SPORTS FANS" not in page_html(newcomer, url)


def personalized_home() -> str:
    page = create_page("Home", "page.html", "en", slug="home")
    content = page.get_content_obj("en").get_placeholders().get(slot="content")
    area = api.add_area(content, strategy="personalization")
    fans = api.add_variant(area, label="Sports fans", segments=["sports-fans"])
    add_plugin(content, "TextPlugin", "en", target=fans, body="<p>SPORTS FANS</p>")
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    add_plugin(content, "TextPlugin", "en", target=everyone, body="<p>EVERYONE</p>")
    return page.get_absolute_url()


def page_html(cookie: str, url: str) -> str:
    client = Client(HTTP_USER_AGENT=DESKTOP_UA)
    client.cookies["tailored_vid"] = cookie
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_saved_segment_is_recomputed_by_the_worker(tagged_page, shared_db, celery_worker, tailored_redis):
    tagged_page("about")
    cookie = consenting_visitor()
    view_page(cookie, "/about/")
    wait_for(lambda: Visitor.objects.filter(visits=1).exists())  # ingested
    api.create_segment("visited", rules={"rule": "visit_count", "min": 1})  # queues its recompute on commit
    wait_for(lambda: Segment.objects.get(slug="visited").computed_at is not None)
    segment = Segment.objects.get(slug="visited")
    assert segment.size == 1 and not segment.recompute_running
    assert view_page(cookie, "/about/") == ("visited",)


def test_a_page_views_segments_arrive_while_a_full_recompute_runs_on_the_same_worker(
    tagged_page, shared_db, celery_worker, tailored_redis
):
    """One worker process (solo) consuming both queues: the recompute's chunks let the ingest in between them."""
    for n in range(1, 4):
        tagged_page(f"sports-{n}", topics=["sports"])
    # Saved without signals: the recompute under test is the only one.
    Segment.objects.bulk_create([Segment(slug="sports-fans", name="Sports fans", rules=SPORTS_FANS)])
    fan = consenting_visitor()
    view_page(fan, "/sports-1/")
    view_page(fan, "/sports-2/")
    wait_for(lambda: TopicViews.objects.aggregate(n=Sum("count"))["n"] == 2)  # ingested: one view short
    Visitor.objects.bulk_create(Visitor() for _ in range(1500))
    fan_id = str(Visitor.objects.get(tracking_consent=True).pk)

    run = start_recompute(chunk_size=3)  # 501 chunks, one task each
    wait_for(lambda: progress(run).chunks_done > 0)
    view_page(fan, "/sports-3/")
    wait_for(lambda: (s := stored_snapshot(tailored_redis, fan_id)) is not None and s.segments == ("sports-fans",))
    during = progress(run)
    assert not during.finished and during.chunks_done < during.chunks  # the ingest didn't wait for the recompute

    done = wait_for_run(run, timeout=300)
    assert (done.chunks_done, done.visitors) == (501, 1501)
    assert list(Membership.objects.values_list("visitor_id", "left_at")) == [(uuid.UUID(fan_id), None)]
    assert Segment.objects.get().size == 1
