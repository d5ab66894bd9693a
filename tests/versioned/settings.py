"""The test settings with djangocms-versioning installed and on, as on a site ``djangocms .`` makes (its default),
and the example site's URLs (a prefix per language).

``tests/test_versioned_site.py`` runs this package's tests in a pytest of their own with these settings: an app
can't be added to ``INSTALLED_APPS`` once Django has started.
"""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "djangocms_versioning"]
ROOT_URLCONF = "example_site.urls"
