"""Django finds the app's models here; they live in the subpackage they belong to."""

from .areas.models import TailoredArea, Variant
from .plugin_settings.models import PluginSettings, TailoredPlugin
from .quiz.models import Quiz, QuizAnswer, QuizQuestion, QuizResponse
from .recommendations.models import RecommendedPages
from .results.models import SegmentSize, VariantStats
from .rules.models import Membership, Segment
from .tracking.models import Event, EventCounts, SpooledEvent, TopicViews
from .visitors.models import Topic, Trait, Visitor
from .widgets.models import ConsentBanner, PageTopics, PreferencesPanel, TopicFeed, Widget, WidgetBoard

__all__ = [
    "ConsentBanner",
    "Event",
    "EventCounts",
    "Membership",
    "PageTopics",
    "PluginSettings",
    "PreferencesPanel",
    "Quiz",
    "QuizAnswer",
    "QuizQuestion",
    "QuizResponse",
    "RecommendedPages",
    "Segment",
    "SegmentSize",
    "SpooledEvent",
    "TailoredArea",
    "TailoredPlugin",
    "Topic",
    "TopicFeed",
    "TopicViews",
    "Trait",
    "Variant",
    "VariantStats",
    "Visitor",
    "Widget",
    "WidgetBoard",
]
