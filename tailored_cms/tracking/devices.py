"""Device class (mobile, tablet, desktop) from a user agent, and known bots and crawlers, with ua-parser."""

from __future__ import annotations

from functools import lru_cache

import ua_parser

__all__ = ["BOT", "DESKTOP", "MOBILE", "TABLET", "device_class"]

BOT = "bot"
MOBILE = "mobile"
TABLET = "tablet"
DESKTOP = "desktop"

_TABLET_FAMILIES = {"iPad", "Kindle"}
_MOBILE_FAMILIES = {"iPhone", "iPod"}


@lru_cache(maxsize=8192)
def device_class(user_agent: str) -> str:
    """``BOT``, ``MOBILE``, ``TABLET`` or ``DESKTOP``; ``""`` for an empty user agent.

    Cost: a cache hit for user agents seen recently (most traffic), else one ua-parser device lookup (its Rust
    matcher). ua-parser's "Spider" device family is its maintained list of bots and crawlers; the
    tablet/mobile split follows the browsers' own conventions (Android without "Mobile" is a tablet).
    """
    if not user_agent:
        return ""
    user_agent = user_agent[:1000]
    device = ua_parser.parse_device(user_agent)
    family = device.family if device else ""
    brand = (device.brand or "") if device else ""
    if family == "Spider":
        return BOT
    lowered = user_agent.lower()
    if family in _TABLET_FAMILIES or "tablet" in brand.lower() or "tablet" in lowered or "ipad" in lowered:
        return TABLET
    if "android" in lowered:
        return MOBILE if "mobile" in lowered else TABLET
    if family in _MOBILE_FAMILIES or "mobi" in lowered or "windows phone" in lowered:
        return MOBILE
    return DESKTOP
