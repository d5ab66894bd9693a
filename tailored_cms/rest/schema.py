"""``schema/``: the OpenAPI 3 schema of this API (drf-spectacular), describing our endpoints only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from .base import VisitorAuthentication

__all__ = [
    "SchemaView",
    "only_tailored_endpoints",
]


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
        "PREPROCESSING_HOOKS": ["tailored_cms.rest.schema.only_tailored_endpoints"],
    }
