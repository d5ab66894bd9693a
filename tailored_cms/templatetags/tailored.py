"""``{% load tailored %}``: ``tailored_body_attrs``, ``tailored_tracking``, ``tailored_script_catalog`` and
``tailored_placeholder``."""

from __future__ import annotations

from typing import Any

from classytags.arguments import Argument, MultiValueArgument
from cms.templatetags.cms_tags import Placeholder, PlaceholderOptions
from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..areas.page_cache import vary_page_cache_on
from ..conf import tailored_settings
from ..mounts import api_root, script_catalog_url
from ..tracking.beacon_config import beacon_config
from ..tracking.capture import page_views_from_beacon, untracked_path
from ..visitors.accessibility import MOTIONS, TEXT_SIZES
from ..visitors.consent import TRACKED, ConsentState, bridged_consent, consent_state

register = template.Library()


def tailoring_headers() -> tuple[str, str]:
    """The request headers the middleware sets: what tailored content varies on."""
    return tailored_settings.VARY_HEADER, tailored_settings.WIDGETS_VARY_HEADER


@register.simple_tag(takes_context=True)
def tailored_body_attrs(context: dict[str, Any]) -> SafeString:
    """``class="tailored-theme-<theme> tailored-layout-<layout> ..."`` plus data attributes, for ``<body>``.

    The classes: ``tailored-theme-<theme>`` and ``tailored-layout-<layout>``; ``tailored-theme-auto`` while the
    visitor has chosen no theme (CSS then follows ``prefers-color-scheme`` and ``prefers-contrast``);
    ``tailored-motion-reduced`` (chosen, or asked for by the browser's client hint) or ``tailored-motion-auto``
    (CSS follows ``prefers-reduced-motion``); ``tailored-text-large`` when chosen. A theme the visitor has not
    chosen is ``dark`` when the ``Sec-CH-Prefers-Color-Scheme`` hint says so (``visitors.accessibility``).
    ``data-tailored-api`` tells customize.js where the REST API is, wherever the site mounts our URLs.

    Cost: no SQL, no Redis (the snapshot is already loaded). The theme is baked into the page outside any
    plugin, and a placeholder django CMS serves from its cache declares nothing to the page cache, so the page
    cache is told here to vary on the tailoring headers and on ``PREFERS_VARY_HEADER`` (the client hints, as
    the middleware normalised them): a page is never served with one visitor's look to another
    (see ``areas.page_cache``).
    """
    request = context.get("request")
    tailored = getattr(request, "tailored", None)
    theme_chosen = motion_chosen = False
    motion = text_size = ""
    if request is None or tailored is None:
        theme, layout = tailored_settings.DEFAULT_THEME, tailored_settings.DEFAULT_LAYOUT
    else:
        snapshot = tailored.snapshot  # marks the response visitor-dependent (Vary: Cookie)
        theme, layout = snapshot.effective_theme, snapshot.effective_layout
        theme_chosen, motion_chosen = snapshot.theme in tailored_settings.THEMES, snapshot.motion in MOTIONS
        motion = snapshot.motion if motion_chosen else ""
        text_size = snapshot.text_size if snapshot.text_size in TEXT_SIZES else ""
        hinted_theme, hinted_motion = tailored.browser_preferences(request)
        theme, motion = hinted_theme or theme, hinted_motion or motion
        tailored.used_browser_hints = True
        vary_page_cache_on(request, *tailoring_headers(), tailored_settings.PREFERS_VARY_HEADER, context=context)
    classes = [f"tailored-theme-{theme}", f"tailored-layout-{layout}"]
    if not theme_chosen:
        classes.append("tailored-theme-auto")
    classes.append(f"tailored-motion-{motion}" if motion else "tailored-motion-auto")
    if text_size:
        classes.append(f"tailored-text-{text_size}")
    return format_html(
        'class="{0}" data-tailored-theme="{1}" data-tailored-layout="{2}" data-tailored-api="{3}"',
        " ".join(classes),
        theme,
        layout,
        api_root(),
    )


@register.simple_tag
def tailored_script_catalog() -> SafeString:
    """``<script src=".../jsi18n/<language>/?v=<version>" defer>``: the scripts' translations in the page's language.

    Put before the scripts that write text (the includes' sekizai blocks do), so their ``gettext`` is defined
    when they run. Nothing if the site mounts no tailored_cms URLs: the scripts then speak English.
    """
    url = script_catalog_url()
    return format_html('<script src="{}" defer></script>', url) if url else SafeString("")


def editor_at_work(request: Any) -> bool:
    """An editor in the CMS's edit, structure or preview mode: not a visitor, so not tracked."""
    toolbar = getattr(request, "toolbar", None)
    return bool(toolbar is not None and (toolbar.edit_mode_active or toolbar.preview_mode_active))


@register.simple_tag(takes_context=True)
def tailored_tracking(context: dict[str, Any]) -> SafeString | str:
    """The beacon, ``<script src=".../tracking.js" defer data-...>``, if this visitor may be tracked; else nothing.

    With ``CONSENT_SOURCE`` naming the site's consent tool, also the bridge to it,
    ``<script src=".../consent_bridges.js" defer data-tailored-consent-bridge="<source>" data-...>``, for every
    visitor: it reports the tool's decisions to ``consent/`` and starts or stops the beacon on the page.

    No inline script: their configuration is in data attributes, so ``script-src 'self'`` is enough. Under
    ``EDGE_MODE`` the beacon also gets the page's path (``data-tailored-page-view``) and sends the page view.

    Cost: no SQL, no Redis. The output depends on the visitor's consent, and the tag sits outside any plugin,
    so it has the page cache vary on ``CONSENT_VARY_HEADER`` (set by the middleware to the consent state) on
    every render, whether it writes the script or not: a page cached for a visitor who agreed is never served
    to one who did not (or whose browser sends ``Sec-GPC``/``DNT``). The bridge is told that state and nothing
    finer, so it is the same for every visitor who shares the cached copy.
    """
    request = context.get("request")
    tailored = getattr(request, "tailored", None)
    if request is None or tailored is None:
        return ""
    vary_page_cache_on(request, tailored_settings.CONSENT_VARY_HEADER, context=context)
    config = beacon_config()
    if not config or editor_at_work(request):
        return ""
    state = consent_state(request, tailored.snapshot)
    beacon_attributes = dict(config)
    if page_views_from_beacon() and not untracked_path(request.path_info):
        # The page's path as the middleware would record it: the same for every visitor of the page.
        beacon_attributes["page-view"] = request.path
    beacon = (
        format_html(
            '<script src="{}" defer data-tailored-beacon{}></script>',
            static("tailored_cms/tracking.js"),
            format_html_join("", ' data-tailored-{}="{}"', beacon_attributes.items()),
        )
        if state == TRACKED
        else ""
    )
    if not bridged_consent():
        return beacon
    return format_html("{}{}", beacon, consent_bridge(state, config))


def consent_bridge(state: ConsentState, config: dict[str, str]) -> SafeString:
    """The script that follows the site's consent tool (``consent_bridges.js``), told what it needs in data attributes:
    which tool, tailored_cms's name in it (and, with ``ANALYTICS``, the name of the measurement it follows for
    them), the consent state the page was rendered for, where ``consent/`` is, and how to start the beacon (as the
    consent banner is told)."""
    attributes = [
        ("consent-bridge", tailored_settings.CONSENT_SOURCE),
        ("consent-service", tailored_settings.CONSENT_SERVICE),
        *([("analytics-service", tailored_settings.ANALYTICS_CONSENT_SERVICE)] if "analytics" in config else []),
        ("consent-state", state),
        ("consent-url", api_root() + "consent/"),
        ("beacon-src", static("tailored_cms/tracking.js")),
        *config.items(),
    ]
    return format_html(
        '<script src="{}" defer{}></script>',
        static("tailored_cms/consent_bridges.js"),
        format_html_join("", ' data-tailored-{}="{}"', attributes),
    )


class TailoredPlaceholder(Placeholder):
    """``{% tailored_placeholder "slot" [inherit] [or] %}…{% endtailored_placeholder %}``.

    A django CMS placeholder (a subclass, so the CMS finds the slot when it scans templates), wrapped in
    ``<div class="tailored-slot" data-tailored-slot="slot">`` for the front end. Its content is treated as
    visitor-dependent, so the response carries ``Vary: Cookie`` even when it comes from the placeholder cache
    (where no plugin runs to say so).
    """

    name = "tailored_placeholder"
    options = PlaceholderOptions(
        Argument("name", resolve=False),
        MultiValueArgument("extra_bits", required=False, resolve=False),
        blocks=[("endtailored_placeholder", "nodelist")],
    )

    def render_tag(self, context: Any, name: str, extra_bits: Any, nodelist: Any = None) -> str:
        request = context.get("request")
        content = super().render_tag(context, name, extra_bits, nodelist)
        if request is None:
            return content
        tailored = getattr(request, "tailored", None)
        if tailored is not None:
            tailored.depends_on_visitor = True
            # On a placeholder cache hit no plugin runs to declare its vary headers: this tag does.
            vary_page_cache_on(request, *tailoring_headers(), context=context)
        slot = context.get(name, name)
        return format_html('<div class="tailored-slot" data-tailored-slot="{}">{}</div>', slot, content)


register.tag("tailored_placeholder", TailoredPlaceholder)
