"""A plain INSERT for bookkeeping rows written on every API request (idempotency records, the
access log), without the ORM's per-query compilation.

Measured on `POST /api/v1/contacts/` (docs/benchmarks.md): compiling an ORM INSERT cost
several times the statement itself, and the request writes two such rows besides the contact.
Values still pass through each field's own `get_db_prep_save`, so dates, JSON and foreign
keys are adapted exactly as the ORM adapts them; only the SQL text is built once per model
and column list. No signals are sent and no primary key is returned: use it only for rows
nothing reacts to.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connections, models, router
from django.utils import timezone


@cache
def _field_names(model: type[models.Model]) -> frozenset[str]:
    return frozenset(
        name for field in model._meta.concrete_fields for name in (field.name, field.attname)
    )


@cache
def _insert_sql(model: type[models.Model], columns: tuple[str, ...], alias: str) -> str:
    quote = connections[alias].ops.quote_name
    # Names come from the model's own metadata, quoted; values are always parameters.
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608


def _value(field: models.Field, values: dict[str, Any]) -> Any:
    if field.attname in values:
        return values[field.attname]
    if field.name in values:
        value = values[field.name]
        return value.pk if field.is_relation and value is not None else value
    if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
        return timezone.now() if isinstance(field, models.DateTimeField) else timezone.localdate()
    return field.get_default()


def insert_row(model: type[models.Model], **values: Any) -> None:
    """INSERT one row of `model` from field names (or `<fk>_id` attnames) to values. Fields
    left out take their defaults, as `Model.objects.create` would give them."""
    if unknown := set(values) - _field_names(model):
        raise TypeError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    alias = router.db_for_write(model)
    connection = connections[alias]
    columns: list[str] = []
    params: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in values and field.attname not in values:
            continue
        columns.append(field.column)
        params.append(field.get_db_prep_save(_value(field, values), connection))
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, tuple(columns), alias), params)
