"""``recommendations/``: the pages a *Recommended pages* plugin lists for this visitor, each with why.

The page itself holds the plugin's popular list (the same for everyone, so the page and placeholder caches keep
working); ``recommendations.js`` replaces it with this answer, which is private to the visitor.
"""

from __future__ import annotations

from typing import cast

from cms.utils import get_current_site
from django.utils.translation import gettext, override
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from ..context import VisitorContext
from ..recommendations.listing import listing
from ..recommendations.models import RecommendedPages
from ..visitors.consent import tracking_allowed
from ..visitors.request import visitor_context
from .base import VisitorAPIView
from .serializers import RecommendationsSerializer

__all__ = ["RecommendationsView"]


def _number(request: Request, name: str, *, required: bool) -> int | None:
    """``?name=<positive integer>``; a 400 naming the parameter otherwise."""
    value = request.query_params.get(name, "").strip()
    if not value and not required:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise exceptions.ValidationError({name: [gettext("Expected a positive whole number (an id).")]})
    return int(value)


@extend_schema(
    parameters=[
        OpenApiParameter("plugin", int, required=True, description="The plugin's id (data-tailored-recommendations)."),
        OpenApiParameter("page", int, required=False, description="The page the visitor is on: never listed."),
    ],
    responses={
        200: RecommendationsSerializer,
        400: OpenApiResponse(description="No plugin id, or an id or page that is no positive whole number."),
        404: OpenApiResponse(description="No Recommended pages plugin with this id."),
    },
    summary="The pages recommended to the visitor, each with why",
)
class RecommendationsView(VisitorAPIView):
    """Per the plugin's settings and the visitor's consent (``recommendations.listing``). Cost: one Redis round
    trip besides the middleware's and five queries; asked after the page, never on its own request."""

    def get(self, request: Request) -> Response:
        plugin_id = _number(request, "plugin", required=True)
        page_id = _number(request, "page", required=False)
        plugin = RecommendedPages.objects.filter(pk=plugin_id, plugin_type="RecommendedPagesPlugin").first()
        if plugin is None:
            raise exceptions.NotFound(gettext("No recommended pages with this id."))
        context = cast(VisitorContext, visitor_context(request._request))
        snapshot = context.snapshot
        with override(plugin.language):
            found = listing(
                plugin,
                visitor_id=context.visitor_id,
                tracked=tracking_allowed(request._request, snapshot),
                followed=snapshot.topics,
                language=plugin.language,
                site_id=get_current_site(request._request).pk,
                exclude_page_id=page_id,
            )
        document = {
            "area": plugin.area_key,
            "path": found.path,
            "variant": found.variant,
            "language": plugin.language,
            "explanation": found.explanation,
            "pages": [
                {"id": e.page_id, "title": e.title, "url": e.url, "reason": e.reason, "kind": e.kind}
                for e in found.entries
            ],
        }
        return Response(RecommendationsSerializer(document).data)
