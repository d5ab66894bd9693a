"""The suite's URLs: the example site's without language prefixes, a site as many run one (every language at the
same URL, chosen by the cookie or the browser). The example site's own (``example_site.urls``, ``/en/``, ``/es/``,
``/it/``) are tested by ``tests/test_tailored_demo.py``, ``tests/test_languages.py`` and the browser tests."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("tailored/", include("tailored_cms.urls")),
    path("", include("cms.urls")),
]
