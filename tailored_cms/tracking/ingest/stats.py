"""What a batch or a drain did: the figures ``drain`` logs and the Celery task returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["IngestStats"]

COUNTS = (
    "read",
    "claimed",
    "spooled",
    "new",
    "duplicates",
    "dropped",
    "not_pages",
    "refused",
    "invalid",
    "retries",
    "batches",
)


@dataclass
class IngestStats:
    """What a batch or a drain did. Every entry read is new, a duplicate, dropped (a bot), not a page, refused or
    invalid."""

    read: int = 0  # stream entries and spooled rows taken
    claimed: int = 0  # of ``read``: taken over from a consumer that stopped (or a failed batch)
    spooled: int = 0  # of ``read``: from the database spool
    new: int = 0  # events stored and counted
    duplicates: int = 0  # events already stored (redelivered, or sent twice)
    dropped: int = 0  # events from bots and crawlers
    not_pages: int = 0  # page views of paths that are no CMS page (not counted: nothing to tailor there)
    refused: int = 0  # events of visitors who had refused tracking by the time they were ingested
    invalid: int = 0  # entries that don't decode (garbled) or that the database refused
    retries: int = 0  # transactions retried after losing a race
    batches: int = 0
    seconds: float = 0.0
    visitor_ids: set[str] = field(default_factory=set, repr=False)  # visitors with new events

    def add(self, other: IngestStats) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.visitor_ids |= other.visitor_ids

    @property
    def events_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in COUNTS},
            "visitors": len(self.visitor_ids),
            "seconds": round(self.seconds, 3),
        }

    def __str__(self) -> str:
        return (
            f"read {self.read} (claimed {self.claimed}, spooled {self.spooled}): new {self.new}, "
            f"duplicates {self.duplicates}, dropped {self.dropped}, not pages {self.not_pages}, "
            f"refused {self.refused}, invalid {self.invalid}, retries {self.retries}; "
            f"{self.batches} batches in {self.seconds:.3f} s ({self.events_per_second:,.0f} events/s)"
        )
