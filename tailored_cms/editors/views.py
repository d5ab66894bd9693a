"""``/tailored/preview/`` (the "Preview as…" form) and ``/tailored/preview/stop/``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .forms import PreviewForm
from .preview import current_preview, may_preview, start_preview, stop_preview
from .preview_areas import AreaChange, area_changes


def next_url(request: HttpRequest, value: str | None) -> str:
    """``value`` if it is a path or URL of this site, else the site's root."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return "/"


@method_decorator([never_cache, csrf_protect], name="dispatch")
class PreviewView(View):
    """GET: the form, filled with the preview that is on. POST: start that preview, back to ``next``.

    Staff with ``tailored_cms.preview_tailoring`` only: others get 403 (anonymous GETs go to the login page).
    """

    template_name = "tailored_cms/editors/preview.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated and request.method == "GET":
            return redirect_to_login(request.get_full_path())
        if not may_preview(request.user):
            return HttpResponseForbidden(
                _("Previewing as a visitor needs staff status and the “Can preview pages as any visitor” permission.")
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        preview = current_preview(request)
        initial = {**(asdict(preview) if preview else {}), "next": next_url(request, request.GET.get("next"))}
        form = PreviewForm(initial=initial)
        changes = area_changes(initial["next"], preview) if preview is not None else []
        return self.form_page(request, form, previewing=preview is not None, changes=changes)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return self.form_page(request, form, previewing=current_preview(request) is not None, status=400)
        start_preview(request, form.preview())
        return HttpResponseRedirect(next_url(request, form.cleaned_data["next"]))

    def form_page(
        self,
        request: HttpRequest,
        form: PreviewForm,
        previewing: bool,
        status: int = 200,
        changes: list[AreaChange] | None = None,
    ) -> HttpResponse:
        """The form; with a preview on, what it changes on the page the editor came from (``changes``)."""
        context = {
            "form": form,
            "previewing": previewing,
            "title": _("Preview as…"),
            "next": form["next"].value(),
            "changes": changes or [],
        }
        return render(request, self.template_name, context, status=status)


@method_decorator([never_cache, csrf_protect], name="dispatch")
class StopPreviewView(View):
    """POST: stop the preview (anyone signed in may stop their own), back to ``next``."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseForbidden(_("Sign in first."))
        stop_preview(request)
        return HttpResponseRedirect(next_url(request, request.POST.get("next")))
