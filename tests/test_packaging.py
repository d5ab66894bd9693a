"""What PyPI would get: `python -m build` makes an sdist and a wheel, without a warning, that `twine check` passes.

The sdist holds every file the tests need (a `make test` in it runs as in a clone); the wheel holds the package with
its data (templates, static files, the catalogs, the Redis scripts, py.typed) and the LICENSE. The build runs on a
copy of the project, in this virtualenv (`--no-isolation`: the `test` extra installs build, twine and setuptools),
so it needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("tailored_cms", "tests", "example_site", "bench", "docs", "scripts")
TOP_FILES = (
    "LICENSE",
    "CHANGELOG.md",
    "README.md",
    "Makefile",
    "manage.py",
    "noxfile.py",
    "setup.cfg",
    "pyproject.toml",
    ".readthedocs.yaml",
    "package.json",
    "package-lock.json",
)
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".nox",
    ".*_cache",
    ".hypothesis",
    "*.egg-info",
    "build",
    "dist",
    "var",
    "_build",
    "node_modules",
    "media",
    "__pycache__",
    "*.pyc",
    "db.sqlite3",
)


def source_files() -> set[str]:
    """The project's files, as paths relative to its root (what a clone has, without what running it makes)."""
    files = set(TOP_FILES)
    for top in SOURCE_DIRS:
        for path in (ROOT / top).rglob("*"):
            parts = path.relative_to(ROOT).parts
            if path.is_file() and not NOT_SOURCE("", parts):
                files.add("/".join(parts))
    return files


@dataclass
class Built:
    output: str
    sdist: set[str]
    wheel: set[str]
    metadata: dict[str, list[str]]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    project = tmp_path_factory.mktemp("project") / "tailored-cms"
    shutil.copytree(ROOT, project, ignore=NOT_SOURCE)
    dist = project.parent / "dist"
    # Byte-compiling is part of a normal wheel build: without it setuptools warns that it skipped it.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    run = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(project)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")
    with tarfile.open(sdist) as archive:
        sdist_files = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    with zipfile.ZipFile(wheel) as archive:
        wheel_files = set(archive.namelist())
        [metadata_name] = [name for name in wheel_files if name.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(metadata_name).decode())
    metadata = {key: headers.get_all(key) or [] for key in set(headers.keys())}
    return Built(output=run.stdout + run.stderr, sdist=sdist_files, wheel=wheel_files, metadata=metadata)


def test_the_build_prints_no_warning(built):
    warnings = [line for line in built.output.splitlines() if "warning" in line.lower()]
    assert warnings == []


def test_the_sdist_holds_every_file_of_the_project(built):
    missing = source_files() - built.sdist
    assert missing == set()
    assert not [name for name in built.sdist if "__pycache__" in name or name.endswith(".pyc")]


def test_the_wheel_holds_the_package_with_its_data_and_the_license(built):
    package = {name for name in source_files() if name.startswith("tailored_cms/")}
    assert package - built.wheel == set()
    for expected in (
        "tailored_cms/py.typed",
        "tailored_cms/locale/es/LC_MESSAGES/django.mo",
        "tailored_cms/locale/fr/LC_MESSAGES/djangojs.po",
        "tailored_cms/static/tailored_cms/customize.js",
        "tailored_cms/redis_scripts/page_view.lua",
    ):
        assert expected in built.wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in built.wheel)
    assert any(name.startswith("tailored_cms/templates/tailored_cms/") for name in built.wheel)
    assert not [name for name in built.wheel if name.startswith("tests/") or "__pycache__" in name]


def test_the_metadata_names_the_license_and_the_supported_versions(built):
    assert built.metadata["License-Expression"] == ["BSD-3-Clause"]
    assert built.metadata["License-File"] == ["LICENSE"]
    for classifier in (
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Framework :: Django CMS :: 5.1",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
    ):
        assert classifier in built.metadata["Classifier"]
    urls = {value.split(",", 1)[0] for value in built.metadata["Project-URL"]}
    assert urls == {"Documentation", "Changelog", "Source", "Issues"}
