"""Settings of the worker processes the tracking tests start: the test settings, on the test's own database.

``TAILORED_TEST_DB_NAME`` names it (PostgreSQL's test database, or the SQLite file of ``shared_db``);
``TAILORED_TEST_CMS`` is the test's ``TAILORED_CMS`` as JSON.
"""

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["TAILORED_TEST_DB_NAME"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
TAILORED_CMS = json.loads(os.environ["TAILORED_TEST_CMS"])
