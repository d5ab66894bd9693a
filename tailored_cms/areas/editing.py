"""What follows a change an editor makes to a tailored plugin outside django CMS's own forms (its menu in
structure mode, ending an experiment from its results): what django CMS does after its own edit."""

from __future__ import annotations

import uuid

from cms.models import CMSPlugin
from cms.operations import CHANGE_PLUGIN
from cms.signals import post_placeholder_operation
from django.http import HttpRequest

__all__ = ["announce_change"]


def announce_change(request: HttpRequest, old: CMSPlugin, new: CMSPlugin) -> None:
    """``new`` (saved) was ``old``: empty its placeholder's cache and tell the operation's receivers
    (djangocms-versioning then updates the version's modified date)."""
    new.placeholder.clear_cache(new.language)
    post_placeholder_operation.send(
        sender=type(new),
        operation=CHANGE_PLUGIN,
        request=request,
        language=new.language,
        token=uuid.uuid4().hex,
        origin=request.META.get("HTTP_REFERER", ""),
        old_plugin=old,
        new_plugin=new,
        placeholder=new.placeholder,
    )
