"""The country from the client's address where no CDN header gives it: a MaxMind database (GEOIP_DATABASE) read
with Django's GeoIP2, each test writing a small one (mmdb-writer), cached per address in the process, never stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import RequestFactory
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tailored_cms.rules import geoip
from tailored_cms.rules.request_time import RequestFacts, matches
from tailored_cms.rules.trees import validate_tree

factory = RequestFactory()
PARIS = "81.2.69.142"
BERLIN = "2001:db8::1"
TOKYO = "203.0.113.9"


def write_database(path: Path, networks: dict[str, str], database_type: str = "GeoLite2-Country") -> Path:
    """A MaxMind country database of ``{network: country code}``, as GeoLite2-Country lays its records out."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=database_type, languages=["en"])
    for network, code in networks.items():
        writer.insert_network(IPSet([network]), {"country": {"iso_code": code}})
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def database(tmp_path, settings) -> Path:
    path = write_database(tmp_path / "countries.mmdb", {"81.2.69.0/24": "FR", "2001:db8::/32": "DE", TOKYO: "JP"})
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "GEOIP_DATABASE": str(path)}
    return path


def country(request) -> str:
    return RequestFacts(request).country


def check(rule, request) -> bool:
    return matches(validate_tree(rule), RequestFacts(request))


def test_without_a_header_the_country_comes_from_the_address(database):
    assert country(factory.get("/", REMOTE_ADDR=PARIS)) == "FR"
    assert country(factory.get("/", REMOTE_ADDR=BERLIN)) == "DE"
    assert check({"rule": "country", "is": "FR"}, factory.get("/", REMOTE_ADDR=PARIS))
    assert check({"rule": "continent", "is": ["AS"]}, factory.get("/", REMOTE_ADDR=TOKYO))
    assert check({"rule": "eu"}, factory.get("/", REMOTE_ADDR=BERLIN))
    assert not check({"rule": "eu"}, factory.get("/", REMOTE_ADDR=TOKYO))


def test_the_cdn_header_wins(database):
    assert country(factory.get("/", REMOTE_ADDR=PARIS, HTTP_CF_IPCOUNTRY="IT")) == "IT"


def test_an_address_the_database_does_not_list_has_no_country(database):
    for address in ("127.0.0.1", "10.1.2.3", "::1", "unknown", "not-an-address.example.com", ""):
        request = factory.get("/", REMOTE_ADDR=address)
        assert country(request) == ""
        assert not check({"rule": "eu"}, request)
        assert check({"not": {"rule": "country", "is": "FR"}}, request)


def test_the_address_the_site_says_its_proxy_sets(database, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR"}
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{TOKYO}, {PARIS}")
    assert country(request) == "FR"  # the right-most: the one the proxy added


def test_without_the_setting_no_database_is_read(database, settings):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "GEOIP_DATABASE": None}
    assert country(factory.get("/", REMOTE_ADDR=PARIS)) == ""


def test_each_address_is_looked_up_once_per_process(database):
    for _ in range(3):
        assert country(factory.get("/", REMOTE_ADDR=PARIS)) == "FR"
    assert country(factory.get("/", REMOTE_ADDR=TOKYO)) == "JP"
    assert geoip._lookup.cache_info().misses == 2  # the database was read for each address's first request only


def test_a_database_that_cant_be_read_leaves_the_country_unknown(tmp_path, settings, caplog):
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database")
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "GEOIP_DATABASE": str(broken)}
    assert country(factory.get("/", REMOTE_ADDR=PARIS)) == ""
    assert "GEOIP_DATABASE" in caplog.text
    assert country(factory.get("/", REMOTE_ADDR=TOKYO)) == ""
    assert caplog.text.count("can't be read") == 1  # said once, not on every request


def test_a_city_database_gives_countries_too(tmp_path, settings):
    path = write_database(tmp_path / "cities.mmdb", {"81.2.69.0/24": "FR"}, database_type="GeoLite2-City")
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "GEOIP_DATABASE": path}  # a Path does too
    assert country(factory.get("/", REMOTE_ADDR=PARIS)) == "FR"
