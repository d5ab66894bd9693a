"""What the request path knows about a visitor: a small immutable value, cached in Redis as JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import orjson

from ..conf import tailored_settings
from .accessibility import MOTIONS, TEXT_SIZES

if TYPE_CHECKING:
    from .models import Visitor

FORMAT = 2  # bump when the JSON shape changes; older entries are then ignored (re-read from the DB)

# What Celery keeps up to date in a snapshot (rules/recompute.py rewrites just these, in place, in Redis): the
# visitor's segments and the latest referrer and UTM tracking saw (request-time rules fall back to them).
TRACKED_FIELDS = ("segments", "conditional_segments", "referrer_domain", "utm_source", "utm_medium", "utm_campaign")


@dataclass(frozen=True)
class Snapshot:
    visitor_id: str | None = None
    user_id: int | None = None
    theme: str = ""
    layout: str = ""
    topics: tuple[str, ...] = ()
    widget_order: tuple[str, ...] = ()
    hidden_widgets: tuple[str, ...] = ()
    motion: str = ""
    text_size: str = ""
    tracking_consent: bool | None = None
    # Segments (TRACKED_FIELDS): slugs the visitor is in on every request, and slug -> residual tree of
    # request-time rules for those they are in on some requests only (rules.request_time.segments_for).
    segments: tuple[str, ...] = ()
    conditional_segments: dict[str, Any] = field(default_factory=dict)
    referrer_domain: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    _keys: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_visitor(cls, visitor: Visitor, memberships: Iterable[tuple[str, Any]] | None = None) -> Snapshot:
        """The snapshot of a visitor row; ``memberships`` are its current ``(slug, condition)`` pairs (read from
        the DB when not given: one query)."""
        widgets = visitor.widgets or {}
        if memberships is None:
            memberships = current_memberships(visitor)
        segments, conditional = split_memberships(memberships)
        return cls(
            visitor_id=str(visitor.pk),
            user_id=visitor.user_id,
            theme=visitor.theme,
            layout=visitor.layout,
            topics=tuple(visitor.topics or ()),
            widget_order=tuple(widgets.get("order", ())),
            hidden_widgets=tuple(widgets.get("hidden", ())),
            motion=visitor.motion,
            text_size=visitor.text_size,
            tracking_consent=visitor.tracking_consent,
            segments=segments,
            conditional_segments=conditional,
            referrer_domain=visitor.referrer_domain,
            utm_source=visitor.utm_source,
            utm_medium=visitor.utm_medium,
            utm_campaign=visitor.utm_campaign,
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Snapshot | None:
        data = orjson.loads(raw)  # on every request with a cookie: orjson, much faster than json.loads
        if data.pop("format", None) != FORMAT:
            return None
        # Lists may come back as {} when Redis's Lua rewrote the JSON (cjson can't tell an empty list from {}).
        for name in ("topics", "widget_order", "hidden_widgets", "segments"):
            value = data.get(name)
            data[name] = tuple(value) if isinstance(value, list) else ()
        if not isinstance(data.get("conditional_segments"), dict):
            data["conditional_segments"] = {}
        names = {f.name for f in fields(cls)} - {"_keys"}
        return cls(**{name: value for name, value in data.items() if name in names})

    def to_json(self) -> str:
        data = asdict(self)
        del data["_keys"]
        return json.dumps({"format": FORMAT, **data}, separators=(",", ":"))

    def tracked_json(self) -> str:
        """``TRACKED_FIELDS`` alone, as JSON: what the recompute writes into a stored snapshot."""
        return tracked_json({name: getattr(self, name) for name in TRACKED_FIELDS})

    def with_choices(self, **choices: Any) -> Snapshot:
        return replace(self, _keys={}, **choices)

    @property
    def effective_theme(self) -> str:
        return self.theme if self.theme in tailored_settings.THEMES else tailored_settings.DEFAULT_THEME

    @property
    def effective_layout(self) -> str:
        return self.layout if self.layout in tailored_settings.LAYOUTS else tailored_settings.DEFAULT_LAYOUT

    @property
    def has_choices(self) -> bool:
        return bool(self.theme or self.layout or self.topics or self.widget_order or self.hidden_widgets or self.look)

    @property
    def look(self) -> tuple[str, ...]:
        """The accessibility choices (motion, text size) the site offers that the visitor made; () if none."""
        motion = self.motion if self.motion in MOTIONS else ""
        text_size = self.text_size if self.text_size in TEXT_SIZES else ""
        return (motion, text_size) if motion or text_size else ()

    @property
    def variant_key(self) -> str:
        """Short hash of everything that changes what a tailored area or the page chrome shows.

        The accessibility choices count only once made, so visitors who made none share the keys they had before.
        The default theme chosen is not the same as none chosen (the panel checks it, and the page no longer follows
        the browser's colour scheme), so it counts too.
        """
        chosen_default = ("theme",) if self.theme == tailored_settings.DEFAULT_THEME else ()
        parts = (self.effective_theme, self.effective_layout, sorted(self.topics), *self.look, *chosen_default)
        return self._key("variant", *parts)

    @property
    def widgets_key(self) -> str:
        """Short hash of the widget arrangement (boards vary on this, areas do not)."""
        return self._key("widgets", list(self.widget_order), sorted(self.hidden_widgets))

    def _key(self, name: str, *parts: Any) -> str:
        if name not in self._keys:
            digest = hashlib.blake2b(json.dumps(parts).encode(), digest_size=8).hexdigest()
            self._keys[name] = digest
        return self._keys[name]


def split_memberships(memberships: Iterable[tuple[str, Any]]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``(slug, condition)`` pairs -> (slugs without a condition, sorted; {slug: condition})."""
    segments: list[str] = []
    conditional: dict[str, Any] = {}
    for slug, condition in memberships:
        if condition is None:
            segments.append(slug)
        else:
            conditional[slug] = condition
    return tuple(sorted(segments)), conditional


def tracked_json(values: Mapping[str, Any]) -> str:
    """JSON of the ``TRACKED_FIELDS`` (segments as a list)."""
    return json.dumps({**values, "segments": list(values.get("segments", ()))}, separators=(",", ":"))


def current_memberships(visitor: Visitor) -> list[tuple[str, Any]]:
    """``(slug, condition)`` of the visitor's current memberships of enabled segments. Cost: one query.

    Read through the visitor's reverse relation (``Visitor.memberships``): the segments' layer writes memberships,
    the snapshot only carries them.
    """
    rows = visitor.memberships.filter(left_at__isnull=True, segment__enabled=True)
    return list(rows.order_by("segment__slug").values_list("segment__slug", "condition"))
