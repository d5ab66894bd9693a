"""The example site, on a throwaway SQLite file; the Redis URL is set by bench/__main__.py."""

import os

from example_site.settings import *  # noqa: F403
from example_site.settings import TAILORED_CMS, VAR_DIR

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "bench.sqlite3"}}
DEBUG = False
TAILORED_CMS = {
    **TAILORED_CMS,
    "REDIS_URL": os.environ.get("TAILORED_BENCH_REDIS_URL", "redis://127.0.0.1:1/0"),
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
