"""Recommended pages: what a visitor is likely to read next, computed by Celery into Redis, listed by
``RecommendedPagesPlugin`` through the ``recommendations/`` endpoint (docs/recommendations.md)."""
