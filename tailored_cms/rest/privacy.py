"""``consent/`` and ``me/``: the visitor's consent to tracking, and their own data (export, erasure)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..conf import tailored_settings
from ..privacy import ErasureIncomplete, empty_export, erase_visitor, export_visitor
from ..visitors.consent import opted_out_by_browser, tracking_allowed
from ..visitors.models import Visitor
from ..visitors.preferences import save_consent
from ..visitors.request import visitor_context
from ..visitors.snapshot import Snapshot
from .base import ERROR_DETAIL, ERRORS, VisitorAPIView
from .serializers import ConsentSerializer

__all__ = [
    "EXPORT_FILENAME",
    "ConsentView",
    "MeView",
]


@extend_schema(methods=["GET"], responses=ConsentSerializer, summary="The visitor's consent to tracking")
@extend_schema(
    methods=["PUT"],
    request=ConsentSerializer,
    responses={200: ConsentSerializer, **ERRORS},
    summary="Give or withdraw consent to behaviour tracking",
)
class ConsentView(VisitorAPIView):
    """Consent to behaviour tracking. Customization works whatever the answer."""

    def get(self, request: Request) -> Response:
        return Response(self._state(request, visitor_context(request._request).snapshot))

    def put(self, request: Request) -> Response:
        serializer = ConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        snapshot = save_consent(request._request, serializer.validated_data["tracking"])
        return Response(self._state(request, snapshot))

    def _state(self, request: Request, snapshot: Snapshot) -> dict[str, Any]:
        return ConsentSerializer(
            {
                "tracking": snapshot.tracking_consent,
                "required": tailored_settings.CONSENT == "required",
                "browser_opt_out": opted_out_by_browser(request._request),
                "allowed": tracking_allowed(request._request, snapshot),
            }
        ).data


EXPORT_FILENAME = "tailored-data.json"


@extend_schema(
    methods=["GET"],
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Everything stored about the visitor.")},
    summary="Download everything stored about the visitor (JSON)",
)
@extend_schema(
    methods=["DELETE"],
    request=None,
    responses={
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="How many of each thing were erased."),
        403: ERRORS[403],
        503: OpenApiResponse(
            {**ERROR_DETAIL, "properties": {**ERROR_DETAIL["properties"], "erased": {"type": "object"}}},
            description="Redis unreachable: erasure incomplete; send the request again.",
        ),
    },
    summary="Erase the visitor everywhere (the database and Redis); the visitor cookie is deleted",
)
class MeView(VisitorAPIView):
    """The visitor's own data: export it (GET, a download) or erase it (DELETE). A user account is kept."""

    def get(self, request: Request) -> Response:
        ids = _visitor_ids(request)
        document = export_visitor(ids[0]) if ids else empty_export()
        return Response(document, headers={"Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"'})

    def delete(self, request: Request) -> Response:
        counts = erase_visitor(None)  # every count, at zero
        try:
            for visitor_id in _visitor_ids(request):
                for name, count in erase_visitor(visitor_id).items():
                    counts[name] = counts.get(name, 0) + count
        except ErasureIncomplete as exc:
            # Keep the cookie: erasing again (same visitor) finishes the job.
            return Response(
                {"detail": f"{exc} {gettext('Send the request again.')}", "erased": exc.counts},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        visitor_context(request._request).forget()
        return Response({"erased": counts})


def _visitor_ids(request: Request) -> list[str]:
    """The request's visitor: a signed-in user's visitor first, then the cookie's (if another)."""
    ids: list[str] = []
    if request.user.is_authenticated:
        pk = Visitor.objects.filter(user=request.user).values_list("pk", flat=True).first()
        if pk is not None:
            ids.append(str(pk))
    cookie_id = visitor_context(request._request).visitor_id
    if cookie_id and cookie_id not in ids:
        ids.append(cookie_id)
    return ids
