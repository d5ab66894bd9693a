"""Django finds the app's models here; they live in the subpackage of their area."""

from .results.models import SegmentSize, VariantStats
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
    "SegmentSize",
    "SpooledEvent",
    "TailoredArea",
    "Topic",
    "TopicFeed",
    "TopicViews",
    "Variant",
    "VariantStats",
    "Visitor",
    "Widget",
    "WidgetBoard",
]
