"""The example site's settings, made fast and isolated for tests.

TAILORED_TEST_DB=postgres runs the suite on PostgreSQL (127.0.0.1:5432) instead of SQLite. The Redis URL is set
per test session by tests/conftest.py, which starts a private redis-server.
"""

import os

from example_site.settings import *  # noqa: F403
from example_site.settings import TAILORED_CMS

if os.environ.get("TAILORED_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",  # Django's own: what sites run
            "NAME": "tailored_cms",
            "USER": os.environ.get("TAILORED_DB_USER", "postgres"),
            "HOST": os.environ.get("TAILORED_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("TAILORED_DB_PORT", "5432"),
            # One test database per run, so two runs on one server (a developer's and CI's) never collide.
            "TEST": {"NAME": f"test_tailored_cms_{os.getpid()}"},
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Without language prefixes (tests/urls.py); the example site's own are tested where it is served as it is.
ROOT_URLCONF = "tests.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
CELERY_TASK_ALWAYS_EAGER = False
TAILORED_CMS = {
    **TAILORED_CMS,
    "REDIS_URL": os.environ.get("TAILORED_TEST_REDIS_URL", "redis://127.0.0.1:1/0"),
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
