"""Login and logout: the anonymous visitor's choices follow the user; logging out leaves them behind."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from .preferences import merge_at_login


@receiver(user_logged_in, dispatch_uid="tailored_cms.merge_at_login")
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None:
        merge_at_login(request, user)


@receiver(user_logged_out, dispatch_uid="tailored_cms.forget_at_logout")
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    context = getattr(request, "tailored", None)
    if context is not None:
        context.forget()
