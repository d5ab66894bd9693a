"""The version matrix (docs/versions.md): each supported Python × Django pair runs the fast lane.

`make matrix` runs every pair; `make matrix NOX_ARGS='-s "tests(3.13-django6.0)"'` runs one, `-t ci` the pairs CI
runs beside `make test`'s own. A Python that is not installed fails its session (it is never skipped); pyenv's
interpreters are found even when `pyenv global` names another.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.error_on_missing_interpreters = True
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"

# The pairs we support: Django 6.0 needs Python 3.12 or later. `make test` runs the whole suite on the first.
PAIRS = [("3.11", "5.2"), ("3.12", "5.2"), ("3.13", "5.2"), ("3.12", "6.0"), ("3.13", "6.0")]

_pyenv_versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
os.environ["PATH"] = os.pathsep.join([*sorted(map(str, _pyenv_versions.glob("3.*/bin"))), os.environ["PATH"]])


@nox.session
@nox.parametrize(
    ("python", "django"),
    [
        nox.param(python, django, id=f"{python}-django{django}", tags=[] if index == 0 else ["ci"])
        for index, (python, django) in enumerate(PAIRS)
    ],
)
def tests(session: nox.Session, django: str) -> None:
    # docs: tests/test_docs.py renders the documentation's reference pages with its Sphinx extensions
    session.install("-e", ".[test,docs,example]", f"django~={django}.0")
    session.run("python", "-m", "django", "--version")
    session.run("scripts/test-fast.sh", *session.posargs, env={"PY": "python"}, external=True)
