"""Django finds the app's models here; they live in the subpackage of their area."""

from .visitors.models import Topic, Visitor
from .widgets.models import (
    PageTopics,
    PreferencesPanel,
    TailoredArea,
    TopicFeed,
    Variant,
    Widget,
    WidgetBoard,
)

__all__ = [
    "PageTopics",
    "PreferencesPanel",
    "TailoredArea",
    "Topic",
    "TopicFeed",
    "Variant",
    "Visitor",
    "Widget",
    "WidgetBoard",
]
