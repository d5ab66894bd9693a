"""Settings of the example site as the visitor's browser tests serve it (``runserver`` in a subprocess).

The suite's settings with a SQLite file of its own (``TAILORED_BROWSER_DB``), so the server's threads share a
real database; Redis is the session's private one (``TAILORED_TEST_REDIS_URL``, read by ``tests.settings``).
"""

import os

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["TAILORED_BROWSER_DB"],
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
