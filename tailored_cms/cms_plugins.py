"""django CMS discovers plugins in ``<app>.cms_plugins``; they live in the ``areas`` and ``widgets`` subpackages."""

from .areas.cms_plugins import ExplanationPlugin, TailoredAreaPlugin, VariantPlugin
from .quiz.cms_plugins import QuizAnswerPlugin, QuizPlugin, QuizQuestionPlugin
from .recommendations.cms_plugins import RecommendedPagesPlugin
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
    "QuizAnswerPlugin",
    "QuizPlugin",
    "QuizQuestionPlugin",
    "RecommendedPagesPlugin",
    "TailoredAreaPlugin",
    "TopicFeedPlugin",
    "VariantPlugin",
    "WidgetBoardPlugin",
    "WidgetPlugin",
]
