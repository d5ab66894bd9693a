"""Multi-row ``INSERT … ON CONFLICT`` statements, the set-based writes of the ingest.

Why not ``bulk_create``: it can't increment a counter on conflict (``count = count + excluded.count``), and on
SQLite Django splits every insert at 999 parameters, so a batch's query count would grow with its size. This
writes one statement per table and batch on PostgreSQL and SQLite alike (both speak ``ON CONFLICT``), splitting
only at the database's real parameter limit. Values are adapted by the model fields, as the ORM does.

On PostgreSQL, rows travel as one array per column (``unnest``, each array written here as one literal) or, for
plain inserts, with ``COPY``: a VALUES list of thousands of placeholders costs psycopg and PostgreSQL more to parse
than the insert itself. Besides inserts: ``insert_new`` (rows whose key isn't stored yet, telling which were
new), ``insert_missing`` (rows of defaults for keys not stored yet), ``lock`` (rows locked in key order) and
``update``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import orjson
from django.db import IntegrityError, connections, models, router, transaction

__all__ = [
    "column_of",
    "existing",
    "increment",
    "insert",
    "insert_missing",
    "insert_new",
    "lock",
    "max_parameters",
    "update",
]


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
    keys_sql, param = _keys_param(pk, keys, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(_column(pk))}::text FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(_column(pk))} = ANY({keys_sql})",
            [param],
        )
        return {row[0] for row in cursor.fetchall()}


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """``model``'s field ``name``. The fields written here are concrete ones, never a reverse relation (which
    ``get_field`` may also return)."""
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def column_of(model: type[models.Model], name: str) -> str:
    """The column of ``model``'s (concrete) field ``name``, unquoted."""
    return _column(_field(model, name))


def _column(field: models.Field[Any, Any]) -> str:
    """``field``'s column: a concrete field always has one (only fields without a column have ``None``)."""
    return cast(str, field.column)


def _keys_param(pk: models.Field, keys: Sequence[Any], connection: Any) -> tuple[str, Any]:
    """``keys`` as one array parameter (``_arrays``: one literal, not a list psycopg dumps value by value), and the
    SQL that reads it."""
    return f"%s::{pk.db_type(connection)}[]", _arrays([pk], [(key,) for key in keys], connection)[0]


def lock(model: type[models.Model], keys: Sequence[Any], fields: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Lock the rows of ``keys`` (primary keys) in key order; return their ``fields`` by key (as a string).

    ``FOR NO KEY UPDATE``: rows referencing them can still be inserted, only writers of these rows wait.
    Cost: one query; on PostgreSQL with the keys as one array parameter (the ORM would make and quote a UUID object
    per key, a cost that shows in a batch whose events are each another visitor's).
    """
    if not keys:
        return {}
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        queryset = model._default_manager.select_for_update(no_key=True).filter(pk__in=keys).order_by("pk")
        return {str(row[0]): row[1:] for row in queryset.values_list("pk", *fields)}
    quote = connection.ops.quote_name
    pk = model._meta.pk
    model_fields = [_field(model, name) for name in fields]
    keys_sql, param = _keys_param(pk, keys, connection)
    columns = ", ".join(quote(_column(field)) for field in model_fields)
    # Values as the ORM returns them: fields that convert what the driver gives (JSON, for one) do it here too.
    converters = [
        (index, field.from_db_value) for index, field in enumerate(model_fields) if hasattr(field, "from_db_value")
    ]
    locked: dict[str, tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(_column(pk))}::text, {columns} FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(_column(pk))} = ANY({keys_sql}) ORDER BY {quote(_column(pk))} FOR NO KEY UPDATE",
            [param],
        )
        for key, *values in cursor.fetchall():
            for index, convert in converters:
                values[index] = convert(values[index], None, connection)
            locked[key] = tuple(values)
    return locked


def insert_new(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> set[str]:
    """Insert the ``rows`` whose primary key (their first value, a string) isn't stored yet; return those keys.

    On PostgreSQL the rows go in with one ``COPY`` inside a savepoint, in the expectation that none is stored
    (a key comes again only when a batch is redelivered or an event was sent twice). When one is, the savepoint
    is rolled back, the stored keys are looked up and the rest inserted: PostgreSQL spends the time of a look-up
    by key (a sizeable share of an ingest batch's) only when it finds something. Elsewhere the stored keys
    are looked up first. A key another transaction inserts meanwhile makes this raise ``IntegrityError``
    (nothing is ever inserted twice).

    Cost: on PostgreSQL the ``COPY`` and the savepoint's two statements, and two more when a key was stored;
    elsewhere two statements (per parameter-limit chunk).
    """
    if not rows:
        return set()
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(using=connection.alias):
                insert(model, fields, rows)
            return {row[0] for row in rows}
        except IntegrityError:
            pass  # a key is stored already: the savepoint undid the COPY
    stored = existing(model, [row[0] for row in rows])
    rest = [row for row in rows if row[0] not in stored]
    insert(model, fields, rest)
    return {row[0] for row in rest}


def insert_missing(model: type[models.Model], keys: Sequence[Any]) -> None:
    """For each of ``keys`` (primary keys) not stored yet, insert a row with the model's defaults, in key order.

    The defaults are worked out once for all the rows (a new instance's ``pre_save``: ``auto_now`` times too).
    A key another transaction is inserting meanwhile is waited for, then left alone (``ON CONFLICT DO NOTHING``).
    Cost: one statement on PostgreSQL (the keys as one array, the defaults once, however many rows); elsewhere
    two (the stored keys looked up, then the missing rows inserted).
    """
    if not keys:
        return
    connection = connections[router.db_for_write(model)]
    pk = model._meta.pk
    fields = [field for field in model._meta.concrete_fields if field is not pk]
    instance = model()
    defaults = [field.pre_save(instance, True) for field in fields]
    if connection.vendor != "postgresql":
        stored = existing(model, keys)
        rows = [(key, *defaults) for key in keys if str(key) not in stored]
        insert(model, [pk.name, *(field.name for field in fields)], rows, conflict=(pk.name,))
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(field)) for field in (pk, *fields))
    values = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    params = [_adapter(field, connection)(value) for field, value in zip(fields, defaults, strict=True)]
    keys_sql, keys_param = _keys_param(pk, keys, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
            f"SELECT k, {values} FROM unnest({keys_sql}) AS k ORDER BY k "
            f"ON CONFLICT ({quote(_column(pk))}) DO NOTHING",
            [*params, keys_param],
        )


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
    model_fields = [_field(model, name) for name in fields]
    columns = ", ".join(quote(_column(field)) for field in model_fields)
    placeholder = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    suffix = ""
    if conflict:
        targets = ", ".join(quote(column_of(model, name)) for name in conflict)
        suffix = f" ON CONFLICT ({targets}) DO {action}"
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql" and not conflict:
        _copy(connection, f"COPY {table} ({columns}) FROM STDIN", model_fields, rows)
        return
    if connection.vendor == "postgresql":
        # One array per column (unnest): few parameters and a short query however many rows, which psycopg
        # and PostgreSQL parse in no time (a VALUES list of 10,000 placeholders takes them longer than the insert).
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in model_fields)
        params = _arrays(model_fields, rows, connection)
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
    """PostgreSQL's COPY: the fastest way in (psycopg formats the rows in C), well ahead of a multi-row INSERT."""
    adapters = [_adapter(field, connection) for field in model_fields]
    # Only the columns whose values need adapting are touched: a call per value adds up over a batch's rows.
    adapted = [(index, adapt) for index, adapt in enumerate(adapters) if adapt is not _same]
    with connection.cursor() as cursor:
        # Through the debug wrapper when there is one, so query logs and counts see the statement.
        logged = cursor.debug_sql(statement) if hasattr(cursor, "debug_sql") else contextlib.nullcontext()
        # Django's wrapper turns psycopg's errors into django.db's (IntegrityError, DataError…), as execute() does:
        # a batch that loses a race on an event id is retried, a refused value is set aside.
        with logged, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                if len(row) != len(adapters):
                    raise ValueError(f"{len(row)} values for {len(adapters)} columns")
                values = list(row)
                for index, adapt in adapted:
                    values[index] = adapt(values[index])
                write_row(values)


def _arrays(model_fields: Sequence[Any], rows: Sequence[Sequence[Any]], connection: Any) -> list[Any]:
    """One parameter per column for ``unnest``: an array literal (``{"a","b",NULL}``), cast by the statement to the
    column's array type. Written here as one string, since psycopg quotes a list's elements one by one in Python
    (much slower); a column of a type this doesn't know goes as a list, adapted by psycopg."""
    params: list[Any] = []
    for index, field in enumerate(model_fields):
        text = _text_of(field)
        if text is None:
            adapt = _adapter(field, connection)
            params.append([adapt(row[index]) for row in rows])
            continue
        elements = []
        for row in rows:
            value = row[index]
            if value is None:
                elements.append("NULL")
                continue
            value = text(value)
            if '"' in value or "\\" in value:
                value = value.replace("\\", "\\\\").replace('"', '\\"')
            elements.append(f'"{value}"')
        params.append("{" + ",".join(elements) + "}")
    return params


def _text_of(field: models.Field) -> Callable[[Any], str] | None:
    """How a value (not None) of ``field`` is written as text PostgreSQL reads, for the field types the ingest
    writes; ``None`` for the others."""
    target = cast(models.ForeignKey, field).target_field if field.is_relation else field
    if isinstance(target, models.JSONField):
        return _json_text if target.encoder is None else None  # type: ignore[return-value]
    if isinstance(target, (models.UUIDField, models.CharField, models.TextField, models.IntegerField)):
        return str
    if isinstance(target, models.DateField):  # DateTimeField too
        return _isoformat
    return None


def _isoformat(value: Any) -> str:
    return value.isoformat()


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

    The field types the ingest writes skip Django's per-value ``get_db_prep_save`` (a large share of a batch's
    time: it parses every UUID string into a ``uuid.UUID`` just for psycopg to print it again); any other goes
    through it.
    """
    target = cast(models.ForeignKey, field).target_field if field.is_relation else field
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
    column = quote(column_of(model, column_field))
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
    model_fields = [model._meta.pk, *(_field(model, name) for name in fields)]
    aliases = [f"c{index}" for index in range(len(model_fields))]
    pk = quote(_column(model._meta.pk))
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in model_fields)
        assignments = ", ".join(
            f"{quote(_column(field))} = d.{alias}" for field, alias in zip(model_fields[1:], aliases[1:], strict=True)
        )
        params = _arrays(model_fields, rows, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS d({', '.join(aliases)}) "
                f"WHERE {table}.{pk} = d.c0",
                params,
            )
        return
    # Portable: a CTE of VALUES and a row-value assignment from it (SQLite >= 3.15).
    targets = ", ".join(quote(_column(field)) for field in model_fields[1:])
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
