"""The results pages in the admin (*Tailored content → Results*), for staff with ``tailored_cms.view_results``.

- ``/admin/tailored_cms/variantstats/``: every area with its figures over the last 7, 30 or 90 days, the figures
  by language, and the segments' sizes over time;
- ``…/<area key>/``: one area per path, per variant and per language, the lift of tailoring over the holdout,
  charts per day;
- ``…/<area key>/end/?winner=<variant key>``: ending an experiment with its winner (``ending``), asked to confirm
  (GET), done (POST), by staff who may also change the area;
- ``…/export.csv`` (``?area=<key>`` for one area): the per-day rows.

Every page takes ``?language=<code>`` (one of ``LANGUAGES``): the figures of pages in that language only.

Nothing here runs on a visitor's request; each page costs a constant number of queries (``report``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..areas.models import may_see_results
from ..areas.selection import HOLDOUT, SelectionPath
from ..areas.strategies import get_strategy
from ..areas.strategies.experiment import Experiment
from ..areas.strategies.optimize import Optimize
from ..languages import language_name, site_language, site_languages
from ..rules import request_time
from ..rules.active import refresh_active_segments
from .chart import Series, legend_text, line_chart
from .ending import AFTER, Refused, editable_copies, end_experiment, winner_of
from .models import ExperimentEnd, VariantStats
from .quizzes import quiz_results
from .report import (
    DEFAULT_DAYS,
    RANGES,
    AreaResults,
    Counts,
    area_results,
    by_language,
    language_label,
    segment_sizes,
)
from .sentence import count_text, metric_text, probability_text, sentence
from .stats import Interval, Lift, Rate
from .verdict import Outcome, Verdict, verdict

__all__ = ["ResultsAdmin", "csv_rows", "percent"]

CSV_COLUMNS = (
    "day",
    "area",
    "area_label",
    "variant",
    "variant_label",
    "path",
    "language",
    "impressions",
    "clicks",
    "conversions",
)


def percent(value: float | None) -> str:
    """0.1234 -> "12.3%" ("12,3%" where the editor's language writes a decimal comma); nothing -> "–"."""
    return "–" if value is None else f"{decimal(value * 100, 1)}%"


def decimal(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` decimals, written the editor's way (12.3, or 12,3 with a decimal comma).

    Rounded here: Django's number_format cuts a float's further digits off instead of rounding them.
    """
    return number_format(round(value, digits), digits)


def _signed(value: float, digits: int) -> str:
    """+1.5, -0.3: a sign always, the number in the editor's format."""
    return ("-" if value < 0 else "+") + decimal(abs(value), digits)


def interval_text(interval: Interval | None) -> str:
    if interval is None:
        return ""
    return f"{decimal(interval.low * 100, 1)}–{decimal(interval.high * 100, 1)}%"


def rate_cell(rate: Rate) -> dict[str, str]:
    """A rate and its 95% interval, for a table cell."""
    return {"value": percent(rate.value), "interval": interval_text(rate.interval)}


def lift_cell(found: Lift | None) -> dict[str, Any] | None:
    """The lift in percentage points with its interval, and relative; ``None`` without both groups."""
    if found is None:
        return None
    relative = "" if found.relative is None else f"{_signed(found.relative * 100, 0)}%"
    low, high = _signed(found.interval.low * 100, 1), _signed(found.interval.high * 100, 1)
    return {
        "points": _signed(found.difference * 100, 1),
        "interval": _("%(low)s to %(high)s") % {"low": low, "high": high},
        "relative": relative,
        "significant": found.significant,
        "better": found.difference > 0,
    }


def counts_row(counts: Counts) -> dict[str, Any]:
    return {
        "impressions": counts.impressions,
        "clicks": counts.clicks,
        "ctr": rate_cell(counts.ctr),
        "conversions": counts.conversions,
        "conversion_rate": rate_cell(counts.conversion_rate),
    }


def csv_rows(results: Sequence[AreaResults]) -> list[list[Any]]:
    """The per-day rows of ``results`` (``CSV_COLUMNS``), oldest day first per area."""
    rows: list[list[Any]] = []
    for area in results:
        for day, line in area.daily_rows():
            counts = line.counts
            rows.append(
                [
                    day.isoformat(),
                    area.key,
                    _cell(area.label),
                    line.variant,
                    _cell(line.label),
                    line.path,
                    line.language,
                    counts.impressions,
                    counts.clicks,
                    counts.conversions,
                ]
            )
    return rows


def _cell(text: str) -> str:
    # A label starting with = + - @ would be a formula to a spreadsheet opening the file.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def chosen_days(request: HttpRequest) -> int:
    """``?days=`` if it is one of ``RANGES``, else the default (the page offers only those)."""
    try:
        days = int(request.GET.get("days", DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return days if days in RANGES else DEFAULT_DAYS


def chosen_language(request: HttpRequest) -> str | None:
    """``?language=`` if it is one of the site's languages, else None: every language (the page offers only those)."""
    return site_language(request.GET.get("language")) or None


def language_rows(by_language: dict[str, Counts]) -> list[dict[str, Any]]:
    return [
        {"language": code, "label": language_label(code), **counts_row(counts)} for code, counts in by_language.items()
    ]


def area_charts(area: AreaResults, paths: list[str]) -> list[dict[str, Any]]:
    """The area's rate charts per day, one line per path: click-through, and conversion when it has a goal."""
    charts = []
    rates = [("ctr", _("Click-through rate per day, by path"))]
    if area.goal:
        rates.append(("conversion_rate", _("Conversion rate per day (goal: %(goal)s), by path") % {"goal": area.goal}))
    for attribute, title in rates:
        series = [
            Series(path_label(p), [getattr(c, attribute).value for c in area.per_day(p)], dashed=p == HOLDOUT)
            for p in paths
        ]
        svg = line_chart(
            area.days,
            series,
            title=f"{title}, {area.label}",
            description=_("One line per path; days without impressions are gaps. The table below has the figures."),
            percent=True,
            chart_id=f"chart-{attribute}",
            windows=area.windows,
        )
        charts.append({"title": title, "svg": mark_safe(svg), "legend": legend_text(series)})  # noqa: S308
    return charts


def share_chart(area: AreaResults) -> dict[str, Any] | None:
    """An optimize area's share of views per variant and day (``None`` without optimized views): how its
    allocation moved visitors towards what works. With a row per day for the table beside it."""
    variants = [line.variant for line in area.lines if line.path == SelectionPath.OPTIMIZED and line.variant]
    if not variants:
        return None
    views: dict[tuple[Any, str], int] = {}
    for (day, variant, line_path, _language), counts in area.daily.items():
        if line_path == SelectionPath.OPTIMIZED:
            views[(day, variant)] = views.get((day, variant), 0) + counts.impressions
    totals = [sum(views.get((day, variant), 0) for variant in variants) for day in area.days]
    shares = {
        variant: [
            views.get((day, variant), 0) / total if total else None
            for day, total in zip(area.days, totals, strict=True)
        ]
        for variant in variants
    }
    series = [Series(area.variant_label(variant), shares[variant]) for variant in variants]
    title = _("Share of views per variant and day")
    svg = line_chart(
        area.days,
        series,
        title=f"{title}, {area.label}",
        description=_("One line per variant: its share of the views the optimize strategy allocated that day."),
        percent=True,
        chart_id="chart-shares",
    )
    rows = [
        {"day": day, "shares": [percent(shares[variant][index]) for variant in variants]}
        for index, day in enumerate(area.days)
        if totals[index]
    ]
    return {
        "title": title,
        "svg": mark_safe(svg),  # noqa: S308 - escaped by chart.line_chart
        "legend": legend_text(series),
        "labels": [area.variant_label(variant) for variant in variants],
        "rows": rows,
    }


def current_allocation(area: AreaResults) -> dict[str, float]:
    """An optimize area's share of buckets per variant now, by key ({} before the first allocation). One Redis
    round trip, only for an optimize area."""
    refresh_active_segments()
    allocation = request_time.active_segments().allocations.get(area.key) or ()
    return {key: allocation.count(key) / len(allocation) for key in dict.fromkeys(allocation)}


def verdict_rows(found: Verdict, allocation: dict[str, float]) -> list[dict[str, Any]]:
    """The groups the verdict compares, most likely best first: probability, rate and interval, views, share now."""
    return [
        {
            "key": contender.key,
            "label": contender.label,
            "probability": probability_text(contender.probability),
            "rate": rate_cell(contender.rate),
            "views": count_text(contender.rate.trials),
            "allocated": percent(allocation[contender.key]) if contender.key in allocation else "–",
        }
        for contender in found.contenders
    ]


@admin.register(VariantStats)
class ResultsAdmin(admin.ModelAdmin):
    """Not a list of rows: the results pages, under the model's admin URLs (and in the admin index as Results)."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_see_results(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view  # staff only, else the login page
        return [
            path("", wrap(self.changelist_view), name=f"{name}_changelist"),
            path("export.csv", wrap(self.export_view), name=f"{name}_export"),
            path("<slug:key>/", wrap(self.area_view), name=f"{name}_area"),
            path("<slug:key>/end/", wrap(self.end_view), name=f"{name}_end"),
        ]

    def check_permission(self, request: HttpRequest) -> None:
        if not may_see_results(request.user):
            raise PermissionDenied(_("Seeing results needs the “Can see the results of tailoring” permission."))

    def url(self, view: str, days: int, language: str | None = None, **kwargs: str) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}"
        query: dict[str, str | int] = {"days": days} if view != "export" else {**kwargs, "days": days}
        if language:
            query["language"] = language
        return reverse(name, kwargs=kwargs if view in ("area", "end") else None) + "?" + urlencode(query)

    def page(
        self, request: HttpRequest, template: str, title: str, days: int, language: str | None, **context: Any
    ) -> TemplateResponse:
        ranges = [
            {"days": option, "url": "?" + urlencode(_query(option, language)), "current": option == days}
            for option in RANGES
        ]
        languages = [{"label": _("All languages"), "url": "?" + urlencode(_query(days, None)), "current": not language}]
        languages += [
            {"label": language_name(code), "url": "?" + urlencode(_query(days, code)), "current": code == language}
            for code in site_languages()
        ]
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "days": days,
                "ranges": ranges,
                "languages": languages,
                "index_url": self.url("changelist", days, language),
                **context,
            },
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        """Every area with its totals and lift, the figures by language; the quizzes; the segments' sizes over
        time. Cost: 7 queries (10 with quiz figures)."""
        self.check_permission(request)
        days = chosen_days(request)
        language = chosen_language(request)
        results = area_results(days, language=language)
        rows = [
            {
                "area": area,
                "url": self.url("area", days, language, key=area.key),
                **counts_row(area.total),
                "ctr_lift": lift_cell(area.ctr_lift),
                "conversion_lift": lift_cell(area.conversion_lift),
                "lift": lift_cell(area.conversion_lift if area.goal else area.ctr_lift),  # what the area aims at
            }
            for area in results
        ]
        quizzes = [
            {
                "quiz": quiz,
                "takers_ctr": rate_cell(quiz.takers_ctr),
                "skippers_ctr": rate_cell(quiz.skippers_ctr),
            }
            for quiz in quiz_results(days)
        ]
        dates, histories = segment_sizes(days)
        sizes_chart = ""
        if histories:
            sizes_chart = line_chart(
                dates,
                [
                    Series(history.name, [float(s) if s is not None else None for s in history.sizes])
                    for history in histories
                ],
                title=_("Segment sizes per day, last %(days)d days") % {"days": days},
                description=_("Members of each segment at the day's last recompute; the table below has the figures."),
                chart_id="segment-sizes",
            )
        return self.page(
            request,
            "tailored_cms/results/index.html",
            _("Results"),
            days,
            language,
            rows=rows,
            quizzes=quizzes,
            languages_split=language_rows(by_language(results)),
            export_url=self.url("export", days, language),
            histories=histories,
            size_rows=list(zip(dates, zip(*(history.sizes for history in histories), strict=True), strict=True))
            if histories
            else [],
            sizes_chart=mark_safe(sizes_chart),  # noqa: S308 - built from escaped text (chart.line_chart)
        )

    def _chosen_area(self, request: HttpRequest, key: str) -> tuple[AreaResults, int, str | None]:
        """The area with ``key`` over the days and in the language the request asks for, and those two; 404 if no
        area has that key."""
        days = chosen_days(request)
        language = chosen_language(request)
        found = area_results(days, key=key, language=language)
        if not found:
            raise Http404(_("No tailored area with key “%(key)s”.") % {"key": key})
        return found[0], days, language

    def area_view(self, request: HttpRequest, key: str) -> TemplateResponse:
        """One area per path, variant and language, its lift over the holdout, and per day; the last experiment
        ended here. Cost: 6 queries."""
        self.check_permission(request)
        area, days, language = self._chosen_area(request, key)
        paths = list(area.by_path)
        charts = area_charts(area, paths)
        found_verdict = verdict(area)
        allocation = current_allocation(area) if isinstance(get_strategy(area.strategy), Optimize) else {}
        ended = ExperimentEnd.objects.filter(area=area.key).first()
        winner = found_verdict.leader.key if offers_end(area, found_verdict, ended) and found_verdict.leader else ""
        daily = (
            [
                {"day": day, "paths": [counts_row(counts) for counts in per_path]}
                for day, per_path in zip(area.days, zip(*(area.per_day(p) for p in paths), strict=True), strict=True)
            ]
            if paths
            else []
        )
        return self.page(
            request,
            "tailored_cms/results/area.html",
            _("Results: %(area)s") % {"area": area.label},
            days,
            language,
            area=area,
            verdict=found_verdict,
            sentence=sentence(found_verdict),
            ended=ended,
            ended_pending=ended is not None and isinstance(get_strategy(area.strategy), Experiment),
            end_url=self.url("end", days, language, key=area.key) + "&" + urlencode({"winner": winner})
            if winner
            else "",
            winner_label=area.variant_label(winner),
            metric=metric_text(area.goal),
            verdict_rows=verdict_rows(found_verdict, allocation),
            has_allocation=bool(allocation),
            shares=share_chart(area),
            paths=[{"path": p, "label": path_label(p), **counts_row(c)} for p, c in area.by_path.items()],
            lines=[
                {"line": line, "path_label": path_label(line.path), **counts_row(line.counts)} for line in area.lines
            ],
            languages_split=language_rows(area.by_language),
            language_lines=[
                {"line": line, "language_label": language_label(line.language), "path_label": path_label(line.path)}
                | counts_row(line.counts)
                for line in area.language_lines
            ],
            outside=counts_row(area.outside_holdout),
            holdout=counts_row(area.holdout),
            has_holdout_figures=area.holdout.impressions > 0,
            ctr_lift=lift_cell(area.ctr_lift),
            conversion_lift=lift_cell(area.conversion_lift),
            charts=charts,
            path_labels=[path_label(p) for p in paths],
            daily=daily,
            export_url=self.url("export", days, language, area=area.key),
            area_admin_url=reverse("admin:tailored_cms_tailoredarea_changelist") + "?" + urlencode({"q": area.label})
            if area.on_site
            else "",
        )

    def end_view(self, request: HttpRequest, key: str) -> HttpResponse:
        """GET ``?winner=<variant key>``: what ending the experiment with that winner does, and a button to do it;
        POST ``winner``: do it, then back to the area's results. 403 without the permission to see results or to
        change the area; 400 if the figures don't name that winner or the area is no experiment."""
        self.check_permission(request)
        area, days, language = self._chosen_area(request, key)
        winner = (request.POST if request.method == "POST" else request.GET).get("winner", "")
        back = self.url("area", days, language, key=area.key)
        context: dict[str, Any] = {"winner": winner, "winner_label": area.variant_label(winner), "back_url": back}
        try:
            if request.method == "POST":
                ended = end_experiment(request, area, winner)
                messages.success(request, ended_message(area, ended.record.winner_label, ended.to_publish))
                return HttpResponseRedirect(back)
            editable_copies(request.user, area)
            found_verdict = winner_of(area, winner)
        except Refused as refusal:
            return self.end_page(request, area, status=refusal.status, refusal=refusal.message, **context)
        return self.end_page(
            request, area, sentence=sentence(found_verdict), after=get_strategy(AFTER).short_label(), **context
        )

    def end_page(self, request: HttpRequest, area: AreaResults, status: int = 200, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            "tailored_cms/results/end.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("End the experiment “%(area)s”") % {"area": area.label},
                "area": area,
                "index_url": self.url("changelist", DEFAULT_DAYS),
                **context,
            },
            status=status,
        )

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The per-day rows as CSV, of one area (``?area=``) or all, in every language or one (``?language=``)."""
        self.check_permission(request)
        days = chosen_days(request)
        language = chosen_language(request)
        key = request.GET.get("area") or None
        results = area_results(days, key=key, language=language)
        if key is not None and not results:
            raise Http404(_("No tailored area with key “%(key)s”.") % {"key": key})
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"tailored-results-{key or 'all'}{'-' + language if language else ''}-{days}-days.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(results))
        return response


def offers_end(area: AreaResults, found: Verdict, ended: ExperimentEnd | None) -> bool:
    """Whether the area's results offer to end its experiment: the figures name a winner of an experiment area
    visitors meet, not already ended since the area last changed (with djangocms-versioning, ended in a draft
    not yet published)."""
    return (
        found.outcome == Outcome.WINNER
        and not found.holdout
        and area.on_site
        and isinstance(get_strategy(area.strategy), Experiment)
        and (ended is None or area.changed_at is None or area.changed_at > ended.ended_at)
    )


def ended_message(area: AreaResults, winner: str, to_publish: list[str]) -> str:
    """What the editor reads after ending an experiment: what changed, and which pages to publish for visitors."""
    said = _(
        "The experiment “%(area)s” has ended: “%(winner)s” is its fallback, shown to everyone (strategy: %(strategy)s)."
    ) % {"area": area.label, "winner": winner, "strategy": get_strategy(AFTER).short_label()}
    if to_publish:
        pages = ", ".join(f"“{title}”" for title in to_publish)
        said += " " + ngettext(
            "This changed the draft of the page %(pages)s: publish it for visitors to see the change.",
            "This changed the drafts of the pages %(pages)s: publish them for visitors to see the change.",
            len(to_publish),
        ) % {"pages": pages}
    return said


PATH_LABELS = {
    "customized": gettext_lazy("Customized: their choices"),
    "personalized": gettext_lazy("Personalized: their segments"),
    "optimized": gettext_lazy("Optimized"),
    "experiment": gettext_lazy("Experiment: a fixed split"),
    "fallback": gettext_lazy("Fallback: nothing matched"),
    "holdout": gettext_lazy("Holdout"),
}


def path_label(path: str) -> str:
    return str(PATH_LABELS.get(path, path))


def _query(days: int, language: str | None) -> dict[str, str | int]:
    """A results page's query: its range, and its language when one is chosen."""
    return {"days": days, "language": language} if language else {"days": days}
