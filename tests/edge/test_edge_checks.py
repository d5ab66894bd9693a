"""The system checks of edge mode: its settings (E024), and segments the edge can't see (W006)."""

from __future__ import annotations

import pytest

from tailored_cms import api
from tailored_cms.checks import check_edge_segments, check_settings


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize(
    "setting, value",
    [
        ("EDGE_MAX_AGE", 0),
        ("EDGE_KEY_MAX_AGE", "60"),
        ("EDGE_PURGE_URLS", "http://varnish"),
        ("EDGE_PURGE_URLS", ["varnish:6081"]),
    ],
)
def test_wrong_edge_settings_are_named(settings, setting, value):
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, setting: value}
    errors = [error for error in check_settings() if error.id == "tailored_cms.E024"]
    assert len(errors) == 1 and setting in errors[0].msg


@pytest.mark.django_db
def test_a_segment_on_the_time_of_day_is_warned_about_in_edge_mode(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("mobile", "Mobile", rules={"rule": "device", "is": "mobile"})
        api.create_segment("evening", "Evening", rules={"all": [{"rule": "local_time", "from": 18, "to": 23}]})
    assert check_edge_segments(databases=["default"]) == []  # edge mode is off
    settings.TAILORED_CMS = {**settings.TAILORED_CMS, "EDGE_MODE": True}
    warnings = check_edge_segments(databases=["default"])
    assert ids(warnings) == ["tailored_cms.W006"]
    assert "'evening'" in warnings[0].msg and "local_time" in warnings[0].msg


@pytest.mark.django_db
def test_location_segments_are_warned_about_when_the_country_comes_from_geoip_only(
    settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.create_segment("french", "French", rules={"rule": "country", "is": ["FR"]})
        api.create_segment("asian", "Asian", rules={"any": [{"rule": "continent", "is": ["AS"]}]})
        api.create_segment("european", "European", rules={"not": {"rule": "eu"}})
        api.create_segment("mobile", "Mobile", rules={"rule": "device", "is": "mobile"})
    edge = {**settings.TAILORED_CMS, "EDGE_MODE": True, "COUNTRY_HEADER": "CF-IPCountry"}
    settings.TAILORED_CMS = edge
    assert check_edge_segments(databases=["default"]) == []  # the CDN's header: the edge varies on it
    settings.TAILORED_CMS = {**edge, "GEOIP_DATABASE": "/srv/GeoLite2-Country.mmdb"}
    assert check_edge_segments(databases=["default"]) == []  # the header first: the database fills in
    settings.TAILORED_CMS = {**edge, "GEOIP_DATABASE": "/srv/GeoLite2-Country.mmdb", "COUNTRY_HEADER": ""}
    warnings = check_edge_segments(databases=["default"])
    assert ids(warnings) == ["tailored_cms.W006"] * 3
    named = sorted(
        warning.msg.split("'")[1] + " " + warning.msg.split(" uses ")[1].split(",")[0] for warning in warnings
    )
    assert named == ["asian continent", "european eu", "french country"]
