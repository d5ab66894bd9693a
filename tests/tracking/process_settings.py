"""Settings of the worker processes the tracking tests start: the test settings, on the test's own database.

``TAILORED_TEST_DB_NAME`` names it (PostgreSQL's test database, or the SQLite file of ``shared_db``);
``TAILORED_TEST_CMS`` is the test's ``TAILORED_CMS`` as JSON. ``TAILORED_TEST_SQLITE_TIMEOUT`` (seconds, default
30) is how long SQLite waits for a lock before "database is locked"; ``TAILORED_DB_PORT`` (tests/settings.py) may
name a proxy in front of PostgreSQL; ``TAILORED_TEST_BROKER_URL`` is Celery's broker (a real worker's), and
``TAILORED_TEST_BROKER_TRANSPORT_OPTIONS`` (JSON) its transport options.
"""

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["TAILORED_TEST_DB_NAME"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "timeout": float(os.environ.get("TAILORED_TEST_SQLITE_TIMEOUT", "30")),
        "transaction_mode": "IMMEDIATE",
    }
TAILORED_CMS = json.loads(os.environ["TAILORED_TEST_CMS"])
if "TAILORED_TEST_BROKER_URL" in os.environ:
    CELERY_BROKER_URL = os.environ["TAILORED_TEST_BROKER_URL"]
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    CELERY_BROKER_TRANSPORT_OPTIONS = json.loads(os.environ.get("TAILORED_TEST_BROKER_TRANSPORT_OPTIONS", "{}"))
