"""``RecommendedPagesPlugin``: "Recommended for you", a list of pages for this visitor, each with why.

The page's markup is the same for everyone: the plugin's popular list (also what a browser without JavaScript
keeps), and where ``recommendations.js`` asks ``recommendations/`` for the visitor's own list after the page. So
the placeholder and page caches keep one copy for all visitors, and a visitor's list is never in a shared cache.
"""

from __future__ import annotations

from typing import Any

from cms.plugin_base import CMSPluginBase
from cms.plugin_pool import plugin_pool
from cms.utils import get_current_site
from django.utils.translation import gettext_lazy as _

from ..plugin_settings.rendering import MODULE
from . import store
from .listing import entries, popular_picks
from .models import RecommendedPages

__all__ = ["RecommendedPagesPlugin"]


@plugin_pool.register_plugin
class RecommendedPagesPlugin(CMSPluginBase):
    """Pages for this visitor, best first: what they read, the topics they follow, what is popular."""

    model = RecommendedPages
    name = _("Recommended pages")
    module = MODULE
    render_template = "tailored_cms/plugins/recommended_pages.html"
    fieldsets = [
        (None, {"fields": ["title", "limit"]}),
        (_("Which pages"), {"fields": ["include_trees", "exclude_trees", "topics", "min_age_days", "pinned"]}),
        (_("Results"), {"fields": ["holdout_percent"]}),
    ]
    filter_horizontal = ["include_trees", "exclude_trees", "topics", "pinned"]

    def render(self, context: dict[str, Any], instance: RecommendedPages, placeholder: str) -> dict[str, Any]:
        """Cost: one Redis round trip (the popular list) and four queries, on a placeholder cache miss only: the
        markup is the same for every visitor."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        current_page = getattr(request, "current_page", None)
        context["page_id"] = current_page.pk if current_page else ""
        context["entries"] = entries(
            instance,
            popular_picks(store.read_shared()),
            language=instance.language,
            site_id=get_current_site(request).pk,
            exclude_page_id=current_page.pk if current_page else None,
        )
        return context
