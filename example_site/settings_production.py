"""Production settings of the example site: ``DJANGO_SETTINGS_MODULE=example_site.settings_production``.

They pass ``manage.py check --deploy --fail-level WARNING``. Everything that differs per deployment comes from
the environment:

- ``DJANGO_SECRET_KEY`` (required; 50+ random characters) and ``DJANGO_ALLOWED_HOSTS`` (required; comma-separated
  host names). ``DJANGO_CSRF_TRUSTED_ORIGINS``: comma-separated ``https://…`` origins allowed to POST from another
  host (not needed for the site's own pages).
- PostgreSQL: ``TAILORED_DB_NAME``, ``TAILORED_DB_USER``, ``TAILORED_DB_PASSWORD``, ``TAILORED_DB_HOST``,
  ``TAILORED_DB_PORT``. Redis: ``TAILORED_REDIS_URL``; ``DJANGO_CACHE_URL`` (a Redis URL) for django CMS's page
  cache shared by every process (otherwise each process caches on its own, and a published page may show
  stale in the others for up to a minute).
- HTTPS: ``DJANGO_TLS_PROXY=1`` when a proxy in front (nginx, a load balancer) terminates TLS and sets
  ``X-Forwarded-Proto``; without it every request looks like plain HTTP and is redirected forever.
  ``DJANGO_HSTS_SECONDS`` (default one year).
"""

from __future__ import annotations

import os

import django
from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import MIDDLEWARE, SILENCED_SYSTEM_CHECKS, TAILORED_CMS


def _required(name: str, what: str) -> str:
    """The environment variable ``name``; refusing to start without it, saying what to set it to."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: set it to {what}. The production settings need it.")
    return value


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = False
SECRET_KEY = _required(
    "DJANGO_SECRET_KEY",
    "50 or more random characters, kept secret, e.g. the output of "
    "python -c 'from django.core.management.utils import get_random_secret_key as k; print(k())'",
)
ALLOWED_HOSTS = _list(
    _required(
        "DJANGO_ALLOWED_HOSTS",
        "the host names the site answers to, comma-separated (news.example.com,www.news.example.com)",
    )
)
CSRF_TRUSTED_ORIGINS = _list(os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", ""))

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("TAILORED_DB_NAME", "tailored_cms"),
        "USER": os.environ.get("TAILORED_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("TAILORED_DB_PASSWORD", ""),
        "HOST": os.environ.get("TAILORED_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("TAILORED_DB_PORT", "5432"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        # django CMS loads a page's plugins with QuerySet.iterator(), which on PostgreSQL opens a server-side
        # cursor per plugin model: DECLARE, FETCH and CLOSE, three round trips where one query would do. A page's
        # plugins are few, so fetching them at once is faster (measured: 1.2 ms less per tailored page); it is
        # also what pgbouncer's transaction pooling needs. tailored_cms's own iterators read bounded chunks.
        "DISABLE_SERVER_SIDE_CURSORS": True,
    }
}
if os.environ.get("DJANGO_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["DJANGO_CACHE_URL"],
        }
    }
CELERY_TASK_ALWAYS_EAGER = False

# HTTPS only. Behind a TLS-terminating proxy Django sees plain HTTP; trust X-Forwarded-Proto only when the
# proxy sets it (and overwrites what clients send), or anyone could claim a request came over HTTPS.
SECURE_SSL_REDIRECT = True
if os.environ.get("DJANGO_TLS_PROXY") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Browsers remember HSTS for its max-age, subdomains included: start lower while trying HTTPS out.
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True  # not HttpOnly: customize.js and privacy.js read it to send X-CSRFToken
TAILORED_CMS = {**TAILORED_CMS, "COOKIE_SECURE": True}

# A strict Content-Security-Policy: scripts and styles from the site's own files only. The site's pages, with
# what tailored_cms adds to them, have no inline scripts or styles (tests/test_production_settings.py checks the
# demo homepage). Django 6 sends the header itself; on 5.2 the example site's small middleware does.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
CSP_MIDDLEWARE = (
    "django.middleware.csp.ContentSecurityPolicyMiddleware"
    if django.VERSION >= (6, 0)
    else "example_site.middleware.ContentSecurityPolicyMiddleware"
)
_after = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [*MIDDLEWARE[:_after], CSP_MIDDLEWARE, *MIDDLEWARE[_after:]]

# security.W019 asks for X_FRAME_OPTIONS = "DENY"; django CMS edits pages in same-origin frames (the sideframe
# and modal dialogs), so the example site keeps "SAMEORIGIN" (and frame-ancestors 'self' above).
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W019"]
