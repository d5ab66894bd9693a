"""The migrations create what the models say, and install where django CMS's own migrations are turned off.

django CMS's test suite (and some projects' test settings) turn the migrations of django CMS, ``auth`` and
``contenttypes`` off (``MIGRATION_MODULES``) and let Django create those tables from the models: a dependency on
one of their migrations by name then names a migration that does not exist, and nothing can be migrated.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[1]
# As django CMS's own test settings (cms/tests/settings.py): these apps' tables are created from their models.
UNMIGRATED = ("auth", "admin", "contenttypes", "sessions", "sites", "cms", "menus", "djangocms_text")


def unmigrated_settings(database: Path) -> str:
    return (
        "from tests.settings import *  # noqa: F403\n"
        f'DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {str(database)!r}}}}}\n'
        f"MIGRATION_MODULES = {{app: None for app in {UNMIGRATED!r}}}\n"
    )


@pytest.mark.django_db
def test_every_change_to_the_models_has_its_migration() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "tailored_cms", check=True, dry_run=True, stdout=out)
    except SystemExit:
        pytest.fail(f"tailored_cms has model changes without a migration:\n{out.getvalue()}")


def test_no_migration_depends_on_one_of_another_app_by_name() -> None:
    """Only ``__first__``: Django drops it when that app's migrations are off, and it never goes stale."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    named = [
        (migration.name, dependency)
        for (app_label, _), migration in loader.disk_migrations.items()
        if app_label == "tailored_cms"
        for dependency in migration.dependencies
        if dependency[0] != "tailored_cms" and dependency[1] != "__first__"
    ]
    assert named == []


def test_migrates_where_django_cms_and_auth_migrations_are_turned_off(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    (tmp_path / "unmigrated_settings.py").write_text(unmigrated_settings(database))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "unmigrated_settings", "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--run-syncdb", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        applied = set(db.execute("SELECT app, name FROM django_migrations WHERE app = 'tailored_cms'"))
    shipped = {("tailored_cms", path.stem) for path in (ROOT / "tailored_cms" / "migrations").glob("0*.py")}
    assert applied == shipped
    models = apps.get_app_config("tailored_cms").get_models()
    assert {model._meta.db_table for model in models if model._meta.managed and not model._meta.proxy} <= tables


@pytest.mark.django_db(transaction=True)
def test_topic_and_segment_names_move_to_translations_in_the_default_language_and_back(settings) -> None:
    executor = MigrationExecutor(connection)
    before, after = [("tailored_cms", "0002_event_path")], [("tailored_cms", "0003_translated_names")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        old.get_model("tailored_cms", "Topic").objects.create(slug="sports", name="Sports", description="Scores")
        old.get_model("tailored_cms", "Segment").objects.create(slug="regulars", name="Regulars", rules={})

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        translations = new.get_model("tailored_cms", "TopicTranslation").objects.values_list(
            "master__slug", "language_code", "name", "description"
        )
        assert list(translations) == [("sports", settings.LANGUAGE_CODE, "Sports", "Scores")]
        segment = new.get_model("tailored_cms", "SegmentTranslation").objects.get()
        assert (segment.language_code, segment.name) == (settings.LANGUAGE_CODE, "Regulars")
        # A Spanish name written before the default language's: going back, the default language's still wins.
        topic_translations = new.get_model("tailored_cms", "TopicTranslation").objects
        english = topic_translations.get()
        topic_translations.create(master_id=english.master_id, language_code="es", name="Deportes")
        english.delete()
        topic_translations.create(master_id=english.master_id, language_code="en", name="Sports", description="Scores")

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        assert list(old.get_model("tailored_cms", "Topic").objects.values_list("name", "description")) == [
            ("Sports", "Scores")
        ]
        assert old.get_model("tailored_cms", "Segment").objects.get().name == "Regulars"
    finally:
        MigrationExecutor(connection).migrate(MigrationLoader(connection).graph.leaf_nodes("tailored_cms"))
