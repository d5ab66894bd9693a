"""Ending an experiment on a site with djangocms-versioning (``tests/versioned/``): its tests run in a pytest of
their own with ``tests.versioned.settings``, since an app can't be added to a running Django. They must pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ending_an_experiment_on_a_versioned_site_changes_the_draft_visitors_see_once_published():
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--ds=tests.versioned.settings",
        "tests/versioned",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output, output  # collected with versioning on, not left out
