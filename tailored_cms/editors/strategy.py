"""Change a tailored area's strategy from its menu in structure mode, without opening its form.

The area's context menu (``areas.menu.strategy_menu_items``) lists the other strategies; each item POSTs its data,
CSRF token included, to ``/tailored/areas/<id>/strategy/``, this view, and the page reloads. The view asks what
django CMS's own "Edit" asks: the plugin change permission, and that the area's page content may be edited now
(with djangocms-versioning: a draft, not locked by someone else).
"""

from __future__ import annotations

import copy

from cms.models import CMSPlugin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..areas.editing import announce_change
from ..areas.menu import AREA_PLUGIN, may_change, strategy_menu_items
from ..areas.models import TailoredArea
from ..areas.strategies import registered_strategies

__all__ = ["change_area_strategy", "may_change", "strategy_menu_items"]


@require_POST
@transaction.atomic
def change_area_strategy(request: HttpRequest, plugin_id: int) -> HttpResponse:
    """POST ``strategy=<value>``: set the area's strategy. 403 without the permission, 400 for an unknown value."""
    plugin = get_object_or_404(CMSPlugin.objects.select_related("placeholder"), pk=plugin_id, plugin_type=AREA_PLUGIN)
    if not may_change(request.user, plugin):
        return HttpResponseForbidden(_("You may not change this tailored area (its page is not a draft you may edit)."))
    strategy = request.POST.get("strategy", "")
    names = [known.name for known in registered_strategies()]
    if strategy not in names:
        return HttpResponseBadRequest(
            _("Unknown strategy %(given)r: choose one of %(choices)s.")
            % {"given": strategy, "choices": ", ".join(names)}
        )
    area = TailoredArea.objects.locked(pk=plugin.pk).get()
    old = copy.copy(area)  # as it was, for the operation's receivers
    area.strategy = strategy
    area.save(update_fields=["strategy"])
    announce_change(request, old, area)
    return JsonResponse({"id": area.pk, "strategy": area.strategy})
