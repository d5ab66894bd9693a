"""``traits/``: what the site's servers know about its users (a CRM sync, a shop backend), many users per call.

``POST {"by": "email", "users": [{"user": "ada@example.com", "traits": {"plan": "pro"}}, ...]}``: up to
``MAX_ROWS`` users, keyed by user id, username or email; each row's traits are set as ``api.set_traits`` sets them
(``null`` removes one; a ``"YYYY-MM-DD"`` string is a date unless the site stores that trait as text).
Idempotent: sending the same call again changes nothing. A row that is wrong is answered in a 400 naming the row,
the field and why, and nothing of it is stored; the other rows are stored.

Who may call it: a user with ``tailored_cms.change_traits``, authenticated by a staff session (with the CSRF
token) or by what the site's ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` configure for servers (DRF's
``TokenAuthentication`` when ``rest_framework.authtoken`` is installed, ``BasicAuthentication``, a JWT class…).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from django.apps import apps
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from ..text import shown
from ..visitors.trait_rows import KEYS, RowError, store_rows
from .base import ERROR_DETAIL, BoundedJSONParser, VisitorAPIView

__all__ = ["MAX_ROWS", "CanChangeTraits", "TraitsView"]

MAX_ROWS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024  # 1,000 users with a few traits each fit many times over
PERMISSION = "tailored_cms.change_traits"


class TraitsParser(BoundedJSONParser):
    max_bytes = MAX_BODY_BYTES


class CanChangeTraits(BasePermission):
    """A user with ``tailored_cms.change_traits``; staff too when signed in by a session (a person, not a server)."""

    message = _("Only users with the permission tailored_cms.change_traits may set traits (staff, by a session).")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.has_perm(PERMISSION)):
            return False
        return user.is_staff or not isinstance(request.successful_authenticator, SessionAuthentication)


class TraitRowSerializer(serializers.Serializer):
    user = serializers.JSONField(help_text="The user's id, username or email, as `by` says.")
    traits = serializers.DictField(
        child=serializers.JSONField(),
        help_text="name → a string, number, true/false, date (YYYY-MM-DD) or list of strings; null removes it.",
    )


class TraitsRequestSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=KEYS, required=False, help_text='How `user` names users (default "id").')
    users = TraitRowSerializer(many=True, help_text=f"At most {MAX_ROWS:,} rows, one per user.")


class TraitsStoredSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Rows stored (all of them).")


# The 400 of wrong rows (a plain schema: a serializer can't have a field named "errors").
_REJECTED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "stored": {"type": "integer", "description": "Rows stored: every row not named in `errors`."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "row": {"type": "integer", "description": "The row's index in `users`, from 0."},
                    "user": {"description": "The row's `user`, as sent."},
                    "field": {
                        "type": "string",
                        "description": 'What is wrong: "user", "traits", "traits.<name>" or "" (the row).',
                    },
                    "messages": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["row", "user", "field", "messages"],
            },
        },
    },
    "required": ["stored", "errors"],
}
_FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}


_DENIED = OpenApiResponse(
    ERROR_DETAIL,
    description=f"Not a user with {PERMISSION} (a session user must be staff), or a session without the CSRF token.",
)


@extend_schema(
    request=TraitsRequestSerializer,
    responses={
        200: TraitsStoredSerializer,
        400: OpenApiResponse(
            {"anyOf": [_REJECTED, _FIELD_ERRORS]},
            description="Rows that are wrong, each with its index, its user, the field and why; nothing of them "
            "was stored, every other row was (`stored`). Or a body that is wrong as a whole (not an object, no "
            f"`users`, more than {MAX_ROWS:,} rows, bad JSON): messages per field, and nothing stored.",
        ),
        401: OpenApiResponse(ERROR_DETAIL, description="Credentials the site's authentication refused."),
        403: _DENIED,
        413: OpenApiResponse(ERROR_DETAIL, description=f"Body larger than {MAX_BODY_BYTES:,} bytes."),
        415: OpenApiResponse(ERROR_DETAIL, description="A body that is not application/json."),
    },
    summary="Set the traits of many users (servers: a CRM sync, a shop backend)",
    description=(
        f"Up to {MAX_ROWS:,} users per call, keyed by `by`: user id (default), username or email. Each row sets the "
        "traits it names (null removes one) and leaves the user's others alone; a date is a `YYYY-MM-DD` string. "
        "Sending the same call again changes nothing. Wrong rows are refused one by one (400, with the row, the field "
        "and why) while the others are stored. The users' segments follow within about a second. Needs "
        f"`{PERMISSION}`: a staff session with the CSRF token, or the authentication the site configures for its "
        "API (DRF's token authentication when `rest_framework.authtoken` is installed)."
    ),
)
class TraitsView(VisitorAPIView):
    """Bulk upsert of users' traits (``set_traits_of_users``). Cost: a constant number of queries per call."""

    permission_classes = [CanChangeTraits]
    parser_classes = [TraitsParser]
    max_body_bytes = MAX_BODY_BYTES

    def get_authenticators(self) -> list[BaseAuthentication]:
        """The site's configured authentication for servers, DRF's token one if installed, and the session."""
        classes: list[type[BaseAuthentication]] = []
        if apps.is_installed("rest_framework.authtoken"):
            classes.append(TokenAuthentication)
        configured_classes: list[Any] = list(api_settings.DEFAULT_AUTHENTICATION_CLASSES)  # classes (the stubs: str)
        for configured in configured_classes:
            if not issubclass(configured, SessionAuthentication) and configured not in classes:
                classes.append(configured)
        classes.append(SessionAuthentication)  # CSRF checked for a session user, as DRF does
        return [authentication() for authentication in classes]

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> NoReturn:
        if request.authenticators and not request.successful_authenticator and self._sent_credentials(request):
            raise exceptions.NotAuthenticated()
        raise exceptions.PermissionDenied(CanChangeTraits.message)

    @staticmethod
    def _sent_credentials(request: Request) -> bool:
        return bool(request.META.get("HTTP_AUTHORIZATION"))

    def post(self, request: Request) -> Response:
        by, rows = _envelope(request.data)
        errors = [
            RowError(index, None, "", [gettext("Expected an object with user and traits.")])
            for index, row in enumerate(rows)
            if not isinstance(row, Mapping)
        ]
        stored, refused = store_rows(
            by,
            [(index, row.get("user"), row.get("traits")) for index, row in enumerate(rows) if isinstance(row, Mapping)],
        )
        errors = sorted([*errors, *refused], key=lambda error: (error.row, error.field))
        if errors:
            return Response(
                {"stored": stored, "errors": [error.as_dict() for error in errors]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"stored": stored})


def _envelope(data: Any) -> tuple[str, list[Any]]:
    """``by`` and the rows; a 400 naming the field when the body is wrong as a whole."""
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError({"non_field_errors": [gettext("Expected an object with by and users.")]})
    by = data.get("by", "id")
    if by not in KEYS:
        raise exceptions.ValidationError(
            {
                "by": [
                    gettext("Must be one of %(keys)s, not %(value)s.")
                    % {"keys": ", ".join(KEYS), "value": shown(repr(by))[:100]}
                ]
            }
        )
    rows = data.get("users")
    if not isinstance(rows, list):
        raise exceptions.ValidationError({"users": [gettext("Expected a list of rows with user and traits.")]})
    if len(rows) > MAX_ROWS:
        raise exceptions.ValidationError(
            {
                "users": [
                    ngettext(
                        "At most %(count)s row per call, not %(given)s.",
                        "At most %(count)s rows per call, not %(given)s.",
                        MAX_ROWS,
                    )
                    % {"count": MAX_ROWS, "given": len(rows)}
                ]
            }
        )
    return by, rows
