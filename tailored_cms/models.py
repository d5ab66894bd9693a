"""Django finds the app's models here; they live in the subpackage of their area."""

from .rules.models import Membership, Segment
from .tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from .visitors.models import Topic, Visitor
from .widgets.models import (
    ConsentBanner,
    PageTopics,
    PreferencesPanel,
    TailoredArea,
    TopicFeed,
    Variant,
    Widget,
    WidgetBoard,
)

__all__ = [
    "ConsentBanner",
    "Event",
    "EventCounts",
    "Membership",
    "PageTopics",
    "PreferencesPanel",
    "Segment",
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
