from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from .editors.strategy import change_area_strategy
from .editors.views import PreviewView, StopPreviewView
from .rest.quiz import QuizFormView
from .script_catalog import script_catalog
from .visitors.views import ConsentAnswerView, PreferencesPageView

app_name = "tailored_cms"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("tailored_cms.rest.urls")),
    path("preferences/", PreferencesPageView.as_view(), name="preferences"),
    path("preferences/consent/", ConsentAnswerView.as_view(), name="consent_answer"),
    path("quiz/<int:quiz_id>/", QuizFormView.as_view(), name="quiz"),
    path("preview/", PreviewView.as_view(), name="preview"),
    path("preview/stop/", StopPreviewView.as_view(), name="stop_preview"),
    path("areas/<int:plugin_id>/strategy/", change_area_strategy, name="area_strategy"),
    path("jsi18n/<str:language>/", script_catalog, name="jsi18n"),
]
