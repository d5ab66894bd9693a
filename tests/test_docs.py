"""The documentation site's generated reference pages (docs/_ext): what they are generated from is complete."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tailored_cms.conf import DEFAULTS, SETTINGS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_ext"))

import tailored_settings  # noqa: E402


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_every_setting_is_documented(name):
    setting = SETTINGS[name]
    assert setting.type.strip()
    assert len(setting.doc) > 20
    assert setting.doc.endswith((".", ")"))


def test_only_settings_are_documented():
    assert list(SETTINGS) == list(DEFAULTS)
    assert {name: setting.default for name, setting in SETTINGS.items()} == DEFAULTS


def test_a_setting_renders_with_its_type_default_and_documentation():
    text = tailored_settings.setting_markdown("THEMES")
    assert text.startswith("### `THEMES`\n")
    assert "*dict*, default:" in text
    assert "{'light': 'Light', 'dark': 'Dark', 'high-contrast': 'High contrast'}" in text  # lazy labels as text
    assert SETTINGS["THEMES"].doc in text
    assert "*int*, default `50`" in tailored_settings.setting_markdown("MAX_TOPICS")
