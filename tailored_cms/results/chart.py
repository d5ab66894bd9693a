"""Line charts of figures per day, drawn as SVG on the server: no JavaScript, no library, no CDN.

``line_chart()`` is a pure function of its arguments (no Django, no I/O) returning the ``<svg>`` markup. For
screen readers the chart is an image (``role="img"``) named by its ``<title>`` and described by its ``<desc>``;
every point has a ``<title>`` of its own (which browsers also show on hover), and the pages put the same figures
in a table beside it. Lines have distinct colours (Okabe and Ito's palette, told apart with colour blindness)
and, for a series marked ``dashed`` (the holdout), a dash pattern, so they differ without colour too. A campaign
window (``Window``) is a shaded band edged with dotted lines, named in the legend and in the description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy, pgettext

__all__ = ["PALETTE", "Series", "Window", "legend_text", "line_chart", "nice_scale"]

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#999999")
# The palette's colours by name, for the legend in words (Okabe and Ito's own names, shortened).
COLOUR_NAMES = (
    gettext_lazy("blue"),
    gettext_lazy("vermilion"),
    gettext_lazy("green"),
    gettext_lazy("pink"),
    gettext_lazy("orange"),
    gettext_lazy("sky blue"),
    gettext_lazy("black"),
    gettext_lazy("grey"),
)
_MARGIN = {"top": 12, "right": 28, "bottom": 28, "left": 56}  # room for the last date
_LEGEND_ROW = 20
_X_TICKS = 6


@dataclass(frozen=True)
class Series:
    """One line: a value per day of the chart (``None`` where there is none: the line has a gap there)."""

    label: str
    values: Sequence[float | None]
    dashed: bool = False


@dataclass(frozen=True)
class Window:
    """Days something was shown (a campaign window), marked on the chart: ``first`` and ``last`` included, ``None``
    where the window is open on that side."""

    label: str
    first: date | None = None
    last: date | None = None

    def describe(self) -> str:
        """ "Black Friday: Nov 27 to Nov 29", for the legend and the chart's description."""
        if self.first is not None and self.last is not None:
            span = gettext("%(first)s to %(last)s") % {"first": _day(self.first), "last": _day(self.last)}
        elif self.first is not None:
            span = gettext("from %(date)s") % {"date": _day(self.first)}
        elif self.last is not None:
            span = gettext("until %(date)s") % {"date": _day(self.last)}
        else:
            span = ""
        return f"{self.label}: {span}" if span else self.label


def legend_text(series: Sequence[Series]) -> str:
    """The chart's legend in words, for readers who can't see the colours: "Lines: Sports fans (blue), Everyone
    (vermilion, dashed)." in the order ``line_chart`` draws them."""
    entries = []
    for number, line in enumerate(series):
        colour = str(COLOUR_NAMES[number % len(COLOUR_NAMES)])
        style = gettext("%(colour)s, dashed") % {"colour": colour} if line.dashed else colour
        entries.append(f"{line.label} ({style})")
    return gettext("Lines: %(lines)s.") % {"lines": ", ".join(entries)} if entries else ""


def nice_scale(highest: float, intervals: int = 4) -> tuple[float, float]:
    """(top, step) of an axis from 0 showing ``highest``: ``intervals`` steps of 1, 2, 2.5 or 5 times a power of 10."""
    if not highest > 0 or not math.isfinite(highest):
        return 1.0, 1.0 / intervals
    rough = highest / intervals
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough * (1 - 1e-9))
    return step * intervals, step


def _number(value: float, percent: bool, step: float) -> str:
    """``value`` with as many decimals as ``step`` needs (12.5%, 3,000)."""
    scale = 100 if percent else 1
    shown = step * scale
    digits = 0
    while digits < 4 and abs(round(shown, digits) - shown) > 1e-9 * max(1.0, shown):
        digits += 1
    # The editor's decimal and thousands marks; rounded first, as number_format cuts a float's digits off.
    text = number_format(round(value * scale, digits), digits, force_grouping=True)
    return text + "%" if percent else text


def _day(day: date) -> str:
    """ "Mar 1" in English; in the editor's language its own short month and order ("1 mar", "1. Mär")."""
    return date_format(day, pgettext("a day on a chart's axis: a date format (Django's date filter)", "M j"))


@dataclass(frozen=True)
class _Frame:
    """Where values and days go on the drawing: the plot area's edges and the value axis's scale."""

    days: Sequence[date]
    width: int
    height: int
    ceiling: float
    step: float

    @property
    def left(self) -> int:
        return _MARGIN["left"]

    @property
    def right(self) -> int:
        return self.width - _MARGIN["right"]

    @property
    def top(self) -> int:
        return _MARGIN["top"]

    @property
    def bottom(self) -> int:
        return self.height - _MARGIN["bottom"]

    def x(self, index: int) -> float:
        days = len(self.days)
        return self.left + (self.right - self.left) * (index / (days - 1) if days > 1 else 0.5)

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.ceiling


def line_chart(
    days: Sequence[date],
    series: Sequence[Series],
    *,
    title: str,
    description: str = "",
    percent: bool = False,
    width: int = 720,
    height: int = 240,
    chart_id: str = "chart",
    windows: Sequence[Window] = (),
) -> str:
    """The SVG of ``series`` over ``days`` (values as fractions when ``percent``), with axes, grid and a legend;
    ``windows`` (those that overlap ``days``) shaded behind the lines, in the legend and in the description.

    ``chart_id`` must be unique on the page (it names the title and description for ``aria-labelledby``).
    """
    for line in series:
        if len(line.values) != len(days):
            raise ValueError(f"series {line.label!r} has {len(line.values)} values for {len(days)} days")
    shown_windows = [window for window in windows if _overlaps(window, days)]
    entries = len(series) + len(shown_windows)
    legend_rows = math.ceil(entries / 3) if entries else 0
    full_height = height + legend_rows * _LEGEND_ROW
    values = [value for line in series for value in line.values if value is not None]
    frame = _Frame(days, width, height, *nice_scale(max(values, default=0.0)))
    ids = escape(chart_id)
    text = description or title
    if shown_windows:
        named = "; ".join(window.describe() for window in shown_windows)
        text += " " + gettext("Shaded: when a campaign window was open (%(windows)s).") % {"windows": named}
    parts = [
        f'<svg class="tailored-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {full_height}" '
        f'width="{width}" height="{full_height}" role="img" aria-labelledby="{ids}-title {ids}-desc">',
        f'<title id="{ids}-title">{escape(title)}</title>',
        f'<desc id="{ids}-desc">{escape(text)}</desc>',
        *_grid(frame, percent),
        *(part for window in shown_windows for part in _window(frame, window)),
    ]
    for number, line in enumerate(series):
        parts.extend(_line(frame, line, PALETTE[number % len(PALETTE)], percent))
    if entries:
        parts.extend(_legend(frame, series, shown_windows))
    parts.append("</svg>")
    return "".join(parts)


def _overlaps(window: Window, days: Sequence[date]) -> bool:
    return (
        bool(days)
        and (window.first is None or window.first <= days[-1])
        and (window.last is None or window.last >= days[0])
    )


def _window(frame: _Frame, window: Window) -> list[str]:
    """A window's band over its days (half a day's width beyond its first and last), dotted lines at its edges."""
    days = frame.days
    step = (frame.right - frame.left) / (len(days) - 1) if len(days) > 1 else (frame.right - frame.left)
    first = 0 if window.first is None else next((i for i, day in enumerate(days) if day >= window.first), 0)
    last = len(days) - 1
    if window.last is not None:
        last = max((i for i, day in enumerate(days) if day <= window.last), default=last)
    x1 = max(frame.left, frame.x(first) - step / 2)
    x2 = min(frame.right, frame.x(last) + step / 2)
    top, bottom = frame.top, frame.bottom
    parts = [
        f'<g class="tailored-chart-window" data-window="{escape(window.label)}">'
        f'<rect x="{x1:.1f}" y="{top}" width="{x2 - x1:.1f}" height="{bottom - top}" fill="#000" fill-opacity="0.07">'
        f"<title>{escape(window.describe())}</title></rect>"
    ]
    edges = [x for x, open_side in ((x1, window.first is None), (x2, window.last is None)) if not open_side]
    for x in edges:
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#555" stroke-width="1" '
            'stroke-dasharray="2 3"/>'
        )
    parts.append("</g>")
    return parts


def _grid(frame: _Frame, percent: bool) -> list[str]:
    """The value axis's levels and labels, the days' labels and the base line."""
    left, right, bottom = frame.left, frame.right, frame.bottom
    parts = ['<g class="tailored-chart-grid" font-size="11" fill="#555">']
    ticks = int(round(frame.ceiling / frame.step))
    for tick in range(ticks + 1):
        value = tick * frame.step
        level = frame.y(value)
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{level:.1f}" y2="{level:.1f}" stroke="#ddd" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{level + 4:.1f}" text-anchor="end">{_number(value, percent, frame.step)}</text>'
        )
    days = frame.days
    if days:
        count = len(days) if len(days) <= _X_TICKS + 2 else _X_TICKS  # every day of a week, else evenly spaced
        shown = sorted({round(i * (len(days) - 1) / (count - 1)) for i in range(count)} if count > 1 else {0})
        for index in shown:
            parts.append(
                f'<text x="{frame.x(index):.1f}" y="{bottom + 18}" text-anchor="middle">'
                f"{escape(_day(days[index]))}</text>"
            )
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#888" stroke-width="1"/></g>')
    return parts


def _line(frame: _Frame, line: Series, colour: str, percent: bool) -> list[str]:
    """One series: a polyline per run of days with a value (gaps where there is none), and a titled dot per value."""
    dash = ' stroke-dasharray="6 4"' if line.dashed else ""
    label = escape(line.label)
    parts = [f'<g class="tailored-chart-series" data-series="{label}">']
    run: list[str] = []
    for index, value in enumerate([*line.values, None]):
        if value is not None:
            run.append(f"{frame.x(index):.1f},{frame.y(value):.1f}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        run = []
    for index, value in enumerate(line.values):
        if value is None:
            continue
        point = f"{label}, {escape(_day(frame.days[index]))}: {_number(value, percent, frame.step / 10)}"
        parts.append(
            f'<circle cx="{frame.x(index):.1f}" cy="{frame.y(value):.1f}" r="3" fill="{colour}">'
            f"<title>{point}</title></circle>"
        )
    parts.append("</g>")
    return parts


def _legend(frame: _Frame, series: Sequence[Series], windows: Sequence[Window] = ()) -> list[str]:
    """Three entries a row under the chart: each series a short stretch of its line (dashed too) and its label,
    then each window a shaded square and its days."""
    parts = ['<g class="tailored-chart-legend" font-size="12" fill="#222">']
    column_width = (frame.right - frame.left) / 3
    for number, line in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        row, column = divmod(number, 3)
        lx, ly = frame.left + column * column_width, frame.height + row * _LEGEND_ROW + 4
        parts.append(
            f'<line x1="{lx:.1f}" x2="{lx + 24:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{colour}" '
            f'stroke-width="2"{dash}/><text x="{lx + 30:.1f}" y="{ly + 4:.1f}">{escape(line.label)}</text>'
        )
    for number, window in enumerate(windows, start=len(series)):
        row, column = divmod(number, 3)
        lx, ly = frame.left + column * column_width, frame.height + row * _LEGEND_ROW + 4
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 6:.1f}" width="24" height="12" fill="#000" fill-opacity="0.07" '
            f'stroke="#555" stroke-dasharray="2 3"/><text x="{lx + 30:.1f}" y="{ly + 4:.1f}">'
            f"{escape(window.describe())}</text>"
        )
    parts.append("</g>")
    return parts
