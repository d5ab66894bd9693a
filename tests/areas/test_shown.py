"""Only what a visitor is shown is made and built: django CMS makes no instance of a hidden variant or its content
(``areas.shown``, ``areas.fetch``)."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import cms
import pytest
from cms.api import add_plugin
from cms.models import CMSPlugin
from cms.plugin_rendering import ContentRenderer
from cms.toolbar.utils import get_object_edit_url, get_object_structure_url
from cms.utils import plugins as cms_plugins_utils
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.checks import WARNING, run_checks
from django.db import connection
from django.db.models.signals import post_init
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tailored_cms import api
from tailored_cms.areas import fetch, shown
from tailored_cms.areas.matching import Selection, SelectionPath
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.areas.strategies import Strategy, get_strategy
from tailored_cms.areas.strategies.registry import _registry
from tailored_cms.plugin_settings import cache as settings_cache
from tailored_cms.rules.active import publish_segments

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics(db):
    for slug in ("sports", "cooking"):
        api.create_topic(slug)


def build_area_page(make_page, variants: int, name: str, *, strategy: str = "customization"):
    """A page of one area: ``variants`` variants, each holding a heading, a text and a link (three text plugins).

    The first is for visitors who follow sports, the last is the fallback, the others are for cooks.
    """
    page = make_page(name, slug=name)
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy=strategy, label="Hero")
    for n in range(variants):
        first, last = n == 0, n == variants - 1
        variant = api.add_variant(
            area,
            label=f"Variant {n}",
            topics=["sports"] if first else [] if last else ["cooking"],
            fallback=last,
        )
        text(ph, f"<h3>HEADING{n}</h3>", target=variant)
        text(ph, f"<p>TEXT{n}</p>", target=variant)
        text(ph, f'<p><a href="/more/{n}/">LINK{n}</a></p>', target=variant)
    return page


@contextmanager
def counting_builds() -> Iterator[dict[str, int]]:
    """Counts the plugin instances built: instances of a plugin model of its own (django CMS's downcast of a row
    into a ``Text``, say); the instances made of any plugin model (rows made ``CMSPlugin``s, areas, variants, and
    the built ones); and the plugins django CMS renders (``ContentRenderer.render_plugin``)."""
    counts = {"built": 0, "made": 0, "rendered": 0}

    def built(sender, **kwargs):
        if issubclass(sender, CMSPlugin):
            counts["made"] += 1
            if sender._meta.concrete_model is not CMSPlugin:
                counts["built"] += 1

    render_plugin = ContentRenderer.render_plugin

    def rendering(self, *args, **kwargs):
        counts["rendered"] += 1
        return render_plugin(self, *args, **kwargs)

    post_init.connect(built, weak=False)
    ContentRenderer.render_plugin = rendering
    try:
        yield counts
    finally:
        ContentRenderer.render_plugin = render_plugin
        post_init.disconnect(built)


def view(c: Client, url: str) -> tuple[str, dict[str, int], int]:
    """The page, what was built and rendered, and the SQL queries, with django CMS's caches cold."""
    cache.clear()
    with counting_builds() as counts, CaptureQueriesContext(connection) as queries:
        response = c.get(url)
    assert response.status_code == 200
    return response.content.decode(), counts, len(queries)


@pytest.fixture
def pages(make_page, topics):
    return {n: build_area_page(make_page, n, f"area-{n}") for n in (2, 100)}


def test_a_hundred_variants_build_what_two_build(pages, make_page, visitor_client, client):
    plain = make_page("Plain", slug="plain")
    for body in ("<h3>HEADING0</h3>", "<p>TEXT0</p>", '<p><a href="/more/0/">LINK0</a></p>'):
        text(placeholder(plain, "content"), body)
    fan = visitor_client(topics=["sports"])
    fan.get("/")  # the visitor's snapshot is in Redis from now on
    for c, shown_n in ((fan, 0), (client, None)):
        for page in pages.values():  # process-wide caches (Site, ContentType, the areas' layouts) warm from now on
            view(c, page.get_absolute_url())
        seen = {n: view(c, page.get_absolute_url()) for n, page in pages.items()}
        for n, (html, counts, _queries) in seen.items():
            shown_here = n - 1 if shown_n is None else shown_n
            assert f"HEADING{shown_here}" in html and f"TEXT{shown_here}" in html and f"LINK{shown_here}" in html
            assert html.count("HEADING") == 1
            # The shown variant's three plugins are built; django CMS renders the area, which renders them. Made:
            # the area, the variant, its three rows and what they are built into: nothing of a hidden variant.
            assert counts == {"built": 3, "made": 8, "rendered": 4}, (n, counts)
        assert seen[2][2] == seen[100][2]  # SQL queries
        assert seen[100][2] == view(c, plain.get_absolute_url())[2]


def test_a_backend_whose_text_of_a_timestamp_reads_otherwise_costs_one_query_then_none(
    make_page, topics, visitor_client
):
    """A variant's row gives its ``changed_date`` as the database's text (``plugin_settings.models.STAMP``), read
    as ISO 8601 until a load of the settings says which moment it stands for: a backend that writes it otherwise
    costs one query, once; what the visitor is shown and what is built stay the same."""
    page = build_area_page(make_page, 10, "stamps")
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    url = page.get_absolute_url()
    html, counts, warm = (view(fan, url), view(fan, url))[1]
    for stamp in list(settings_cache._changed_dates):  # each text read as another moment than the database's
        settings_cache._changed_dates[stamp] = datetime(2001, 1, 1, tzinfo=UTC)
    shown.forget()  # as in a new process
    cold_html, cold_counts, cold = view(fan, url)
    assert (cold_html, cold_counts["built"], cold) == (html, 3, warm + 1)  # the placeholder's settings, loaded once
    assert view(fan, url) == (html, counts, warm)
    assert "HEADING0" in html and html.count("HEADING") == 1 and counts["built"] == 3


def test_a_variant_saved_without_settings_costs_one_query_then_none(make_page, topics, visitor_client):
    """A variant made without its settings row (django CMS's own ``add_plugin``, never this app) has the defaults:
    loaded once with its placeholder's settings, remembered like the others."""
    page = build_area_page(make_page, 3, "bare")
    ph = placeholder(page, "content")
    area = TailoredArea.objects.get(placeholder=ph)
    bare = add_plugin(ph, "VariantPlugin", "en", target=area)
    text(ph, "<p>BARE</p>", target=bare)
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    view(fan, build_area_page(make_page, 2, "warm").get_absolute_url())  # process-wide caches are warm from now on
    url = page.get_absolute_url()
    html, counts, first = view(fan, url)
    again, counts, queries = view(fan, url)
    assert (again, queries) == (html, first - 1)  # its settings loaded once, with its placeholder's
    assert "HEADING0" in html and "BARE" not in html and counts["built"] == 3


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")


def test_editors_in_edit_mode_get_every_variant(make_page, topics, editor, client):
    page = build_area_page(make_page, 5, "edited")
    client.force_login(editor)
    html, counts, _ = view(client, get_object_edit_url(page.get_content_obj("en")))
    for n in range(5):
        assert f"HEADING{n}" in html and f"TEXT{n}" in html and f"LINK{n}" in html
    assert counts["built"] >= 15


def test_editors_in_structure_mode_get_every_variant(make_page, topics, editor, client):
    page = build_area_page(make_page, 5, "structured")
    client.force_login(editor)
    html, counts, _ = view(client, get_object_structure_url(page.get_content_obj("en")))
    for n in range(5):
        assert f"Variant {n}" in html
    assert counts["built"] >= 15  # the structure board lists every variant's content


def test_an_editor_viewing_the_live_page_gets_what_a_visitor_gets(make_page, topics, editor, client):
    page = build_area_page(make_page, 5, "live")
    client.force_login(editor)
    html, counts, _ = view(client, page.get_absolute_url())
    assert "HEADING4" in html and html.count("HEADING") == 1
    assert counts["built"] == 3 and counts["made"] == 9


def test_django_cms_loads_plugins_through_the_copy_of_the_version_it_was_copied_from():
    """``fetch.assign_plugins`` is a copy of django CMS's ``cms.utils.plugins.assign_plugins`` (``COPIED_FROM``),
    put in its place, where django CMS's callers look it up: if django CMS changes the function or its callers, the
    copy must be looked at again (and ``COPIED_SOURCE_SHA256`` set to the new version's)."""
    original = fetch.django_cms_assign_plugins
    assert original.__module__ == "cms.utils.plugins" and original is not fetch.assign_plugins
    source = inspect.getsource(original)
    assert hashlib.sha256(source.encode()).hexdigest() == fetch.COPIED_SOURCE_SHA256, fetch.COPIED_FROM

    def parameters(function):
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]

    assert parameters(fetch.assign_plugins) == parameters(original)
    assert cms_plugins_utils.assign_plugins is fetch.assign_plugins  # installed by TailoredCmsConfig.ready
    assert fetch.install() is True
    assert cms_plugins_utils.assign_plugins is fetch.assign_plugins  # a second install() changes nothing
    assert [m for m in run_checks() if m.id == "tailored_cms.W007"] == []
    assert fetch.django_cms_assign_plugins is original
    # django CMS's callers look the function up in its module when they run
    assert "assign_plugins(request, [placeholder], template, lang)" in inspect.getsource(cms_plugins_utils.get_plugins)
    preload = inspect.getsource(ContentRenderer._preload_placeholders_for_page)
    assert "from cms.utils.plugins import assign_plugins" in preload and "assign_plugins(" in preload


def test_a_django_cms_whose_assign_plugins_changed_keeps_its_own_and_a_check_says_so(
    make_page, topics, visitor_client, monkeypatch
):
    """At startup (``fetch.install``), a django CMS whose ``assign_plugins`` is not the one copied (here: another
    recorded hash) keeps its own: pages render as before, each visitor shown their variant, every variant's content
    built; system check W007 tells the site why."""
    page = build_area_page(make_page, 5, "changed")
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    monkeypatch.setattr(cms_plugins_utils, "assign_plugins", cms_plugins_utils.assign_plugins)  # put back after
    monkeypatch.setattr(fetch, "COPIED_SOURCE_SHA256", "0" * 64)
    assert fetch.install() is False
    assert cms_plugins_utils.assign_plugins is fetch.django_cms_assign_plugins
    [warning] = [m for m in run_checks() if m.id == "tailored_cms.W007"]
    assert warning.level == WARNING
    assert warning.msg == (
        f"django CMS {cms.__version__} changed assign_plugins: tailored_cms builds every variant until it is updated."
    )
    assert fetch.COPIED_FROM in warning.hint
    html, counts, _ = view(fan, page.get_absolute_url())
    assert "HEADING0" in html and "TEXT0" in html and "LINK0" in html and html.count("HEADING") == 1
    assert counts["built"] == 15  # every variant's heading, text and link


def test_a_call_without_a_request_gets_every_variant(make_page, topics):
    """Code of django CMS's or a site's that loads plugins without a request gets django CMS's own loading."""
    page = build_area_page(make_page, 3, "no-request")
    ph = placeholder(page, "content")
    with counting_builds() as counts:
        cms_plugins_utils.assign_plugins(None, [ph], lang="en")
    assert sum(isinstance(plugin, Variant) for plugin in ph._all_plugins_cache) == 3
    assert counts["built"] == 9


@pytest.mark.parametrize("segments", [1, 20, 50])
def test_the_queries_are_the_plain_pages_and_two_at_most_whatever_the_segments(
    pages, make_page, visitor_client, segments, tailored_redis
):
    for n in range(segments):
        api.create_segment(f"segment-{n}", rules={"all": [{"rule": "visit_count", "min": 1000 + n}]})
    publish_segments()
    plain = make_page("Plain", slug="plain")
    text(placeholder(plain, "content"), "<p>TEXT0</p>")
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    for page in (*pages.values(), plain):  # process-wide caches, the pages' settings are warm from now on
        view(fan, page.get_absolute_url())
    queries = {n: view(fan, page.get_absolute_url())[2] for n, page in pages.items()}
    assert queries[2] == queries[100] <= view(fan, plain.get_absolute_url())[2] + 2


@pytest.mark.parametrize("page_cache", [True, False])
def test_the_caches_keep_a_copy_per_variant_key_of_only_what_is_shown(
    pages, visitor_client, client, settings, page_cache
):
    settings.CMS_PAGE_CACHE = page_cache  # off: the placeholder cache serves the area
    url = pages[100].get_absolute_url()
    fans = [visitor_client(topics=["sports"]) for _ in range(2)]
    cook = visitor_client(topics=["cooking"])
    for c in (*fans, cook):
        c.get("/")  # their snapshots are in Redis from now on
    cache.clear()
    seen = {}
    for name, c in (("fan", fans[0]), ("cook", cook), ("anonymous", client), ("other fan", fans[1])):
        with counting_builds() as counts:
            html = c.get(url).content.decode()
        seen[name] = (html.count("HEADING"), counts["built"])
        assert html.count("HEADING") == 1
        assert ("HEADING0" in html) == (name.endswith("fan"))
        assert ("HEADING1<" in html) == (name == "cook")  # the first variant for cooks
        assert ("HEADING99" in html) == (name == "anonymous")
    assert seen["fan"] == (1, 3) and seen["cook"] == (1, 3) and seen["anonymous"] == (1, 3)
    assert seen["other fan"] == (1, 0)  # the same variant key: the first fan's copy, nothing built


def test_an_area_in_a_variant_builds_only_what_is_shown_too(make_page, topics, visitor_client):
    page = make_page("Nested", slug="nested")
    ph = placeholder(page, "content")
    outer = api.add_area(ph, label="Outer")
    for n, spec in enumerate(({"topics": ["sports"]}, {"fallback": True})):
        variant = api.add_variant(outer, label=f"Outer {n}", **spec)
        inner = api.add_area(ph, label=f"Inner {n}", target=variant)
        for m, inner_spec in enumerate(({"topics": ["cooking"]}, {"fallback": True})):
            inner_variant = api.add_variant(inner, label=f"Inner {n}.{m}", **inner_spec)
            text(ph, f"<p>BODY{n}.{m}</p>", target=inner_variant)
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    html, counts, _ = view(fan, page.get_absolute_url())
    assert "BODY0.1" in html and html.count("BODY") == 1  # the sports variant's area shows its fallback
    assert counts == {"built": 1, "made": 8, "rendered": 3}  # the outer area, the inner area, one text
    # made: the two areas and their stand-ins, a variant of each, the text's row and the text


def test_a_page_without_areas_is_read_as_django_cms_reads_it(make_page, client, monkeypatch):
    page = make_page("Plain", slug="plain")
    for body in ("<p>ONE</p>", "<p>TWO</p>"):
        text(placeholder(page, "content"), body)
    url = page.get_absolute_url()
    view(client, url)  # process-wide caches (Site, ContentType) are warm from now on
    html, counts, queries = view(client, url)
    monkeypatch.setattr(cms_plugins_utils, "assign_plugins", fetch.django_cms_assign_plugins)
    assert view(client, url) == (html, counts, queries)


def test_a_placeholder_that_gains_an_area_shows_what_its_visitor_is_shown(make_page, topics, visitor_client):
    page = make_page("Later", slug="later")
    ph = placeholder(page, "content")
    text(ph, "<p>INTRO</p>")
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    view(fan, page.get_absolute_url())
    area = api.add_area(ph, label="Hero")
    for n, spec in enumerate(({"topics": ["sports"]}, {"topics": ["cooking"]}, {"fallback": True})):
        text(ph, f"<p>BODY{n}</p>", target=api.add_variant(area, label=f"Variant {n}", **spec))
    seen = [view(fan, page.get_absolute_url()) for _ in range(2)]
    for html, _counts, _queries in seen:
        assert "INTRO" in html and "BODY0" in html and html.count("BODY") == 1
    assert [counts["built"] for _html, counts, _queries in seen] == [2, 2]


@pytest.mark.parametrize("max_items", [3, 5])
def test_an_area_showing_every_variant_builds_them_all(make_page, topics, visitor_client, max_items):
    page = make_page("All", slug="all")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="All", strategy="hybrid", max_items=max_items)
    for n in range(3):
        text(ph, f"<p>BODY{n}</p>", target=api.add_variant(area, label=f"Variant {n}", topics=["sports"]))
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    html, counts, _ = view(fan, page.get_absolute_url())
    assert all(f"BODY{n}" in html for n in range(3))
    assert counts["built"] == 3


def test_the_instances_are_django_cms_s_but_for_areas_and_variants_creation_date(make_page, topics, visitor_client):
    """A visitor's plugins are what django CMS's query makes of their rows; an area's and a variant's
    ``creation_date``, which nothing on a visitor's page reads, is deferred (read if asked)."""
    page = build_area_page(make_page, 3, "instances")
    ph = placeholder(page, "content")
    fan = visitor_client(topics=["sports"])
    request = fan.get(page.get_absolute_url()).wsgi_request
    cms_plugins_utils.assign_plugins(request, [ph], lang="en")
    loaded = {plugin.pk: plugin for plugin in ph._all_plugins_cache}
    assert len(loaded) == 5  # the area, the sports variant and its three texts
    for row in CMSPlugin.objects.filter(pk__in=loaded):
        plugin = loaded[row.pk]
        expected = {"creation_date"} if isinstance(plugin, TailoredArea | Variant) else set()
        assert plugin.get_deferred_fields() == expected, plugin
        assert plugin.changed_date == row.changed_date
        assert (plugin.placeholder_id, plugin.parent_id, plugin.position) == (
            row.placeholder_id,
            row.parent_id,
            row.position,
        )
    for plugin in loaded.values():
        if isinstance(plugin, TailoredArea | Variant):
            assert plugin.creation_date == CMSPlugin.objects.get(pk=plugin.pk).creation_date


def test_the_instances_copied_from_the_first_made_of_a_row_are_what_django_makes(make_page, topics, visitor_client):
    page = build_area_page(make_page, 3, "copies")
    ph = placeholder(page, "content")
    request = visitor_client(topics=["sports"]).get(page.get_absolute_url()).wsgi_request
    made, instance = [], fetch._instance

    def as_made(plugin):
        fields = {name: value for name, value in plugin.__dict__.items() if name != "_state"}
        return type(plugin), fields, plugin._state.db, plugin._state.adding, dict(plugin._state.fields_cache)

    def making(*args):
        copy = instance(*args)
        made.append((as_made(copy), as_made(fetch._made(*args)), copy._state))
        return copy

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fetch, "_instance", making)
        cms_plugins_utils.assign_plugins(request, [ph], lang="en")
    assert len(made) == 5
    states = set()
    for copy, by_django, state in made:
        assert copy == by_django and copy[0] is CMSPlugin and copy[2:] == ("default", False, {})
        states.add(id(state))
    assert len(states) == 5  # each its own


def test_a_listener_of_django_s_constructor_sees_every_instance_made(make_page, topics, visitor_client):
    page = build_area_page(make_page, 3, "listened")
    ph = placeholder(page, "content")
    request = visitor_client(topics=["sports"]).get(page.get_absolute_url()).wsgi_request
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(listener, sender=CMSPlugin)
    try:
        cms_plugins_utils.assign_plugins(request, [ph], lang="en")
    finally:
        post_init.disconnect(listener, sender=CMSPlugin)
    assert {plugin.pk for plugin in seen} == {plugin.pk for plugin in ph._all_plugins_cache}


@contextmanager
def counting_rows() -> Iterator[list[int]]:
    """Counts the plugin rows a visitor's page reads (``fetch._rows``), each query's."""
    counted: list[int] = []
    read = fetch._rows

    def counting(*args, **kwargs):
        rows = read(*args, **kwargs)
        counted.append(len(rows))
        return rows

    fetch._rows = counting
    try:
        yield counted
    finally:
        fetch._rows = read


def test_a_hidden_variant_s_rows_are_not_read(pages, visitor_client):
    """From a page's second view in a process on, the query reads the area's row, the shown variant's and its
    content, and the last variant's and its content: of a hundred variants, two."""
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    url = pages[100].get_absolute_url()
    with counting_rows() as first:
        view(fan, url)
    with counting_rows() as again:
        html, counts, _ = view(fan, url)
    assert first == [1 + 100 * 4]  # the area, its variants, their content: this process had never seen the page
    assert again == [1 + 2 * (1 + 3)]
    assert "HEADING0" in html and "TEXT0" in html and "LINK0" in html and html.count("HEADING") == 1
    assert counts["built"] == 3


def test_an_area_whose_variant_was_edited_is_read_again_once(make_page, topics, visitor_client):
    """An editor changes the fan's variant so that it is for cooks: the area's row moved with it, so the page reads
    its rows again, once, all of them (its other variants had been left out), and shows the fan the fallback; the
    next view leaves out the variants hidden now."""
    page = build_area_page(make_page, 10, "edited-later")
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    url = page.get_absolute_url()
    view(fan, url)
    _html, _counts, warm = view(fan, url)
    (theirs,) = [v for v in Variant.objects.filter(placeholder=placeholder(page, "content")) if v.label == "Variant 0"]
    theirs.settings["topics"] = ["cooking"]  # the fan's variant is for cooks now
    theirs.save()
    with counting_rows() as read:
        html, counts, queries = view(fan, url)
    assert "HEADING9" in html and "TEXT9" in html and "LINK9" in html and html.count("HEADING") == 1  # the fallback
    assert counts["built"] == 3
    assert read == [1 + 2 * (1 + 3), 1 + 10 * 4]  # the shown and the last variant, then every row again
    assert queries == warm + 2  # the rows again, and the edited variant's and its area's settings
    with counting_rows() as read:
        assert view(fan, url)[0] == html
    assert read == [1 + 1 + 3]  # the fallback is the last


def test_a_variant_added_since_is_read_and_shown(make_page, topics, visitor_client):
    page = build_area_page(make_page, 5, "grown")
    ph = placeholder(page, "content")
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    url = page.get_absolute_url()
    view(fan, url)
    area = TailoredArea.objects.get(placeholder=ph)
    newest = api.add_variant(area, label="Newest", topics=["sports"], priority=10)
    text(ph, "<p>NEWEST</p>", target=newest)
    for _ in range(2):
        html, counts, _ = view(fan, url)
        assert "NEWEST" in html and "HEADING" not in html and counts["built"] == 1


def test_content_nested_in_a_hidden_variant_is_neither_read_nor_built(make_page, topics, visitor_client):
    """A plugin in a plugin in a hidden variant: its parent is left out of the query, so it is left out too."""
    page = make_page("Deep", slug="deep")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Deep")
    for n, spec in enumerate(({"topics": ["sports"]}, {"topics": ["cooking"]}, {"fallback": True})):
        outer = text(ph, f"<p>OUTER{n}</p>", target=api.add_variant(area, label=f"Variant {n}", **spec))
        text(ph, f"<p>INNER{n}</p>", target=outer)
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    url = page.get_absolute_url()
    view(fan, url)
    with counting_rows() as read:
        html, counts, _ = view(fan, url)
    assert "OUTER0" in html and "OUTER1" not in html and "OUTER2" not in html
    assert read == [1 + 3 + 2 + 2]  # the area, its variants, the shown one's text and the texts in the others' texts
    assert counts["built"] == 2  # the shown variant's text and the text in it


def test_the_query_reads_the_rows_django_cms_s_reads(make_page, topics):
    """``fetch._rows`` is django CMS's query of a page's plugins (its placeholders, in a language, by position),
    narrowed to ``ROW``'s columns: the same plugins in the same order."""
    page = build_area_page(make_page, 4, "same-rows")
    other = build_area_page(make_page, 2, "other-rows")
    placeholders = [placeholder(page, "content"), placeholder(other, "content")]
    ids = [ph.pk for ph in placeholders]
    theirs = CMSPlugin.objects.filter(placeholder__in=placeholders, language="en")
    ours = fetch._rows(theirs.db, ids, "en", ("TextPlugin",), frozenset())  # the texts' timestamps read too
    assert [row[0] for row in ours] == [plugin.pk for plugin in theirs]
    assert [row[:5] for row in ours] == [
        (p.pk, p.placeholder_id, p.parent_id, p.position, p.plugin_type) for p in theirs
    ]
    texts = [(row[6], row[7]) for row in ours if row[4] == "TextPlugin"]
    assert texts == [(p.changed_date, p.creation_date) for p in theirs if p.plugin_type == "TextPlugin"]
    assert all(isinstance(moment, datetime) and moment.tzinfo is not None for pair in texts for moment in pair)
    assert fetch._rows(theirs.db, ids, "de", (), frozenset()) == []


def warm_fan(visitor_client, url):
    """A sports fan whose page ``url`` this process has read once."""
    fan = visitor_client(topics=["sports"])
    fan.get("/")
    view(fan, url)
    return fan


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_a_hidden_variant_changed_since_is_seen_in_its_area_s_row(make_page, topics, visitor_client, change):
    """A variant the fan doesn't see, whose row the page left out, is edited or deleted: the area's row moved with
    it, so the page reads its rows again, once, and shows the fan their variant; then leaves the others out."""
    page = build_area_page(make_page, 5, f"hidden-{change}")
    url = page.get_absolute_url()
    fan = warm_fan(visitor_client, url)
    html, _counts, warm = view(fan, url)
    (cooks,) = [v for v in Variant.objects.filter(placeholder=placeholder(page, "content")) if v.label == "Variant 2"]
    if change == "edit":
        cooks.settings["themes"] = ["dark"]
        cooks.save()
    else:
        cooks.delete()
    left = 5 if change == "edit" else 4
    with counting_rows() as read:
        again, counts, queries = view(fan, url)
    assert again == html and counts["built"] == 3
    assert read == [1 + 2 * (1 + 3), 1 + left * 4] and queries == warm + 2  # and the settings of the area
    with counting_rows() as read:
        assert view(fan, url)[0] == html
    assert read == [1 + 2 * (1 + 3)]


def test_a_hidden_variant_moved_before_the_shown_one_is_shown_and_read(make_page, topics, visitor_client):
    """Two variants for sports fans: the first in the area is shown. The second, whose content was left out, is
    moved before it: the page reads its rows again, once, and shows it."""
    page = build_area_page(make_page, 4, "hidden-moved")
    ph = placeholder(page, "content")
    url = page.get_absolute_url()
    variants = {v.label: v for v in Variant.objects.filter(placeholder=ph)}
    second = variants["Variant 2"]
    second.settings["topics"] = ["sports"]
    second.save()
    fan = warm_fan(visitor_client, url)
    assert "HEADING0" in view(fan, url)[0]
    positions = dict(CMSPlugin.objects.filter(placeholder=ph).values_list("pk", "position"))
    first_at, second_at = positions[variants["Variant 0"].pk], positions[second.pk]
    CMSPlugin.objects.filter(pk=variants["Variant 0"].pk).update(position=10_000)
    CMSPlugin.objects.filter(pk=second.pk).update(position=first_at)
    CMSPlugin.objects.filter(pk=variants["Variant 0"].pk).update(position=second_at)
    with counting_rows() as read:
        html, counts, _ = view(fan, url)
    assert "HEADING2" in html and "TEXT2" in html and html.count("HEADING") == 1 and counts["built"] == 3
    assert len(read) == 2  # the second variant's content had been left out: every row read again


def test_an_area_showing_nothing_reads_no_content(make_page, topics, visitor_client):
    page = make_page("Nothing", slug="nothing")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="For cooks only")
    for n in range(3):
        text(ph, f"<p>BODY{n}</p>", target=api.add_variant(area, label=f"Variant {n}", topics=["cooking"]))
    url = page.get_absolute_url()
    fan = warm_fan(visitor_client, url)
    for _ in range(2):
        with counting_rows() as read:
            html, counts, _ = view(fan, url)
        assert read == [1 + 1 + 1] and "BODY" not in html and counts["built"] == 0  # the area, the last variant


def seen_by_a_fan(make_page, visitor_client, name):
    """A page of an area of five variants that a sports fan saw twice (this process knows its layout): its
    placeholder, its URL, the fan and what they saw."""
    page = build_area_page(make_page, 5, name)
    url = page.get_absolute_url()
    fan = warm_fan(visitor_client, url)
    return placeholder(page, "content"), url, fan, view(fan, url)[0]


def test_a_hidden_variant_moved_by_an_editor_is_seen_in_its_area_s_row(make_page, topics, editor, visitor_client):
    """An editor moves a variant the fan doesn't see, whose row the page left out, in the structure board: its area's
    row moved with django CMS's operation, so the page reads its rows again, once."""
    ph, url, fan, html = seen_by_a_fan(make_page, visitor_client, "reordered")
    variants = {v.label: v for v in Variant.objects.filter(placeholder=ph)}
    editors = Client()
    editors.force_login(editor)
    response = editors.post(
        reverse("admin:cms_placeholder_move_plugin") + f"?cms_path={url}",
        {
            "plugin_id": variants["Variant 1"].pk,
            "plugin_parent": variants["Variant 1"].parent_id,
            "target_position": variants["Variant 3"].position,
            "target_language": "en",
        },
    )
    assert response.status_code == 200
    order = list(
        Variant.objects.filter(placeholder=ph).order_by("position").values_list("tailored_settings__label", flat=True)
    )
    assert order == ["Variant 0", "Variant 2", "Variant 3", "Variant 1", "Variant 4"]
    with counting_rows() as read:
        assert view(fan, url)[0] == html
    assert read == [1 + 2 * (1 + 3), 1 + 5 * 4]  # the shown and the last variant, then every row again
    with counting_rows() as read:
        assert view(fan, url)[0] == html
    assert read == [1 + 2 * (1 + 3)]


def test_a_hidden_variant_moved_through_django_cms_s_api_moves_the_last_variant_s_row(
    make_page, topics, visitor_client
):
    """Code moves a variant the fan doesn't see to the end of its area with django CMS's ``move_plugin`` (which
    tells no receiver): the last variant's row, which the page reads, moved, so the page reads its rows again."""
    ph, url, fan, html = seen_by_a_fan(make_page, visitor_client, "moved-by-code")
    variants = {v.label: v for v in Variant.objects.filter(placeholder=ph)}
    moved = CMSPlugin.objects.get(pk=variants["Variant 2"].pk)
    ph.move_plugin(moved, CMSPlugin.objects.filter(placeholder=ph).count(), target_plugin=moved.parent)
    assert CMSPlugin.objects.get(pk=moved.pk).position > CMSPlugin.objects.get(pk=variants["Variant 4"].pk).position
    with counting_rows() as read:
        assert view(fan, url)[0] == html
    assert read == [1 + 2 * (1 + 3), 1 + 5 * 4]


def test_a_variant_saved_or_deleted_moves_its_area_s_row_only(make_page, topics):
    page = build_area_page(make_page, 3, "touched")
    other = build_area_page(make_page, 2, "untouched")
    ph = placeholder(page, "content")
    area, untouched = (
        TailoredArea.objects.get(placeholder=ph),
        TailoredArea.objects.get(placeholder=placeholder(other, "content")),
    )

    def changed(plugin):
        return CMSPlugin.objects.get(pk=plugin.pk).changed_date

    before, unchanged = changed(area), changed(untouched)
    variant = Variant.objects.filter(placeholder=ph).first()
    variant.settings["priority"] = 3
    variant.save()
    assert changed(area) > before and changed(untouched) == unchanged
    before = changed(area)
    ph.delete_plugin(CMSPlugin.objects.get(pk=variant.pk))
    assert changed(area) > before and changed(untouched) == unchanged
    before = changed(area)
    text(ph, "<p>PLAIN</p>")  # not a variant: nothing moves
    assert changed(area) == before


@contextmanager
def counting_selections(strategy: str) -> Iterator[list[int]]:
    """Counts the calls of the ``strategy``'s ``select``: the selections worked out, not remembered."""
    chosen, calls = get_strategy(strategy), [0]
    select = type(chosen).select

    def counted(self, *args, **kwargs):
        calls[0] += 1
        return select(self, *args, **kwargs)

    type(chosen).select = counted
    try:
        yield calls
    finally:
        type(chosen).select = select


def test_visitors_who_give_the_strategy_the_same_share_its_decision(make_page, topics, visitor_client, settings):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False
    url = build_area_page(make_page, 5, "shared").get_absolute_url()
    fans = [visitor_client(topics=["sports"]) for _ in range(2)]
    cooks = [visitor_client(topics=["cooking"]) for _ in range(2)]
    assert "HEADING0" in fans[0].get(url).content.decode()  # the page's first view: its layout is learned
    with counting_selections("customization") as calls:
        assert "HEADING0" in fans[1].get(url).content.decode()
        assert calls == [0]  # the same choices and segments: the first fan's decision
        cooked = [cook.get(url).content.decode() for cook in cooks]
        assert all("HEADING1" in html and "HEADING0" not in html for html in cooked)
        assert calls == [1]  # other choices: worked out once, then remembered for the next cook
        assert "HEADING4" in visitor_client().get(url).content.decode()
        assert calls == [2]


def test_a_strategy_put_in_place_of_another_decides_anew(make_page, topics, visitor_client, settings, monkeypatch):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False
    url = build_area_page(make_page, 3, "replaced").get_absolute_url()
    fan = visitor_client(topics=["sports"])
    assert "HEADING0" in fan.get(url).content.decode()
    assert "HEADING0" in fan.get(url).content.decode()  # remembered

    class LastAlways(Strategy):
        name = "customization"

        def select(self, variants, choices, limit, segments, allocated):
            return Selection([variants[-1]], (SelectionPath.FALLBACK,), SelectionPath.FALLBACK)

    monkeypatch.setitem(_registry, "customization", LastAlways())  # as a site replacing a built-in one
    html = fan.get(url).content.decode()
    assert "HEADING2" in html and "HEADING0" not in html


def test_past_the_decisions_a_process_keeps_the_layouts_forget_theirs(
    make_page, topics, visitor_client, settings, monkeypatch
):
    settings.CMS_PAGE_CACHE = settings.CMS_PLACEHOLDER_CACHE = False
    monkeypatch.setattr(shown, "MAX_DECISIONS", 2)
    url = build_area_page(make_page, 5, "forgetful").get_absolute_url()
    kinds = {"HEADING0": {"topics": ["sports"]}, "HEADING1": {"topics": ["cooking"]}, "HEADING4": {}}
    for _ in range(2):
        for heading, choices in kinds.items():
            html = visitor_client(**choices).get(url).content.decode()
            assert heading in html and html.count("HEADING") == 1
            [layout] = [layout for layouts in shown._layouts.values() for layout in layouts]
            assert 1 <= len(layout.decisions) <= 2
