"""System checks for ``TAILORED_CMS`` and the site's wiring (ids ``tailored_cms.E00x``/``W00x``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import DEFAULTS, SETTING_NAME, tailored_settings

MIDDLEWARE = "tailored_cms.middleware.TailoredMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    errors: list[Error | Warning] = []
    user = tailored_settings.user_settings
    if not isinstance(user, dict):
        return [Error(f"{SETTING_NAME} must be a dict.", id="tailored_cms.E001")]
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        errors.append(
            Error(
                f"Unknown {SETTING_NAME} keys: {', '.join(unknown)}.",
                hint=f"Valid keys: {', '.join(sorted(DEFAULTS))}.",
                id="tailored_cms.E002",
            )
        )
    for choices, default in (("THEMES", "DEFAULT_THEME"), ("LAYOUTS", "DEFAULT_LAYOUT")):
        value = getattr(tailored_settings, choices)
        if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{choices!r}] must be a non-empty dict of slug -> label.",
                    id="tailored_cms.E003",
                )
            )
        elif getattr(tailored_settings, default) not in value:
            errors.append(
                Error(
                    f"{SETTING_NAME}[{default!r}] is {getattr(tailored_settings, default)!r}, "
                    f"which is not one of {choices}: {', '.join(value)}.",
                    id="tailored_cms.E004",
                )
            )
    if tailored_settings.CONSENT not in ("required", "implied"):
        errors.append(
            Error(
                f"{SETTING_NAME}['CONSENT'] is {tailored_settings.CONSENT!r}; it must be 'required' or 'implied'.",
                id="tailored_cms.E008",
            )
        )
    if not str(tailored_settings.REDIS_URL).startswith(("redis://", "rediss://", "unix://")):
        errors.append(
            Error(
                f"{SETTING_NAME}['REDIS_URL'] must be a redis://, rediss:// or unix:// URL.",
                id="tailored_cms.E005",
            )
        )
    try:
        tailored_settings.SNAPSHOT_STORE  # noqa: B018 - importing it is the check
    except ImportError as exc:
        errors.append(Error(str(exc), id="tailored_cms.E006"))
    return errors


@register(Tags.compatibility)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MIDDLEWARE not in middleware:
        return [
            Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE: tailored areas will show every visitor the fallback.",
                hint=f"Add it after {AUTH_MIDDLEWARE}.",
                id="tailored_cms.W001",
            )
        ]
    if AUTH_MIDDLEWARE in middleware and middleware.index(MIDDLEWARE) < middleware.index(AUTH_MIDDLEWARE):
        return [Error(f"{MIDDLEWARE} must come after {AUTH_MIDDLEWARE}.", id="tailored_cms.E007")]
    return []
