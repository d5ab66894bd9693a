"""``QuizPlugin`` with ``QuizQuestionPlugin`` children, each with ``QuizAnswerPlugin`` children: built in
structure mode, per language like any plugin.

The markup is the same for every visitor (the caches keep one copy): a plain form of every question, which a
browser without JavaScript posts to ``quiz/<id>/``; customize.js shows it one question at a time to the visitors
it is for (``Quiz.shown``), and saves through ``quiz/`` of the API.
"""

from __future__ import annotations

from typing import Any

from cms.plugin_base import CMSPluginBase
from cms.plugin_pool import plugin_pool
from django.utils.translation import gettext_lazy as _

from ..plugin_settings.rendering import MODULE
from .models import Quiz, QuizAnswer, QuizQuestion

__all__ = ["QuizAnswerPlugin", "QuizPlugin", "QuizQuestionPlugin"]


@plugin_pool.register_plugin
class QuizPlugin(CMSPluginBase):
    """Questions for new visitors whose answers choose topics to follow and set traits."""

    model = Quiz
    name = _("Quiz")
    module = MODULE
    render_template = "tailored_cms/plugins/quiz.html"
    fields = ["title", "shown"]
    allow_children = True
    child_classes = ["QuizQuestionPlugin"]

    def render(self, context: dict[str, Any], instance: Quiz, placeholder: str) -> dict[str, Any]:
        """Cost: no query of its own (the children come with the placeholder's plugin tree)."""
        context = super().render(context, instance, placeholder)
        request = context.get("request")
        context["next_url"] = request.get_full_path() if request is not None else ""
        context["questions"] = [
            (question, [a for a in question.child_plugin_instances or () if isinstance(a, QuizAnswer)])
            for question in instance.child_plugin_instances or ()
            if isinstance(question, QuizQuestion)
        ]
        return context


@plugin_pool.register_plugin
class QuizQuestionPlugin(CMSPluginBase):
    model = QuizQuestion
    name = _("Quiz question")
    module = MODULE
    render_template = "tailored_cms/plugins/quiz_question.html"
    fields = ["text", "multiple"]
    require_parent = True
    parent_classes = ["QuizPlugin"]
    allow_children = True
    child_classes = ["QuizAnswerPlugin"]


@plugin_pool.register_plugin
class QuizAnswerPlugin(CMSPluginBase):
    model = QuizAnswer
    name = _("Quiz answer")
    module = MODULE
    render_template = "tailored_cms/plugins/quiz_answer.html"
    fields = ["label", "topics", "traits"]
    filter_horizontal = ["topics"]
    require_parent = True
    parent_classes = ["QuizQuestionPlugin"]
