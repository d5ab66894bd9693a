"""The base of the reference pages' directives: each renders Markdown from the code, parsed as if it were the page's.

A subclass implements ``markdown()``; its headings become sections of the page (so they are in its table of
contents and can be linked to), at the level where the directive stands.
"""

from __future__ import annotations

from django.utils import translation
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


class MarkdownDirective(SphinxDirective):
    """Renders ``markdown()`` (in English, whatever the site's default language) as part of the page."""

    def markdown(self) -> str:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        self.env.note_reread()  # generated from the code: read again at every build, even if the page didn't change
        with translation.override("en"):
            text = self.markdown()
        container = nodes.section()
        self.state.nested_parse(
            StringList(text.splitlines(), source=self.get_source_info()[0]), 0, container, match_titles=True
        )
        return container.children
