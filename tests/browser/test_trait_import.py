"""Staff import traits from a CSV file in the admin: upload, the first rows with their errors, the import, its
progress (Chromium, the admin of a live site; the import runs in the request here: eager Celery)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, expect

from tailored_cms import api

from .accessibility import ADMIN_CHROME, assert_accessible
from .editor_fixtures import (  # noqa: F401 - the fixtures are used by name
    EDITOR,
    EditorSite,
    chromium_fixture,
    editor_site_fixture,
    new_context,
)

CSV = "email,plan,customer_since\nada@example.com,pro,2024-03-01\nbob@example.com,free,\nnobody@example.com,pro,\n"


@pytest.mark.browser
def test_staff_import_a_csv_of_traits(
    chromium: Browser, editor_site: EditorSite, eager_trait_import, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    ada = User.objects.create_user("ada", "ada@example.com")
    User.objects.create_user("bob", "bob@example.com")
    csv_file = tmp_path / "crm.csv"
    csv_file.write_text(CSV)
    context = new_context(chromium)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(editor_site.url("/admin/login/?next=/admin/tailored_cms/visitor/"))
    page.fill("#id_username", EDITOR[0])
    page.fill("#id_password", EDITOR[1])
    page.click("input[type=submit]")

    page.get_by_role("link", name="Import traits (CSV)").click()
    expect(page.get_by_role("heading", name="Import traits from a CSV file")).to_be_visible()
    assert_accessible(page, exclude=ADMIN_CHROME)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_label("The first column holds each user's").select_option("email")
    page.get_by_role("button", name="Show the first rows").click()

    expect(page.get_by_role("table", name="The first 3 rows of the file")).to_contain_text("2024-03-01")
    expect(page.locator("[data-tailored-import-errors]")).to_contain_text(
        "Line 4 (nobody@example.com): No user has this email."
    )
    assert_accessible(page, exclude=ADMIN_CHROME)
    assert api.get_traits(ada) == {}
    page.get_by_role("button", name="Import the whole file").click()

    expect(page.locator("[data-tailored-import-progress]")).to_have_attribute("data-tailored-import-progress", "done")
    expect(page.locator("#content-main")).to_contain_text("2 users' traits stored.")
    assert_accessible(page, exclude=ADMIN_CHROME)
    assert api.get_traits(ada)["plan"] == "pro"
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
