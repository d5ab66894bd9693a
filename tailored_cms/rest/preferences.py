"""``preferences/``: the visitor's choices (topics followed, theme, layout, widget arrangement)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ..visitors.preferences import reset_preferences, save_preferences
from ..visitors.request import visitor_context
from ..visitors.snapshot import Snapshot
from .base import ERRORS, EmptyBody, VisitorAPIView
from .serializers import PreferencesSerializer

__all__ = [
    "PreferencesView",
]


@extend_schema(methods=["GET"], responses=PreferencesSerializer, summary="The visitor's choices")
@extend_schema(
    methods=["PUT"],
    request=PreferencesSerializer,
    responses={200: PreferencesSerializer, **ERRORS},
    summary="Replace all choices (a missing field goes back to the default)",
)
@extend_schema(
    methods=["PATCH"],
    request=PreferencesSerializer,
    responses={200: PreferencesSerializer, **ERRORS},
    summary="Change the choices named in the body",
)
@extend_schema(
    methods=["DELETE"],
    request=None,
    responses={200: PreferencesSerializer, 403: ERRORS[403]},
    summary="Reset every choice to the site's defaults",
)
class PreferencesView(VisitorAPIView):
    """The visitor's choices: topics followed, theme, layout, widget arrangement."""

    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(visitor_context(request._request).snapshot).data)

    def put(self, request: Request) -> Response:
        return self._update(request, partial=False)

    def patch(self, request: Request) -> Response:
        return self._update(request, partial=True)

    def delete(self, request: Request) -> Response:
        context = visitor_context(request._request)
        if context.visitor_id is None and not request.user.is_authenticated:
            snapshot = Snapshot()  # nothing stored: already the defaults, and no visitor needs creating
        else:
            snapshot = reset_preferences(request._request)
        return Response(PreferencesSerializer(snapshot).data)

    def _update(self, request: Request, *, partial: bool) -> Response:
        # DRF reads no Content-Length (an empty body, or a chunked one the WSGI server doesn't measure) as no
        # data at all: taken as {}, a PUT would reset every choice the visitor made.
        if request.stream is None:
            raise EmptyBody()
        serializer = PreferencesSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            snapshot = save_preferences(request._request, serializer.validated_data)
        else:
            snapshot = visitor_context(request._request).snapshot
        return Response(PreferencesSerializer(snapshot).data)
