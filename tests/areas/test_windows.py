"""Campaign windows: a variant or area with ``starts_at``/``ends_at`` is shown inside its window only, chosen with
no SQL; django CMS's caches change at both edges; editors see the window in structure mode and can preview the page
as on another moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import cms.cache.page
import cms.cache.placeholder
import cms.views
import pytest
from cms.api import add_plugin
from cms.toolbar.utils import get_object_structure_url
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override
from djangocms_text.models import Text

from tailored_cms import api
from tailored_cms.areas.cms_plugins import TailoredAreaPlugin
from tailored_cms.areas.forms import TailoredAreaForm, VariantForm
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.areas.shown import select_for
from tailored_cms.areas.windows import is_live, next_change, seconds_until
from tailored_cms.plugin_settings.models import PluginSettings

from .conftest import placeholder

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # Black Friday
END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


class Clock:
    """Moves every clock django CMS's caches read: ``time.time`` (the cache backend's expiry), ``timezone.now``
    (ours, and django CMS's page and placeholder caches', which imported it by name). Time still passes."""

    def __init__(self) -> None:
        self.offset = 0.0

    def move_to(self, moment: datetime) -> None:
        self.offset = (moment - datetime.now(UTC)).total_seconds()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    real_time, real_now, clock = time.time, timezone.now, Clock()

    def fake_now() -> datetime:
        return real_now() + timedelta(seconds=clock.offset)

    monkeypatch.setattr(time, "time", lambda: real_time() + clock.offset)
    for module in (timezone, cms.cache.page, cms.cache.placeholder, cms.views):
        monkeypatch.setattr(module, "now", fake_now)
    return clock


@pytest.fixture
def campaign_page(make_page):
    """An area showing everyone EVERYONE, and BLACK FRIDAY (first, also a fallback) from START until END."""
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="static", label="Hero")
    black_friday = api.add_variant(area, label="Black Friday", fallback=True, starts_at=START, ends_at=END)
    add_plugin(ph, "TextPlugin", "en", target=black_friday, body="<p>BLACK FRIDAY</p>")
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    add_plugin(ph, "TextPlugin", "en", target=everyone, body="<p>EVERYONE</p>")
    return page


def shown(client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return {word for word in ("BLACK FRIDAY", "EVERYONE") if word in html}


def change_texts_behind_the_caches_back() -> None:
    for plugin in Text.objects.all():
        Text.objects.filter(pk=plugin.pk).update(body=plugin.body.replace("</p>", " (changed)</p>"))


# Validation


@pytest.mark.parametrize("ends_at", [START, START - timedelta(minutes=1)])
def test_a_window_ending_before_it_starts_is_refused_by_the_api(make_page, ends_at):
    area = api.add_area(placeholder(make_page(), "content"))
    with pytest.raises(ValidationError) as refused:
        api.add_variant(area, label="Late", starts_at=START, ends_at=ends_at)
    assert refused.value.message_dict == {"ends_at": ["The end must be after the start."]}
    with pytest.raises(ValidationError, match="The end must be after the start"):
        api.add_area(placeholder(make_page(slug="other"), "content"), starts_at=START, ends_at=ends_at)
    assert not Variant.objects.exists()


def test_a_naive_moment_is_refused_by_the_api(make_page):
    area = api.add_area(placeholder(make_page(), "content"))
    with pytest.raises(ValidationError) as refused:
        api.add_variant(area, label="Naive", starts_at=datetime(2026, 11, 27))  # noqa: DTZ001 - on purpose
    assert "starts_at" in refused.value.message_dict


def test_the_api_stores_the_window(make_page):
    area = api.add_area(placeholder(make_page(), "content"), ends_at=END)
    variant = api.add_variant(area, label="Black Friday", starts_at=START, ends_at=END)
    row = PluginSettings.objects.get(pk=variant.pk)
    assert (row.starts_at, row.ends_at) == (START, END)
    assert PluginSettings.objects.get(pk=area.pk).ends_at == END
    assert (Variant.objects.get(pk=variant.pk).starts_at, TailoredArea.objects.get(pk=area.pk).starts_at) == (
        START,
        None,
    )


def test_the_plugin_forms_offer_the_window_and_refuse_one_that_ends_first():
    data = {"label": "Black Friday", "priority": 0, "starts_at": "2026-11-30T00:00", "ends_at": "2026-11-27T00:00"}
    form = VariantForm(data=data, instance=Variant())
    assert not form.is_valid()
    assert form.errors == {"ends_at": ["The end must be after the start."]}
    with override("es"):
        form = VariantForm(data=data, instance=Variant())
        assert form.errors["ends_at"] == ["El final debe ser posterior al inicio."]
    form = VariantForm(data={**data, "ends_at": "2026-12-01T00:00"}, instance=Variant())
    assert form.is_valid(), form.errors
    assert form.instance.starts_at == datetime(2026, 11, 30, tzinfo=UTC)  # the site's time zone (UTC)
    area = TailoredAreaForm(
        data={"strategy": "static", "max_items": 1, "holdout_percent": 0, "ends_at": "2026-11-30T00:00"},
        instance=TailoredArea(),
    )
    assert area.is_valid(), area.errors
    assert 'type="datetime-local"' in str(area["starts_at"]) and area["ends_at"].help_text


# Selection


def test_windows_are_half_open_and_open_ended():
    class Item:
        def __init__(self, starts_at=None, ends_at=None):
            self.starts_at, self.ends_at = starts_at, ends_at

    black_friday = Item(START, END)
    assert not is_live(black_friday, START - timedelta(microseconds=1))
    assert is_live(black_friday, START) and is_live(black_friday, END - timedelta(microseconds=1))
    assert not is_live(black_friday, END)
    assert is_live(Item(), START) and is_live(Item(ends_at=END), START) and not is_live(Item(starts_at=END), START)
    items = [black_friday, Item(), Item(ends_at=START + timedelta(days=1))]
    assert next_change(items, START - timedelta(days=1)) == START
    assert next_change(items, START) == START + timedelta(days=1)
    assert next_change(items, END) is None
    assert seconds_until(START, START - timedelta(seconds=90.7)) == 90  # rounded down: expires by the change
    assert seconds_until(None, START) is None


def test_selection_leaves_out_what_is_outside_its_window_with_no_query(campaign_page, clock, django_assert_num_queries):
    area = TailoredArea.objects.get()
    variants = list(Variant.objects.filter(parent_id=area.pk).order_by("position"))
    [variant.settings_view for variant in [area, *variants]]  # noqa: B018 - loaded as a page's render loads them
    request = RequestFactory().get("/")
    for moment, expected in (
        (START - timedelta(seconds=1), ["Everyone"]),
        (START, ["Black Friday"]),
        (END - timedelta(seconds=1), ["Black Friday"]),
        (END, ["Everyone"]),
    ):
        clock.move_to(moment)
        with django_assert_num_queries(0):
            assert [v.label for v in select_for(request, area, variants).shown] == expected, moment


def test_a_page_with_windows_costs_the_queries_of_one_without(make_page, client, settings, clock):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False  # rendered each time
    clock.move_to(START + timedelta(hours=1))
    counts = []
    for slug, window in (("plain", {}), ("dated", {"starts_at": START, "ends_at": END})):
        page = make_page(slug.title(), slug=slug)
        ph = placeholder(page, "content")
        area = api.add_area(ph, strategy="static", **window)
        dated = api.add_variant(area, label="Dated", fallback=True, **window)
        add_plugin(ph, "TextPlugin", "en", target=dated, body=f"<p>{slug.upper()}</p>")
        everyone = api.add_variant(area, label="Everyone", fallback=True)
        add_plugin(ph, "TextPlugin", "en", target=everyone, body="<p>EVERYONE</p>")
        url = page.get_absolute_url()
        assert f"{slug.upper()}</p>" in client.get(url).content.decode()  # warms this process's settings
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_area_outside_its_window_renders_nothing(make_page, client, clock):
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="static", starts_at=START, ends_at=END)
    add_plugin(ph, "TextPlugin", "en", target=api.add_variant(area, label="Sale", fallback=True), body="<p>SALE</p>")
    for moment, on_page in ((START - timedelta(hours=1), False), (START, True), (END, False)):
        clock.move_to(moment)
        html = client.get(page.get_absolute_url()).content.decode()
        assert ("SALE" in html) is on_page, moment
        assert ("data-tailored-area=" in html) is on_page, moment


# The caches


@pytest.mark.parametrize("page_cache", [True, False])
def test_the_caches_change_at_both_edges_of_the_window(campaign_page, client, settings, clock, page_cache):
    """django CMS keeps a copy a minute (CMS_CACHE_DURATIONS["content"]) unless the plugins say less: a copy made
    just before an edge is served until the edge, not a moment past it."""
    settings.CMS_PAGE_CACHE = page_cache
    assert settings.CMS_PLACEHOLDER_CACHE and settings.CMS_PLUGIN_CACHE
    url = campaign_page.get_absolute_url()
    for edge, before, after in ((START, "EVERYONE", "BLACK FRIDAY"), (END, "BLACK FRIDAY", "EVERYONE")):
        for plugin in Text.objects.all():
            Text.objects.filter(pk=plugin.pk).update(body=plugin.body.replace(" (changed)", ""))
        clock.move_to(edge - timedelta(seconds=30))
        assert shown(client, url) == {before}
        change_texts_behind_the_caches_back()
        clock.move_to(edge - timedelta(seconds=2))
        html = client.get(url).content.decode()
        assert f"{before}</p>" in html and "(changed)" not in html, "the caches were not used"
        clock.move_to(edge + timedelta(seconds=1))
        html = client.get(url).content.decode()
        assert f"{after} (changed)</p>" in html and before not in html, edge


def test_a_page_from_a_cached_placeholder_still_expires_at_the_edge(campaign_page, client, settings, clock):
    """The page cache learns the area's next change from the placeholder cache's copy too (where the area's
    render doesn't run): a page cached after its placeholder came from the placeholder cache expires at START."""
    url = campaign_page.get_absolute_url()
    settings.CMS_PAGE_CACHE = False
    clock.move_to(START - timedelta(seconds=30))
    assert shown(client, url) == {"EVERYONE"}  # the placeholder is cached until START
    settings.CMS_PAGE_CACHE = True
    clock.move_to(START - timedelta(seconds=20))
    change_texts_behind_the_caches_back()
    html = client.get(url).content.decode()
    assert "EVERYONE</p>" in html and "(changed)" not in html  # the placeholder came from its cache
    clock.move_to(START + timedelta(seconds=1))
    assert "BLACK FRIDAY (changed)</p>" in client.get(url).content.decode()


def test_the_area_tells_django_cms_the_seconds_until_the_next_edge(campaign_page, clock):
    area = TailoredArea.objects.get()
    plugin = TailoredAreaPlugin()
    area.child_plugin_instances = list(Variant.objects.filter(parent_id=area.pk))
    clock.move_to(START - timedelta(seconds=100))
    assert plugin.get_cache_expiration(None, area, None) in (99, 100)
    clock.move_to(START + timedelta(days=1))
    assert plugin.get_cache_expiration(None, area, None) in (2 * 86400 - 1, 2 * 86400)
    clock.move_to(END)
    assert plugin.get_cache_expiration(None, area, None) is None


# Editors


def test_structure_mode_names_the_window_in_the_editors_language(campaign_page, clock):
    variant = Variant.objects.get(tailored_settings__label="Black Friday")
    clock.move_to(START - timedelta(days=7))
    assert variant.get_short_description().endswith("from November 27 until November 30")
    clock.move_to(START + timedelta(days=1))
    assert variant.get_short_description().endswith("until November 30")
    clock.move_to(END + timedelta(days=1))
    assert variant.get_short_description() == "Black Friday · fallback · ended November 30"
    with override("es"):
        assert variant.get_short_description().endswith("terminó el 30 de noviembre")
    with override("de"):
        assert "30. November" in variant.get_short_description()
    clock.move_to(datetime(2027, 1, 5, tzinfo=UTC))
    assert variant.get_short_description().endswith(f"ended {date_format(END, 'DATE_FORMAT')}")  # another year
    assert Variant.objects.get(tailored_settings__label="Everyone").get_short_description() == "Everyone · fallback"


def test_an_area_label_names_its_window_too(make_page, clock):
    area = api.add_area(placeholder(make_page(), "content"), label="Hero", starts_at=START + timedelta(hours=9))
    clock.move_to(START - timedelta(days=1))
    assert area.get_short_description().endswith("from November 27 9 a.m.")


def test_the_structure_board_shows_the_window(campaign_page, admin_client, clock):
    clock.move_to(END + timedelta(days=1))
    url = get_object_structure_url(campaign_page.get_content_obj("en"))
    html = admin_client.get(url).content.decode()
    assert "ended November 30" in html


def preview_editor(client):
    user = get_user_model().objects.create_superuser("editor", password="pw")
    client.force_login(user)
    return client


def test_preview_as_on_a_date_shows_the_page_as_it_will_be_then(campaign_page, client, clock):
    clock.move_to(START - timedelta(days=3))
    editor = preview_editor(client)
    url = campaign_page.get_absolute_url()
    assert shown(editor, url) == {"EVERYONE"}
    response = editor.post("/tailored/preview/", {"as_on": "2026-11-28T10:00", "next": url})
    assert response.status_code == 302
    html = editor.get(url).content.decode()
    assert "BLACK FRIDAY" in html and "EVERYONE" not in html
    assert "Previewing as:" in html and "as on Nov. 28, 2026, 10 a.m." in html
    editor.post("/tailored/preview/stop/", {"next": url})
    assert shown(editor, url) == {"EVERYONE"}


def test_a_preview_as_on_keeps_the_visitor_chosen_and_the_form_shows_the_date(campaign_page, client):
    editor = preview_editor(client)
    editor.post("/tailored/preview/", {"holdout": "on", "as_on": "2026-12-01T09:30", "next": "/"})
    form = editor.get("/tailored/preview/").content.decode()
    assert 'name="as_on" value="2026-12-01T09:30"' in form
    response = editor.post("/tailored/preview/", {"as_on": "not a date", "next": "/"})
    assert response.status_code == 400 and "Enter a valid date/time." in response.content.decode()


def test_what_a_visitor_was_shown_holds_between_two_edges_only(campaign_page, client, settings, clock):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False  # decided on every view
    url = campaign_page.get_absolute_url()
    for moment, expected in (
        (START - timedelta(days=1), {"EVERYONE"}),
        (START - timedelta(seconds=1), {"EVERYONE"}),
        (START, {"BLACK FRIDAY"}),
        (END - timedelta(seconds=1), {"BLACK FRIDAY"}),
        (END, {"EVERYONE"}),
        (START + timedelta(hours=1), {"BLACK FRIDAY"}),  # back again: a preview "as on" moves so
    ):
        clock.move_to(moment)
        assert shown(client, url) == expected, moment
