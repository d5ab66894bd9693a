"""This package's tests need djangocms-versioning installed (``tests.versioned.settings``): the suite's own run,
with the usual settings, leaves them to ``tests/results/test_ending_on_a_versioned_site.py``, which runs them."""

from django.conf import settings

collect_ignore_glob = [] if "djangocms_versioning" in settings.INSTALLED_APPS else ["test_*.py"]
