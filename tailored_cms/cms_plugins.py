"""django CMS discovers plugins in ``<app>.cms_plugins``; they live in the ``widgets`` subpackage."""

from .widgets.cms_plugins import (
    ConsentBannerPlugin,
    ExplanationPlugin,
    PreferencesPanelPlugin,
    TailoredAreaPlugin,
    TopicFeedPlugin,
    VariantPlugin,
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
