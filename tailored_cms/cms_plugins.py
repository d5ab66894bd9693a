"""django CMS discovers plugins in ``<app>.cms_plugins``; they live in the ``widgets`` subpackage."""

from .widgets.cms_plugins import (
    TailoredAreaPlugin,
    TopicFeedPlugin,
    VariantPlugin,
    WidgetBoardPlugin,
    WidgetPlugin,
)

__all__ = ["TailoredAreaPlugin", "TopicFeedPlugin", "VariantPlugin", "WidgetBoardPlugin", "WidgetPlugin"]
