"""The REST API (Django REST framework) under ``/tailored/api/v1/``.

Every class a view depends on is set here, so the API works the same whatever the site's
``REST_FRAMEWORK`` setting says (or without one). The visitor is known by the ``tailored_vid`` cookie, so
CSRF is checked on every unsafe request, anonymous ones included.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, cast

from cms.toolbar.toolbar import EmptyToolbar
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponseBase
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ..areas.explanation import describe, explain, load_areas
from ..conf import tailored_settings
from ..context import VisitorContext
from ..privacy import ErasureIncomplete, empty_export, erase_visitor, export_visitor
from ..rules.models import Segment
from ..text import json_nesting
from ..tracking.beacon import BadBatch, capture_batch, cross_site_origin, parse_batch
from ..visitors.consent import opted_out_by_browser, tracking_allowed
from ..visitors.models import Topic, Visitor
from ..visitors.preferences import reset_preferences, save_consent, save_preferences
from ..visitors.request import visitor_context
from ..visitors.snapshot import Snapshot
from .serializers import (
    ChoiceSerializer,
    ConsentSerializer,
    EventBatchSerializer,
    EventsAcceptedSerializer,
    EventsErrorSerializer,
    EventsRateLimitedSerializer,
    ExplainSerializer,
    PreferencesSerializer,
    TopicSerializer,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_NESTING",
    "BoundedJSONParser",
    "EmptyBody",
    "EncodableJSONRenderer",
    "ConsentView",
    "EventsView",
    "ExplainView",
    "LayoutsView",
    "MeView",
    "PreferencesView",
    "RequestTooLarge",
    "SchemaView",
    "ThemesView",
    "TopicsView",
    "VisitorAPIView",
    "VisitorAuthentication",
]

# Largest request body accepted; a full set of choices (MAX_TOPICS topics, MAX_WIDGETS widgets) fits easily.
MAX_BODY_BYTES = 16 * 1024
# Deepest nesting of arrays and objects accepted: far more than any body here needs (a rule tree as deep as the
# rules allow nests about 20), far less than what makes json or the code walking its result recurse too deep.
MAX_NESTING = 64


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request body is larger than {MAX_BODY_BYTES} bytes."
    default_code = "request_too_large"


class EmptyBody(exceptions.ParseError):
    """A PUT or PATCH whose body Django reads as empty: refused, never taken for "no choices"."""

    default_detail = (
        "The request body is empty (a body sent in chunks without a Content-Length header is read as empty): "
        "send the choices as JSON. DELETE resets them."
    )
    default_code = "empty_body"


class BoundedJSONParser(JSONParser):
    """JSON of at most ``MAX_BODY_BYTES``, nested at most ``MAX_NESTING`` deep; a larger body is refused (413),
    a deeper one (400), without being parsed."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge()
        if json_nesting(raw) > MAX_NESTING:
            raise exceptions.ParseError("JSON parse error - nested too deeply.")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            # json raises RecursionError, not ValueError, for arrays or objects nested ~1,000 deep (a few KB).
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class EncodableJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, whose answer can always be sent: a lone UTF-16 surrogate in the data (JSON input's
    ``"\\ud800"`` decodes to one) is written as that escape instead of failing to encode (a 500)."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # \u escapes for everything not ASCII: the same JSON, and always encodable. (The stubs declare the
            # attribute a class variable; DRF reads it off the instance.)
            self.ensure_ascii = True  # type: ignore[misc]
            return super().render(data, accepted_media_type, renderer_context)


class VisitorAuthentication(SessionAuthentication):
    """The session's user, if any; CSRF is enforced on unsafe methods for every visitor.

    DRF's ``SessionAuthentication`` checks CSRF for signed-in users only, but the visitor cookie identifies
    anonymous visitors too: without the check another site could change their choices.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        if user is None or not user.is_active:
            return None
        return (user, None)

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            header = _header_name(settings.CSRF_HEADER_NAME)
            raise exceptions.PermissionDenied(
                f"{exc.detail} Send the value of the {settings.CSRF_COOKIE_NAME} cookie in the {header} header."
            ) from exc


CSRF_TOKEN_HEADER = "X-CSRFToken"  # on the answers to GET: customize.js and privacy.js read the token from it


def _header_name(meta_key: str) -> str:
    """``HTTP_X_CSRFTOKEN`` -> ``X-CSRFToken`` (the spelling JS clients know); others -> ``X-My-Header``."""
    if meta_key == "HTTP_X_CSRFTOKEN":
        return "X-CSRFToken"
    return "-".join(part.capitalize() for part in meta_key.removeprefix("HTTP_").split("_"))


class VisitorAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema describes ``VisitorAuthentication``: the visitor cookie (a session cookie works too)."""

    target_class = VisitorAuthentication
    name = "visitorCookie"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": tailored_settings.COOKIE_NAME,
            "description": "Set by the first request that saves a choice. Unsafe methods need X-CSRFToken.",
        }


class VisitorAPIView(APIView):
    """Base of our API views: JSON only, CSRF for everyone, answers private to the visitor."""

    authentication_classes = [VisitorAuthentication]
    permission_classes = [AllowAny]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [EncodableJSONRenderer]
    versioning_class = None  # the version is in our URL, whatever versioning the site's own API uses
    schema = AutoSchema()

    def get_exception_handler(self) -> Any:
        # Error bodies keep DRF's shape ({"detail": ...} or {field: [messages]}) even if the site changes it.
        return exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Refuse a declared oversized body before anything reads it (the parser also stops at the limit).
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:
            raise RequestTooLarge()
        super().initial(request, *args, **kwargs)

    # DRF finalizes any HttpResponseBase a view returns; the stubs allow its Response alone.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if request.method in SAFE_METHODS:
            # The token JS sends back as X-CSRFToken: in the csrftoken cookie (set by the site's CsrfViewMiddleware)
            # and in this header, for sites whose JS can't read the cookie (CSRF_COOKIE_HTTPONLY, CSRF_USE_SESSIONS).
            # Only the site's own pages can read it: a cross-origin fetch doesn't see the response.
            response[CSRF_TOKEN_HEADER] = get_token(request._request)
        patch_vary_headers(response, ["Cookie"])
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
        return response


# Error bodies keep DRF's shapes: {"detail": message}, or for invalid input {field: [messages]}.
_ERROR_DETAIL: dict[str, Any] = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_ERROR_FIELDS = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}
_ERRORS = {
    400: OpenApiResponse(
        _ERROR_FIELDS,
        description="Invalid choices: messages per field, naming the valid values; or bad JSON, or an empty body.",
    ),
    403: OpenApiResponse(_ERROR_DETAIL, description="Missing or wrong CSRF token (send X-CSRFToken)."),
    413: OpenApiResponse(_ERROR_DETAIL, description=f"Body larger than {MAX_BODY_BYTES} bytes."),
    415: OpenApiResponse(_ERROR_DETAIL, description="A body that is not application/json."),
}


# Schema annotations go on the classes (scoped by method): there extend_schema builds on the view's own
# AutoSchema; on a method it would build on the site's DEFAULT_SCHEMA_CLASS (DRF's if the site sets none).
@extend_schema(methods=["GET"], responses=PreferencesSerializer, summary="The visitor's choices")
@extend_schema(
    methods=["PUT"],
    request=PreferencesSerializer,
    responses={200: PreferencesSerializer, **_ERRORS},
    summary="Replace all choices (a missing field goes back to the default)",
)
@extend_schema(
    methods=["PATCH"],
    request=PreferencesSerializer,
    responses={200: PreferencesSerializer, **_ERRORS},
    summary="Change the choices named in the body",
)
@extend_schema(
    methods=["DELETE"],
    request=None,
    responses={200: PreferencesSerializer, 403: _ERRORS[403]},
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


@extend_schema(responses=TopicSerializer(many=True), summary="Topics a visitor can follow")
class TopicsView(VisitorAPIView):
    """Every topic, and whether the visitor follows it."""

    def get(self, request: Request) -> Response:
        followed = set(visitor_context(request._request).snapshot.topics)
        rows = [
            {"slug": t.slug, "name": t.name, "description": t.description, "followed": t.slug in followed}
            for t in Topic.objects.all()
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


@extend_schema(methods=["GET"], responses=ConsentSerializer, summary="The visitor's consent to tracking")
@extend_schema(
    methods=["PUT"],
    request=ConsentSerializer,
    responses={200: ConsentSerializer, **_ERRORS},
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
        403: _ERRORS[403],
        503: OpenApiResponse(
            {**_ERROR_DETAIL, "properties": {**_ERROR_DETAIL["properties"], "erased": {"type": "object"}}},
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
                {"detail": str(exc) + " Send the request again.", "erased": exc.counts},
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


MAX_EXPLAINED_AREAS = 50  # a page with more tailored areas than this is asked about in parts
AREA_KEY = re.compile(r"^[-A-Za-z0-9_]{1,40}$")  # PluginSettings.key


def _area_keys(request: Request) -> list[str]:
    """The keys of ``?areas=<key>,<key>`` (repeating ``areas`` works too), in order, once each; else a 400."""
    values = request.query_params.getlist("areas")
    if not values:
        raise exceptions.ValidationError(
            {"areas": ["Name the areas to explain: ?areas=<key>,<key> (the page's data-tailored-area-key values)."]}
        )
    keys = list(dict.fromkeys(key.strip() for value in values for key in value.split(",") if key.strip()))
    if len(keys) > MAX_EXPLAINED_AREAS:
        raise exceptions.ValidationError({"areas": [f"At most {MAX_EXPLAINED_AREAS} areas at once, not {len(keys)}."]})
    bad = [key for key in keys if not AREA_KEY.match(key)]
    if bad:
        named = ", ".join(repr(key[:40]) for key in bad[:5])
        raise exceptions.ValidationError(
            {"areas": [f"Not an area key: {named}. Keys are 1 to 40 letters, digits, '-' and '_'."]}
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
    error. Cost: 3 queries (the areas, their variants, the names of the visitor's topics), a 4th for the names of
    their segments if they are in any; no Redis; asked
    when a visitor opens "Why am I seeing this?", never on the page's own request.
    """

    def get(self, request: Request) -> Response:
        keys = _area_keys(request)
        # The web edge's full request.tailored (visitor_context names only what lower layers use).
        context = cast(VisitorContext, visitor_context(request._request))
        snapshot = context.snapshot
        loaded = load_areas(keys)
        topics = dict(Topic.objects.filter(slug__in=snapshot.topics).values_list("slug", "name")) if loaded else {}
        segments = context.segments(request._request)
        segment_names = (
            dict(Segment.objects.filter(slug__in=segments).values_list("slug", "name")) if loaded and segments else {}
        )
        areas = []
        for key in keys:
            if key not in loaded:
                continue
            area, variants = loaded[key]
            held_out = context.in_holdout(area.key, area.holdout_percent)  # a static area says so first
            optimized = area.strategy_class.allocated_variant(area.key, variants, context.visitor_id)
            explanation = explain(area.strategy, variants, snapshot, area.max_items, segments, held_out, optimized)
            areas.append(
                {
                    "key": key,
                    "label": area.label,
                    "strategy": area.strategy,
                    "shown": [{"label": v.label, "fallback": v.fallback} for v in explanation.shown],
                    "reasons": [
                        {**asdict(reason), "text": describe(reason, segment_names if reason.segments else topics)}
                        for reason in explanation.reasons
                    ],
                }
            )
        document = {
            "areas": areas,
            "unknown": [key for key in keys if key not in loaded],
            "tracking": tracking_allowed(request._request, snapshot),
        }
        return Response(ExplainSerializer(document).data)


EVENTS_MEDIA_TYPES = ("application/json", "text/plain")


@extend_schema(
    request={media_type: EventBatchSerializer for media_type in EVENTS_MEDIA_TYPES},
    responses={
        202: OpenApiResponse(
            EventsAcceptedSerializer,
            description="Taken: stored if the visitor may be tracked (tracking: true), else dropped (tracking: false).",
        ),
        400: OpenApiResponse(EventsErrorSerializer, description="A bad batch, naming the event and field; none kept."),
        403: OpenApiResponse(_ERROR_DETAIL, description="Sent from another site (its Origin or Referer)."),
        413: OpenApiResponse(_ERROR_DETAIL, description="A body larger than EVENTS_MAX_BODY_BYTES."),
        415: OpenApiResponse(_ERROR_DETAIL, description="Neither application/json nor text/plain."),
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
        # django CMS's toolbar middleware builds the toolbar of every request it answers (a quarter of this
        # endpoint's time, profiled); a beacon's request never shows one.
        http.toolbar = EmptyToolbar(http)  # type: ignore[attr-defined]  # django CMS's attribute of a request
        origin = cross_site_origin(http)
        if origin:
            return Response(
                {"detail": f"Events from another site are refused: {origin} is not this site's origin."},
                status=status.HTTP_403_FORBIDDEN,
            )
        if http.content_type not in EVENTS_MEDIA_TYPES:
            return Response(
                {"detail": "Send the events as application/json, or as text/plain (navigator.sendBeacon)."},
                status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        limit = tailored_settings.EVENTS_MAX_BODY_BYTES
        too_large = Response(
            {"detail": f"The request body is larger than {limit} bytes: send fewer events at a time."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
        try:
            declared = int(http.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return too_large  # refused before it is read
        raw = http.read(limit + 1)
        if len(raw) > limit:
            return too_large
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
            who, setting = (
                ("this visitor", "EVENTS_RATE_PER_VISITOR")
                if result.limit == "visitor"
                else ("this IP address", "EVENTS_RATE_PER_IP")
            )
            rate = getattr(tailored_settings, setting)
            return Response(
                {
                    "detail": f"Too many events from {who}: at most {rate} a minute ({setting}). "
                    f"Try again in {result.retry_after} s.",
                    "limit": result.limit,
                    "retry_after": result.retry_after,
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(result.retry_after)},
            )
        return Response({"accepted": result.accepted, "tracking": result.tracking}, status=status.HTTP_202_ACCEPTED)

    # DRF finalizes any HttpResponseBase a view returns; the stubs allow its Response alone.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        patch_cache_control(response, private=True, no_store=True)
        return response


def only_tailored_endpoints(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular hook: our schema describes our API, not the rest of the site's."""
    return [
        (path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
        if callback.cls.__module__.startswith("tailored_cms.") and not issubclass(callback.cls, SpectacularAPIView)
    ]


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema of this API (YAML, or JSON with ``Accept: application/vnd.oai.openapi+json``)."""

    authentication_classes = [VisitorAuthentication]
    permission_classes = [AllowAny]
    versioning_class = None
    serve_public = True
    custom_settings = {
        "TITLE": "tailored_cms API",
        "DESCRIPTION": "A visitor's choices (customization) and what they can choose from.",
        "VERSION": "1",
        "PREPROCESSING_HOOKS": ["tailored_cms.rest.views.only_tailored_endpoints"],
    }
