"""Results in the REST API, for staff: ``stats/`` gives the figures the results pages show, as JSON, for every
language of the site's pages or one (``?language=``), and split by language.

Staff with ``tailored_cms.view_results`` only (the session of a user signed in to the admin); a GET, so no CSRF
token. Cost: the results pages' queries (``results.report.area_results``), no Redis.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..areas.models import PERMISSION_RESULTS, may_see_results
from ..areas.selection import PATHS
from ..languages import site_languages
from ..results.report import DEFAULT_DAYS, RANGES, AreaResults, Counts, area_results, period
from ..results.stats import Lift, Rate
from .base import VisitorAPIView
from .segments import StaffAuthentication

__all__ = ["CanSeeResults", "StatsSerializer", "StatsView", "stats_document"]

AREA_KEY = re.compile(r"[-A-Za-z0-9_]{1,40}")  # PluginSettings.key
DAYS = re.compile(r"[0-9]{1,3}")


class CanSeeResults(BasePermission):
    """A staff user who may see results (``tailored_cms.view_results``)."""

    message = format_lazy(
        _("Only staff with the permission to see results ({permission}) may do this."), permission=PERMISSION_RESULTS
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_see_results(request.user)


class RateSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="The rate as a fraction (0.05 is 5%); null: no trials.")
    low = serializers.FloatField(allow_null=True, help_text="The 95% Wilson interval's lower bound.")
    high = serializers.FloatField(allow_null=True, help_text="Its upper bound.")


class FiguresSerializer(serializers.Serializer):
    impressions = serializers.IntegerField(help_text="Times shown to visitors who may be tracked (the beacon's).")
    clicks = serializers.IntegerField(help_text="Clicks inside the variant.")
    conversions = serializers.IntegerField(help_text="Impressions followed by the area's goal event (0 without one).")
    ctr = RateSerializer(help_text="Clicks per impression (at most one per impression counts).")
    conversion_rate = RateSerializer(help_text="Conversions per impression.")


class PathFiguresSerializer(FiguresSerializer):
    path = serializers.ChoiceField(choices=list(PATHS), help_text="What put the variants there.")


class VariantFiguresSerializer(PathFiguresSerializer):
    variant = serializers.CharField(allow_blank=True, help_text='The variant\'s key; "" when the area showed nothing.')
    label = serializers.CharField(help_text="The editor's name for it (its key once it is deleted).")  # type: ignore[assignment]  # not Field.label


class LanguageFiguresSerializer(FiguresSerializer):
    language = serializers.CharField(
        allow_blank=True, help_text='A code of LANGUAGES: the pages\' language; "" when the beacon named none of them.'
    )


class LanguageVariantFiguresSerializer(VariantFiguresSerializer):
    language = serializers.CharField(allow_blank=True)


class LiftSerializer(serializers.Serializer):
    difference = serializers.FloatField(help_text="Rate outside the holdout minus the holdout's (0.01: one point).")
    low = serializers.FloatField(help_text="Newcombe's 95% interval of the difference, lower bound.")
    high = serializers.FloatField(help_text="Upper bound.")
    relative = serializers.FloatField(allow_null=True, help_text="The difference over the holdout's rate.")
    significant = serializers.BooleanField(help_text="The interval excludes 0.")


class LiftsSerializer(serializers.Serializer):
    ctr = LiftSerializer(allow_null=True, help_text="null without impressions both in and outside the holdout.")
    conversion_rate = LiftSerializer(allow_null=True, help_text="null also when the area has no goal.")


class DayFiguresSerializer(serializers.Serializer):
    day = serializers.DateField()
    variant = serializers.CharField(allow_blank=True)
    path = serializers.ChoiceField(choices=list(PATHS))
    language = serializers.CharField(allow_blank=True)
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()


class AreaStatsSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The area's key (data-tailored-area-key).")
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    page = serializers.CharField(help_text="The title of its page; empty if it is no longer on one.")
    strategy = serializers.CharField()
    goal = serializers.CharField(allow_blank=True, help_text="The event counted as a conversion; empty: clicks only.")
    holdout_percent = serializers.IntegerField()
    on_site = serializers.BooleanField(help_text="false: no published area has this key now; its figures stay.")
    total = FiguresSerializer()
    paths = PathFiguresSerializer(many=True, help_text="Per path, every variant together.")
    variants = VariantFiguresSerializer(many=True, help_text="Per variant and path.")
    languages = LanguageFiguresSerializer(many=True, help_text="Per language of the pages, every variant together.")
    language_variants = LanguageVariantFiguresSerializer(many=True, help_text="Per language, variant and path.")
    lift = LiftsSerializer(help_text="Everyone outside the holdout against the holdout.")
    daily = DayFiguresSerializer(
        many=True, help_text="The counters per day, variant, path and language (days with figures)."
    )


class StatsSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="The range: the last 7, 30 or 90 days, today included.")
    start = serializers.DateField(help_text="Its first day (the site's time zone).")
    end = serializers.DateField(help_text="Its last day: today.")
    language = serializers.CharField(allow_null=True, help_text="The language asked for; null: every language.")
    areas = AreaStatsSerializer(many=True)


def _rate(rate: Rate) -> dict[str, float | None]:
    interval = rate.interval
    return {
        "value": rate.value,
        "low": interval.low if interval else None,
        "high": interval.high if interval else None,
    }


def _figures(counts: Counts) -> dict[str, Any]:
    return {
        "impressions": counts.impressions,
        "clicks": counts.clicks,
        "conversions": counts.conversions,
        "ctr": _rate(counts.ctr),
        "conversion_rate": _rate(counts.conversion_rate),
    }


def _lift(found: Lift | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "difference": found.difference,
        "low": found.interval.low,
        "high": found.interval.high,
        "relative": found.relative,
        "significant": found.significant,
    }


def _area(area: AreaResults) -> dict[str, Any]:
    return {
        "key": area.key,
        "label": area.label,
        "page": area.page,
        "strategy": area.strategy,
        "goal": area.goal,
        "holdout_percent": area.holdout_percent,
        "on_site": area.on_site,
        "total": _figures(area.total),
        "paths": [{"path": path, **_figures(counts)} for path, counts in area.by_path.items()],
        "variants": [
            {"variant": line.variant, "label": line.label, "path": line.path, **_figures(line.counts)}
            for line in area.lines
        ],
        "languages": [{"language": code, **_figures(counts)} for code, counts in area.by_language.items()],
        "language_variants": [
            {
                "language": line.language,
                "variant": line.variant,
                "label": line.label,
                "path": line.path,
                **_figures(line.counts),
            }
            for line in area.language_lines
        ],
        "lift": {"ctr": _lift(area.ctr_lift), "conversion_rate": _lift(area.conversion_lift)},
        "daily": [
            {
                "day": day,
                "variant": line.variant,
                "path": line.path,
                "language": line.language,
                "impressions": line.counts.impressions,
                "clicks": line.counts.clicks,
                "conversions": line.counts.conversions,
            }
            for day, line in area.daily_rows()
        ],
    }


def stats_document(days: int, key: str | None = None, language: str | None = None) -> dict[str, Any]:
    """The ``stats/`` answer: the results of every area (or of ``key``) over the last ``days`` days, on pages in
    every language or in ``language``."""
    results = area_results(days, key=key, language=language)
    dates = results[0].days if results else period(days)
    return {
        "days": days,
        "start": dates[0],
        "end": dates[-1],
        "language": language,
        "areas": [_area(area) for area in results],
    }


_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_FIELDS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}


@extend_schema(
    auth=[{"staffSession": []}, {}],  # type: ignore[list-item]  # security requirements, whatever the annotation says
    parameters=[
        OpenApiParameter(
            "area",
            str,
            pattern=AREA_KEY.pattern,
            description="One area's key (data-tailored-area-key); without it, every area.",
        ),
        OpenApiParameter("days", int, enum=list(RANGES), default=DEFAULT_DAYS, description="The range: last N days."),
        OpenApiParameter(
            "language", str, description="A code of the site's LANGUAGES: figures of pages in that language only."
        ),
    ],
    responses={
        200: StatsSerializer,
        400: OpenApiResponse(
            _FIELDS, description='A bad parameter, named: {"days": ["Choose 7, 30 or 90 …"]}, {"language": [...]}.'
        ),
        403: OpenApiResponse(_DETAIL, description=f"Not staff with {PERMISSION_RESULTS}."),
        404: OpenApiResponse(_DETAIL, description="No area with that key, nor figures of one."),
    },
    summary="Results per area, variant, path and language (staff)",
)
class StatsView(VisitorAPIView):
    """Impressions, clicks, conversions, their rates and intervals, and the lift over the holdout, per area."""

    authentication_classes = [StaffAuthentication]
    permission_classes = [CanSeeResults]

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> NoReturn:
        raise exceptions.PermissionDenied(CanSeeResults.message)

    def get(self, request: Request) -> Response:
        days, key, language = self.parameters(request)
        document = stats_document(days, key, language)
        if key is not None and not document["areas"]:
            raise exceptions.NotFound(gettext("No tailored area with key %(key)r, nor figures of one.") % {"key": key})
        return Response(StatsSerializer(document).data)

    @staticmethod
    def parameters(request: Request) -> tuple[int, str | None, str | None]:
        """``days`` (7, 30 or 90), ``area`` (a key, or None for all) and ``language`` (a code of ``LANGUAGES``, or
        None for all); else a 400 naming the parameter."""
        errors: dict[str, list[str]] = {}
        raw_days = request.query_params.get("days")
        days = DEFAULT_DAYS
        if raw_days is not None:
            if DAYS.fullmatch(raw_days) and int(raw_days) in RANGES:
                days = int(raw_days)
            else:
                errors["days"] = [
                    gettext("Choose %(ranges)s or %(last)s (days), not %(value)r.")
                    % {"ranges": ", ".join(map(str, RANGES[:-1])), "last": RANGES[-1], "value": raw_days[:20]}
                ]
        key = request.query_params.get("area")
        if key is not None and not AREA_KEY.fullmatch(key):
            errors["area"] = [
                gettext("Not an area key: %(keys)s. Keys are 1 to 40 letters, digits, '-' and '_'.")
                % {"keys": repr(key[:40])}
            ]
        raw_language = request.query_params.get("language")
        language = None
        if raw_language is not None:
            language = raw_language if raw_language in site_languages() else None
            if language is None:
                errors["language"] = [
                    gettext("Not a language of the site: %(value)r. Its languages: %(known)s.")
                    % {"value": raw_language[:20], "known": ", ".join(site_languages())}
                ]
        if errors:
            raise exceptions.ValidationError(errors)
        return days, key, language
