"""URLs of the REST API, at ``api/v1/``; names ``tailored_cms:api:<name>``."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import segments, stats, views

app_name = "api"

urlpatterns: list[URLPattern] = [
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("topics/", views.TopicsView.as_view(), name="topics"),
    path("themes/", views.ThemesView.as_view(), name="themes"),
    path("layouts/", views.LayoutsView.as_view(), name="layouts"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
    path("events/", views.EventsView.as_view(), name="events"),
    path("me/", views.MeView.as_view(), name="me"),
    path("explain/", views.ExplainView.as_view(), name="explain"),
    path("segments/", segments.SegmentsView.as_view(), name="segments"),
    path("segments/preview/", segments.SegmentPreviewView.as_view(), name="segment-preview"),
    path("stats/", stats.StatsView.as_view(), name="stats"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
]
