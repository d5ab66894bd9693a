"""The recompute bench generates visitors in SQL, a column at a time: it names every column Visitor has, so a field
added to the model can't make `make bench` fail after its other rows have run."""

from __future__ import annotations

from bench.recompute import visitor_columns
from tailored_cms.visitors.models import Visitor


def test_the_recompute_bench_generates_every_column_of_a_visitor():
    columns = {field.column for field in Visitor._meta.concrete_fields}
    assert set(visitor_columns("i")) == columns
