"""URLs of the REST API, at ``api/v1/``; names ``tailored_cms:api:<name>``."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import choices, events, explain, preferences, privacy, quiz, recommendations, schema, segments, stats, traits

app_name = "api"

urlpatterns: list[URLPattern] = [
    path("preferences/", preferences.PreferencesView.as_view(), name="preferences"),
    path("topics/", choices.TopicsView.as_view(), name="topics"),
    path("themes/", choices.ThemesView.as_view(), name="themes"),
    path("layouts/", choices.LayoutsView.as_view(), name="layouts"),
    path("consent/", privacy.ConsentView.as_view(), name="consent"),
    path("events/", events.EventsView.as_view(), name="events"),
    path("me/", privacy.MeView.as_view(), name="me"),
    path("explain/", explain.ExplainView.as_view(), name="explain"),
    path("quiz/", quiz.QuizView.as_view(), name="quiz"),
    path("recommendations/", recommendations.RecommendationsView.as_view(), name="recommendations"),
    path("segments/", segments.SegmentsView.as_view(), name="segments"),
    path("segments/preview/", segments.SegmentPreviewView.as_view(), name="segment-preview"),
    path("stats/", stats.StatsView.as_view(), name="stats"),
    path("traits/", traits.TraitsView.as_view(), name="traits"),
    path("schema/", schema.SchemaView.as_view(), name="schema"),
]
