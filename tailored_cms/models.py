"""Django finds the app's models here; they live in the subpackage of their area."""

from .tracking.models import Event, EventCounts, SpooledEvent, TopicViews
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
    "Event",
    "EventCounts",
    "PageTopics",
    "PreferencesPanel",
    "SpooledEvent",
    "TailoredArea",
    "Topic",
    "TopicFeed",
    "TopicViews",
    "Variant",
    "Visitor",
    "Widget",
    "WidgetBoard",
]
