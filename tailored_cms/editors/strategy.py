"""Change a tailored area's strategy from its menu in structure mode, without opening its form.

The area's context menu (``TailoredAreaPlugin.get_extra_plugin_menu_items``) lists the other strategies; each
item POSTs its data, CSRF token included, to ``/tailored/areas/<id>/strategy/`` and the page reloads. The view
asks what django CMS's own "Edit" asks: the plugin change permission, and that the area's page content may be
edited now (with djangocms-versioning: a draft, not locked by someone else).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from cms.models import CMSPlugin
from cms.operations import CHANGE_PLUGIN
from cms.plugin_base import PluginMenuItem
from cms.signals import post_placeholder_operation
from cms.utils.plugins import downcast_plugins
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..widgets.models import Strategy, TailoredArea

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
            _("Strategy: %(label)s") % {"label": label.split(":")[0]},
            url,
            data={"strategy": value, "csrfmiddlewaretoken": token},
            attributes={"tailored-strategy": value},
        )
        for value, label in Strategy.choices
        if value != area.strategy
    ]


@require_POST
@transaction.atomic
def change_area_strategy(request: HttpRequest, plugin_id: int) -> HttpResponse:
    """POST ``strategy=<value>``: set the area's strategy. 403 without the permission, 400 for an unknown value."""
    plugin = get_object_or_404(CMSPlugin.objects.select_related("placeholder"), pk=plugin_id, plugin_type=AREA_PLUGIN)
    if not may_change(request.user, plugin):
        return HttpResponseForbidden(_("You may not change this tailored area (its page is not a draft you may edit)."))
    strategy = request.POST.get("strategy", "")
    if strategy not in Strategy.values:
        return HttpResponseBadRequest(
            _("Unknown strategy %(given)r: choose one of %(choices)s.")
            % {"given": strategy, "choices": ", ".join(Strategy.values)}
        )
    area = TailoredArea.objects.select_for_update(of=("self",)).get(pk=plugin.pk)
    old = copy.copy(area)  # as it was, for the operation's receivers
    area.strategy = strategy
    area.save(update_fields=["strategy"])
    area.placeholder.clear_cache(area.language)
    # What django CMS sends after its own edit: djangocms-versioning updates the version's modified date.
    post_placeholder_operation.send(
        sender=type(area),
        operation=CHANGE_PLUGIN,
        request=request,
        language=area.language,
        token=uuid.uuid4().hex,
        origin=request.META.get("HTTP_REFERER", ""),
        old_plugin=old,
        new_plugin=area,
        placeholder=area.placeholder,
    )
    return JsonResponse({"id": area.pk, "strategy": area.strategy})
