"""``arrange_widgets`` as a pure function: no database, no Redis."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tailored_cms.widgets.arrangement import arrange_widgets


@dataclass
class W:
    key: str
    hideable: bool = True
    title: str = ""


def board(*keys: str) -> list[W]:
    return [W(key) for key in keys]


def shown(widgets, order=(), hidden=()) -> list[str]:
    return [w.key for w in arrange_widgets(widgets, order, hidden).shown]


def test_no_arrangement_keeps_the_editor_order():
    assert shown(board("a", "b", "c")) == ["a", "b", "c"]


def test_the_visitor_order_is_applied():
    assert shown(board("a", "b", "c"), order=["c", "a", "b"]) == ["c", "a", "b"]


def test_known_widgets_swap_among_their_own_slots_and_unknown_ones_keep_their_place():
    # The visitor arranged a, c, e; b and d were added by the editor later (or never arranged).
    assert shown(board("a", "b", "c", "d", "e"), order=["e", "c", "a"]) == ["e", "b", "c", "d", "a"]


def test_a_widget_added_later_stays_where_the_editor_put_it():
    before = shown(board("a", "b", "c"), order=["c", "b", "a"])
    assert before == ["c", "b", "a"]
    after = shown(board("new", "a", "b", "late", "c"), order=["c", "b", "a"])
    assert after == ["new", "c", "b", "late", "a"]


def test_a_partial_order_moves_only_the_named_widgets():
    assert shown(board("a", "b", "c", "d"), order=["d", "a"]) == ["d", "b", "c", "a"]


def test_keys_the_board_no_longer_has_are_ignored():
    assert shown(board("a", "b"), order=["gone", "b", "also-gone", "a"]) == ["b", "a"]


def test_hidden_widgets_are_left_out_and_reported():
    widgets = board("a", "b", "c")
    arrangement = arrange_widgets(widgets, order=["c", "b", "a"], hidden=["b"])
    assert [w.key for w in arrangement.shown] == ["c", "a"]
    assert [w.key for w in arrangement.hidden] == ["b"]


def test_ordered_keeps_hidden_widgets_in_their_place():
    arrangement = arrange_widgets(board("a", "b", "c", "d"), order=["d", "c", "b", "a"], hidden=["c"])
    assert [w.key for w in arrangement.ordered] == ["d", "c", "b", "a"]
    assert [w.key for w in arrangement.shown] == ["d", "b", "a"]


def test_a_widget_that_is_not_hideable_stays():
    widgets = [W("a"), W("b", hideable=False), W("c")]
    arrangement = arrange_widgets(widgets, hidden=["a", "b"])
    assert [w.key for w in arrangement.shown] == ["b", "c"]
    assert [w.key for w in arrangement.hidden] == ["a"]


def test_hidden_and_ordered_at_once():
    assert shown(board("a", "b", "c", "d"), order=["d", "c", "b", "a"], hidden=["c"]) == ["d", "b", "a"]


def test_duplicate_keys_in_the_visitor_order_count_at_their_first_occurrence():
    assert shown(board("a", "b", "c"), order=["c", "a", "c", "b", "a"]) == ["c", "a", "b"]


def test_a_pasted_copy_with_the_same_key_is_arranged_once_and_the_copy_keeps_its_place():
    first, other, copy = W("a", title="first"), W("b"), W("a", title="copy")
    result = arrange_widgets([first, other, copy], order=["b", "a"]).shown
    assert [(w.key, w.title) for w in result] == [("b", ""), ("a", "first"), ("a", "copy")]
    hidden = arrange_widgets([first, other, copy], hidden=["a"])
    assert [w.key for w in hidden.shown] == ["b"] and len(hidden.hidden) == 2


def test_nothing_is_lost_or_duplicated_whatever_the_arrangement():
    rng = random.Random(7)
    keys = [f"w{i}" for i in range(12)]
    for _ in range(200):
        widgets = [W(k, hideable=rng.random() > 0.2) for k in keys]
        order = rng.sample(keys + ["x", "y"], rng.randint(0, 14))
        hidden = rng.sample(keys, rng.randint(0, 5))
        arrangement = arrange_widgets(widgets, order, hidden)
        together = arrangement.shown + arrangement.hidden
        assert sorted(id(w) for w in together) == sorted(id(w) for w in widgets)
        hidden_ids = {id(w) for w in arrangement.hidden}
        assert [w for w in arrangement.ordered if id(w) not in hidden_ids] == arrangement.shown  # hidden in place
        assert arrange_widgets(widgets, order, hidden) == arrangement  # deterministic
        # Widgets the visitor did not name keep their editor slot.
        merged = [w.key for w in arrange_widgets(widgets, order).shown]
        for index, key in enumerate(keys):
            if key not in order:
                assert merged[index] == key


def test_the_input_list_is_left_alone():
    widgets = board("a", "b")
    arrange_widgets(widgets, order=["b", "a"])
    assert [w.key for w in widgets] == ["a", "b"]
