"""Multi-row ``INSERT … ON CONFLICT`` statements, the set-based writes of the ingest.

Why not ``bulk_create``: it can't increment a counter on conflict (``count = count + excluded.count``), and on
SQLite Django splits every insert at 999 parameters, so a batch's query count would grow with its size. This
writes one statement per table and batch on PostgreSQL and SQLite alike (both speak ``ON CONFLICT``), splitting
only at the database's real parameter limit. Values are adapted by the model fields, as the ORM does.

On PostgreSQL, rows travel as one array per column (``unnest``) or, for plain inserts, with ``COPY``: a VALUES
list of thousands of placeholders costs psycopg and PostgreSQL more to parse than the insert itself.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
from django.db import connections, models, router

__all__ = ["existing", "increment", "insert", "max_parameters", "update"]


def max_parameters(using: str) -> int:
    """Most query parameters one statement may have on this database."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return 65535
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        try:
            return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        except AttributeError:  # Python < 3.11
            return 999
    return connection.features.max_query_params or 2000


def existing(model: type[models.Model], keys: Sequence[Any]) -> set[str]:
    """Which of ``keys`` (primary keys) are stored, as strings. Cost: one query.

    On PostgreSQL one array parameter (``= ANY``), not one placeholder and one Python UUID per key.
    """
    if not keys:
        return set()
    connection = connections[router.db_for_read(model)]
    if connection.vendor != "postgresql":
        return {str(pk) for pk in model._default_manager.filter(pk__in=keys).values_list("pk", flat=True)}
    quote = connection.ops.quote_name
    pk = model._meta.pk
    if isinstance(pk, models.UUIDField):
        # UUIDs as one comma-separated string: psycopg would dump a list of thousands in Python, value by value.
        keys_sql, param = "string_to_array(%s, ',')::uuid[]", ",".join(str(key) for key in keys)
    else:
        keys_sql, param = f"%s::{pk.db_type(connection)}[]", [_adapter(pk, connection)(key) for key in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(pk.column)}::text FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(pk.column)} = ANY({keys_sql})",
            [param],
        )
        return {row[0] for row in cursor.fetchall()}


def insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str] = (),
    action: str = "NOTHING",
) -> None:
    """Insert ``rows`` (values in the order of ``fields``); on a ``conflict`` of those columns ``DO action``.

    ``action`` is SQL after ``DO``: ``"NOTHING"`` or ``"UPDATE SET …"`` (``excluded.<column>`` is the new row's value).
    Cost: one statement per ``max_parameters // len(fields)`` rows.
    """
    if not rows:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = ", ".join(quote(field.column) for field in model_fields)
    placeholder = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    suffix = ""
    if conflict:
        targets = ", ".join(quote(model._meta.get_field(name).column) for name in conflict)
        suffix = f" ON CONFLICT ({targets}) DO {action}"
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql" and not conflict:
        _copy(connection, f"COPY {table} ({columns}) FROM STDIN", model_fields, rows)
        return
    if connection.vendor == "postgresql":
        # One array per column (unnest): few parameters and a short query however many rows, which psycopg
        # and PostgreSQL parse in no time (a VALUES list of 10,000 placeholders takes them longer than the insert).
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in model_fields)
        adapters = [_adapter(field, connection) for field in model_fields]
        params = [[adapt(row[index]) for row in rows] for index, adapt in enumerate(adapters)]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}){suffix}", params)
        return
    with connection.cursor() as cursor:
        for chunk, params in _statements(rows, model_fields, connection, using):
            values = ", ".join([placeholder] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}{suffix}", params)


def _statements(
    rows: Sequence[Sequence[Any]], model_fields: Sequence[Any], connection: Any, using: str
) -> Iterator[tuple[Sequence[Sequence[Any]], list[Any]]]:
    """``rows`` in chunks that fit the backend's parameter limit, each with its flat list of parameters."""
    per_statement = max(1, max_parameters(using) // len(model_fields))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        params = [
            field.get_db_prep_save(value, connection)
            for row in chunk
            for field, value in zip(model_fields, row, strict=True)
        ]
        yield chunk, params


def _copy(connection: Any, statement: str, model_fields: Sequence[Any], rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL's COPY: the fastest way in (psycopg formats the rows in C), three times a multi-row INSERT."""
    adapters = [_adapter(field, connection) for field in model_fields]
    # Only the columns whose values need adapting are touched: a call per value adds up over a batch's rows.
    adapted = [(index, adapt) for index, adapt in enumerate(adapters) if adapt is not _same]
    with connection.cursor() as cursor:
        # Through the debug wrapper when there is one, so query logs and counts see the statement.
        logged = cursor.debug_sql(statement) if hasattr(cursor, "debug_sql") else contextlib.nullcontext()
        with logged, cursor.cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                if len(row) != len(adapters):
                    raise ValueError(f"{len(row)} values for {len(adapters)} columns")
                values = list(row)
                for index, adapt in adapted:
                    values[index] = adapt(values[index])
                write_row(values)


def _same(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def _json_text(value: Any) -> str | None:
    # None is SQL NULL, as the ORM saves it for a nullable JSONField (not the JSON literal null).
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()  # a sixth of json.dumps's time: one per event row
    except TypeError:  # what orjson can't write (integers past 64 bits): as the ORM would
        return json.dumps(value, separators=(",", ":"))


def _adapter(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    """How a value of ``field`` goes to PostgreSQL (where the column type or a cast parses text).

    The field types the ingest writes skip Django's per-value ``get_db_prep_save`` (a third of a batch's time:
    it parses every UUID string into a ``uuid.UUID`` just for psycopg to print it again); any other goes through it.
    """
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        return _text
    if isinstance(target, models.JSONField) and target.encoder is None:
        return _json_text
    if isinstance(target, (models.CharField, models.TextField, models.IntegerField, models.DateField)):
        return _same  # DateTimeField is a DateField: aware datetimes go as they are
    return lambda value: field.get_db_prep_save(value, connection)


def increment(model: type[models.Model], column_field: str = "count") -> str:
    """The ``UPDATE SET`` action adding the new row's ``count`` to the stored one."""
    using = router.db_for_write(model)
    quote = connections[using].ops.quote_name
    column = quote(model._meta.get_field(column_field).column)
    return f"UPDATE SET {column} = {quote(model._meta.db_table)}.{column} + excluded.{column}"


def update(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set ``fields`` of existing rows: each row is (primary key, *values). One statement for all rows.

    Cost: one statement (on SQLite, one per ``max_parameters`` values).
    """
    if not rows:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    model_fields = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    aliases = [f"c{index}" for index in range(len(model_fields))]
    pk = quote(model._meta.pk.column)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in model_fields)
        assignments = ", ".join(
            f"{quote(field.column)} = d.{alias}" for field, alias in zip(model_fields[1:], aliases[1:], strict=True)
        )
        adapters = [_adapter(field, connection) for field in model_fields]
        params = [[adapt(row[index]) for row in rows] for index, adapt in enumerate(adapters)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS d({', '.join(aliases)}) "
                f"WHERE {table}.{pk} = d.c0",
                params,
            )
        return
    # Portable: a CTE of VALUES and a row-value assignment from it (SQLite >= 3.15).
    targets = ", ".join(quote(field.column) for field in model_fields[1:])
    sources = ", ".join(f"d.{alias}" for alias in aliases[1:])
    placeholder = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    with connection.cursor() as cursor:
        for chunk, params in _statements(rows, model_fields, connection, using):
            cursor.execute(
                f"WITH d({', '.join(aliases)}) AS (VALUES {', '.join([placeholder] * len(chunk))}) "
                f"UPDATE {table} SET ({targets}) = (SELECT {sources} FROM d WHERE d.c0 = {table}.{pk}) "
                f"WHERE {pk} IN (SELECT c0 FROM d)",
                params,
            )
