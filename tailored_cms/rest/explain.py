"""``explain/``: why the visitor sees what the page's tailored areas show ("Why am I seeing this?")."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import cast

from django.utils.translation import gettext, ngettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from ..areas.explanation import describe, describe_variant, explain, load_areas
from ..areas.windows import is_live, live, moment
from ..context import VisitorContext
from ..recommendations.listing import explain_recommendations
from ..rules.models import Segment
from ..visitors.consent import tracking_allowed
from ..visitors.models import Topic
from ..visitors.request import visitor_context
from .base import VisitorAPIView
from .serializers import ExplainSerializer

__all__ = [
    "AREA_KEY",
    "MAX_EXPLAINED_AREAS",
    "ExplainView",
]


MAX_EXPLAINED_AREAS = 50  # a page with more tailored areas than this is asked about in parts
AREA_KEY = re.compile(r"^[-A-Za-z0-9_]{1,40}$")  # PluginSettings.key


def _area_keys(request: Request) -> list[str]:
    """The keys of ``?areas=<key>,<key>`` (repeating ``areas`` works too), in order, once each; else a 400."""
    values = request.query_params.getlist("areas")
    if not values:
        raise exceptions.ValidationError(
            {
                "areas": [
                    gettext("Name the areas to explain: ?areas=<key>,<key> (the page's data-tailored-area-key values).")
                ]
            }
        )
    keys = list(dict.fromkeys(key.strip() for value in values for key in value.split(",") if key.strip()))
    if len(keys) > MAX_EXPLAINED_AREAS:
        message = ngettext(
            "At most %(count)s area at once, not %(asked)s.",
            "At most %(count)s areas at once, not %(asked)s.",
            MAX_EXPLAINED_AREAS,
        )
        raise exceptions.ValidationError({"areas": [message % {"count": MAX_EXPLAINED_AREAS, "asked": len(keys)}]})
    bad = [key for key in keys if not AREA_KEY.match(key)]
    if bad:
        named = ", ".join(repr(key[:40]) for key in bad[:5])
        raise exceptions.ValidationError(
            {
                "areas": [
                    gettext("Not an area key: %(keys)s. Keys are 1 to 40 letters, digits, '-' and '_'.")
                    % {"keys": named}
                ]
            }
        )
    return keys


@extend_schema(
    parameters=[
        OpenApiParameter(
            "areas",
            str,
            required=True,
            description=f"Comma-separated keys of the page's tailored areas (data-tailored-area-key), "
            f"at most {MAX_EXPLAINED_AREAS}.",
        )
    ],
    responses={200: ExplainSerializer, 400: OpenApiResponse(description="No areas named, too many, or a bad key.")},
    summary="Why the visitor sees what the page's tailored areas show",
)
class ExplainView(VisitorAPIView):
    """Per area: the strategy, the variants the visitor sees and why (``areas.explanation``).

    Keys that name no area (a page cached before an area was deleted) are listed under ``unknown``, not an
    error. Cost: 3 queries (the areas, their variants, the names of the topics), a 4th for the names of
    segments if the visitor is in any or a shown variant is for some; no Redis; asked
    when a visitor opens "Why am I seeing this?", never on the page's own request.
    """

    def get(self, request: Request) -> Response:
        keys = _area_keys(request)
        # The web edge's full request.tailored (visitor_context names only what lower layers use).
        context = cast(VisitorContext, visitor_context(request._request))
        snapshot = context.snapshot
        loaded = load_areas(keys)
        # "Recommended pages" lists loaded after the page say how they were made (one query, one Redis round trip).
        recommended = explain_recommendations(
            keys, context.visitor_id, tracking_allowed(request._request, snapshot), snapshot.topics
        )
        segments = context.segments(request._request)
        explained = []
        at = moment(request._request)
        for key in keys:
            if key not in loaded:
                continue
            area, all_variants = loaded[key]
            if not is_live(area, at):
                continue  # outside its campaign window: not on the page
            variants = list(live(all_variants, at))
            held_out = context.in_holdout(area.key, area.holdout_percent)  # a static area says so first
            optimized = area.strategy_class.allocated_variant(area.key, variants, context.visitor_id)
            explanation = explain(area.strategy, variants, snapshot, area.max_items, segments, held_out, optimized)
            explained.append((key, area, explanation))
        # Named in the visitor's language: the topics they follow and those the shown variants are for; the same
        # for segments. Editors' labels (of areas and variants) are never shown to visitors.
        shown = [variant for _key, _area, explanation in explained for variant in explanation.shown]
        topic_slugs = {*snapshot.topics, *(slug for variant in shown for slug in variant.topics)}
        segment_slugs = {*segments, *(slug for variant in shown for slug in variant.segments)}
        topics = Topic.objects.filter(slug__in=topic_slugs).names() if explained else {}
        segment_names = Segment.objects.filter(slug__in=segment_slugs).names() if explained and segment_slugs else {}
        areas: list[dict[str, object]] = [
            {
                "key": key,
                "strategy": area.strategy,
                "shown": [
                    {"text": describe_variant(variant, {**topics, **segment_names}), "fallback": variant.fallback}
                    for variant in explanation.shown
                ],
                "reasons": [
                    {**asdict(reason), "text": describe(reason, segment_names if reason.segments else topics)}
                    for reason in explanation.reasons
                ],
            }
            for key, area, explanation in explained
        ]
        areas += [
            {"key": key, "strategy": "recommendations", "shown": [{"text": text, "fallback": False}], "reasons": []}
            for key, text in recommended.items()
        ]
        document = {
            "areas": areas,
            "unknown": [key for key in keys if key not in loaded and key not in recommended],
            "tracking": tracking_allowed(request._request, snapshot),
        }
        return Response(ExplainSerializer(document).data)
