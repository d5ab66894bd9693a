"""django CMS's own test settings (shipped in its wheel), with tailored_cms installed as docs/installation.md says.

``scripts/test-cms.sh`` runs a subset of django CMS's test suite with these: what tailored_cms adds to every
site (a toolbar menu, a page extension, a middleware) must not break django CMS. That page's blocks are applied
as written (settings, then URLs in ``urls.py``); docs/cms-suite.md lists the expected differences.
"""

from __future__ import annotations

import os

from cms.tests.settings import *  # noqa: F403
from cms.tests.settings import INSTALLED_APPS, MIDDLEWARE

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "TEST": {"MIRROR": "default"}},
}

# tailored_cms, as docs/installation.md says
INSTALLED_APPS += ["rest_framework", "tailored_cms"]
MIDDLEWARE += ["tailored_cms.middleware.TailoredMiddleware"]
TAILORED_CMS = {
    # No Redis for django CMS's tests: the middleware falls back to the database, as on a site whose Redis is down.
    "REDIS_URL": os.environ.get("TAILORED_TEST_REDIS_URL", "redis://127.0.0.1:1/0"),
}
ROOT_URLCONF = "tests.cms_suite.urls"
# django CMS's test settings turn its own migrations off (MIGRATION_MODULES); tailored_cms's migration runs all the
# same, since it depends on no named django CMS migration.
