"""The REST API (Django REST framework) under ``/tailored/api/v1/``.

Every class a view depends on is set here, so the API works the same whatever the site's
``REST_FRAMEWORK`` setting says (or without one). The visitor is known by the ``tailored_vid`` cookie, so
CSRF is checked on every unsafe request, anonymous ones included.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpResponseBase
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ..conf import tailored_settings
from ..visitors.consent import opted_out_by_browser, tracking_allowed
from ..visitors.models import Topic, Visitor
from ..visitors.preferences import reset_preferences, save_consent, save_preferences, visitor_context
from ..visitors.privacy import ErasureIncomplete, empty_export, erase_visitor, export_visitor
from ..visitors.snapshot import Snapshot
from .serializers import ChoiceSerializer, ConsentSerializer, PreferencesSerializer, TopicSerializer

__all__ = [
    "MAX_BODY_BYTES",
    "BoundedJSONParser",
    "ConsentView",
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


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request body is larger than {MAX_BODY_BYTES} bytes."
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    """JSON of at most ``MAX_BODY_BYTES``; a larger body is refused (413) without being parsed."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge()
        return super().parse(io.BytesIO(raw), media_type, parser_context)


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
    renderer_classes = [JSONRenderer]
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

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in SAFE_METHODS:
            # The csrftoken cookie (set by the site's CsrfViewMiddleware) that JS sends back as X-CSRFToken.
            get_token(request._request)
        patch_vary_headers(response, ["Cookie"])
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
        return response


_ERRORS = {
    400: OpenApiResponse(description="Invalid choices: messages per field, naming the valid values."),
    403: OpenApiResponse(description="Missing or wrong CSRF token (send X-CSRFToken)."),
    413: OpenApiResponse(description=f"Body larger than {MAX_BODY_BYTES} bytes."),
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
    responses={200: ConsentSerializer, 400: _ERRORS[400], 403: _ERRORS[403]},
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
        503: OpenApiResponse(description="Redis unreachable: erasure incomplete; send the request again."),
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
        "PREPROCESSING_HOOKS": ["tailored_cms.api.views.only_tailored_endpoints"],
    }
