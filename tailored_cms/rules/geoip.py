"""The country of a client address, from a MaxMind database (``GEOIP_DATABASE``), for the location rules when no
CDN header gives it. Read with Django's ``GeoIP2`` (the ``geoip2`` extra), from a file: no network.

Cost on a page view: a lookup in this process's cache of recent addresses; a miss reads the memory-mapped
database (microseconds). No SQL, no Redis. The addresses stay in that cache, in this process's memory: neither they
nor the countries found are written anywhere (not in events, not on visitors).
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed

from ..conf import SETTING_NAME, tailored_settings

__all__ = ["CACHE_SIZE", "country_of_address", "open_database"]

logger = logging.getLogger(__name__)

CACHE_SIZE = 10_000  # addresses per process: a few hundred kilobytes
_database: dict[str, Any] = {}  # the opened database by path; None for a path that can't be opened (logged once)


def open_database(path: Any) -> Any:
    """Django's ``GeoIP2`` reading the database at ``path``; raises ``ImportError`` without the ``geoip2``
    package, ``GeoIP2Exception`` for a path that is no database it reads (the system check says which)."""
    from django.contrib.gis.geoip2 import GeoIP2  # here: the geoip2 package is optional

    return GeoIP2(path)


def country_of_address(address: str) -> str:
    """The two-letter country of ``address`` (``""`` when unknown: not an IP address, not in the database, or no
    database configured)."""
    if not tailored_settings.GEOIP_DATABASE:
        return ""
    return _lookup(address)


@lru_cache(maxsize=CACHE_SIZE)
def _lookup(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)  # an object, never a name: GeoIP2 would resolve a host name (DNS)
    except ValueError:
        return ""
    database = _opened()
    if database is None:
        return ""
    try:
        code = database.country_code(ip)
    except Exception:  # not in the database (private ranges, unlisted ones), or a damaged file: unknown
        return ""
    return str(code or "").upper()


def _opened() -> Any:
    path = str(tailored_settings.GEOIP_DATABASE)
    if path not in _database:
        try:
            _database[path] = open_database(path)
        except Exception as exc:  # the system check (E023) says so at startup; a page view must not fail on it
            logger.error(
                "%s['GEOIP_DATABASE'] %r can't be read (%s): countries come from headers only.", SETTING_NAME, path, exc
            )
            _database[path] = None
    return _database[path]


def forget() -> None:
    """Drop the opened database and the cached addresses (settings changed, a test's new database)."""
    _database.clear()
    _lookup.cache_clear()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        forget()


setting_changed.connect(_on_setting_changed)
