"""django CMS discovers plugins in ``<app>.cms_plugins``; they live in the ``widgets`` subpackage."""

from .widgets.cms_plugins import (
    PreferencesPanelPlugin,
    TailoredAreaPlugin,
    TopicFeedPlugin,
    VariantPlugin,
    WidgetBoardPlugin,
    WidgetPlugin,
)

__all__ = [
    "PreferencesPanelPlugin",
    "TailoredAreaPlugin",
    "TopicFeedPlugin",
    "VariantPlugin",
    "WidgetBoardPlugin",
    "WidgetPlugin",
]
