"""The request headers tailoring varies on: the middleware sets them, plugins and tags name them to the caches."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["meta_key"]


@lru_cache(maxsize=64)  # a few headers, named on every page view
def meta_key(header: str) -> str:
    """Where ``request.META`` holds a request header (``X-Tailored-Variant`` -> ``HTTP_X_TAILORED_VARIANT``)."""
    return "HTTP_" + header.upper().replace("-", "_")
