"""``events/``: the beacon's endpoint, a batch of the page's events (no SQL, one Redis round trip)."""

from __future__ import annotations

from typing import Any

from cms.toolbar.toolbar import EmptyToolbar
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext, ngettext
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ..conf import tailored_settings
from ..tracking.beacon import BatchResult, capture_batch, cross_site_origin
from ..tracking.beacon_batch import BadBatch, parse_batch
from .base import ERROR_DETAIL, EncodableJSONRenderer
from .serializers import (
    EventBatchSerializer,
    EventsAcceptedSerializer,
    EventsErrorSerializer,
    EventsRateLimitedSerializer,
)

__all__ = [
    "EVENTS_MEDIA_TYPES",
    "EventsView",
]


EVENTS_MEDIA_TYPES = ("application/json", "text/plain")


@extend_schema(
    request={media_type: EventBatchSerializer for media_type in EVENTS_MEDIA_TYPES},
    responses={
        202: OpenApiResponse(
            EventsAcceptedSerializer,
            description="Taken: stored if the visitor may be tracked (tracking: true), else dropped (tracking: false).",
        ),
        400: OpenApiResponse(EventsErrorSerializer, description="A bad batch, naming the event and field; none kept."),
        403: OpenApiResponse(ERROR_DETAIL, description="Sent from another site (its Origin or Referer)."),
        413: OpenApiResponse(ERROR_DETAIL, description="A body larger than EVENTS_MAX_BODY_BYTES."),
        415: OpenApiResponse(ERROR_DETAIL, description="Neither application/json nor text/plain."),
        429: OpenApiResponse(
            EventsRateLimitedSerializer,
            description="Over EVENTS_RATE_PER_VISITOR or EVENTS_RATE_PER_IP events a minute; see Retry-After.",
        ),
    },
    parameters=[
        OpenApiParameter(
            "Retry-After",
            int,
            OpenApiParameter.HEADER,
            response=[429],
            description="Seconds until the rate limit resets.",
        )
    ],
    summary="Record a batch of the page's events (clicks, custom events); the beacon's endpoint",
    description="No CSRF token: navigator.sendBeacon can't send one. Instead Origin (or Referer) must be this "
    "site's, or one of CSRF_TRUSTED_ORIGINS; a request with neither (not a browser) is taken.",
)
class EventsView(APIView):
    """A page's events in a batch, e.g. from ``navigator.sendBeacon`` (a text/plain string) or ``fetch``.

    Cost of a taken batch: no SQL and one Redis round trip (``tracking.beacon``); the middleware leaves the
    snapshot to it. Answers 202 ``{"accepted": N, "tracking": true}``, or ``{"accepted": 0, "tracking": false}``
    for a visitor who may not be tracked (not an error: a beacon shouldn't send again).
    """

    # No authentication class, so no CSRF token check (APIView is csrf_exempt): sendBeacon can't set the
    # X-CSRFToken header. The attack the token stops, another site making the visitor's browser post with the
    # visitor's cookie, is stopped by the Origin check instead: browsers send Origin with every POST (and a page
    # can't forge it); Referer stands in where an old browser sends no Origin. A request with neither doesn't come
    # from a browser, so it carries no visitor's cookie but its own: it is taken like any other client's.
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    parser_classes: list[type] = []  # the body is read and checked by tracking.beacon, not by DRF's parsers
    renderer_classes = [EncodableJSONRenderer]
    throttle_classes: list[type] = []  # the rate limits are counted in the same round trip as the events
    versioning_class = None
    schema = AutoSchema()

    def get_exception_handler(self) -> Any:
        return exception_handler

    def post(self, request: Request) -> Response:
        http = request._request
        # django CMS's toolbar middleware builds the toolbar of every request it answers, a large part of this
        # endpoint's cost; a beacon's request never shows one.
        http.toolbar = EmptyToolbar(http)  # type: ignore[attr-defined]  # django CMS's attribute of a request
        refused = _refused(http)
        if refused is not None:
            return refused
        limit = tailored_settings.EVENTS_MAX_BODY_BYTES
        raw = _read_body(http, limit)
        if raw is None:
            return Response(
                {
                    "detail": ngettext(
                        "The request body is larger than %(count)s byte: send fewer events at a time.",
                        "The request body is larger than %(count)s bytes: send fewer events at a time.",
                        limit,
                    )
                    % {"count": limit}
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            host = http.get_host()
        except DisallowedHost:
            host = ""
        try:
            batch = parse_batch(raw, now=timezone.now(), user_agent=http.META.get("HTTP_USER_AGENT", ""), host=host)
        except BadBatch as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        result = capture_batch(http, batch)
        if result.limit:
            return _rate_limited(result)
        return Response({"accepted": result.accepted, "tracking": result.tracking}, status=status.HTTP_202_ACCEPTED)

    # DRF finalizes any HttpResponseBase a view returns; the stubs allow its Response alone.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        patch_cache_control(response, private=True, no_store=True)
        return response


def _refused(http: HttpRequest) -> Response | None:
    """The answer to a batch sent from another site (403) or not as JSON or text (415); None if neither."""
    origin = cross_site_origin(http)
    if origin:
        return Response(
            {
                "detail": gettext("Events from another site are refused: %(origin)s is not this site's origin.")
                % {"origin": origin}
            },
            status=status.HTTP_403_FORBIDDEN,
        )
    if http.content_type not in EVENTS_MEDIA_TYPES:
        return Response(
            {"detail": gettext("Send the events as application/json, or as text/plain (navigator.sendBeacon).")},
            status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    return None


def _read_body(http: HttpRequest, limit: int) -> bytes | None:
    """The body, or None if it is larger than ``limit`` bytes (refused before it is read if it says so)."""
    try:
        declared = int(http.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    raw = http.read(limit + 1)
    return None if len(raw) > limit else raw


def _rate_limited(result: BatchResult) -> Response:
    """The 429 of a batch over the visitor's or the IP address's rate limit, naming the setting."""
    if result.limit == "visitor":
        setting = "EVENTS_RATE_PER_VISITOR"
        message = gettext(
            "Too many events from this visitor: at most %(rate)s a minute (%(setting)s). Try again in %(seconds)s s."
        )
    else:
        setting = "EVENTS_RATE_PER_IP"
        message = gettext(
            "Too many events from this IP address: at most %(rate)s a minute (%(setting)s). Try again in %(seconds)s s."
        )
    rate = getattr(tailored_settings, setting)
    return Response(
        {
            "detail": message % {"rate": rate, "setting": setting, "seconds": result.retry_after},
            "limit": result.limit,
            "retry_after": result.retry_after,
        },
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(result.retry_after)},
    )
