"""``topics/``, ``themes/``, ``layouts/``: what a visitor can choose from, and what they chose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ..conf import tailored_settings
from ..visitors.models import Topic
from ..visitors.request import visitor_context
from .base import VisitorAPIView
from .serializers import ChoiceSerializer, TopicSerializer

__all__ = [
    "LayoutsView",
    "ThemesView",
    "TopicsView",
]


@extend_schema(responses=TopicSerializer(many=True), summary="Topics a visitor can follow")
class TopicsView(VisitorAPIView):
    """Every topic in the visitor's language, and whether the visitor follows it. Cost: two queries."""

    def get(self, request: Request) -> Response:
        followed = set(visitor_context(request._request).snapshot.topics)
        descriptions = Topic.objects.descriptions()
        rows = [
            {"slug": slug, "name": name, "description": descriptions[slug], "followed": slug in followed}
            for slug, name in Topic.objects.names().items()
        ]
        return Response(TopicSerializer(rows, many=True).data)


def _choice_rows(choices: Mapping[str, Any], current: str) -> list[dict[str, Any]]:
    return [{"slug": slug, "label": str(label), "current": slug == current} for slug, label in choices.items()]


@extend_schema(responses=ChoiceSerializer(many=True), summary="Themes a visitor can choose")
class ThemesView(VisitorAPIView):
    """The themes a visitor can choose, and which one they see now."""

    def get(self, request: Request) -> Response:
        snapshot = visitor_context(request._request).snapshot
        return Response(
            ChoiceSerializer(_choice_rows(tailored_settings.THEMES, snapshot.effective_theme), many=True).data
        )


@extend_schema(responses=ChoiceSerializer(many=True), summary="Layouts a visitor can choose")
class LayoutsView(VisitorAPIView):
    """The layouts a visitor can choose, and which one they see now."""

    def get(self, request: Request) -> Response:
        snapshot = visitor_context(request._request).snapshot
        rows = _choice_rows(tailored_settings.LAYOUTS, snapshot.effective_layout)
        return Response(ChoiceSerializer(rows, many=True).data)
