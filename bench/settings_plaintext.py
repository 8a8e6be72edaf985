"""The benchmark's baseline without cryptography: bench.settings with the sealed fields and
the blind index turned into pass-throughs, so the same statements run with the same rows and
the same Python around them, only AES-GCM and HMAC left out. It exists to measure what the
encryption costs (bench/encryption_bench.py). Never used by a deployment: its rows are plain
text, which the real profile refuses to read.
"""

import hashlib

from bench.settings import *  # noqa: F403
from config import crypto, encrypted


def _seal(self, instance, value):
    if self.empty_stored(value):
        return value
    return encrypted.Ciphertext(self.to_plain_bytes(value).decode())


def _open_stored(self, stored, *, table, row_uid, row_id):
    if self.empty_stored(stored):
        return self.empty_value(stored)
    return self.from_plain_bytes(stored.encode())


def _digest(kind: str, normalised: str) -> str:
    # The same length of text as the HMAC's hex digest, without the key.
    return hashlib.sha256(f"{kind}\x1f{normalised}".encode()).hexdigest()


encrypted.EncryptedTextField.seal = _seal
encrypted.EncryptedTextField.open_stored = _open_stored
crypto.blind_index = _digest
