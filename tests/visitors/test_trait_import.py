"""Traits from CSV: streamed a chunk at a time, cells typed, wrong rows reported by line number."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tailored_cms import api
from tailored_cms.visitors.models import Visitor
from tailored_cms.visitors.trait_import import cell_value, import_traits

pytestmark = pytest.mark.django_db


def test_cells_are_typed_by_the_stored_kind_else_by_their_look():
    assert cell_value(" 12 ", None) == 12
    assert cell_value("4.5", None) == 4.5
    assert cell_value("true", None) is True
    assert cell_value("2024-03-01", None) == "2024-03-01"  # a date once store_rows types it
    assert cell_value("75001", "string") == "75001"
    assert cell_value("a| b |", "list") == ["a", "b"]
    assert cell_value("yes", "boolean") is True
    assert cell_value("", None) is not None and cell_value("", "string") is cell_value("  ", None)  # left alone


def test_a_file_imports_in_chunks_and_reports_wrong_rows_by_line():
    users = [User.objects.create_user(f"u{n}", f"u{n}@example.com") for n in range(25)]
    api.set_traits(users[0], zip="75001")
    lines = ["email,plan,seats,since,tags,zip,active\n"]
    lines += [f"u{n}@example.com,pro,{n},2024-03-01,eu|retail,10{n:03d},true\n" for n in range(1, 25)]
    lines += ["nobody@example.com,pro,1,,,,\n", "u1@example.com,free,,,,,\n", "u2@example.com,x,y,z,,,,,,,,\n", "\n"]
    lines += ["U0@example.com,,,,,,\n"]
    seen = []
    summary = import_traits(io.StringIO("".join(lines)), by="email", chunk=10, progress=lambda s: seen.append(s.rows))
    assert summary.rows == 28 and summary.stored == 26  # u0's row sets nothing, and counts
    assert [(error.row, error.field) for error in summary.errors] == [(26, "user"), (28, "")]
    assert summary.error_count == 2
    assert seen == [10, 20, 28]
    assert api.get_traits(users[1])["plan"] == "free"  # its later row (line 27)
    assert api.get_traits(users[3]) == {
        "plan": "pro",
        "seats": 3,
        "since": date(2024, 3, 1),
        "tags": ["eu", "retail"],
        "zip": "10003",
        "active": True,
    }
    assert api.get_traits(users[0]) == {"zip": "75001"}
    assert Visitor.objects.count() == 25


@pytest.mark.parametrize("text", ["", "email\n"])
def test_a_file_without_trait_columns_is_refused(text):
    with pytest.raises(ValidationError):
        import_traits(io.StringIO(text), by="email")


def test_of_two_rows_for_one_user_the_later_wins():
    User.objects.create_user("ada", "ada@example.com")
    text = "email,plan\nada@example.com,free\nADA@example.com,pro\n"
    summary = import_traits(io.StringIO(text), by="email")
    assert (summary.stored, summary.error_count) == (2, 0)
    assert api.get_traits(User.objects.get(username="ada")) == {"plan": "pro"}
