"""The admin's CSV import of traits: upload, the first rows previewed with their errors, the import in a task,
its progress."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tailored_cms import api

pytestmark = pytest.mark.django_db

URL = "/admin/tailored_cms/visitor/import-traits/"
CSV = "email,plan,since\nada@example.com,pro,2024-03-01\nbob@example.com,free,\nnobody@example.com,pro,\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media) -> list:
    directory = media / "tailored_cms" / "trait-imports"
    return list(directory.iterdir()) if directory.exists() else []


@pytest.fixture
def importer() -> Client:
    user = User.objects.create_user("crm-admin", password="pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="change_traits"), Permission.objects.get(codename="view_visitor")
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def customers():
    return [User.objects.create_user(name, f"{name}@example.com") for name in ("ada", "bob")]


def upload(client: Client, text: str = CSV, by: str = "email"):
    return client.post(URL, {"file": SimpleUploadedFile("crm.csv", text.encode()), "by": by})


def test_upload_preview_then_import_and_progress(importer, customers, eager_trait_import, media):
    assert "Import traits (CSV)" in importer.get("/admin/tailored_cms/visitor/").content.decode()
    page = importer.get(URL)
    assert page.status_code == 200 and 'type="file"' in page.content.decode()

    preview = upload(importer)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert '<th scope="col">plan</th>' in html and "2024-03-01" in html
    assert "Line 4 (nobody@example.com): No user has this email." in html
    assert api.get_traits(customers[0]) == {}  # nothing stored by the preview
    token = preview.context["token"]

    started = importer.post(URL, {"token": token})
    assert started.status_code == 302
    progress = importer.get(started["Location"])
    html = progress.content.decode()
    assert 'data-tailored-import-progress="done"' in html
    assert "2 users&#x27; traits stored." in html or "2 users' traits stored." in html
    assert "Line 4 (nobody@example.com)" in html
    assert api.get_traits(customers[0])["plan"] == "pro"
    assert api.get_traits(customers[1]) == {"plan": "free"}
    assert stored_files(media) == []  # the file is gone once imported

    again = importer.post(URL, {"token": token})  # the same import twice: refused, nothing queued
    assert again.status_code == 302 and again["Location"] == URL


@pytest.mark.parametrize(
    ("text", "words"),
    [("email\n", "one column per trait"), ("", "The submitted file is empty")],
)
def test_a_file_that_is_not_traits_is_refused_on_the_form(importer, text, words, media):
    response = upload(importer, text)
    assert response.status_code == 200 and words in response.content.decode()
    assert stored_files(media) == []


def test_a_file_that_is_not_utf8_is_refused(importer):
    response = importer.post(URL, {"file": SimpleUploadedFile("x.csv", b"email,plan\n\xff\xfe,x\n"), "by": "email"})
    assert "not UTF-8" in response.content.decode()


def test_a_forged_token_starts_nothing(importer):
    response = importer.post(URL, {"token": "forged"})
    assert response.status_code == 302 and response["Location"] == URL


def test_staff_without_the_permission_may_not_import(admin_client, client):
    editor = User.objects.create_user("editor", password="pw", is_staff=True)
    other = Client()
    other.force_login(editor)
    assert other.get(URL).status_code == 403
    assert client.get(URL).status_code == 302  # anonymous: to the login page
    assert admin_client.get(URL).status_code == 200  # a superuser has every permission
    assert reverse("admin:tailored_cms_visitor_import_progress", args=["x" * 32]).startswith(URL)


def test_an_unknown_job_says_so(importer):
    response = importer.get(URL + "0" * 32 + "/")
    assert "not known" in response.content.decode()


def test_uploads_previewed_but_never_imported_go_after_a_day(importer, customers, media):
    import os
    import time

    from tailored_cms.tracking.retention import purge

    upload(importer)
    (stored,) = stored_files(media)
    assert purge().trait_uploads == 0  # still importable
    old = time.time() - 2 * 24 * 3600
    os.utime(stored, (old, old))
    assert purge().trait_uploads == 1
    assert stored_files(media) == []
