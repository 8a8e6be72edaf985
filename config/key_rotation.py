"""Key rotation: re-seal every stored value under the active key (`manage.py rotate_field_keys`).

The tables come from the models themselves: every installed model with encrypted fields
(`config.encrypted.encrypted_fields`), change-history tables included, so a new sealed field is
rotated without touching this module. Each table is walked in primary-key order in batches;
each batch is one transaction that locks its rows (`SELECT ... FOR UPDATE`), so a save of the
same row waits instead of being overwritten, and a run killed halfway keeps every batch it
finished. Values are read raw (`Sealed`, never decrypted) and their key id checked first: a
value under the active key costs nothing, which is what makes a rerun finish the job.

A rotation is not a change of the record: new values are written with `QuerySet.update()`
(sealed `Ciphertext`, so the fields accept them), which sends no signals and sets no
`auto_now` dates; no change-history row is made and `updated_at` stays as it was. The
plaintext is re-sealed with the same associated data (table, column, row_uid), byte for byte.

A value that does not decrypt is left as it is and reported by table, column and row id
(never the value); the rotation goes on with the others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, router, transaction

from config import crypto
from config.encrypted import Ciphertext, EncryptedTextField, Sealed, encrypted_fields

DEFAULT_BATCH_SIZE = 500
# What the per-key counts call a non-empty value that is no sealed value at all.
NOT_SEALED = "(not sealed)"


@dataclass
class TableRotation:
    """What a rotation (or a dry run) found in one table."""

    table: str
    rows_checked: int = 0
    reencrypted: int = 0
    already_current: int = 0
    values_by_key: Counter[str] = field(default_factory=Counter)
    failures: list[crypto.DecryptionError] = field(default_factory=list)

    @property
    def to_reencrypt(self) -> int:
        """Values not under the active key (what a dry run says a rotation would do)."""
        return sum(self.values_by_key.values()) - self.already_current


def sealed_models() -> list[type[models.Model]]:
    """Every installed model that owns sealed columns, one per table (no proxies), in a stable
    order."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models():
        if model._meta.proxy or not _own_sealed_fields(model):
            continue
        found.setdefault(model._meta.db_table, model)
    return [found[table] for table in sorted(found)]


def sealed_model_get(label: str) -> type[models.Model]:
    """The model named `app_label.ModelName` (or by its table), if it has sealed columns."""
    for model in sealed_models():
        if label.lower() in (model._meta.label_lower, model._meta.db_table):
            return model
    raise LookupError(f"{label} is no model with encrypted fields")


def _own_sealed_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    # A multi-table child lists its parent's fields too; they are the parent table's.
    return [f for f in encrypted_fields(model) if f.model is model]


def table_rotate(
    model: type[models.Model],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> TableRotation:
    """Re-seal `model`'s values that are not under the active key, `batch_size` rows per
    transaction; with `dry_run`, only count values per key id (nothing decrypted or written).
    `on_batch(rows)` is called after each committed batch (the progress bar)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    fields = _own_sealed_fields(model)
    table = model._meta.db_table
    alias = router.db_for_write(model)
    manager = model._base_manager.db_manager(alias)
    active = crypto.keyring().active_id
    report = TableRotation(table=table)
    last_pk = None
    while True:
        with transaction.atomic(using=alias):
            rows = manager.order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            if not dry_run:
                rows = rows.select_for_update()
            batch = list(
                rows.values_list("pk", "row_uid", *(f.attname for f in fields))[:batch_size]
            )
            for row_id, row_uid, *values in batch:
                changes = _row_rotate(
                    report,
                    fields,
                    values,
                    active=active,
                    row_id=row_id,
                    row_uid=row_uid,
                    dry_run=dry_run,
                )
                if changes:
                    manager.filter(pk=row_id).update(**changes)
            report.rows_checked += len(batch)
        if not batch:
            return report
        last_pk = batch[-1][0]
        if on_batch is not None:
            on_batch(len(batch))


def _row_rotate(
    report: TableRotation,
    fields: Iterable[EncryptedTextField],
    values: Iterable[object],
    *,
    active: str,
    row_id: object,
    row_uid: object,
    dry_run: bool,
) -> dict[str, Ciphertext]:
    """The row's columns that need a new seal, sealed; counts what it saw in `report`."""
    changes: dict[str, Ciphertext] = {}
    for sealed_field, value in zip(fields, values, strict=True):
        if not isinstance(value, Sealed):
            continue  # empty: nothing stored to rotate
        key_id = crypto.key_id_of(value.stored)
        report.values_by_key[key_id or NOT_SEALED] += 1
        if key_id == active:
            report.already_current += 1
            continue
        if dry_run:
            continue
        column = sealed_field.column
        aad = crypto.associated_data(report.table, column, row_uid)
        try:
            plaintext = crypto.open_sealed(
                value.stored, aad=aad, table=report.table, column=column, row_id=row_id
            )
        except crypto.DecryptionError as error:
            report.failures.append(error)
            continue
        changes[sealed_field.attname] = Ciphertext(crypto.seal(plaintext, aad=aad))
    report.reencrypted += len(changes)
    return changes


def table_rows_count(model: type[models.Model]) -> int:
    return model._base_manager.db_manager(router.db_for_write(model)).count()
