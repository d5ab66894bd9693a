"""The Python API's segment functions, variants targeting segments, and the minimal admin."""

from __future__ import annotations

import uuid

import pytest
from cms.api import create_page
from django.core.exceptions import ValidationError
from django.urls import reverse

from tailored_cms import api
from tailored_cms.rules.models import Segment

from .conftest import NOW

pytestmark = pytest.mark.django_db
FANS = {"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}


def test_create_segment_validates_stores_cleaned_rules_and_updates(make_visitor):
    segment = api.create_segment("mobile", name="On mobile", rules={"rule": "device", "is": "mobile"})
    assert (segment.slug, segment.name, segment.enabled) == ("mobile", "On mobile", True)
    assert Segment.objects.get(slug="mobile").rules == {"rule": "device", "is": ["mobile"]}
    api.create_segment("mobile", rules={"rule": "device", "is": "tablet"}, enabled=False, description="Tablets")
    segment = Segment.objects.get(slug="mobile")
    assert (segment.enabled, segment.description, segment.name) == (False, "Tablets", "Mobile")
    with pytest.raises(ValidationError):
        api.create_segment("Not a slug!", rules=FANS)
    with pytest.raises(ValidationError, match="Rule 'topic_views' needs the parameter 'topic'"):
        api.create_segment("fans", rules={"rule": "topic_views", "min": 3})
    assert not Segment.objects.filter(slug="fans").exists()


def test_recompute_segments_runs_without_a_worker(make_visitor):
    make_visitor(visits=3)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    summary = api.recompute_segments()
    assert (summary.visitors, summary.joins) == (1, 1)
    assert Segment.objects.get().size == 1


def test_a_variant_stores_the_segments_it_targets():
    api.create_segment("fans", rules=FANS)
    page = create_page("Home", "page.html", "en", slug="home")
    placeholder = page.get_content_obj("en").rescan_placeholders()["content"]
    area = api.add_area(placeholder, strategy="customization")
    variant = api.add_variant(area, label="For fans", segments=["fans"])
    variant.refresh_from_db()
    assert variant.segments == ["fans"]
    with pytest.raises(Segment.DoesNotExist, match="nobody"):
        api.add_variant(area, label="Typo", segments=["fans", "nobody"])


def test_editors_see_segments_with_size_and_computed_time(admin_client, make_visitor):
    make_visitor(views={"sports": [(0, 3)]})
    api.create_segment("sports-fans", name="Sports fans", rules=FANS)
    from tailored_cms.rules.recompute import recompute_segments

    recompute_segments(now=NOW)
    html = admin_client.get(reverse("admin:tailored_cms_segment_changelist")).content.decode()
    assert "Sports fans" in html and "sports-fans" not in html  # by its name: editors don't meet slugs
    assert '<td class="field-size">1</td>' in html
    response = admin_client.post(
        reverse("admin:tailored_cms_segment_add"),
        {"slug": "bad", "name": "Bad", "description": "", "enabled": "on", "rules": '{"rule": "visit_count"}'},
    )
    assert response.status_code == 200  # the form again, with the error on the rules field
    assert "give &#x27;min&#x27;, &#x27;max&#x27; or both" in response.content.decode()
    assert not Segment.objects.filter(slug="bad").exists()


def test_lost_active_segments_are_published_again_by_the_next_ingest_recompute(make_visitor, tailored_redis):
    from tailored_cms import connection
    from tailored_cms.rules.recompute import recompute_visitors

    visitor = make_visitor(visits=3)
    api.create_segment("returning", rules={"rule": "visit_count", "min": 2})
    assert not tailored_redis.exists(connection.key("segments"))  # e.g. Redis restarted without persistence
    recompute_visitors([visitor.pk])
    assert tailored_redis.hget(connection.key("segments"), "returning") == b""


@pytest.mark.parametrize("poison", ["\x00", "sp\x00orts", "\ud800", "a\udfffb"])
def test_create_segment_refuses_text_the_database_refuses_with_a_validation_error(poison):
    # On PostgreSQL these were a DataError (NUL) or a UnicodeEncodeError, not the documented ValidationError.
    with pytest.raises(ValidationError) as refused:
        api.create_segment("fans", rules={"rule": "topic_views", "topic": poison, "min": 3, "days": 30})
    assert "'topic'" in refused.value.messages[0]
    for field in ("name", "description"):
        with pytest.raises(ValidationError) as refused:
            api.create_segment("fans", rules=FANS, **{field: poison})
        assert field in refused.value.message_dict
    assert not Segment.objects.exists()


def test_the_segment_list_counts_visitors_who_join_between_full_recomputes_with_a_trend(
    admin_client, tagged_page, tailored_redis
):
    from datetime import timedelta

    from django.utils import timezone

    from tailored_cms.results.models import SegmentSize
    from tailored_cms.rules.recompute import recompute_segments
    from tailored_cms.tracking import TrackedEvent, append, drain

    def reads_three_sports_pages() -> None:
        """A new visitor's page views, ingested as the worker does every second (the incremental recompute)."""
        visitor = str(uuid.uuid4())
        pipeline = tailored_redis.pipeline()
        events = [TrackedEvent.page_view(visitor, f"/sports-{n}/", user_agent="Mozilla/5.0") for n in range(3)]
        append(pipeline, events)
        pipeline.execute()
        drain(5)

    for n in range(3):
        tagged_page(f"sports-{n}", topics=["sports"])
    fans = api.create_segment("sports-fans", name="Sports fans", rules=FANS)
    url = reverse("admin:tailored_cms_segment_changelist")
    assert '<td class="field-size">-</td>' in admin_client.get(url).content.decode()  # never counted
    reads_three_sports_pages()
    assert '<td class="field-size">1</td>' in admin_client.get(url).content.decode()
    recompute_segments()  # the full recompute counts the same
    assert Segment.objects.get().size == 1
    SegmentSize.objects.create(segment=fans, day=timezone.localdate() - timedelta(days=12), size=0)
    reads_three_sports_pages()
    html = admin_client.get(url).content.decode()
    assert '<td class="field-size">2</td>' in html  # no full recompute ran
    assert '<td class="field-trend">+2 in 12 days</td>' in html


def test_the_segment_list_counts_a_visitor_who_leaves_between_full_recomputes(
    admin_client, tagged_page, tailored_redis
):
    from tailored_cms.tracking import TrackedEvent, append, drain

    visitor = str(uuid.uuid4())

    def reads_sports_pages(numbers: range) -> None:
        """The visitor's page views, ingested as the worker does every second (the incremental recompute)."""
        pipeline = tailored_redis.pipeline()
        events = [TrackedEvent.page_view(visitor, f"/sports-{n}/", user_agent="Mozilla/5.0") for n in numbers]
        append(pipeline, events)
        pipeline.execute()
        drain(5)

    for n in range(3):
        tagged_page(f"sports-{n}", topics=["sports"])
    api.create_segment("not-yet-fans", name="Not yet sports fans", rules={"not": FANS})
    url = reverse("admin:tailored_cms_segment_changelist")
    reads_sports_pages(range(1))
    assert '<td class="field-size">1</td>' in admin_client.get(url).content.decode()  # one sports page: joined
    reads_sports_pages(range(1, 3))
    assert '<td class="field-size">0</td>' in admin_client.get(url).content.decode()  # three: a fan, so left
    assert Segment.objects.get().size == 0  # no full recompute ran
