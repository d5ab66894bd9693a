"""The example site for the bench. bench/__main__.py sets the Redis URL and, when PostgreSQL answers at
127.0.0.1:5432, the name of a throwaway database on it; otherwise a throwaway SQLite file.

The same settings serve gunicorn's workers in the events bench (bench/served.py), so they read the same env.
"""

import os
from pathlib import Path

from example_site.settings import *  # noqa: F403
from example_site.settings import CMS_TEMPLATES, TAILORED_CMS, TEMPLATES, VAR_DIR

if os.environ.get("TAILORED_BENCH_DB_NAME"):
    DATABASES = {
        "default": {
            # The bench's backend (Django's, parsing timestamps in C: bench/postgresql/base.py), or Django's own
            # for the render bench's row that measures the difference.
            "ENGINE": os.environ.get("TAILORED_BENCH_DB_ENGINE", "bench.postgresql"),
            "NAME": os.environ["TAILORED_BENCH_DB_NAME"],
            "USER": os.environ.get("TAILORED_DB_USER", "postgres"),
            "HOST": os.environ.get("TAILORED_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("TAILORED_DB_PORT", "5432"),
            "CONN_MAX_AGE": 60,  # gunicorn's workers keep their connection, as a production site would
            "DISABLE_SERVER_SIDE_CURSORS": True,  # as example_site/settings_production.py, which says why
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "bench.sqlite3",
            # Several gunicorn workers write (the events bench's baseline): wait for the lock, take it up front.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        }
    }
DEBUG = False
ROOT_URLCONF = "bench.urls"  # the site's URLs plus the events bench's baseline view
TAILORED_CMS = {
    **TAILORED_CMS,
    "REDIS_URL": os.environ.get("TAILORED_BENCH_REDIS_URL", "redis://127.0.0.1:1/0"),
    # The events bench sends everything from one address and cycles 1,000 visitors as fast as it can: raised so
    # that the limits are counted (their cost is measured) but never reached.
    "EVENTS_RATE_PER_VISITOR": 10**9,
    "EVENTS_RATE_PER_IP": 10**9,
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Celery tasks a bench queues (a segment saved queues its recompute) go to the bench's private Redis, never to a
# server something else uses; nothing consumes them (the benches recompute in-process).
CELERY_BROKER_URL = os.environ.get("TAILORED_BENCH_REDIS_URL", "redis://127.0.0.1:1/0").rsplit("/", 1)[0] + "/1"

# The render bench's page (four placeholders), served by the same site as everything else.
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent / "templates"]}]
CMS_TEMPLATES = [
    *CMS_TEMPLATES,
    ("bench_page.html", "Render bench: four placeholders"),
    ("bench_plain.html", "Edge bench: a page with no tailoring"),
]
# The edge bench serves the site in edge mode behind Varnish (TAILORED_BENCH_EDGE=1).
if os.environ.get("TAILORED_BENCH_EDGE") == "1":
    TAILORED_CMS = {**TAILORED_CMS, "EDGE_MODE": True}
# The render bench serves the site twice: with django CMS's caches off (TAILORED_BENCH_CMS_CACHES=off), then on.
if os.environ.get("TAILORED_BENCH_CMS_CACHES") == "off":
    CMS_PAGE_CACHE = CMS_PLACEHOLDER_CACHE = CMS_PLUGIN_CACHE = False
    # ... one request at a time: each response says the CPU time its view took (bench/cpu_time.py)
    MIDDLEWARE = ["bench.cpu_time.cpu_time_header", *MIDDLEWARE]  # noqa: F405
