"""The built-in request-time rule types: they read ``RequestFacts`` only (no I/O), on each page view that needs
them. ``builtin`` imports this module, so importing either registers them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..languages import language_name, site_language, site_languages
from ..tracking.devices import DESKTOP, MOBILE, TABLET
from .countries import CONTINENTS, EU_MEMBERS, continent_of, country_name, is_country
from .registry import Param, ParamError, RequestRule, register

if TYPE_CHECKING:
    from .request_time import RequestFacts

__all__ = ["DAY_NAMES"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
DAY_WORDS = dict(
    zip(
        DAY_NAMES,
        (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")),
        strict=True,
    )
)


def _either(values: Any) -> str:
    """``["a", "b", "c"]`` as "a, b or c" (a single value as itself)."""
    return str(
        get_text_list([str(value) for value in (values if isinstance(values, list) else [values])], gettext("or"))
    )


@register
class Device(RequestRule):
    name = "device"
    label = _("Device")
    description = _("Visits on a phone, a tablet or a computer: tick one or more.")
    params = {
        "is": Param(
            str,
            many=True,
            choices=(MOBILE, TABLET, DESKTOP),
            choice_labels={MOBILE: _("Phone"), TABLET: _("Tablet"), DESKTOP: _("Computer")},
            label=_("Device"),
        )
    }

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is on a %(devices)s device") % {"devices": _either(params["is"])}

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return request.device in params["is"]


@register
class ReferrerDomain(RequestRule):
    """Domains are compared without ``www.`` and ignoring case: ``example.com`` matches ``www.example.com`` and
    ``news.example.com``. The request's referrer; on a request from within the site, the latest external referrer
    tracking saw for the visitor."""

    name = "referrer_domain"
    label = _("Came from a site")
    description = _(
        "Came to the site through a link on one of these sites (their subdomains too). It still holds while the "
        "visitor goes on to other pages of the site."
    )
    params = {
        "is": Param(str, many=True, max_length=255, label=_("Domain"), help=_("a domain, or several: a.com, b.org"))
    }

    def check(self, params: dict[str, Any]) -> None:
        params["is"] = [value.lower().removeprefix("www.") for value in params["is"]]

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("came from %(domains)s") % {"domains": _either(params["is"])}

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        domain = request.referrer_domain
        return bool(domain) and any(domain == d or domain.endswith("." + d) for d in params["is"])


@register
class Utm(RequestRule):
    """The request URL's ``utm_source``, ``utm_medium`` and ``utm_campaign``; on a request without any, the latest
    tracking saw for the visitor."""

    name = "utm"
    label = _("Campaign (UTM)")
    description = _(
        "Came through a link of a marketing campaign: each of its source, medium and campaign that is filled in "
        "must match, capitals or not. It still holds while the visitor goes on to other pages of the site."
    )
    params = {
        "source": Param(
            str, required=False, max_length=100, label=_("Source"), help=_("who sent the link: newsletter, google…")
        ),
        "medium": Param(
            str, required=False, max_length=100, label=_("Medium"), help=_("how it was sent: email, cpc, social…")
        ),
        "campaign": Param(
            str, required=False, max_length=100, label=_("Campaign"), help=_("the campaign's name: spring-sale…")
        ),
    }

    def describe(self, params: dict[str, Any]) -> str:
        given = [f"{name} {params[name]!r}" for name in ("source", "medium", "campaign") if name in params]
        return gettext("came from a campaign with %(parameters)s") % {
            "parameters": get_text_list(given, gettext("and"))
        }

    def check(self, params: dict[str, Any]) -> None:
        given = [name for name in ("source", "medium", "campaign") if name in params]
        if not given:
            raise ValueError(gettext("give at least one of 'source', 'medium', 'campaign'."))
        for name in given:
            params[name] = params[name].lower()

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        utm = request.utm
        return all(
            utm.get(name, "").lower() == params[name] for name in ("source", "medium", "campaign") if name in params
        )


def _zone(params: dict[str, Any]) -> Any:
    return ZoneInfo(params["tz"]) if "tz" in params else timezone.get_default_timezone()


def _check_zone(params: dict[str, Any]) -> None:
    if "tz" in params:
        try:
            ZoneInfo(params["tz"])
        except (ZoneInfoNotFoundError, ValueError):
            raise ParamError(
                "tz", gettext("parameter 'tz' is not a known time zone: %(tz)r.") % {"tz": params["tz"]}
            ) from None


TZ = Param(
    str,
    required=False,
    max_length=64,
    label=_("Time zone"),
    help=_("a time zone such as Europe/Paris; the site's if left empty"),
)


def _in_zone(params: dict[str, Any]) -> str:
    return f" ({params['tz']})" if "tz" in params else ""


@register
class LocalTime(RequestRule):
    name = "local_time"
    label = _("Time of day")
    description = _(
        "Visits between two hours of the day: from the first, included, to the second, not included (22 to 6 spans "
        "midnight), in the time zone given or the site's."
    )
    params = {
        "from": Param(int, min_value=0, max_value=23, label=_("From (hour)")),
        "to": Param(int, min_value=1, max_value=24, label=_("To (hour, excluded)")),
        "tz": TZ,
    }

    def describe(self, params: dict[str, Any]) -> str:
        hours = {"from": params["from"], "to": params["to"]}
        return gettext("visits between %(from)s:00 and %(to)s:00") % hours + _in_zone(params)

    def check(self, params: dict[str, Any]) -> None:
        if params["from"] == params["to"]:
            raise ParamError("to", gettext("'from' and 'to' are the same hour; the window would be empty."))
        _check_zone(params)

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        hour = request.local_now(_zone(params)).hour
        start, end = params["from"], params["to"]
        return start <= hour < end if start < end else hour >= start or hour < end


@register
class DayOfWeek(RequestRule):
    name = "day_of_week"
    label = _("Day of the week")
    description = _("Visits on one of these days of the week, in the time zone given or the site's.")
    params = {"days": Param(str, many=True, choices=DAY_NAMES, choice_labels=DAY_WORDS, label=_("Days")), "tz": TZ}

    def check(self, params: dict[str, Any]) -> None:
        _check_zone(params)

    def describe(self, params: dict[str, Any]) -> str:
        days = [DAY_WORDS.get(day, day) for day in params["days"]]
        return gettext("visits on a %(days)s") % {"days": _either(days)} + _in_zone(params)

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return DAY_NAMES[request.local_now(_zone(params)).weekday()] in params["days"]


@register
class Country(RequestRule):
    """The country comes from the header ``COUNTRY_HEADER`` names (a CDN's or proxy's), or without one from the
    client's address in ``GEOIP_DATABASE`` (docs/segments.md). A code django-countries doesn't know (``"UK"`` for
    ``"GB"``, say) is refused when the segment is saved. A visitor whose country is unknown (no header, no GeoIP
    database, an address it doesn't list) matches no country: negated (``not``), the rule matches them."""

    name = "country"
    label = _("Country")
    description = _(
        "Visits from one of these countries. A visitor whose country the site can't tell is in none of them."
    )
    params = {"is": Param(str, many=True, max_length=2, label=_("Country"), refers_to="country")}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is in %(countries)s") % {"countries": _either([country_name(code) for code in params["is"]])}

    def check(self, params: dict[str, Any]) -> None:
        codes = [code.upper() for code in params["is"]]
        unknown = [given for given, code in zip(params["is"], codes, strict=True) if not is_country(code)]
        if unknown:
            raise ParamError(
                "is",
                gettext("parameter 'is' takes ISO 3166 country codes such as FR or DE, not %(codes)s.")
                % {"codes": ", ".join(map(repr, unknown))},
            )
        params["is"] = list(dict.fromkeys(codes))

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return request.country in params["is"]


@register
class Continent(RequestRule):
    name = "continent"
    label = _("Continent")
    description = _(
        "Visits from a country of one of these continents. A visitor whose country the site can't tell is in none "
        "of them."
    )
    params = {
        "is": Param(str, many=True, choices=tuple(CONTINENTS), label=_("Continent"), refers_to="continent"),
    }
    example: ClassVar[dict[str, Any]] = {"rule": "continent", "is": ["EU", "NA"]}

    def describe(self, params: dict[str, Any]) -> str:
        names = [CONTINENTS[code] for code in params["is"]]
        return gettext("is in %(continents)s") % {"continents": _either(names)}

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return continent_of(request.country) in params["is"]


@register
class EuropeanUnion(RequestRule):
    """The member states are a table in the code (``rules.countries.EU_MEMBERS``), updated with tailored_cms."""

    name = "eu"
    label = _("In the European Union")
    description = _(
        "Visits from one of the 27 member states of the European Union. A visitor whose country the site can't "
        "tell is not in it."
    )
    example: ClassVar[dict[str, Any]] = {"rule": "eu"}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is in the European Union")

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return request.country in EU_MEMBERS


@register
class Language(RequestRule):
    """A regional variant counts as its language (``es-ar`` as ``es``) when the site lists only the language; a code
    that names no language of the site is refused, naming the site's languages. The language is the one django CMS
    and ``LocaleMiddleware`` chose for the request."""

    name = "language"
    label = _("Language")
    description = _("Reads the page in one of these languages of the site.")
    params = {"is": Param(str, many=True, max_length=15, label=_("Language"), refers_to="language")}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("reads in %(languages)s") % {
            "languages": _either([language_name(code, in_sentence=True) for code in params["is"]])
        }

    def check(self, params: dict[str, Any]) -> None:
        codes = [site_language(code) for code in params["is"]]
        unknown = [given for given, code in zip(params["is"], codes, strict=True) if not code]
        if unknown:
            raise ParamError(
                "is",
                gettext("parameter 'is' names no language of the site: %(codes)s (the site's languages: %(known)s).")
                % {"codes": ", ".join(map(repr, unknown)), "known": ", ".join(site_languages())},
            )
        params["is"] = list(dict.fromkeys(codes))

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return request.language in params["is"]
