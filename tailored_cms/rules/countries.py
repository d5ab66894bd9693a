"""Countries for the location rules: the ISO 3166 codes django-countries knows (with their names in the editor's
language), the continent of each and the member states of the European Union. Static tables, no I/O."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_countries import countries

__all__ = ["CONTINENTS", "EU_MEMBERS", "continent_of", "country_name", "country_names", "is_country"]

# Continent codes as MaxMind and GeoNames write them, with their names for editors.
CONTINENTS = {
    "AF": _("Africa"),
    "AN": _("Antarctica"),
    "AS": _("Asia"),
    "EU": _("Europe"),
    "NA": _("North America"),
    "OC": _("Oceania"),
    "SA": _("South America"),
}
# Every ISO 3166-1 code by continent, as GeoNames places them (Russia in Europe, Turkey and the Caucasus in Asia,
# Cyprus in Europe); tests hold it to django-countries' list.
_BY_CONTINENT = {
    "AF": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ "
    "NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
    "AN": "AQ BV GS HM TF",
    "AS": "AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY "
    "NP OM PH PK PS QA SA SG SY TH TJ TM TR TW UZ VN YE",
    "EU": "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD "
    "ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA",
    "NA": "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX "
    "TC TT US VC VG VI",
    "OC": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TL TO TV UM VU WF WS",
    "SA": "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
}
_CONTINENT_OF = {code: continent for continent, codes in _BY_CONTINENT.items() for code in codes.split()}
# The 27 member states of the European Union.
_EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_MEMBERS = frozenset(_EU.split())


def is_country(code: str) -> bool:
    """``True`` for a two-letter ISO 3166 code django-countries knows (upper case), with the site's
    ``COUNTRIES_OVERRIDE`` and ``COUNTRIES_ONLY``."""
    return len(code) == 2 and code in countries


def continent_of(code: str) -> str:
    """The continent code of a country (``""`` for none: an unknown code, or none at all)."""
    return _CONTINENT_OF.get(code, "")


def country_name(code: str) -> str:
    """The country's name in the active language (the code itself if django-countries doesn't know it)."""
    return str(countries.name(code)) or code


def country_names() -> dict[str, str]:
    """Every country's code and name, sorted by name in the active language (the segment builder's list)."""
    return {str(code): str(name) for code, name in countries}
