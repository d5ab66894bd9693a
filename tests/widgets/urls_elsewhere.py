"""A site that mounts tailored_cms somewhere else than docs/installation.md says."""

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("tailored_cms.urls"))]
