"""The experiment strategy: a fixed split between an area's variants, in the editor's proportions, the same
variant for a visitor every time (optimize's buckets), and nothing for a visitor without an id."""

from __future__ import annotations

from collections import Counter

import pytest

from tailored_cms import api
from tailored_cms.areas.cms_plugins import TailoredAreaPlugin
from tailored_cms.areas.forms import VariantForm
from tailored_cms.areas.optimize import experiment_shares, experiment_variant
from tailored_cms.areas.strategies import get_strategy
from tailored_cms.areas.strategies.experiment import Experiment
from tailored_cms.visitors.buckets import area_place, in_holdout

from .conftest import placeholder, text
from .test_holdouts import AREA_KEY, new_visitor, visitor_ids
from .test_optimize import shown, visitors_in_buckets

pytestmark = pytest.mark.django_db


class Weighted:
    def __init__(self, key: str, weight: int = 1, fallback: bool = False) -> None:
        self.key, self.weight, self.fallback = key, weight, fallback
        self.topics, self.themes, self.layouts, self.segments, self.priority = [], [], [], [], 0


def test_visitors_are_split_in_the_editors_proportions_and_the_fallback_is_left_out():
    variants = [Weighted("standard", fallback=True), Weighted("a", 3), Weighted("b", 1)]
    picks = Counter(
        experiment_variant(
            variants,
            "hero",
            v,
        ).key
        for v in visitor_ids(4000)
    )
    assert set(picks) == {"a", "b"}
    assert abs(picks["a"] / 4000 - 0.75) < 0.03


def test_a_weight_of_0_leaves_a_variant_out_and_without_an_id_nobody_is_picked():
    variants = [Weighted("standard", fallback=True), Weighted("a", 0), Weighted("b", 2)]
    assert {experiment_variant(variants, "hero", v).key for v in visitor_ids(100)} == {"b"}
    assert experiment_variant(variants, "hero", None) is None
    assert experiment_variant([Weighted("a", 0), Weighted("b", 0), Weighted("s", fallback=True)], "hero", "x") is None


def test_a_visitor_keeps_their_variant_and_each_area_splits_visitors_its_own_way():
    variants = [Weighted("standard", fallback=True), Weighted("a"), Weighted("b")]
    ids = visitor_ids(500)
    first = [experiment_variant(variants, "hero", v).key for v in ids]
    assert first == [experiment_variant(variants, "hero", v).key for v in ids]
    assert first != [experiment_variant(variants, "sidebar", v).key for v in ids]


@pytest.fixture
def experiment_page(make_page):
    """An experiment area, a fallback and A and B at half each."""
    page = make_page("Home", slug="home")
    ph = placeholder(page, "content")
    area = api.add_area(ph, label="Hero", strategy="experiment")
    text(ph, "<p>STANDARD</p>", target=api.add_variant(area, label="Standard", fallback=True))
    for name in ("A", "B"):
        text(ph, f"<p>VERSION {name}</p>", target=api.add_variant(area, label=name))
    return page, area


def test_visitors_see_their_half_of_the_split_every_time_and_the_caches_keep_them_apart(experiment_page, client):
    page, area = experiment_page
    low, high = visitors_in_buckets(area, range(50), range(50, 100))
    url = page.get_absolute_url()
    for _visit in range(2):
        assert shown(low, url) == {"VERSION A"}
        assert shown(high, url) == {"VERSION B"}
    assert shown(client, url) == {"STANDARD"}  # no cookie: no bucket
    assert TailoredAreaPlugin().get_vary_cache_on(None, area, None) == ["X-Tailored-Holdout"]
    html = low.get(url).content.decode()
    assert 'data-tailored-path="experiment"' in html  # what results count the views by


def test_the_explanation_says_the_area_tests_which_version_works_best(experiment_page):
    _page, area = experiment_page
    visitor, _id = new_visitor()
    reply = visitor.get("/tailored/api/v1/explain/", {"areas": area.key}).json()["areas"][0]
    assert [reason["kind"] for reason in reply["reasons"]] == ["optimized"]


def test_the_variant_form_takes_a_share_from_0_to_100():
    form = VariantForm(data={"label": "A", "priority": 0, "weight": 101})
    assert not form.is_valid() and "weight" in form.errors
    assert VariantForm().fields["weight"].widget.attrs["max"] == 100


def test_the_editors_labels_give_each_variant_its_share_of_the_experiment():
    variants = [Weighted("standard", fallback=True), Weighted("a", 3), Weighted("b", 1), Weighted("c", 0)]
    assert experiment_shares(variants) == {"a": 75, "b": 25}  # the fallback and a weight of 0: not in the test
    assert Experiment().shares(variants) == {"a": 75, "b": 25}
    assert get_strategy("optimize").shares(variants) == {}  # the allocations move: no fixed share to show


# Holdouts and splits (optimize, experiment): independent to within a bucket


def split_of(shares: list[int], area_key: str, ids: list[str]) -> dict[str, str]:
    """Each visitor's variant in an experiment with these shares ("v0", "v1", …), held out or not."""
    variants = [
        Weighted("standard", fallback=True),
        *(Weighted(f"v{index}", share) for index, share in enumerate(shares)),
    ]
    return {visitor_id: experiment_variant(variants, area_key, visitor_id).key for visitor_id in ids}


@pytest.mark.parametrize("shares", [[1, 1], [3, 1], [1, 1, 1], [2, 1, 1], [1, 1, 1, 1], [7, 3], [1, 1, 1, 1, 1]])
def test_a_holdout_of_any_size_takes_its_share_from_every_variant_to_within_two_buckets(shares):
    ids = visitor_ids(5000)
    variant = split_of(shares, AREA_KEY, ids)
    by_place = {area_place(visitor_id, AREA_KEY): variant[visitor_id] for visitor_id in ids}
    assert len(by_place) == 100  # every place of the area, with the variant its visitors get
    for percent in range(1, 51):
        held = Counter(by_place[place] for place in range(percent))  # the holdout takes the first places
        for index, share in enumerate(shares):
            expected = percent * share / sum(shares)
            assert abs(held[f"v{index}"] - expected) <= 2, (percent, dict(held))


def test_the_holdout_takes_evenly_from_each_variant_and_the_others_are_split_as_the_shares_say():
    ids = visitor_ids(20_000)
    for area_key in ("hero", "sidebar", "footer-promo"):
        variant = split_of([1, 1], area_key, ids)
        held = Counter(variant[v] for v in ids if in_holdout(v, area_key, 10))
        others = Counter(variant[v] for v in ids if not in_holdout(v, area_key, 10))
        # Half of the holdout would have seen each variant: chi-square with one degree of freedom, below its
        # 0.1% critical value (a holdout taken from one variant alone gives thousands).
        total = sum(held.values())
        chi_square = sum((held[key] - total / 2) ** 2 / (total / 2) for key in ("v0", "v1"))
        assert abs(total / len(ids) - 0.10) < 0.01 and chi_square < 10.83, (area_key, held)
        assert abs(others["v0"] / sum(others.values()) - 0.5) < 0.015, (area_key, others)
    for shares in ([3, 1], [1, 1, 1], [2, 1, 1]):
        variant = split_of(shares, "hero", ids)
        others = Counter(variant[v] for v in ids if not in_holdout(v, "hero", 10))
        for index, share in enumerate(shares):
            assert abs(others[f"v{index}"] / sum(others.values()) - share / sum(shares)) < 0.025, (shares, others)
