"""With djangocms-versioning on, publishing and unpublishing a version purge the page at the edge.

The suite's settings don't install djangocms-versioning (it changes every page's life: drafts, published versions),
and an app can't be installed into a running test session: ``versioned_site.py`` runs in a pytest of its own with
``tests.edge.versioned_settings`` (its own test database and Redis, a real Varnish in front of its live server).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.edge  # a real Varnish, in the pytest it starts
ROOT = Path(__file__).resolve().parents[2]


def test_publishing_and_unpublishing_with_djangocms_versioning_purge_the_page():
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"),
            *("--ds=tests.edge.versioned_settings", "tests/edge/versioned_site.py"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout, run.stdout[-2000:]
