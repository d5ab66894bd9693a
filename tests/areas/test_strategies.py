"""The strategy registry: the built-in strategies, the registry's refusals, and a site's own strategy on a real page."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import pytest
from cms.toolbar.utils import get_object_structure_url
from django.test import Client
from django.urls import reverse

from tailored_cms import api
from tailored_cms.areas.cms_plugins import TailoredAreaPlugin
from tailored_cms.areas.forms import TailoredAreaForm
from tailored_cms.areas.matching import Selection, SelectionPath
from tailored_cms.areas.models import TailoredArea
from tailored_cms.areas.reasons import FallbackCause, Reason, ReasonKind
from tailored_cms.areas.strategies import (
    Strategy,
    get_strategy,
    register_strategy,
    registered_strategies,
    strategy_choices,
    unregister_strategy,
)
from tailored_cms.areas.strategies.static import Static
from tailored_cms.plugin_settings.models import PluginSettings

from .conftest import placeholder, text

BUILT_IN = ["static", "customization", "personalization", "hybrid", "optimize", "experiment"]


class EditorsPick(Strategy):
    """A site's strategy: everyone sees the variant of highest priority (ties: the first)."""

    name = "editors_pick"
    label = "Editor's pick: the variant of highest priority, for everyone"
    holdouts = False

    def select(
        self, variants: Sequence[Any], choices: Any, limit: int, segments: Collection[str], allocated: Any
    ) -> Selection[Any] | None:
        if not variants:
            return None
        best = max(variants, key=lambda variant: (variant.priority, -variants.index(variant)))
        return Selection([best], (SelectionPath.FALLBACK,), SelectionPath.FALLBACK)

    def explain(self, selection: Selection[Any], choices: Any, segments: Collection[str]) -> tuple[Reason, ...]:
        return (Reason(ReasonKind.FALLBACK, because=FallbackCause.STATIC),)

    def get_vary_cache_on(self, area: Any) -> list[str]:
        return []  # the same for everyone: one cached copy


@pytest.fixture
def editors_pick() -> Iterator[type[EditorsPick]]:
    registered = register_strategy(EditorsPick)
    yield registered
    unregister_strategy(EditorsPick.name)


def test_the_built_in_strategies_are_registered_in_the_order_editors_see_them():
    assert [strategy.name for strategy in registered_strategies()] == BUILT_IN
    assert [name for name, _label in strategy_choices()] == BUILT_IN
    assert str(dict(strategy_choices())["static"]) == "Static: everyone sees the fallback"


def test_the_decorator_returns_the_class_and_refuses_a_name_taken_loudly(editors_pick):
    assert editors_pick is EditorsPick
    assert isinstance(get_strategy("editors_pick"), EditorsPick)

    class Another(Strategy):
        name = "static"

    with pytest.raises(ValueError, match=r"A strategy named 'static' is already registered \(.*\.Static\)"):
        register_strategy(Another)
    assert isinstance(get_strategy("static"), Static)


@pytest.mark.parametrize("name", ["", "two words", "x" * 21])
def test_a_strategy_needs_a_short_word_for_a_name(name):
    bad = type("Bad", (Strategy,), {"name": name})
    with pytest.raises(ValueError, match="must be a word"):
        register_strategy(bad)


def test_only_strategy_classes_are_registered():
    with pytest.raises(TypeError, match="is not a subclass of Strategy"):
        register_strategy(object)  # type: ignore[type-var]


def test_a_sites_strategy_is_a_choice_of_the_column_but_no_migration_of_the_app(editors_pick):
    field = PluginSettings._meta.get_field("strategy")
    assert "editors_pick" in dict(field.flatchoices)
    assert [name for name, _label in field.deconstruct()[3]["choices"]] == BUILT_IN


@pytest.mark.django_db
def test_a_site_registers_a_strategy_and_a_page_renders_an_area_with_it(editors_pick, make_page, visitor_client):
    for slug in ("sports", "cooking"):
        api.create_topic(slug)
    page = make_page("Picks", slug="picks")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="editors_pick", label="Pick")
    sports = api.add_variant(area, label="Sports fans", topics=["sports"])
    text(ph, "<p>SPORTS</p>", target=sports)
    pick = api.add_variant(area, label="Pick of the week", priority=5)
    text(ph, "<p>PICK</p>", target=pick)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=everyone)

    for client in (Client(), visitor_client(topics=["sports"])):
        html = client.get(page.get_absolute_url()).content.decode()
        assert "PICK" in html and "SPORTS" not in html and "EVERYONE" not in html
        assert 'data-tailored-strategy="editors_pick"' in html and 'data-tailored-path="fallback"' in html

    area = TailoredArea.objects.get(pk=area.pk)
    assert TailoredAreaPlugin().get_vary_cache_on(None, area, None) == []  # type: ignore[arg-type]
    assert area.get_short_description().startswith("Pick · Editor's pick")
    form = TailoredAreaForm(
        data={"label": "Pick", "strategy": "editors_pick", "max_items": 1, "holdout_percent": 5, "goal": ""},
        instance=area,
    )
    assert form.is_valid(), form.errors
    assert "editors_pick" in dict(form.fields["strategy"].choices)


@pytest.mark.django_db
def test_the_strategy_menu_offers_a_sites_strategy(editors_pick, make_page, admin_client):
    page = make_page("Menu", slug="menu")
    area = api.add_area(placeholder(page, "content"), strategy="static")
    board = admin_client.get(get_object_structure_url(page.get_content_obj("en"))).content.decode()
    assert "Strategy: Editor&#x27;s pick" in board or "Strategy: Editor's pick" in board
    response = admin_client.post(reverse("tailored_cms:area_strategy", args=[area.pk]), {"strategy": "editors_pick"})
    assert response.status_code == 200, response.content
    assert TailoredArea.objects.get(pk=area.pk).strategy == "editors_pick"


@pytest.mark.django_db
def test_an_area_whose_strategy_is_no_longer_registered_shows_its_fallback(editors_pick, make_page, visitor_client):
    page = make_page("Orphan", slug="orphan")
    ph = placeholder(page, "content")
    area = api.add_area(ph, strategy="editors_pick")
    pick = api.add_variant(area, label="Pick", priority=5)
    text(ph, "<p>PICK</p>", target=pick)
    everyone = api.add_variant(area, label="Everyone", fallback=True)
    text(ph, "<p>EVERYONE</p>", target=everyone)
    unregister_strategy(EditorsPick.name)  # the site removed it: its areas stay in the database

    html = visitor_client().get(page.get_absolute_url()).content.decode()
    assert "EVERYONE" in html and "PICK" not in html
