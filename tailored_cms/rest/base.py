"""What every view of the REST API shares: its authentication, parser, renderer, base view and error shapes.

Every class a view depends on is set here, so the API works the same whatever the site's ``REST_FRAMEWORK``
setting says (or without one). The visitor is known by the ``tailored_vid`` cookie, so CSRF is checked on every
unsafe request, anonymous ones included.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpResponseBase
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView, exception_handler

from ..conf import tailored_settings
from ..text import json_nesting

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_NESTING",
    "CSRF_TOKEN_HEADER",
    "ERRORS",
    "ERROR_DETAIL",
    "ERROR_FIELDS",
    "BoundedJSONParser",
    "EmptyBody",
    "EncodableJSONRenderer",
    "RequestTooLarge",
    "VisitorAPIView",
    "VisitorAuthentication",
    "VisitorAuthenticationScheme",
    "too_large",
]


# Largest request body accepted; a full set of choices (MAX_TOPICS topics, MAX_WIDGETS widgets) fits easily.
MAX_BODY_BYTES = 16 * 1024
# Deepest nesting of arrays and objects accepted: far more than any body here needs (a rule tree as deep as the
# rules allow nests about 20), far less than what makes json or the code walking its result recurse too deep.
MAX_NESTING = 64


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = format_lazy(
        ngettext_lazy(
            "The request body is larger than {count} byte.",
            "The request body is larger than {count} bytes.",
            MAX_BODY_BYTES,
        ),
        count=MAX_BODY_BYTES,
    )
    default_code = "request_too_large"


def too_large(limit: int) -> RequestTooLarge:
    """The 413 for a body larger than ``limit`` bytes."""
    if limit == MAX_BODY_BYTES:
        return RequestTooLarge()
    message = ngettext(
        "The request body is larger than {count} byte.", "The request body is larger than {count} bytes.", limit
    )
    return RequestTooLarge(message.format(count=limit))


class EmptyBody(exceptions.ParseError):
    """A PUT or PATCH whose body Django reads as empty: refused, never taken for "no choices"."""

    default_detail = _(
        "The request body is empty (a body sent in chunks without a Content-Length header is read as empty): "
        "send the choices as JSON. DELETE resets them."
    )
    default_code = "empty_body"


class BoundedJSONParser(JSONParser):
    """JSON of at most ``MAX_BODY_BYTES``, nested at most ``MAX_NESTING`` deep; a larger body is refused (413),
    a deeper one (400), without being parsed."""

    max_bytes = MAX_BODY_BYTES

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            raise too_large(self.max_bytes)
        if json_nesting(raw) > MAX_NESTING:
            raise exceptions.ParseError(gettext("JSON parse error - nested too deeply."))
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            # json raises RecursionError, not ValueError, for arrays or objects nested ~1,000 deep (a few KB).
            raise exceptions.ParseError(gettext("JSON parse error - nested too deeply.")) from None


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
            # Django's request, not DRF's: on a POST the check reads ``request.POST``, which on DRF's request parses
            # the body, so a bad body would answer 400 before the missing token's 403.
            super().enforce_csrf(request._request)  # type: ignore[arg-type]
        except exceptions.PermissionDenied as exc:
            header = _header_name(settings.CSRF_HEADER_NAME)
            advice = gettext("Send the value of the %(cookie)s cookie in the %(header)s header.") % {
                "cookie": settings.CSRF_COOKIE_NAME,
                "header": header,
            }
            raise exceptions.PermissionDenied(f"{exc.detail} {advice}") from exc


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
    max_body_bytes = MAX_BODY_BYTES  # as its parser's ``max_bytes``

    def get_exception_handler(self) -> Any:
        # Error bodies keep DRF's shape ({"detail": ...} or {field: [messages]}) even if the site changes it.
        return exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Refuse a declared oversized body before anything reads it (the parser also stops at the limit).
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_body_bytes:
            raise too_large(self.max_body_bytes)
        super().initial(request, *args, **kwargs)

    # DRF finalizes any HttpResponseBase a view returns; the stubs allow its Response alone.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if request.method in SAFE_METHODS and not set(self.allowed_methods) <= set(SAFE_METHODS):
            # The token JS sends back as X-CSRFToken: in the csrftoken cookie (set by the site's CsrfViewMiddleware)
            # and in this header, for sites whose JS can't read the cookie (CSRF_COOKIE_HTTPONLY, CSRF_USE_SESSIONS).
            # Only the site's own pages can read it: a cross-origin fetch doesn't see the response. Read-only
            # endpoints give none: a first visitor's token would be made by whichever request came first, and one
            # made meanwhile by a page's read (recommendations/) would replace the one a script is about to send.
            response[CSRF_TOKEN_HEADER] = get_token(request._request)
        patch_vary_headers(response, ["Cookie"])
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
        return response


# Error bodies keep DRF's shapes: {"detail": message}, or for invalid input {field: [messages]}.
# The views name them in their schema annotations, which go on the classes (scoped by method): there
# extend_schema builds on the view's own AutoSchema; on a method it would build on the site's
# DEFAULT_SCHEMA_CLASS (DRF's if the site sets none).
ERROR_DETAIL: dict[str, Any] = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
ERROR_FIELDS = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}
ERRORS = {
    400: OpenApiResponse(
        ERROR_FIELDS,
        description="Invalid choices: messages per field, naming the valid values; or bad JSON, or an empty body.",
    ),
    403: OpenApiResponse(ERROR_DETAIL, description="Missing or wrong CSRF token (send X-CSRFToken)."),
    413: OpenApiResponse(ERROR_DETAIL, description=f"Body larger than {MAX_BODY_BYTES} bytes."),
    415: OpenApiResponse(ERROR_DETAIL, description="A body that is not application/json."),
}
