"""The example site's URLs, and the events bench's baseline (routed here only: bench settings)."""

from django.urls import path

from example_site.urls import urlpatterns as site_urlpatterns

from .baseline import baseline_events

urlpatterns = [path("bench/baseline-events/", baseline_events, name="bench-baseline-events"), *site_urlpatterns]
