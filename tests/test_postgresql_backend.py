"""The bench's PostgreSQL backend: timestamps parsed by psycopg's C loader, loaded exactly as Django loads them.

``make bench`` serves the render bench's pages with it and with Django's own backend, side by side; a page may only
be faster with it, never different. Both runs of the suite check it against the PostgreSQL server ``make test``
needs anyway (its ``postgres`` database, read only); the suite itself runs on Django's own backend, as sites do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler
from django.test import override_settings
from psycopg.pq import Format

from bench.postgresql.base import OPTIMISED_LOADER, CTzLoader

# Written with offsets and in other zones; the server sends them in the session's time zone.
VALUES = [
    "2026-11-24 05:12:33.123456+00",
    "2026-03-29 01:30:00+01",  # Paris springs forward at 02:00 local
    "2026-10-25 00:30:00+00",  # Paris falls back: 02:30 local happens twice
    "1999-12-31 23:59:59.999999-08",
    "1970-01-01 00:00:00+00",
    "0001-01-01 12:00:00+00",
    "9999-12-30 00:00:00+00",
]
QUERY = "SELECT v::timestamptz FROM unnest(%s::text[]) AS v UNION ALL SELECT NULL"


def connections(time_zone: str | None) -> ConnectionHandler:
    database = {
        "NAME": "postgres",
        "USER": os.environ.get("TAILORED_DB_USER", "postgres"),
        "HOST": os.environ.get("TAILORED_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("TAILORED_DB_PORT", "5432"),
        "TIME_ZONE": time_zone,
    }
    return ConnectionHandler(
        {
            "default": {**database, "ENGINE": "django.db.backends.postgresql"},
            "bench": {**database, "ENGINE": "bench.postgresql"},
        }
    )


@pytest.fixture
def database(django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


def load(handler: ConnectionHandler, alias: str) -> tuple[list[Any], type]:
    connection = handler[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(QUERY, [VALUES])
            loader = cursor.cursor.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)
            return [row[0] for row in cursor.fetchall()], loader
    finally:
        connection.close()


def test_psycopg_here_has_a_c_timestamp_loader() -> None:
    """psycopg[binary] (setup.cfg) ships one: else the backend would be Django's, unchanged."""
    assert OPTIMISED_LOADER.__module__.split(".")[0] in {"psycopg_binary", "psycopg_c"}


@pytest.mark.parametrize("time_zone", [None, "Europe/Paris"])
def test_timestamps_load_as_with_djangos_backend_through_the_c_loader(database: None, time_zone: str | None) -> None:
    handler = connections(time_zone)
    expected, django_loader = load(handler, "default")
    loaded, loader = load(handler, "bench")

    assert issubclass(loader, CTzLoader) and not issubclass(django_loader, CTzLoader)
    assert loaded == expected and loaded[-1] is None
    # The same zone object, as Django's loader sets it: not only the same instant.
    assert [value and (value.tzinfo, value.utcoffset()) for value in loaded] == [
        value and (value.tzinfo, value.utcoffset()) for value in expected
    ]
    assert all(value.tzinfo is handler["bench"].timezone for value in loaded[:-1])


def test_without_use_tz_timestamps_load_naive_as_with_djangos_backend(database: None) -> None:
    with override_settings(USE_TZ=False):
        handler = connections(None)
        expected, _ = load(handler, "default")
        loaded, loader = load(handler, "bench")
    assert issubclass(loader, CTzLoader)
    assert loaded == expected
    assert all(value.tzinfo is None for value in loaded[:-1])


def test_the_suite_runs_on_djangos_own_backend() -> None:
    """The bench's backend is the bench's: the tests run what sites run."""
    assert settings.DATABASES["default"]["ENGINE"] in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
