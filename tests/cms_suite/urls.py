"""django CMS's test urls, with tailored_cms's routed first as docs/installation.md says."""

from cms.test_utils.project.urls import urlpatterns
from django.urls import include, path

urlpatterns = [path("tailored/", include("tailored_cms.urls")), *urlpatterns]
