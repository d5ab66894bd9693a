"""The example site's Content-Security-Policy header on Django 5.2 (Django 6 has this built in)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class ContentSecurityPolicyMiddleware:
    """Send ``settings.SECURE_CSP`` (Django 6's setting: directive -> sources) as the Content-Security-Policy header.

    A stand-in for ``django.middleware.csp.ContentSecurityPolicyMiddleware``, without nonces: the site's pages
    need none, since they have no inline scripts or styles. A response that sets its own policy keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.policy = "; ".join(f"{name} {' '.join(sources)}" for name, sources in settings.SECURE_CSP.items())

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
