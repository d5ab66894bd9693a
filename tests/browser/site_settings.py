"""Settings of the example site as the visitor's browser tests serve it (``runserver`` in a subprocess).

The suite's settings with a SQLite file of its own (``TAILORED_BROWSER_DB``), so the server's threads share a
real database; Redis is the session's private one (``TAILORED_TEST_REDIS_URL``, read by ``tests.settings``).
With ``TAILORED_BROWSER_CSP=strict`` the site is hardened (``tests/browser/test_strict_csp.py``): every response
carries ``STRICT_CSP``, sent the way ``example_site.settings_production`` sends its policy, and the CSRF cookie is
HttpOnly (the scripts take the token from the API's X-CSRFToken header instead).
With ``TAILORED_BROWSER_CONSENT_TOOL=<source>`` (``tests/browser/test_consent_bridges.py``) the site asks for consent
with that tool instead of the built-in banner (``CONSENT_SOURCE``): its base template (``consent_tools/<source>/``)
loads the tool, the real library from npm, served from ``node_modules/`` under ``/static/npm/``.
With ``TAILORED_BROWSER_ANALYTICS=<target>,<target>`` (``tests/browser/test_analytics.py``) it reports to the site's
analytics tools (``ANALYTICS``), Matomo's with the custom dimension ``ANALYTICS_DIMENSION``, measured with Klaro's or
CookieConsent's consent to their ``matomo`` (``ANALYTICS_CONSENT_SERVICE``).
"""

import os
from pathlib import Path

import django

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE, STATICFILES_DIRS, TAILORED_CMS, TEMPLATES

# The example site as `make demo` serves it: pages under /en/, /es/, /it/.
ROOT_URLCONF = "example_site.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["TAILORED_BROWSER_DB"],
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}

# No inline script or style, no style="" attribute: what tailored_cms's markup and scripts must do without.
STRICT_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if os.environ.get("TAILORED_BROWSER_CSP") == "strict":
    SECURE_CSP = STRICT_CSP
    CSRF_COOKIE_HTTPONLY = True
    _csp_middleware = (
        "django.middleware.csp.ContentSecurityPolicyMiddleware"
        if django.VERSION >= (6, 0)
        else "example_site.middleware.ContentSecurityPolicyMiddleware"
    )
    _after = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
    MIDDLEWARE = [*MIDDLEWARE[:_after], _csp_middleware, *MIDDLEWARE[_after:]]

CONSENT_TOOL = os.environ.get("TAILORED_BROWSER_CONSENT_TOOL")
if CONSENT_TOOL:
    _here = Path(__file__).resolve().parent
    TAILORED_CMS = {**TAILORED_CMS, "CONSENT_SOURCE": CONSENT_TOOL}
    # Its base.html extends the example site's and fills {% block consent_tool %}.
    TEMPLATES = [{**TEMPLATES[0], "DIRS": [_here / "consent_tools" / CONSENT_TOOL, *TEMPLATES[0]["DIRS"]]}]
    STATICFILES_DIRS = [
        *STATICFILES_DIRS,
        _here / "consent_tools" / "static",
        ("npm", _here.parents[1] / "node_modules"),
    ]

ANALYTICS_DIMENSION = 3
ANALYTICS = os.environ.get("TAILORED_BROWSER_ANALYTICS")
if ANALYTICS:
    TAILORED_CMS = {
        **TAILORED_CMS,
        "ANALYTICS": ANALYTICS.split(","),
        "ANALYTICS_MATOMO_DIMENSION": ANALYTICS_DIMENSION,
        "ANALYTICS_CONSENT_SERVICE": "matomo",  # the Klaro service, the CookieConsent category (consent_tools/)
    }

# With TAILORED_BROWSER_EDGE=<a Varnish's URL> (tests/edge/): the site behind that Varnish in edge mode, purging it;
# TAILORED_BROWSER_EDGE_KEY_MAX_AGE shortens the key cookie's life.
EDGE = os.environ.get("TAILORED_BROWSER_EDGE")
if EDGE:
    TAILORED_CMS = {
        **TAILORED_CMS,
        "EDGE_MODE": True,
        "EDGE_PURGE_URLS": [EDGE],
        "EDGE_KEY_MAX_AGE": int(os.environ.get("TAILORED_BROWSER_EDGE_KEY_MAX_AGE", "60")),
    }
