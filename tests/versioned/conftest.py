"""This package's tests need djangocms-versioning installed (``tests.versioned.settings``): the suite's own run,
with the usual settings, leaves them to ``tests/test_versioned_site.py``, which runs them."""

from django.conf import settings

from tests.edge.conftest import varnish  # noqa: F401  # the edge purge's test: a real Varnish before the live server

collect_ignore_glob = [] if "djangocms_versioning" in settings.INSTALLED_APPS else ["test_*.py"]
