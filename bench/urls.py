"""The example site's URLs without its language prefixes (the benches request pages at /<slug>/, in English),
and the events bench's baseline (routed here only: bench settings)."""

from django.contrib import admin
from django.urls import include, path

from .baseline import baseline_events

urlpatterns = [
    path("bench/baseline-events/", baseline_events, name="bench-baseline-events"),
    path("admin/", admin.site.urls),
    path("tailored/", include("tailored_cms.urls")),
    path("", include("cms.urls")),
]
