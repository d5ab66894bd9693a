from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# The pages live under their language (/en/, /es/, /it/); "/" sends a visitor to the one of their language cookie
# (set by the language chooser, kept by django CMS's LanguageCookieMiddleware) or their browser. The admin and
# tailored_cms's own URLs speak the same language without a prefix.
urlpatterns = [
    # For pages without a <link rel="icon"> (the admin's, tailored_cms's preferences page).
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}example_site/favicon.svg")),
    path("admin/", admin.site.urls),
    path("tailored/", include("tailored_cms.urls")),
    *i18n_patterns(path("", include("cms.urls"))),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
