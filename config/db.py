"""Plain INSERTs for rows written on every API request (the logged contact, idempotency
records, the access log), without the ORM's per-query compilation.

Measured on `POST /api/v1/contacts/` (docs/benchmarks.md): compiling an ORM INSERT cost
several times the statement itself, and the request writes three rows. Values still pass
through each field's own `pre_save` and `get_db_prep_save`, so defaults, `auto_now` dates,
JSON and foreign keys are stored exactly as the ORM stores them; only the SQL text is built
once per model and column list. No signals are sent: use these only for models nothing
listens to (tests/config/test_db.py compares the rows with the ORM's).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from config.encrypted import encrypted_fields


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
    if encrypted_fields(model):
        # Sealing binds each value to its row's row_uid: that needs the instance.
        raise TypeError(f"{model.__name__} has encrypted fields: use insert_instance")
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


def insert_instance(instance: models.Model) -> None:
    """INSERT a new, unsaved `instance` as `instance.save()` would (defaults and `auto_now`
    values set on the instance), then give it its primary key."""
    model = type(instance)
    meta = model._meta
    if not instance._state.adding:
        raise ValueError(f"{model.__name__} {instance.pk} is saved already")
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    fields = [
        field
        for field in meta.concrete_fields
        if not (field.primary_key and getattr(instance, field.attname) is None)
    ]
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    sql = _insert_sql(model, tuple(field.column for field in fields), alias)
    with connection.cursor() as cursor:
        if meta.pk in fields:
            cursor.execute(sql, params)
        elif connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {connection.ops.quote_name(meta.pk.column)}", params)
            setattr(instance, meta.pk.attname, cursor.fetchone()[0])
        else:
            cursor.execute(sql, params)
            primary_key = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
            setattr(instance, meta.pk.attname, primary_key)
    instance._state.adding = False
    instance._state.db = alias
