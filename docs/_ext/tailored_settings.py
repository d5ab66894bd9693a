"""``{tailored-settings}``: every key of ``TAILORED_CMS``, from ``tailored_cms.conf.SETTINGS``."""

from __future__ import annotations

import pprint
from typing import Any

from django.utils.functional import Promise
from generated_markdown import MarkdownDirective
from sphinx.application import Sphinx

from tailored_cms.conf import SETTINGS


def plain(value: Any) -> Any:
    """``value`` with its lazy translations as the strings they are (they'd show as ``<proxy object>``)."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def setting_markdown(name: str) -> str:
    """One setting as a section: its name, type and default, and what it does."""
    setting = SETTINGS[name]
    default = pprint.pformat(plain(setting.default), width=100, sort_dicts=False)
    if len(default) <= 60 and "\n" not in default:
        head = [f"*{setting.type}*, default `{default}`", ""]
    else:
        head = [f"*{setting.type}*, default:", "", "```python", default, "```", ""]
    return "\n".join([f"### `{name}`", "", *head, setting.doc, ""])


class TailoredSettings(MarkdownDirective):
    def markdown(self) -> str:
        return "\n".join(setting_markdown(name) for name in SETTINGS)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("tailored-settings", TailoredSettings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
