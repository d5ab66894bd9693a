"""A site with djangocms-versioning on (``tests/versioned/``): ending an experiment changes the draft visitors meet
once it is published, and publishing or unpublishing a version purges the page at the edge. Each module runs in a
pytest of its own with ``tests.versioned.settings``, since an app can't be added to a running Django; it must pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_versioned(module: str) -> None:
    """Run ``tests/versioned/<module>`` with versioning on; its one test must pass (collected, not left out)."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("--ds=tests.versioned.settings", f"tests/versioned/{module}"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    assert "1 passed" in result.stdout, output


def test_ending_an_experiment_on_a_versioned_site_changes_the_draft_visitors_see_once_published():
    run_versioned("test_ending_an_experiment.py")


@pytest.mark.edge  # a real Varnish, in the pytest it starts
def test_publishing_and_unpublishing_with_djangocms_versioning_purge_the_page():
    run_versioned("test_edge_purge.py")
