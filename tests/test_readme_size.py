"""The README stays a front page: at most 15,000 bytes, and every page of docs/ it links to exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_BYTES = 15_000


def test_readme_is_at_most_15000_bytes() -> None:
    size = len(README.read_bytes())
    assert size <= MAX_BYTES, f"README.md is {size:,} bytes, over {MAX_BYTES:,}: move the details into docs/"


def test_every_docs_link_of_the_readme_names_an_existing_file() -> None:
    targets = re.findall(r"\]\((docs/[^)#\s]+)(?:#[^)\s]*)?\)", README.read_text(encoding="utf-8"))
    assert any(target.endswith(".md") for target in targets), "README.md links to no page of docs/"
    missing = sorted({target for target in targets if not (ROOT / target).is_file()})
    assert not missing, f"README.md links to files that don't exist: {missing}"
