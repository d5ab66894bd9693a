"""The no-JS preferences page, ``/tailored/preferences/``: plain HTML forms for visitors without JS.

The visitor's choices (topics, theme, layout) and their answer about behaviour tracking (consent).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect, requires_csrf_token

from ..conf import tailored_settings
from .consent import bridged_consent, may_track, opted_out_by_browser
from .forms import PreferencesForm, preferences_form_context
from .preferences import reset_preferences, save_consent, save_preferences
from .request import visitor_context

__all__ = ["CONSENT_ANSWERS", "CONSENT_SAVED_FRAGMENT", "ConsentAnswerView", "PreferencesPageView", "consent_context"]

# The consent form's answers (the banner's no-JS form sends the same): value -> consent to tracking.
CONSENT_ANSWERS = {"yes": True, "no": False}
# Where the banner's no-JS answer leads back to: the page, at the banner's "Your answer was saved." status (the
# banner template has it for visitors who answered, shown by CSS when it is the target: the same for everyone).
CONSENT_SAVED_FRAGMENT = "tailored-consent-saved"
BUILTIN_BASE_TEMPLATE = "tailored_cms/preferences_base.html"


def safe_next_url(request: HttpRequest) -> str:
    """``next`` (POST, then GET) if it points to this site, else ``""``."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def consent_context(request: HttpRequest) -> dict[str, Any]:
    """Context for ``tailored_cms/includes/consent_form.html``: where the visitor stands about tracking, and whether
    the site's own consent tool asks (``CONSENT_SOURCE``): then the page offers no answer of its own."""
    snapshot = visitor_context(request).snapshot
    if opted_out_by_browser(request):
        state = _(
            "Your browser asks sites not to track you (Global Privacy Control or Do Not Track), so nothing you "
            "read here is noted, whatever you answer."
        )
    elif snapshot.tracking_consent is True:
        state = _("You allowed us to note what you read here, to tailor this site to you.")
    elif snapshot.tracking_consent is False:
        state = _("You asked us not to note what you read here.")
    elif not may_track(None):
        state = _("You haven't answered yet: nothing you read here is noted unless you allow it.")
    else:
        state = _("We note what you read here to tailor this site to you, unless you say no.")
    return {"consent_state_text": state, "consent_bridged": bridged_consent()}


def preferences_base_template() -> Any:
    """The frame of the preferences page: ``PREFERENCES_BASE_TEMPLATE`` if the site has it, else the built-in."""
    names = [tailored_settings.PREFERENCES_BASE_TEMPLATE, BUILTIN_BASE_TEMPLATE]
    return select_template([name for name in names if name])


def sent_from_this_site(request: HttpRequest) -> bool:
    """Whether the browser says this POST comes from a page of this site (``Sec-Fetch-Site``, else ``Origin``).

    Every current browser sends one of them with a form's POST; a request with neither is not trusted.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    trusted = {f"{request.scheme}://{request.get_host()}", *getattr(settings, "CSRF_TRUSTED_ORIGINS", ())}
    return origin in trusted


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class ConsentAnswerView(View):
    """The consent banner's answer without JavaScript, in one step: POST, saved, back to the page (303).

    The banner holds no CSRF token (so the caches may keep it): instead of the token, the browser's own word that
    the form is on a page of this site (``sent_from_this_site``) guards the answer. A POST without it (another
    site's form, a browser too old to say) gets the preferences page's CSRF-protected confirmation instead.
    Back on the page, ``#tailored-consent-saved`` shows the banner's "Your answer was saved." status; without a
    page to go back to, the preferences page says so in a message.
    """

    http_method_names = ["post", "options"]

    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next_url(request)
        answer = request.POST.get("consent", "")
        page = PreferencesPageView()
        if bridged_consent():
            return page.consent_managed_elsewhere(request, next_url)
        if answer not in CONSENT_ANSWERS or not sent_from_this_site(request):
            return requires_csrf_token(page.confirm_consent)(request, answer, next_url)
        save_consent(request, CONSENT_ANSWERS[answer])
        if not next_url:
            messages.success(request, _("Your answer was saved."), fail_silently=True)
            return page.redirect(request, next_url)
        return page.redirect(request, f"{next_url.split('#')[0]}#{CONSENT_SAVED_FRAGMENT}")


@method_decorator([csrf_protect, never_cache], name="dispatch")
class PreferencesPageView(View):
    """GET shows the visitor's choices and consent; POST saves one of them (or resets) and redirects back (PRG)."""

    template_name = "tailored_cms/preferences_page.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next_url(request)
        if "save" in request.GET:
            # Sent by a panel without JavaScript (a cacheable GET form): show the choices, to confirm by POST.
            form = PreferencesForm(request.GET)
            valid = form.is_valid()
            context = preferences_form_context(request, form=form, next_url=next_url, fields=form.submitted_fields())
            context["notice"] = _("Check your choices, then press Save.")
            return self.render_page(request, context, status=200 if valid else 400)
        if "consent" in request.GET:
            # Sent by a consent banner without JavaScript from a page cached before its form was a POST.
            return self.confirm_consent(request, request.GET["consent"], next_url)
        context = preferences_form_context(request, next_url=next_url)
        if "reset" in request.GET:
            context["notice"] = _("Press “Reset to defaults” to put every choice back to the site's defaults.")
        return self.render_page(request, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = safe_next_url(request)
        if "consent" in request.POST:
            if bridged_consent():
                return self.consent_managed_elsewhere(request, next_url)
            answer = request.POST["consent"]
            if answer not in CONSENT_ANSWERS:
                context = {**consent_context(request), "preferences_next": next_url, "consent_only": True}
                context["notice"] = _("Answer “Allow” or “No thanks”.")
                return self.render_page(request, context, status=400)
            save_consent(request, CONSENT_ANSWERS[answer])
            if not next_url:
                messages.success(request, _("Your answer was saved."), fail_silently=True)
            return self.redirect(request, next_url)
        if "reset" in request.POST:
            visitor = visitor_context(request)
            # A visitor with nothing stored already has the defaults: don't create one just to reset it.
            if visitor.visitor_id is not None or request.user.is_authenticated:
                reset_preferences(request)
            if not next_url:  # back on a (cacheable) site page, the page itself shows the change
                messages.success(request, _("Your preferences were reset to the site's defaults."), fail_silently=True)
            return self.redirect(request, next_url)
        form = PreferencesForm(request.POST)
        if not form.is_valid():
            context = preferences_form_context(request, form=form, next_url=next_url)
            return self.render_page(request, context, status=400)
        save_preferences(request, form.preferences)
        if not next_url:
            messages.success(request, _("Your preferences were saved."), fail_silently=True)
        return self.redirect(request, next_url)

    def confirm_consent(self, request: HttpRequest, answer: str, next_url: str) -> HttpResponse:
        """The consent question alone, with ``answer`` to confirm by a CSRF-protected POST (400 if not an answer)."""
        if bridged_consent():
            return self.consent_managed_elsewhere(request, next_url)
        context = {**consent_context(request), "preferences_next": next_url, "consent_only": True}
        if answer not in CONSENT_ANSWERS:
            context["notice"] = _("Answer “Allow” or “No thanks”.")
            return self.render_page(request, context, status=400)
        button = _("Allow") if CONSENT_ANSWERS[answer] else _("No thanks")
        context["notice"] = _("Press “%(button)s” to confirm.") % {"button": button}
        context["consent_confirm"] = answer
        return self.render_page(request, context)

    def consent_managed_elsewhere(self, request: HttpRequest, next_url: str) -> HttpResponse:
        """403: the site's own consent tool asks (``CONSENT_SOURCE``), so an answer sent here (a form of a page
        cached before the tool came, another site's) is not taken: that tool would not know it."""
        context = {**consent_context(request), "preferences_next": next_url, "consent_only": True}
        context["notice"] = _("Consent on this site is managed by its cookie settings.")
        return self.render_page(request, context, status=403)

    def render_page(self, request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
        context["messages"] = messages.get_messages(request)  # works without the messages context processor
        context["preferences_base"] = preferences_base_template()
        if "consent_state_text" not in context:
            context.update(consent_context(request))
        response = render(request, self.template_name, context, status=status)
        response["X-Robots-Tag"] = "noindex"  # the site's <head> is not ours to add a robots meta tag to
        return response

    def redirect(self, request: HttpRequest, next_url: str) -> HttpResponseRedirect:
        response = HttpResponseRedirect(next_url or reverse("tailored_cms:preferences"))
        response.status_code = 303  # See Other: the browser GETs the target, a reload doesn't resubmit
        return response
