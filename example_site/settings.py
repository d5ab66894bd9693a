"""Settings of the example site: a small django CMS 5.1 site that shows everything tailored_cms does.

Environment: TAILORED_REDIS_URL (Redis), TAILORED_DB=postgres (PostgreSQL at 127.0.0.1:5432 instead of SQLite),
TAILORED_EAGER=1 (run Celery tasks in-process when no Redis can be had), DJANGO_DEBUG=0, DJANGO_SECRET_KEY.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = BASE_DIR.parent / "var"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-site-not-secret-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "djangocms_admin_style",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "cms",
    "menus",
    "treebeard",
    "sekizai",
    "djangocms_text",
    # tailored_cms and what it needs:
    "rest_framework",
    "drf_spectacular",
    "parler",
    "django_countries",
    "tailored_cms",
    # the demo content (manage.py tailored_demo)
    "example_site.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tailored_cms.middleware.TailoredMiddleware",
    "cms.middleware.user.CurrentUserMiddleware",
    "cms.middleware.page.CurrentPageMiddleware",
    "cms.middleware.toolbar.ToolbarMiddleware",
    "cms.middleware.language.LanguageCookieMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "sekizai.context_processors.sekizai",
                "cms.context_processors.cms_settings",
            ],
        },
    }
]

if os.environ.get("TAILORED_DB") == "postgres":
    DATABASES: dict[str, dict[str, Any]] = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("TAILORED_DB_NAME", "tailored_cms"),
            "USER": os.environ.get("TAILORED_DB_USER", "postgres"),
            "HOST": os.environ.get("TAILORED_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("TAILORED_DB_PORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# django CMS's placeholder and page caches live here; a multi-process deployment would use Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en"
# English first: the default, and what django CMS shows where a page has no translation yet.
LANGUAGES = [("en", "English"), ("es", "Español"), ("it", "Italiano")]
# The site's own words (its templates'); tailored_cms brings its own catalogs.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
SITE_ID = 1

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
X_FRAME_OPTIONS = "SAMEORIGIN"
LOGIN_URL = "/admin/login/"

CMS_CONFIRM_VERSION4 = True
CMS_TEMPLATES = [("home.html", "Home (areas, widgets, panel)"), ("page.html", "Content page")]
CMS_PAGE_CACHE = True
CMS_PLACEHOLDER_CACHE = True
CMS_PLUGIN_CACHE = True

REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {"TITLE": "tailored_cms API", "VERSION": "1", "SERVE_INCLUDE_SCHEMA": False}

REDIS_URL = os.environ.get("TAILORED_REDIS_URL", "redis://127.0.0.1:6379/0")
TAILORED_CMS = {"REDIS_URL": REDIS_URL}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = os.environ.get("TAILORED_EAGER") == "1"
CELERY_TASK_EAGER_PROPAGATES = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"tailored_cms": {"handlers": ["console"], "level": "INFO"}},
}

# django CMS 5.1's PageManager trips a forward-looking treebeard 5 warning; treebeard is pinned <6.
SILENCED_SYSTEM_CHECKS = ["treebeard.E001"]
