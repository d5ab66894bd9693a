"""Areas, variants, boards and widgets are proxies of CMSPlugin; their settings come from ``settings_cache``.

What a user would notice: a tailored page costs the queries of the same page with plain placeholders, an
editor's change shows on the next render (in every process: the cache is keyed by ``changed_date``), and copies
(django CMS's copy and paste, a new draft of a published page) keep the settings of the original.
"""

from __future__ import annotations

import copy
import threading

import pytest
from cms.models import CMSPlugin, Placeholder
from cms.utils.plugins import copy_plugins_to_placeholder, get_bound_plugins
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tailored_cms import api
from tailored_cms.areas import shown
from tailored_cms.areas.cms_plugins import select_for
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.plugin_settings import cache as settings_cache
from tailored_cms.plugin_settings import models
from tailored_cms.plugin_settings.models import PluginSettings

from ..tracking.conftest import shared_db  # noqa: F401 -- fixture
from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def sports(db):
    api.create_topic("sports")


def tailored_page(make_page, slug="tailored", areas=2):
    page = make_page(slug.title(), slug=slug)
    ph = placeholder(page, "content")
    for i in range(areas):
        area = api.add_area(ph, label=f"Hero {i}", holdout_percent=0)
        text(ph, f"<p>SPORTS {i}</p>", target=api.add_variant(area, label="Fans", topics=["sports"]))
        text(ph, f"<p>EVERYONE {i}</p>", target=api.add_variant(area, label="Everyone", fallback=True))
    return page


def plain_page(make_page, areas=2):
    """The same content with plain placeholders: what every visitor of a tailored page sees one of."""
    page = make_page("Plain", slug="plain")
    for i in range(areas):
        text(placeholder(page, "content"), f"<p>EVERYONE {i}</p>")
    return page


def queries_of(client, url) -> int:
    cache.clear()  # no page, placeholder or menu cache: the page is rendered
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_tailored_page_costs_the_queries_of_the_plain_page(make_page, sports, visitor_client):
    tailored, plain = tailored_page(make_page), plain_page(make_page)
    fan = visitor_client(topics=["sports"])
    for url in (tailored.get_absolute_url(), plain.get_absolute_url()):
        queries_of(fan, url)  # process-wide caches (Site, ContentType, these settings) are warm from now on
    assert queries_of(fan, tailored.get_absolute_url()) == queries_of(fan, plain.get_absolute_url())
    assert "SPORTS 1" in fan.get(tailored.get_absolute_url()).content.decode()


def test_a_process_that_never_saw_the_settings_loads_them_in_one_query(make_page, sports, visitor_client):
    page = tailored_page(make_page, areas=3)
    fan = visitor_client(topics=["sports"])
    warm = (queries_of(fan, page.get_absolute_url()), queries_of(fan, page.get_absolute_url()))[1]
    settings_cache._entries.clear()  # as in a freshly started process
    shown.forget()
    assert queries_of(fan, page.get_absolute_url()) == warm + 1  # all 9 plugins of the placeholder at once
    assert queries_of(fan, page.get_absolute_url()) == warm


def test_a_change_saved_anywhere_shows_on_the_next_render(make_page, sports, visitor_client):
    page = tailored_page(make_page, areas=1)
    url = page.get_absolute_url()
    fan = visitor_client(topics=["sports"])
    assert "SPORTS 0" in fan.get(url).content.decode()  # its settings are in this process's cache now

    remembered = dict(settings_cache._entries)  # what this process knows: another process saves the change
    elsewhere = TailoredArea.objects.get(tailored_settings__label="Hero 0")
    elsewhere.strategy = "static"
    elsewhere.save(update_fields=["strategy"])  # what the structure board's strategy menu saves
    settings_cache._entries.clear()
    settings_cache._entries.update(remembered)
    cache.clear()
    html = fan.get(url).content.decode()
    assert "EVERYONE 0" in html and "SPORTS 0" not in html

    fans = Variant.objects.get(tailored_settings__label="Fans")
    fans.label = "Sports fans"
    fans.save()
    assert TailoredArea.objects.get(pk=elsewhere.pk).strategy == "static"  # a variant's save left its area be
    assert Variant.objects.get(pk=fans.pk).label == "Sports fans"


def test_lists_of_areas_read_their_settings_with_them(make_page, sports, django_assert_num_queries):
    tailored_page(make_page, areas=3)
    settings_cache._entries.clear()
    with django_assert_num_queries(1):
        labels = [area.label for area in TailoredArea.objects.all()]
    assert labels == ["Hero 0", "Hero 1", "Hero 2"]


def test_settings_changed_on_one_copy_of_a_plugin_stay_off_the_others(make_page, sports):
    tailored_page(make_page, areas=1)
    area = TailoredArea.objects.get()
    twin = TailoredArea.objects.get()
    assert area.topics is not twin.topics and area.settings is not twin.settings
    before = copy.copy(area)  # what django CMS's operation signals get as the old plugin
    area.goal = "signup"
    assert twin.goal == "" and before.goal == "" and TailoredArea.objects.get().goal == ""


def test_a_list_changed_in_place_is_the_plugins_own(make_page, sports, visitor_client):
    """Renders share each plugin's saved settings; a list read off a plugin is a copy, whatever is done to it."""
    page = tailored_page(make_page, areas=1)
    fan = visitor_client(topics=["sports"])
    assert "SPORTS 0" in fan.get(page.get_absolute_url()).content.decode()  # the settings are in the cache now
    pk = Variant.objects.get(tailored_settings__label="Fans").pk
    fans = Variant.objects.select_related(None).get(pk=pk)  # its settings from the cache, as django CMS loads it
    fans.topics.clear()  # changed in place, never saved
    cache.clear()
    assert "SPORTS 0" in fan.get(page.get_absolute_url()).content.decode()
    assert Variant.objects.select_related(None).get(pk=pk).topics == ["sports"]


def test_choosing_variants_copies_none_of_their_settings(make_page, sports):
    """Selection reads the shared read-only settings: copies of every variant's lists on every page view (120
    objects on the bench's page) made Python's garbage collector run more often."""
    tailored_page(make_page, areas=1)
    area = TailoredArea.objects.select_related(None).get()
    variants = list(Variant.objects.select_related(None).order_by("position"))
    assert [v.label for v in select_for(None, area, variants).shown] == ["Everyone"]
    assert not any("settings" in plugin.__dict__ for plugin in [area, *variants])


def test_copies_keep_the_settings_of_the_original_and_are_their_own(make_page, sports, visitor_client):
    page = tailored_page(make_page, areas=1)
    target = placeholder(make_page("Copy", slug="copy"), "content")
    source = list(placeholder(page, "content").get_plugins("en"))  # plain CMSPlugins, settings not read yet
    copies = copy_plugins_to_placeholder(source, target, language="en")

    area = TailoredArea.objects.get(placeholder=placeholder(page, "content"))
    pasted = TailoredArea.objects.get(placeholder=target)
    assert (pasted.label, pasted.key, pasted.strategy) == (area.label, area.key, area.strategy)
    assert pasted.pk != area.pk
    copied = {v.label: v for v in Variant.objects.filter(placeholder=target)}
    assert copied["Fans"].topics == ["sports"] and copied["Everyone"].fallback
    assert PluginSettings.objects.count() == 2 * 3 and len(copies) == len(source)

    pasted.strategy = "static"
    pasted.save()
    assert TailoredArea.objects.get(pk=area.pk).strategy == "customization"
    fan = visitor_client(topics=["sports"])
    assert "SPORTS 0" in fan.get(page.get_absolute_url()).content.decode()


@pytest.mark.parametrize("way", ["copied in place", "settings read before", "through the clipboard"])
def test_an_area_duplicated_in_its_placeholder_gets_keys_of_its_own(make_page, sports, visitor_client, way):
    """Results, holdouts and optimize count by key: the duplicate is another area, its variants other variants."""
    page = tailored_page(make_page, areas=1)
    ph = placeholder(page, "content")
    plugins = list(ph.get_plugins("en"))
    if way == "settings read before":  # the copies are deep copies carrying the settings, which their save writes
        plugins = list(get_bound_plugins(plugins))
        assert all(plugin.topics is not None for plugin in plugins if isinstance(plugin, TailoredArea | Variant))
    if way == "through the clipboard":  # django CMS's copy, then paste: two copies, each to another placeholder
        clipboard = Placeholder.objects.create(slot="clipboard")
        copy_plugins_to_placeholder(plugins, clipboard, language="en")
        plugins = list(clipboard.get_plugins("en"))
    copy_plugins_to_placeholder(plugins, ph, language="en", plugins_are_downcast=way == "settings read before")

    areas = list(TailoredArea.objects.filter(placeholder=ph).order_by("pk"))
    assert [a.label for a in areas] == ["Hero 0", "Hero 0"] and areas[0].key != areas[1].key
    variants = list(Variant.objects.filter(placeholder=ph).order_by("pk"))
    assert [v.label for v in variants] == ["Fans", "Everyone", "Fans", "Everyone"]
    assert len({v.key for v in variants}) == 4 and variants[2].topics == ["sports"]
    html = visitor_client(topics=["sports"]).get(page.get_absolute_url()).content.decode()
    assert html.count("SPORTS 0") == 2
    for key in {a.key for a in areas} | {v.key for v in variants if v.label == "Fans"}:
        assert html.count(f'"{key}"') == 1


def test_deleting_an_area_deletes_its_settings_and_those_of_its_variants(make_page, sports):
    page = tailored_page(make_page, areas=2)
    ph = placeholder(page, "content")
    ph.delete_plugin(TailoredArea.objects.get(tailored_settings__label="Hero 0"))
    assert PluginSettings.objects.count() == 3
    assert set(PluginSettings.objects.values_list("plugin_id", flat=True)) == set(
        CMSPlugin.objects.filter(plugin_type__in=["TailoredAreaPlugin", "VariantPlugin"]).values_list("pk", flat=True)
    )


def test_every_list_setting_is_copied_with_the_settings():
    """``SettingsView`` makes lists tuples and gives each plugin lists of its own: ``settings_cache.LISTS`` must
    name every JSON list of the settings."""
    json_lists = {
        field.name for field in PluginSettings._meta.concrete_fields if field.get_internal_type() == "JSONField"
    }
    assert set(settings_cache.LISTS) == json_lists


@pytest.mark.usefixtures("shared_db")
def test_another_process_never_reads_a_plugin_s_new_changed_date_with_its_old_settings(make_page, sports, monkeypatch):
    """Saving a variant writes its row, then its settings: another process reading between the two must not see
    the new ``changed_date`` with the old settings, which it would keep under that date (its cache's key) until
    the variant changes again. Run for real: another thread, on a connection of its own, reads in between."""
    page = tailored_page(make_page, areas=1)
    variant = Variant.objects.get(placeholder=placeholder(page, "content"), tailored_settings__label="Fans")
    before = CMSPlugin.objects.get(pk=variant.pk).changed_date
    seen = []

    def read() -> None:
        try:
            seen.extend(
                CMSPlugin.objects.filter(pk=variant.pk).values_list("changed_date", "tailored_settings__priority")
            )
        finally:
            connection.close()  # this thread's own connection

    save_settings = models.save_settings

    def reading_first(plugin, new):  # the plugin's row is written: another process reads now
        thread = threading.Thread(target=read)
        thread.start()
        thread.join(10)
        save_settings(plugin, new)

    monkeypatch.setattr(models, "save_settings", reading_first)
    variant.settings["priority"] = 7
    variant.save()
    after = CMSPlugin.objects.get(pk=variant.pk).changed_date
    assert after > before
    assert seen in ([(before, 0)], [(after, 7)])  # the old version or the new one, never a mix
