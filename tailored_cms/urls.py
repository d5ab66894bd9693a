from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from .visitors.views import PreferencesPageView

app_name = "tailored_cms"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("tailored_cms.api.urls")),
    path("preferences/", PreferencesPageView.as_view(), name="preferences"),
]
