"""The README is a front page and PyPI's description: at most 15,000 bytes, and every link in it absolute (PyPI
resolves no relative link), each page of the documentation site and each image it names existing in docs/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_BYTES = 15_000
DOCS_SITE = "https://tailored-cms.readthedocs.io/en/latest/"
REPOSITORY_FILES = "https://raw.githubusercontent.com/tailored-cms/tailored-cms/main/"


def links() -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", README.read_text(encoding="utf-8"))


def test_readme_is_at_most_15000_bytes() -> None:
    size = len(README.read_bytes())
    assert size <= MAX_BYTES, f"README.md is {size:,} bytes, over {MAX_BYTES:,}: move the details into docs/"


def test_every_link_of_the_readme_is_absolute() -> None:
    relative = [link for link in links() if not link.startswith("https://")]
    assert not relative, f"README.md has relative links, which PyPI can't follow: {relative}"


def test_every_page_and_image_the_readme_names_exists() -> None:
    pages = [link.removeprefix(DOCS_SITE) for link in links() if link.startswith(DOCS_SITE)]
    images = [link.removeprefix(REPOSITORY_FILES) for link in links() if link.startswith(REPOSITORY_FILES)]
    assert len(pages) >= 10 and images, "README.md should link the documentation's pages and show screenshots"
    missing = [page for page in pages if not (ROOT / "docs" / page.split("#")[0].replace(".html", ".md")).is_file()]
    missing += [image for image in images if not (ROOT / image).is_file()]
    assert not missing, f"README.md names pages or files that don't exist in docs/: {missing}"
