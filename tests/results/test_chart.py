"""The server-side SVG chart: a pure function; what a screen reader and a sighted editor get from it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from django.utils import translation

from tailored_cms.results.chart import Series, Window, line_chart, nice_scale

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [date(2026, 3, 1) + timedelta(days=n) for n in range(7)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_an_accessible_image_with_title_description_and_a_title_per_point():
    svg = line_chart(
        DAYS,
        [Series("Customized", [0.1, 0.12, None, 0.2, 0.15, 0.1, 0.11]), Series("Holdout", [0.05] * 7, dashed=True)],
        title="Click-through rate per day",
        description="One line per path.",
        percent=True,
        chart_id="ctr",
    )
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "ctr-title ctr-desc"
    assert root.find(f"{SVG}title").text == "Click-through rate per day"
    assert root.find(f"{SVG}desc").text == "One line per path."
    points = [title.text for title in root.iter(f"{SVG}title")][1:]
    assert "Customized, Mar 1: 10.0%" in points and "Holdout, Mar 7: 5.0%" in points
    assert len(points) == 6 + 7  # the missing day has no point
    # The gap splits the line: two pieces for Customized, one for Holdout (dashed, so it differs without colour).
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 3 and lines[-1].get("stroke-dasharray") == "6 4"
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert {"0%", "5%", "10%", "15%", "20%"} <= set(texts)  # the y axis: 0 to 20% in four steps
    assert {"Mar 1", "Mar 4", "Mar 7", "Customized", "Holdout"} <= set(texts)  # every day of a week; the legend


def test_text_is_escaped():
    svg = line_chart(DAYS, [Series('<script>"x"</script>', [1.0] * 7)], title="A & B <c>", chart_id='x"y')
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "A & B <c>"
    assert "<script>" not in svg and 'id="x&quot;y-title"' in svg


def test_counts_get_whole_numbers_and_an_empty_chart_still_draws_its_axes():
    root = parse(line_chart(DAYS, [Series("Sports fans", [0, 120, 250, 400, 410, 600, 700])], title="Sizes"))
    assert {"0", "200", "400", "600", "800"} <= {text.text for text in root.iter(f"{SVG}text")}
    empty = parse(line_chart(DAYS, [Series("Nobody", [None] * 7)], title="Nothing"))
    assert not empty.findall(f".//{SVG}polyline") and not empty.findall(f".//{SVG}circle")


def test_a_series_must_have_a_value_per_day():
    with pytest.raises(ValueError, match="3 values for 7 days"):
        line_chart(DAYS, [Series("Short", [1, 2, 3])], title="x")


def test_ninety_days_get_six_date_labels():
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(90)]
    svg = line_chart(days, [Series("a", [float(n) for n in range(90)])], title="x")
    labels = re.findall(r'text-anchor="middle">([A-Z][a-z]{2} \d+)<', svg)
    assert len(labels) == 6 and labels[0] == "Jan 1" and labels[-1] == "Mar 31"


@pytest.mark.parametrize(
    ("highest", "top", "step"),
    [(0.137, 0.2, 0.05), (7, 8, 2), (0, 1.0, 0.25), (1234, 2000, 500), (0.0004, 0.0004, 0.0001), (100, 100, 25)],
)
def test_the_axis_ends_on_a_round_number(highest, top, step):
    assert nice_scale(highest) == (pytest.approx(top), pytest.approx(step))


@pytest.mark.parametrize(
    "language, day, percent",
    [("en", "Mar 1", "12.5%"), ("es", "1 mar", "12,5%"), ("de", "1. Mär", "12,5%"), ("fr", "1 mar", "12,5%")],
)
def test_days_and_figures_are_written_in_the_editors_language(language, day, percent):
    with translation.override(language):
        svg = line_chart(DAYS, [Series("Customized", [0.125] * 7)], title="t", description="d", percent=True)
    texts = [element.text for element in parse(svg).iter(f"{SVG}text")]
    assert day in texts
    assert any(percent in (element.text or "") for element in parse(svg).iter(f"{SVG}title"))


def test_a_campaign_window_is_a_band_in_the_legend_and_the_description():
    svg = line_chart(
        DAYS,
        [Series("Customized", [0.1] * 7)],
        title="Click-through rate per day",
        description="One line per path.",
        percent=True,
        windows=[
            Window("Black Friday", date(2026, 3, 3), date(2026, 3, 5)),
            Window("Spring", date(2026, 3, 6)),  # open-ended: one edge
            Window("Last year", date(2025, 3, 1), date(2025, 3, 9)),  # outside the chart: left out
        ],
    )
    root = parse(svg)
    description = root.find(f"{SVG}desc").text
    assert description == (
        "One line per path. Shaded: when a campaign window was open (Black Friday: Mar 3 to Mar 5; Spring: from Mar 6)."
    )
    bands = root.findall(f".//{SVG}g[@class='tailored-chart-window']")
    assert [band.get("data-window") for band in bands] == ["Black Friday", "Spring"]
    assert len(bands[0].findall(f"{SVG}line")) == 2 and len(bands[1].findall(f"{SVG}line")) == 1
    assert bands[0].find(f"{SVG}rect/{SVG}title").text == "Black Friday: Mar 3 to Mar 5"
    rect = bands[0].find(f"{SVG}rect")
    x, width = float(rect.get("x")), float(rect.get("width"))
    step = (720 - 28 - 56) / 6
    assert x == pytest.approx(56 + 1.5 * step, abs=0.1) and width == pytest.approx(3 * step, abs=0.1)
    legend = [text.text for text in root.find(f".//{SVG}g[@class='tailored-chart-legend']").iter(f"{SVG}text")]
    assert legend == ["Customized", "Black Friday: Mar 3 to Mar 5", "Spring: from Mar 6"]
    with translation.override("de"):
        german = parse(line_chart(DAYS, [], title="x", windows=[Window("Aktion", date(2026, 3, 3), date(2026, 3, 5))]))
        assert "Schattiert" in german.find(f"{SVG}desc").text
