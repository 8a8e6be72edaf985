"""Field encryption and the blind index: the keyring, sealing, opening, keyed digests.

Every identifying or free-text value is stored as one AES-256-GCM ciphertext (pyca/cryptography;
docs/encryption.md says why) in the form

    $e1$<key id>$<base64url(12-byte nonce || ciphertext || 16-byte tag)>

with associated data naming the table, the column and the row's `row_uid`, so a value copied
into another column or row fails authentication instead of reading as someone else's data.
The keyring comes from settings (the environment in production): several keys, one active;
older keys only decrypt. Exact-match lookups use a keyed HMAC-SHA256 "blind index" with a key
of its own, so the digests say nothing without that key and cannot be reversed with it.

Settings are read when first needed, never at import time; `reset_keyring` (connected to
`setting_changed`) drops the cached keys when a test overrides them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

PREFIX = "$e1$"
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DecryptionError(Exception):
    """A stored value that does not decrypt (unknown key, wrong row, tampered). The message
    names where the value is, never the value."""

    def __init__(self, *, table: str, column: str, row_id: object, reason: str) -> None:
        self.table, self.column, self.row_id, self.reason = table, column, row_id, reason
        super().__init__(f"{table}.{column} row {row_id}: stored value does not decrypt ({reason})")


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active_id: str
    blind_index_key: bytes

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_ACTIVE_KEY names {self.active_id!r}, which is not in "
                "FIELD_ENCRYPTION_KEYS"
            )
        if any(hmac.compare_digest(self.blind_index_key, key) for key in self.keys.values()):
            raise ImproperlyConfigured("BLIND_INDEX_KEY must differ from every encryption key")


def _decode_key(name: str, text: str) -> bytes:
    text = text.strip()
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} holds a key that is not base64") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} keys must be {KEY_BYTES} bytes, base64-encoded")
    return key


def parse_keyring(*, keys: str, active: str, blind_index_key: str) -> Keyring:
    """Build a keyring from the settings' text form: `FIELD_ENCRYPTION_KEYS` is a comma-
    separated list of `id:base64key`, `FIELD_ENCRYPTION_ACTIVE_KEY` one of those ids."""
    parsed: dict[str, bytes] = {}
    for part in (item.strip() for item in keys.split(",")):
        if not part:
            continue
        key_id, sep, text = part.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS must be comma-separated id:base64key pairs "
                "(ids of 1-16 letters, digits, - or _)"
            )
        if key_id in parsed:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS names key {key_id!r} twice")
        parsed[key_id] = _decode_key("FIELD_ENCRYPTION_KEYS", text)
    if not parsed:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key")
    return Keyring(
        keys=parsed,
        active_id=active.strip(),
        blind_index_key=_decode_key("BLIND_INDEX_KEY", blind_index_key),
    )


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def local_key_file(path: Path) -> dict[str, str]:
    """The embedded default's keys: read from `path`, created there (mode 0600) on first run.
    Returns the three settings values. Never used by the production profile."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "FIELD_ENCRYPTION_KEYS": f"local1:{new_key_text()}",
            "FIELD_ENCRYPTION_ACTIVE_KEY": "local1",
            "BLIND_INDEX_KEY": new_key_text(),
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)
        return data
    with path.open() as handle:
        data = json.load(handle)
    needed = {"FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_ACTIVE_KEY", "BLIND_INDEX_KEY"}
    missing = needed - set(data)
    if missing:
        raise ImproperlyConfigured(f"{path} lacks {', '.join(sorted(missing))}")
    return data


@cache
def keyring() -> Keyring:
    from django.conf import settings

    return parse_keyring(
        keys=settings.FIELD_ENCRYPTION_KEYS,
        active=settings.FIELD_ENCRYPTION_ACTIVE_KEY,
        blind_index_key=settings.BLIND_INDEX_KEY,
    )


@cache
def _aeads() -> dict[str, AESGCM]:
    """One cipher object per key of the keyring, made once (opening a value is a dict lookup)."""
    return {key_id: AESGCM(key) for key_id, key in keyring().keys.items()}


# urlsafe base64 back to the standard alphabet, for binascii (what urlsafe_b64decode does, in
# one C call: a list page opens hundreds of values).
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def reset_keyring(*, setting: str = "", **kwargs) -> None:
    if not setting or setting in {
        "FIELD_ENCRYPTION_KEYS",
        "FIELD_ENCRYPTION_ACTIVE_KEY",
        "BLIND_INDEX_KEY",
    }:
        keyring.cache_clear()
        _aeads.cache_clear()


def associated_data(table: str, column: str, row_uid: object) -> bytes:
    return f"{table}|{column}|{row_uid}".encode()


def seal(plaintext: bytes, *, aad: bytes) -> str:
    """Encrypt with the active key; the stored text carries the key id."""
    key_id = keyring().active_id
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + _aeads()[key_id].encrypt(nonce, plaintext, aad)
    return f"{PREFIX}{key_id}${base64.urlsafe_b64encode(sealed).decode()}"


def key_id_of(stored: str) -> str | None:
    """The key id a stored value was sealed with, or None when it is no sealed value."""
    if not stored.startswith(PREFIX):
        return None
    key_id, sep, _rest = stored[len(PREFIX) :].partition("$")
    return key_id if sep else None


def open_sealed(stored: str, *, aad: bytes, table: str, column: str, row_id: object) -> bytes:
    """Decrypt a stored value, or raise `DecryptionError` naming table, column and row."""
    # "$e1$<key id>$<body>" splits into "", "e1", the key id and the body.
    parts = stored.split("$", 3)
    if len(parts) == 4 and not parts[0] and parts[1] == "e1":
        aead = _aeads().get(parts[2])
        if aead is not None:
            try:
                sealed = binascii.a2b_base64(parts[3].encode().translate(_FROM_URLSAFE))
                return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
            except (InvalidTag, binascii.Error, ValueError):
                raise DecryptionError(
                    table=table, column=column, row_id=row_id, reason="authentication failed"
                ) from None
    # Not opened: say why.
    key_id = key_id_of(stored)
    # The key id is quoted in the reason: only a well-formed one, never other stored text.
    if key_id is None or not KEY_ID.match(key_id):
        raise DecryptionError(table=table, column=column, row_id=row_id, reason="not sealed")
    raise DecryptionError(
        table=table, column=column, row_id=row_id, reason=f"key {key_id!r} not in the keyring"
    )


def blind_index(kind: str, normalised: str) -> str:
    """Keyed digest of a normalised identifier; the kind is mixed in so a phone number and a
    document number with the same digits never match each other."""
    message = f"{kind}\x1f{normalised}".encode()
    return hmac.new(keyring().blind_index_key, message, hashlib.sha256).hexdigest()
