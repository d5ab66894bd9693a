"""The README's Settings table names every setting of ``TAILORED_CMS``, each once, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from tailored_cms.conf import DEFAULTS

README = Path(__file__).resolve().parent.parent / "README.md"


def settings_table() -> list[str]:
    text = README.read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE)


def test_every_setting_is_documented_once_and_only_settings_are():
    documented = settings_table()
    assert sorted(documented) == sorted(DEFAULTS)
