"""django CMS discovers plugins in ``<app>.cms_plugins``; they live in the ``areas`` and ``widgets`` subpackages."""

from .areas.cms_plugins import ExplanationPlugin, TailoredAreaPlugin, VariantPlugin
from .widgets.cms_plugins import (
    ConsentBannerPlugin,
    PreferencesPanelPlugin,
    TopicFeedPlugin,
    WidgetBoardPlugin,
    WidgetPlugin,
)

__all__ = [
    "ConsentBannerPlugin",
    "ExplanationPlugin",
    "PreferencesPanelPlugin",
    "TailoredAreaPlugin",
    "TopicFeedPlugin",
    "VariantPlugin",
    "WidgetBoardPlugin",
    "WidgetPlugin",
]
