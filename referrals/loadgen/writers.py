"""Bulk row writers for the load generator: PostgreSQL `COPY ... FROM STDIN` through
psycopg 3, and plain `executemany` INSERTs elsewhere (SQLite, the tests).

Rows are dicts from column attname to a value the database takes as it is: ints, strings,
booleans, UUIDs, aware datetimes, `RawJson` (JSON already serialised: a screening result is
serialised once and written a hundred thousand times) and `Ciphertext` (a value sealed for
its own row, config/encrypted.py). Columns a row leaves out take the field's default;
generated columns are never written (the database computes them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from operator import itemgetter
from typing import Any

from django.db import connection, models

from config.encrypted import Ciphertext


class RawJson(str):
    """JSON text ready for a json/jsonb column."""


def raw_json(value: Any) -> RawJson:
    return RawJson(json.dumps(value, separators=(",", ":")))


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if not field.generated]


def _default(field: models.Field) -> Any:
    if field.has_default():
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return raw_json(value)
        return value
    if field.null:
        return None
    if field.empty_strings_allowed:
        return ""
    return None


class RowWriter:
    """Writes lists of row dicts to one model's table; counts what it wrote."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        # Seconds spent writing each table (shown with --verbosity 2).
        self.seconds: dict[str, float] = {}
        self._plans: dict[type[models.Model], tuple[str, list[str], list[Any]]] = {}

    def _plan(self, model: type[models.Model]) -> tuple[str, list[str], list[Any]]:
        plan = self._plans.get(model)
        if plan is None:
            fields = _columns(model)
            plan = (
                model._meta.db_table,
                [field.attname for field in fields],
                [_default(field) for field in fields],
            )
            self._plans[model] = plan
        return plan

    def tuples(self, model: type[models.Model], rows: Iterable[dict[str, Any]]) -> list[tuple]:
        _table, names, defaults = self._plan(model)
        # A row's missing columns from the defaults, then all columns in order: two C calls.
        complete = dict(zip(names, defaults, strict=True))
        pick = itemgetter(*names)
        return [pick({**complete, **row}) for row in rows]

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        """Write `rows` now (the writer may still be busy with them when this returns)."""
        self.write_batch([(model, rows)])

    def write_batch(self, batch: list[tuple[type[models.Model], list[dict[str, Any]]]]) -> None:
        self._timed(batch)

    def finish(self) -> None:
        """Wait until everything handed over is written."""

    def _timed(self, batch) -> None:
        for model, rows in batch:
            if not rows:
                continue
            began = time.perf_counter()
            self._write(model, rows)
            table = model._meta.db_table
            self.counts[table] = self.counts.get(table, 0) + len(rows)
            self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - began

    def _write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError


class CopyWriter(RowWriter):
    """PostgreSQL: one `COPY` per table and batch, rows streamed by psycopg's C writer.

    A batch is written by a thread of its own on the same connection and transaction, while
    the caller makes the next one: the server parses and stores one batch (the large JSON
    results cost it most) while Python generates the next. One batch at most is in flight;
    the caller must not use the connection until `finish()` returns."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-data-copy")
        self._pending: Future | None = None
        self._raw = None

    def write_batch(self, batch) -> None:
        if self._raw is None:
            connection.ensure_connection()
            self._raw = connection.connection
        self.finish()
        for model, _rows in batch:
            self._plan(model)  # built here: the thread only reads plans
        self._pending = self._pool.submit(self._timed, batch)

    def finish(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write(self, model, rows):
        table, names, _defaults = self._plan(model)
        quote = connection.ops.quote_name
        sql = f"COPY {quote(table)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
        with self._raw.cursor() as cursor, cursor.copy(sql) as copy:
            write_row = copy.write_row
            for values in self.tuples(model, rows):
                write_row(values)


class InsertWriter(RowWriter):
    """Any other database: `executemany` of one INSERT, values prepared by each field as the
    ORM prepares them (UUIDs, datetimes and JSON in the backend's own form)."""

    def _converters(self, model) -> list[Callable[[Any], Any]]:
        converters = []
        for field in _columns(model):
            if isinstance(field, models.JSONField):
                converters.append(lambda value: value if value is None else str(value))
            elif isinstance(field, models.DateTimeField | models.UUIDField):
                converters.append(
                    lambda value, field=field: field.get_db_prep_save(value, connection)
                )
            else:
                converters.append(
                    lambda value: str(value) if isinstance(value, Ciphertext) else value
                )
        return converters

    def _write(self, model, rows):
        table, names, _defaults = self._plan(model)
        quote = connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(names))
        sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(name) for name in names)}) "  # noqa: S608
            f"VALUES ({placeholders})"
        )
        converters = self._converters(model)
        prepared = [
            tuple(convert(value) for convert, value in zip(converters, values, strict=True))
            for values in self.tuples(model, rows)
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)


def row_writer() -> RowWriter:
    return CopyWriter() if connection.vendor == "postgresql" else InsertWriter()


def sequences_reset(models_written: Iterable[type[models.Model]]) -> None:
    """After rows were inserted with explicit ids, move each table's id sequence past them
    (PostgreSQL; SQLite takes the largest id + 1 by itself)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_written:
            table = model._meta.db_table
            # The table name comes from the model's metadata, quoted.
            top = f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}"  # noqa: S608
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(({top}), 0) + 1, false)",
                [table],
            )


class DeferredIndexes:
    """PostgreSQL, inside the loading transaction: drop the written tables' secondary indexes,
    unique and foreign-key constraints before the rows go in and create them again after, as
    pg_restore does. Building an index from all rows at once is several times cheaper than
    inserting into it row by row, and adding a foreign key checks every row in one join
    instead of queueing a trigger per row until commit. Every constraint is checked again in
    full when it is added back; the primary keys and check constraints stay in place (checks
    are evaluated per row as the rows arrive)."""

    def __init__(self, models_to_load: Iterable[type[models.Model]]) -> None:
        self.tables = [model._meta.db_table for model in models_to_load]
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str]] = []

    def drop(self) -> None:
        if connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype IN ('f', 'u') "
                "AND conrelid = ANY(%s::regclass[]) ORDER BY contype, conname",
                [self.tables],
            )
            self.constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [self.tables],
            )
            self.indexes = cursor.fetchall()
            # Rows the loaders inserted earlier in this transaction have their foreign-key
            # checks queued: run them now (no table with queued checks can be altered).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            # Foreign keys first (they may rest on a unique constraint of another table).
            for table, name, _definition in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")

    def restore(self, on_step: Callable[[str], object] = lambda name: None) -> None:
        if connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for name, definition in self.indexes:
                cursor.execute(definition)
                on_step(name)
            # Unique constraints before the foreign keys that may need them.
            for table, name, definition in sorted(
                self.constraints, key=lambda c: "FOREIGN" in c[2]
            ):
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )
                on_step(name)
