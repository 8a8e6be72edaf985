"""HMAC-SHA256 signatures for webhooks both ways: over `timestamp + "." + body`, with the
timestamp in its own header so a captured request cannot be replayed outside a short window."""

from __future__ import annotations

import hashlib
import hmac

from config.crypto import blind_index

TIMESTAMP_HEADER = "X-Referral-Timestamp"
SIGNATURE_HEADER = "X-Referral-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEME = "sha256="


def sign(*, secret: str, timestamp: str | int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SCHEME + digest


def verify(
    *,
    secret: str,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    now: float,
    window_seconds: int,
) -> bool:
    """True only for a well-formed timestamp inside the window and a matching signature."""
    if not secret or not timestamp or not signature:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > window_seconds:
        return False
    expected = sign(secret=secret, timestamp=sent_at, body=body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def secret_fingerprint(secret: str) -> str:
    """A short keyed digest of a webhook secret, to show and to keep in the change history in
    its place: it tells two secrets apart, and without the service's key it cannot be used
    to guess a secret offline."""
    return blind_index("webhook_secret", secret)[:16]


def fingerprint_display(fingerprint: str) -> str:
    """A fingerprint as people read and compare it: four groups of four ("a1b2 c3d4 …")."""
    return " ".join(fingerprint[start : start + 4] for start in range(0, len(fingerprint), 4))
