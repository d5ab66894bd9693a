"""``{% load tailored %}``: ``tailored_body_attrs`` and ``tailored_placeholder``."""

from __future__ import annotations

import pytest
from cms.utils.placeholder import get_placeholders
from django.template import Context, Template
from django.test import RequestFactory

from tailored_cms.context import VisitorContext
from tailored_cms.visitors.snapshot import Snapshot

from .conftest import placeholder, text

pytestmark = pytest.mark.django_db


def render(source: str, request=None) -> str:
    return Template("{% load tailored %}" + source).render(Context({"request": request}))


def test_body_attrs_name_the_visitors_theme_and_layout_and_mark_the_response_visitor_dependent():
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(theme="dark", layout="grid"))
    html = render("<body {% tailored_body_attrs %}>", request)
    assert html == (
        '<body class="tailored-theme-dark tailored-layout-grid tailored-motion-auto" data-tailored-theme="dark"'
        ' data-tailored-layout="grid" data-tailored-api="/tailored/api/v1/">'
    )
    assert request.tailored.depends_on_visitor


def test_body_attrs_use_the_defaults_for_unknown_choices_and_without_the_middleware():
    request = RequestFactory().get("/")
    request.tailored = VisitorContext(Snapshot(theme='"><script>', layout="nope"))
    expected = 'class="tailored-theme-light tailored-layout-one-column tailored-theme-auto tailored-motion-auto"'
    assert expected in render("{% tailored_body_attrs %}", request)
    assert expected in render("{% tailored_body_attrs %}", RequestFactory().get("/"))
    assert expected in render("{% tailored_body_attrs %}")


def body_classes(snapshot: Snapshot, **headers: str) -> list[str]:
    request = RequestFactory().get("/", **headers)
    request.tailored = VisitorContext(snapshot)
    html = render("{% tailored_body_attrs %}", request)
    return html.split('class="', 1)[1].split('"', 1)[0].split()


def test_body_attrs_name_the_visitors_accessibility_choices():
    assert body_classes(Snapshot(theme="light", motion="reduced", text_size="large")) == [
        "tailored-theme-light",
        "tailored-layout-one-column",
        "tailored-motion-reduced",
        "tailored-text-large",
    ]


def test_a_first_visit_follows_the_browser_css_and_its_client_hints_until_the_visitor_chooses():
    # No hints: "auto" classes, for CSS media queries (prefers-color-scheme, -contrast, -reduced-motion).
    assert body_classes(Snapshot()) == [
        "tailored-theme-light",
        "tailored-layout-one-column",
        "tailored-theme-auto",
        "tailored-motion-auto",
    ]
    hints = {"HTTP_SEC_CH_PREFERS_COLOR_SCHEME": '"dark"', "HTTP_SEC_CH_PREFERS_REDUCED_MOTION": '"reduce"'}
    assert body_classes(Snapshot(), **hints) == [
        "tailored-theme-dark",
        "tailored-layout-one-column",
        "tailored-theme-auto",
        "tailored-motion-reduced",
    ]
    # A visitor's own choice wins over their browser's hints.
    assert body_classes(Snapshot(theme="high-contrast", motion="reduced"), **hints)[:1] == [
        "tailored-theme-high-contrast"
    ]
    light = {"HTTP_SEC_CH_PREFERS_COLOR_SCHEME": '"light"', "HTTP_SEC_CH_PREFERS_REDUCED_MOTION": '"no-preference"'}
    assert body_classes(Snapshot(), **light)[0] == "tailored-theme-light"
    assert "tailored-motion-auto" in body_classes(Snapshot(), **light)


def test_body_attrs_name_the_api_where_the_site_mounts_it(settings):
    settings.ROOT_URLCONF = "tests.widgets.urls_elsewhere"
    assert 'data-tailored-api="/elsewhere/api/v1/"' in render("{% tailored_body_attrs %}")


def test_body_attrs_without_our_urls_leave_the_api_empty(settings):
    settings.ROOT_URLCONF = "tests.widgets.urls_without_tailored"
    assert 'data-tailored-api=""' in render("{% tailored_body_attrs %}")


def test_django_cms_finds_tailored_placeholders_in_templates():
    slots = [p.slot for p in get_placeholders("home.html")]
    assert {"hero", "content", "widgets", "sidebar"} <= set(slots)


def test_a_tailored_placeholder_is_wrapped_and_marks_the_response_visitor_dependent(make_page, client):
    page = make_page("Home", template="home.html", slug="home")
    text(placeholder(page, "hero"), "<p>HERO</p>")
    response = client.get(page.get_absolute_url())
    html = response.content.decode()
    assert '<div class="tailored-slot" data-tailored-slot="hero"><p>HERO</p></div>' in html
    assert "Cookie" in response["Vary"]


def test_the_or_block_form_parses_and_declares_its_slot():
    template = '{% tailored_placeholder "extra" or %}<p>NOTHING YET</p>{% endtailored_placeholder %}'
    assert render(template) == ""  # no request: nothing, like {% placeholder %}
    assert "extra" in [p.slot for p in get_placeholders_from_source(template)]


def get_placeholders_from_source(source: str):
    from cms.utils.placeholder import _get_nodelist, _scan_placeholders

    nodes = _scan_placeholders(_get_nodelist(Template("{% load tailored %}" + source)))
    return [node.get_declaration() for node in nodes]
