"""Model fields whose values are stored sealed (config/crypto.py) and read as plain values.

A model with encrypted fields has a `row_uid` (`RowUidField`): a random UUID set when the
instance is made, so the associated data can name the row before the database gives it a
primary key. Loading a row keeps each encrypted value sealed until it is read (a list page
that shows only references decrypts nothing); `save()` seals what is there (an unread value is
written back unchanged).

What these fields refuse, so plaintext never reaches SQL by accident:
- `QuerySet.update()` / `bulk_update()` with a plain value (they skip `pre_save`): an error;
- lookups other than `isnull` and comparing with "" (encrypted values are never filtered,
  sorted or searched in SQL; exact matches go through the blind index).
Python-side constraint checks (`full_clean`) compare with "" only; a stand-in that keeps
just emptiness is sent for them instead of the value.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core import checks
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.lookups import Exact, IsNull
from django.db.models.query_utils import DeferredAttribute

from config import crypto

# What Python-side constraint checks see instead of a non-empty value: only its emptiness.
_NON_EMPTY_STAND_IN = "(sealed)"


class Sealed:
    """A stored value as read from the database, not decrypted yet."""

    __slots__ = ("stored",)

    def __init__(self, stored: str) -> None:
        self.stored = stored

    def __repr__(self) -> str:
        return "<Sealed>"

    def __getattr__(self, name: str):
        # Only reached for attributes a Sealed lacks: someone treats it as the plain value.
        raise AttributeError(
            f"a sealed value has no {name!r}: values() and values_list() cannot open sealed "
            "columns (they have no row); read them through model instances"
        )


class Ciphertext(str):
    """Text that `pre_save` sealed: the only non-empty value these fields write."""


def RowUidField() -> models.UUIDField:  # noqa: N802 - reads like a field class at the use site
    return models.UUIDField(default=uuid.uuid4, unique=True, editable=False)


class _EncryptedAttribute(DeferredAttribute):
    """Loads deferred values like Django's, then opens a sealed value on first read. A data
    descriptor (it has `__set__`), so reads come here even when the instance holds a value."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value.stored)
            instance.__dict__[self.field.attname] = value
        return value


class _ExactEmpty(Exact):
    def get_prep_lookup(self):
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise TypeError(
                f"{self.lhs.target.model.__name__}.{self.lhs.target.name} is encrypted: it can "
                "only be compared with '' in SQL (exact matches use the blind index)"
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text sealed with AES-256-GCM, bound to table, column and row. `max_length` limits the
    plain text (validated by `full_clean`, forms and serializers), not the column."""

    descriptor_class = _EncryptedAttribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))

    # --- how the plain value becomes stored text and back ---------------------------------
    def to_plain_bytes(self, value: Any) -> bytes:
        return str(value).encode()

    def from_plain_bytes(self, data: bytes) -> Any:
        return data.decode()

    def empty_stored(self, value: Any) -> bool:
        return value is None or value == ""

    def aad(self, instance: models.Model) -> bytes:
        return crypto.associated_data(instance._meta.db_table, self.column, instance.row_uid)

    def open(self, instance: models.Model, stored: str) -> Any:
        # The row's uid as text, once per instance (a list page opens several values a row).
        row_uid = instance.__dict__.get("_row_uid_text")
        if row_uid is None:
            row_uid = instance.__dict__["_row_uid_text"] = str(instance.row_uid)
        return self.open_stored(
            stored, table=instance._meta.db_table, row_uid=row_uid, row_id=instance.pk
        )

    def open_stored(self, stored: str, *, table: str, row_uid: object, row_id: object) -> Any:
        """Decrypt a raw column value read outside the ORM (plain-SQL hot paths)."""
        if self.empty_stored(stored):
            return self.empty_value(stored)
        aad = crypto.associated_data(table, self.column, row_uid)
        data = crypto.open_sealed(stored, aad=aad, table=table, column=self.column, row_id=row_id)
        return self.from_plain_bytes(data)

    def empty_value(self, stored: Any) -> Any:
        return "" if stored == "" else None

    def seal(self, instance: models.Model, value: Any) -> Any:
        if self.empty_stored(value):
            return value
        return Ciphertext(crypto.seal(self.to_plain_bytes(value), aad=self.aad(instance)))

    # --- Django's field protocol -------------------------------------------------------
    def from_db_value(self, value, expression, connection):
        if self.empty_stored(value):
            return self.empty_value(value)
        return Sealed(value)

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if isinstance(value, Sealed):
            return Ciphertext(value.stored)
        return self.seal(model_instance, value)

    def get_db_prep_save(self, value, connection):
        if isinstance(value, Ciphertext) or self.empty_stored(value):
            return str(value) if isinstance(value, Ciphertext) else value
        if hasattr(value, "resolve_expression"):
            return value
        raise TypeError(
            f"{self.model.__name__}.{self.name} is encrypted: write it through save(), "
            "not update() or bulk_update()"
        )

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, Ciphertext):
            return str(value)
        if self.empty_stored(value):
            return value
        return _NON_EMPTY_STAND_IN

    def get_prep_value(self, value):
        return value

    def to_python(self, value):
        return value

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _ExactEmpty
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, name):
        return None

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not getattr(self, "model", None) or self.model._meta.abstract:
            return errors
        names = {field.name for field in self.model._meta.get_fields()}
        if "row_uid" not in names:
            errors.append(
                checks.Error(
                    f"{self.model.__name__} has encrypted fields but no row_uid",
                    hint="Add row_uid = RowUidField() (config/encrypted.py).",
                    obj=self,
                    id="config.E010",
                )
            )
        return errors


class EncryptedJSONField(EncryptedTextField):
    """A JSON value sealed as one ciphertext (for stored API responses and packets)."""

    def __init__(self, *args: Any, encoder=DjangoJSONEncoder, **kwargs: Any) -> None:
        self.encoder = encoder
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.encoder is not DjangoJSONEncoder:
            kwargs["encoder"] = self.encoder
        return name, path, args, kwargs

    def to_plain_bytes(self, value: Any) -> bytes:
        return json.dumps(value, cls=self.encoder, separators=(",", ":")).encode()

    def from_plain_bytes(self, data: bytes) -> Any:
        return json.loads(data)

    def empty_stored(self, value: Any) -> bool:
        return value is None

    def empty_value(self, stored: Any) -> Any:
        return None


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
