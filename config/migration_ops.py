"""Migration steps for moving existing plain-text columns to sealed values.

Adding `row_uid` to a table with rows takes three steps (Django's recipe for unique fields):
add it nullable, give every row its own UUID, then make it unique and required. The middle
step also seals each existing plain value of the table's encrypted columns, reading and
writing raw column values so it never depends on the model code of a later day.
"""

from __future__ import annotations

import uuid

from django.db import migrations, models

from config import crypto


def _seal_rows(app_label: str, model_name: str, columns: tuple[str, ...]):
    def forwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        connection = schema_editor.connection
        quote = connection.ops.quote_name
        table = model._meta.db_table
        pk = model._meta.pk.column
        selected = ", ".join(quote(name) for name in (pk, *columns))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {selected} FROM {quote(table)}")  # noqa: S608 - model names
            rows = cursor.fetchall()
        assignments = ", ".join(f"{quote(name)} = %s" for name in ("row_uid", *columns))
        update = f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s"  # noqa: S608
        with connection.cursor() as cursor:
            for row_id, *values in rows:
                row_uid = uuid.uuid4()
                sealed = []
                for column, value in zip(columns, values, strict=True):
                    if value is None or value == "" or crypto.key_id_of(str(value)):
                        sealed.append(value)
                        continue
                    aad = crypto.associated_data(table, column, row_uid)
                    sealed.append(crypto.seal(str(value).encode(), aad=aad))
                uid_value = row_uid.hex if connection.vendor == "sqlite" else row_uid
                cursor.execute(update, [uid_value, *sealed, row_id])

    return forwards


def add_row_uid_and_seal(app_label: str, model_name: str, columns: tuple[str, ...]) -> list:
    """The operations giving an existing table its `row_uid` and sealing `columns`."""
    return [
        migrations.AddField(
            model_name=model_name,
            name="row_uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(
            _seal_rows(app_label, model_name, columns), migrations.RunPython.noop, elidable=False
        ),
        migrations.AlterField(
            model_name=model_name,
            name="row_uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
