"""The bench's PostgreSQL backend: Django's, reading timestamps with psycopg's C loader (Django ticket #36960).

Django's psycopg 3 backend loads every ``timestamptz`` through a subclass of psycopg's pure-Python loader, so
that it can set the value's ``tzinfo``: the C loader that ``psycopg[binary]`` and ``psycopg[c]`` ship is never
used. That costs about 3 µs per value. django CMS reads two per plugin (``creation_date`` and ``changed_date``)
whenever it renders a page without its caches, and a page of tailored areas holds every variant's plugins: on
the render bench's page (64 plugin rows against the plain page's 12), about 0.3 ms of a 9 ms page.

This backend parses with the C loader and then sets the ``tzinfo`` exactly as Django's loader does; everything
else is Django's. Without a C loader (a pure-Python psycopg), it is Django's backend unchanged. It is the bench's
instrument, not part of tailored_cms nor of the example site: sites run Django's backend, and so do the example
site and the test suite. ``make bench`` serves the render bench's pages with both, side by side
(``bench/settings.py``, ``bench/render.py``); ``tests/test_postgresql_backend.py`` checks that both load the same.
"""

from __future__ import annotations

import functools
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# psycopg's default for timestamptz: its C loader when one is installed, else the pure-Python one.
OPTIMISED_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class CTzLoader(BaseTzLoader):
    """Django's loader (a ``BaseTzLoader``, with its ``timezone``), parsing with psycopg's C loader."""

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._parse = OPTIMISED_LOADER(oid, context).load

    def load(self, data: Any) -> Any:
        value = self._parse(data)  # in the session's time zone, which Django sets to its own: mostly done
        return value if value.tzinfo is self.timezone else value.replace(tzinfo=self.timezone)


@functools.lru_cache
def adapters_template(django_template: AdaptersMap, timezone: Any) -> AdaptersMap:
    """Django's adapters for ``timezone``, with the C-parsing timestamptz loader (one map per timezone, as Django)."""
    template = AdaptersMap(django_template)
    template.register_loader("timestamptz", type("TzLoader", (CTzLoader,), {"timezone": timezone}))
    return template


class DatabaseWrapper(base.DatabaseWrapper):
    # False: Django's own loader from the next connection on, for the rows that measure Django's backend in the
    # bench's own process (bench/render.py, djangos_backend)
    c_timestamps = True

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if self.c_timestamps and OPTIMISED_LOADER is not TimestamptzLoader:
            params["context"] = adapters_template(params["context"], self.timezone)
        return params
