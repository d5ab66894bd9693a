"""An area's context menu in structure mode: switch its strategy without opening its form.

Each item POSTs its data, CSRF token included, to ``/tailored/areas/<id>/strategy/`` (``editors.strategy``, the
view) and the page reloads. The items are offered to editors who may change the area as django CMS's own "Edit"
asks: the plugin change permission, and that the area's page content may be edited now (with
djangocms-versioning: a draft, not locked by someone else).
"""

from __future__ import annotations

from typing import Any

from cms.models import CMSPlugin
from cms.plugin_base import PluginMenuItem
from cms.utils.plugins import downcast_plugins
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import TailoredArea
from .strategies import registered_strategies

__all__ = ["AREA_PLUGIN", "may_change", "strategy_menu_items"]

AREA_PLUGIN = "TailoredAreaPlugin"


def may_change(user: Any, plugin: CMSPlugin) -> bool:
    """What django CMS's plugin edit view checks, for this plugin."""
    placeholder = plugin.placeholder
    return bool(
        user.is_active
        and user.is_staff
        and placeholder.has_change_plugin_permission(user, plugin)
        and placeholder.check_source(user)
    )


def strategy_menu_items(request: HttpRequest, plugin: CMSPlugin) -> list[PluginMenuItem]:
    """One item per strategy the area could switch to; none for other plugins or editors who may not change it."""
    if plugin.plugin_type != AREA_PLUGIN or not may_change(request.user, plugin):
        return []
    area = plugin if isinstance(plugin, TailoredArea) else next(iter(downcast_plugins([plugin])))
    url = reverse("tailored_cms:area_strategy", args=[plugin.pk])
    token = get_token(request)  # django CMS posts the item's data as it is: the token must be in it
    return [
        PluginMenuItem(
            _("Strategy: %(label)s") % {"label": strategy.short_label()},
            url,
            data={"strategy": strategy.name, "csrfmiddlewaretoken": token},
            attributes={"tailored-strategy": strategy.name},
        )
        for strategy in registered_strategies()
        if strategy.name != area.strategy
    ]
