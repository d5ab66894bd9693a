"""What the request path knows about a visitor: a small immutable value, cached in Redis as JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..conf import tailored_settings

if TYPE_CHECKING:
    from .models import Visitor

FORMAT = 1  # bump when the JSON shape changes; older entries are then ignored (re-read from the DB)


@dataclass(frozen=True)
class Snapshot:
    visitor_id: str | None = None
    user_id: int | None = None
    theme: str = ""
    layout: str = ""
    topics: tuple[str, ...] = ()
    widget_order: tuple[str, ...] = ()
    hidden_widgets: tuple[str, ...] = ()
    tracking_consent: bool | None = None
    _keys: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_visitor(cls, visitor: Visitor) -> Snapshot:
        widgets = visitor.widgets or {}
        return cls(
            visitor_id=str(visitor.pk),
            user_id=visitor.user_id,
            theme=visitor.theme,
            layout=visitor.layout,
            topics=tuple(visitor.topics or ()),
            widget_order=tuple(widgets.get("order", ())),
            hidden_widgets=tuple(widgets.get("hidden", ())),
            tracking_consent=visitor.tracking_consent,
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Snapshot | None:
        data = json.loads(raw)
        if data.pop("format", None) != FORMAT:
            return None
        for name in ("topics", "widget_order", "hidden_widgets"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)

    def to_json(self) -> str:
        data = asdict(self)
        del data["_keys"]
        return json.dumps({"format": FORMAT, **data}, separators=(",", ":"))

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
        return bool(self.theme or self.layout or self.topics or self.widget_order or self.hidden_widgets)

    @property
    def variant_key(self) -> str:
        """Short hash of everything that changes what a tailored area or the page chrome shows."""
        return self._key("variant", self.effective_theme, self.effective_layout, sorted(self.topics))

    @property
    def widgets_key(self) -> str:
        """Short hash of the widget arrangement (boards vary on this, areas do not)."""
        return self._key("widgets", list(self.widget_order), sorted(self.hidden_widgets))

    def _key(self, name: str, *parts: Any) -> str:
        if name not in self._keys:
            digest = hashlib.blake2b(json.dumps(parts).encode(), digest_size=8).hexdigest()
            self._keys[name] = digest
        return self._keys[name]
