"""The built-in request-time rule types: they read ``RequestFacts`` only (no I/O), on each page view that needs
them. ``builtin`` imports this module, so importing either registers them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.text import format_lazy, get_text_list
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
    description = _("The request comes from a mobile, tablet or desktop browser (one or a list).")
    params = {"is": Param(str, many=True, choices=(MOBILE, TABLET, DESKTOP), label=_("Device"))}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is on a %(devices)s device") % {"devices": _either(params["is"])}

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return request.device in params["is"]


@register
class ReferrerDomain(RequestRule):
    """Domains are compared without ``www.`` and ignoring case: ``example.com`` matches ``www.example.com`` and
    ``news.example.com``."""

    name = "referrer_domain"
    label = _("Came from a site")
    description = _(
        "The visitor came from `is` (a domain or a list; subdomains match): the request's referrer, or on a "
        "request from within the site, the latest external referrer tracking saw for the visitor."
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
    name = "utm"
    label = _("Campaign (UTM)")
    description = _(
        "The visit's UTM parameters: every one given (`source`, `medium`, `campaign`) must match, ignoring case. "
        "From the request's URL, or on a request without any, the latest tracking saw for the visitor."
    )
    params = {
        "source": Param(str, required=False, max_length=100, label=_("Source (utm_source)")),
        "medium": Param(str, required=False, max_length=100, label=_("Medium (utm_medium)")),
        "campaign": Param(str, required=False, max_length=100, label=_("Campaign (utm_campaign)")),
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
    help=_("IANA time zone (Europe/Paris); the site's if omitted"),
)


def _in_zone(params: dict[str, Any]) -> str:
    return f" ({params['tz']})" if "tz" in params else ""


@register
class LocalTime(RequestRule):
    name = "local_time"
    label = _("Time of day")
    description = _(
        "The request arrives between `from` (included) and `to` (excluded) o'clock, in `tz` or the site's time "
        "zone; `from` after `to` spans midnight (22 to 6)."
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
    description = _("The request arrives on one of `days` (mon, tue, … sun), in `tz` or the site's time zone.")
    params = {"days": Param(str, many=True, choices=DAY_NAMES, label=_("Days")), "tz": TZ}

    def check(self, params: dict[str, Any]) -> None:
        _check_zone(params)

    def describe(self, params: dict[str, Any]) -> str:
        days = [DAY_WORDS.get(day, day) for day in params["days"]]
        return gettext("visits on a %(days)s") % {"days": _either(days)} + _in_zone(params)

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return DAY_NAMES[request.local_now(_zone(params)).weekday()] in params["days"]


FROM_WHERE = _(
    "from the header named by TAILORED_CMS['COUNTRY_HEADER'] that a CDN or proxy sets, CF-IPCountry by default, "
    "or without one, from the client's address in TAILORED_CMS['GEOIP_DATABASE'] if the site has one"
)


@register
class Country(RequestRule):
    """A code django-countries doesn't know (``"UK"`` for ``"GB"``, say) is refused when the segment is saved. A
    visitor whose country is unknown (no header, no GeoIP database, an address it doesn't list) matches no
    country: negated (``not``), the rule matches them."""

    name = "country"
    label = _("Country")
    description = format_lazy("{} ({}).", _("The visitor's country: an ISO 3166 code, or a list of them"), FROM_WHERE)
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
    description = format_lazy(
        "{} ({}).",
        _("The visitor's continent, by their country: a continent code, or a list of them"),
        FROM_WHERE,
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
    description = format_lazy(
        "{} ({}).",
        _("The visitor's country is one of the 27 member states of the European Union"),
        FROM_WHERE,
    )
    example: ClassVar[dict[str, Any]] = {"rule": "eu"}

    def describe(self, params: dict[str, Any]) -> str:
        return gettext("is in the European Union")

    def matches(self, params: dict[str, Any], request: RequestFacts) -> bool:
        return request.country in EU_MEMBERS


@register
class Language(RequestRule):
    """A regional variant counts as its language (``es-ar`` as ``es``) when the site lists only the language; a code
    that names no language of the site is refused, naming the site's languages."""

    name = "language"
    label = _("Language")
    description = _(
        "The page is served in one of these languages (codes of the site's LANGUAGES, one or a list): the "
        "language django CMS and LocaleMiddleware chose for the request."
    )
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
