"""The request headers tailoring varies on: the middleware sets them, plugins and tags name them to the caches."""

from __future__ import annotations

__all__ = ["meta_key"]


def meta_key(header: str) -> str:
    """Where ``request.META`` holds a request header (``X-Tailored-Variant`` -> ``HTTP_X_TAILORED_VARIANT``)."""
    return "HTTP_" + header.upper().replace("-", "_")
