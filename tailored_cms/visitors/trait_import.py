"""Traits from a CSV file: a header row (the user column, then one column per trait), then a row per user.

Read as a stream, ``CHUNK`` rows at a time (one ``store_rows`` each: a constant number of queries), so memory stays
flat whatever the size of the file. Cells are typed by the kind the site stores the trait as (``Trait``), else by
what they look like: ``12`` and ``4.5`` are numbers, ``true``/``false`` yes or no, ``2024-03-01`` a date, anything
else text; a list of texts is written ``a|b|c``. An empty cell leaves that trait as it is; of two rows for one user
the later wins. Row numbers are the file's line numbers, as a spreadsheet shows them (the header is 1).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .models import TraitKind
from .trait_rows import KEYS, RowError, store_rows
from .traits import known_kinds

__all__ = [
    "CHUNK",
    "DIRECTORY",
    "ImportSummary",
    "Preview",
    "cell_value",
    "forget_abandoned_files",
    "import_traits",
    "preview_traits",
]

CHUNK = 1000
DIRECTORY = "tailored_cms/trait-imports"  # uploads waiting to be imported, in the default storage
KEEP_UPLOADS = timedelta(days=1)  # as long as the preview's button to import it stays valid
MAX_ERRORS = 200  # errors kept for the report; all are counted
LIST_SEPARATOR = "|"
_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")
_SKIP: Any = object()


@dataclass
class ImportSummary:
    """What an import did so far: rows read and stored, the first ``MAX_ERRORS`` errors and how many in all."""

    rows: int = 0
    stored: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, stored: int, errors: list[RowError]) -> None:
        self.stored += stored
        self.error_count += len(errors)
        self.errors.extend(errors[: max(0, MAX_ERRORS - len(self.errors))])


def cell_value(text: str, kind: str | None) -> Any:
    """A cell as a trait's value: typed by ``kind`` (what the site stores the trait as) or by its look."""
    text = text.strip()
    if not text:
        return _SKIP
    if kind in (TraitKind.STRING, TraitKind.DATE):
        return text  # dates: typed by store_rows
    if kind == TraitKind.LIST or (kind is None and LIST_SEPARATOR in text):
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
    if kind == TraitKind.BOOLEAN or (kind is None and text.lower() in ("true", "false")):
        return {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}.get(text.lower(), text)
    if kind == TraitKind.NUMBER or (kind is None and _NUMBER.match(text)):
        if _NUMBER.match(text):
            return float(text) if "." in text else int(text)
        return text  # refused as another kind, naming the trait
    return text


@dataclass
class Preview:
    """The first rows of a file as they would be imported: the trait columns, each row's values, their errors."""

    names: list[str]
    rows: list[tuple[int, str, list[Any]]]  # (line, user, a value per trait column: None for an empty cell)
    errors: list[RowError]


def preview_traits(lines: Iterable[str], *, by: str, limit: int = 10) -> Preview:
    """The first ``limit`` rows of the CSV ``lines``, typed and checked as ``import_traits`` would, storing nothing.

    Raises ``ValidationError`` as ``import_traits`` does. Cost: three queries.
    """
    names, reader = _open(lines, by)
    kinds = known_kinds(names)
    rows: list[tuple[int, str, list[Any]]] = []
    batch: list[tuple[int, Any, Any]] = []
    errors: list[RowError] = []
    for number, cells in reader:
        user, traits, error = _row(number, cells, names, kinds, by)
        values = [traits.get(name) for name in names] if traits is not None else []
        rows.append((number, user, values))
        if error is not None:
            errors.append(error)
        else:
            batch.append((number, user, traits))
        if len(rows) >= limit:
            break
    _stored, refused = store_rows(by, batch, dry_run=True)
    return Preview(names, rows, sorted([*errors, *refused], key=lambda error: error.row))


def _open(lines: Iterable[str], by: str) -> tuple[list[str], Iterable[tuple[int, list[str]]]]:
    """The trait names of the header, and the rows with their line numbers (blank rows skipped)."""
    if by not in KEYS:
        raise ValidationError(gettext("Users are named by id, username or email, not %(by)r.") % {"by": by})
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header or len(header) < 2:
        raise ValidationError(
            gettext("The first line names the columns: the user's %(by)s, then one column per trait.") % {"by": by}
        )
    names = [name.strip() for name in header[1:]]
    rows = ((number, cells) for number, cells in enumerate(reader, start=2) if any(cell.strip() for cell in cells))
    return names, rows


def _row(
    number: int, cells: list[str], names: list[str], kinds: dict[str, str], by: str
) -> tuple[str, dict[str, Any] | None, RowError | None]:
    """A row's user, its traits (``None`` if the row is wrong as a whole) and what is wrong with it."""
    user = cells[0].strip()
    if len(cells) > len(names) + 1:
        message = ngettext(
            "This row has more cells than the %(count)s column of the first line.",
            "This row has more cells than the %(count)s columns of the first line.",
            len(names) + 1,
        ) % {"count": len(names) + 1}
        return user, None, RowError(number, user, "", [message])
    traits = {
        name: value
        for name, cell in zip(names, cells[1:], strict=False)
        if (value := cell_value(cell, kinds.get(name))) is not _SKIP
    }
    return user, traits, None


def import_traits(
    lines: Iterable[str],
    *,
    by: str,
    chunk: int = CHUNK,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Set the traits the CSV ``lines`` give (users named ``by``: ``KEYS``); ``progress`` is called after each chunk.

    Raises ``ValidationError`` when the file can't be read as traits at all (no header, no trait column); a wrong
    row is reported in the summary, and nothing of it stored.
    """
    names, reader = _open(lines, by)
    kinds = known_kinds(names)
    summary = ImportSummary()
    batch: list[tuple[int, Any, Any]] = []
    errors: list[RowError] = []
    in_batch: set[str] = set()  # users of the batch: a second row for one starts the next batch (the later wins)

    def flush() -> None:
        stored, refused = store_rows(by, batch)
        summary.add(stored, sorted([*errors, *refused], key=lambda error: error.row))
        batch.clear()
        errors.clear()
        in_batch.clear()
        if progress is not None:
            progress(summary)

    for number, cells in reader:
        summary.rows += 1
        user, traits, error = _row(number, cells, names, kinds, by)
        same = user.lower() if by == "email" else user
        if same in in_batch:
            flush()
        in_batch.add(same)
        if error is not None:
            errors.append(error)
        else:
            batch.append((number, user, traits))
        if len(batch) + len(errors) >= chunk:
            flush()
    if batch or errors or progress is not None:
        flush()
    return summary


def forget_abandoned_files(now: datetime | None = None) -> int:
    """Delete uploads previewed but never imported, older than ``KEEP_UPLOADS`` (they hold personal data).
    Returns how many went; the retention purge calls it daily."""
    limit = (now or timezone.now()) - KEEP_UPLOADS
    try:
        _directories, files = default_storage.listdir(DIRECTORY)
    except (FileNotFoundError, NotImplementedError):
        return 0
    removed = 0
    for name in files:
        path = f"{DIRECTORY}/{name}"
        try:
            if default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
                removed += 1
        except (FileNotFoundError, NotImplementedError):
            continue
    return removed
