"""Admin of the visitors area: the topic taxonomy (editable), visitors (read-only) and importing traits from CSV."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from parler.admin import TranslatableAdmin

from .models import Topic, Trait, Visitor
from .tasks import read_progress, start_import
from .trait_import import DIRECTORY, preview_traits

IMPORT_PERMISSION = "tailored_cms.change_traits"
IMPORT_SALT = "tailored_cms.trait-import"
MAX_IMPORT_BYTES = 100 * 1024 * 1024  # 100,000 rows of a few traits are a few MB


class TraitImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with a first line naming the columns: the user, then one column per trait (plan, "
            "customer_since…). Dates as 2024-03-01, lists as a|b|c; an empty cell leaves that trait as it is."
        ),
    )
    by = forms.ChoiceField(
        label=_("The first column holds each user's"),
        choices=[("email", _("email address")), ("username", _("username")), ("id", _("user id"))],
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                gettext("The file is larger than %(size)s MB.") % {"size": MAX_IMPORT_BYTES // (1024 * 1024)}
            )
        return upload


@admin.register(Topic)
class TopicAdmin(TranslatableAdmin):
    """A tab per language of the site for the name and description; the list shows them in the editor's."""

    list_display = ("translated_name", "slug", "position", "page_count")
    list_editable = ("position",)
    search_fields = ("translations__name", "slug", "translations__description")

    def get_prepopulated_fields(self, request: HttpRequest, obj: Topic | None = None) -> dict[str, tuple[str]]:
        return {"slug": ("name",)}  # here, not as prepopulated_fields: the admin's checks know no translated field

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(pages=Count("page_topics")).prefetch_related("translations")

    @admin.display(description=_("name"))
    def translated_name(self, obj: Topic) -> str:
        return str(obj)

    @admin.display(description=_("pages"), ordering="pages")
    def page_count(self, obj: Topic) -> int:
        return obj.pages


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    """Read-only: visitors change their own choices; erasing is the visitor's (or the API's) business."""

    list_display = ("id", "user", "theme", "layout", "topic_count", "tracking_consent", "updated_at")
    list_filter = ("theme", "layout", "tracking_consent")
    list_select_related = ("user",)
    search_fields = ("=id", "user__username", "user__email")
    date_hierarchy = "updated_at"
    readonly_fields = ("traits",)  # what the site set (api.set_traits, traits/): shown, never edited here
    change_list_template = "tailored_cms/admin/visitor_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view  # staff only, else the login page
        return [
            path("import-traits/", wrap(self.import_traits_view), name=f"{name}_import_traits"),
            path("import-traits/<slug:job>/", wrap(self.import_progress_view), name=f"{name}_import_progress"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        may_import = request.user.has_perm(IMPORT_PERMISSION)
        return super().changelist_view(request, {**(extra_context or {}), "may_import_traits": may_import})

    def _page(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )

    def import_traits_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV (its first rows shown as they would be imported, with their errors), then import it in the
        background (a Celery task: any size, a chunk of 1,000 rows at a time)."""
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied(gettext("Importing traits needs the permission to set the traits of visitors."))
        title = gettext("Import traits from a CSV file")
        if request.method == "POST" and "token" in request.POST:
            return self._start_import(request, request.POST["token"])
        form = TraitImportForm(request.POST or None, request.FILES or None)
        if request.method != "POST" or not form.is_valid():
            return self._page(request, "tailored_cms/admin/trait_import.html", title, form=form)
        by = form.cleaned_data["by"]
        name = default_storage.save(f"{DIRECTORY}/{uuid.uuid4().hex}.csv", form.cleaned_data["file"])
        try:
            with default_storage.open(name, "rb") as raw:
                preview = preview_traits((line.decode("utf-8-sig") for line in raw), by=by)
        except (ValidationError, UnicodeDecodeError) as exc:
            default_storage.delete(name)
            problem = exc.messages if isinstance(exc, ValidationError) else [gettext("The file is not UTF-8 text.")]
            form.add_error("file", problem)
            return self._page(request, "tailored_cms/admin/trait_import.html", title, form=form)
        token = signing.dumps({"name": name, "by": by}, salt=IMPORT_SALT)
        return self._page(
            request, "tailored_cms/admin/trait_import.html", title, form=None, preview=preview, token=token
        )

    def _start_import(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            job = signing.loads(token, salt=IMPORT_SALT, max_age=60 * 60 * 24)
            name, by = job["name"], job["by"]
        except (signing.BadSignature, KeyError, TypeError):
            messages.error(request, gettext("This import can't be started any more: upload the file again."))
            return HttpResponseRedirect(reverse("admin:tailored_cms_visitor_import_traits"))
        if not default_storage.exists(name):
            messages.error(request, gettext("This import was started already, or its file is gone."))
            return HttpResponseRedirect(reverse("admin:tailored_cms_visitor_import_traits"))
        try:
            started = start_import(name, by)
        except Exception:  # no broker: nothing queued; the editor can try again once the worker is back
            messages.error(request, gettext("The background worker can't be reached: try again in a moment."))
            return HttpResponseRedirect(reverse("admin:tailored_cms_visitor_import_traits"))
        return HttpResponseRedirect(reverse("admin:tailored_cms_visitor_import_progress", args=[started]))

    def import_progress_view(self, request: HttpRequest, job: str) -> HttpResponse:
        """How far an import has come (the page reloads itself every few seconds until it is done)."""
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied(gettext("Importing traits needs the permission to set the traits of visitors."))
        progress = read_progress(job)
        running = progress is not None and progress.get("state") in ("queued", "running")
        return self._page(
            request,
            "tailored_cms/admin/trait_import_progress.html",
            gettext("Importing traits"),
            progress=progress,
            running=running,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Visitor | None = None) -> bool:
        return False

    @admin.display(description=_("topics followed"))
    def topic_count(self, obj: Visitor) -> int:
        return len(obj.topics or ())


@admin.register(Trait)
class TraitAdmin(admin.ModelAdmin):
    """Read-only: the traits the site has set and the kind of value each holds (``api.set_traits``, ``traits/``)."""

    list_display = ("name", "kind", "first_set")
    list_filter = ("kind",)
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Trait | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Trait | None = None) -> bool:
        return False
