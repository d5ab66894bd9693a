"""The ``tailored_vid`` cookie: a signed visitor id, HttpOnly, SameSite=Lax."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from ..conf import tailored_settings

SALT = "tailored_cms.visitor"


def read_visitor_id(request: HttpRequest) -> str | None:
    """The visitor id from the cookie, or ``None`` if there is none or it was tampered with."""
    value = request.get_signed_cookie(tailored_settings.COOKIE_NAME, default=None, salt=SALT)
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def set_visitor_cookie(response: HttpResponse, visitor_id: str) -> None:
    response.set_signed_cookie(
        tailored_settings.COOKIE_NAME,
        visitor_id,
        salt=SALT,
        max_age=tailored_settings.COOKIE_AGE,
        secure=tailored_settings.COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def delete_visitor_cookie(response: HttpResponse) -> None:
    response.delete_cookie(tailored_settings.COOKIE_NAME, samesite="Lax")
