"""The suite's settings with djangocms-versioning on, as ``djangocms .`` makes new sites, and the example site's
URLs (a prefix per language). ``tests/edge/test_versioning.py`` runs ``tests/edge/versioned_site.py`` with them."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "djangocms_versioning"]
ROOT_URLCONF = "example_site.urls"
