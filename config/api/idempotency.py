"""`Idempotency-Key` for POSTs that create.

Same key + same request → the original response (status and body), marked
`Idempotent-Replayed: true`; same key + a different request → 409. Keys are per user.

Concurrency: the record is inserted *before* the work, in the same transaction. A second
request with the same key blocks on the unique index until the first commits, then finds the
stored response and replays it — so two concurrent POSTs create one object. A failed request
(an exception, or a non-2xx response) rolls its record back, so the client may retry with the
same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.problems import IdempotencyKeyInProgress, IdempotencyKeyReused
from config.models import IdempotencyRecord
from screening.errors import ValidationError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Response headers worth replaying: where the object is and which version it was.
REPLAYED_HEADERS = ("Location", "ETag")


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def _ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24))


def idempotent(request: Request, create: Callable[[], Response]) -> Response:
    """Run `create` at most once per (user, Idempotency-Key); without the header, just run it."""
    key = request.headers.get(HEADER)
    if key is None:
        return create()
    if not _valid_key(key):
        raise ValidationError(
            "The Idempotency-Key header is not valid.",
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID."]},
        )
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        # An expired record is forgotten: the key may be used afresh.
        IdempotencyRecord.objects.filter(
            user=request.user, key=key, created_at__lt=timezone.now() - _ttl()
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            return _replay(request, key, fingerprint)
        response = create()
        if 200 <= response.status_code < 300:
            record.response_status = response.status_code
            record.response_body = response.data
            record.response_headers = {
                name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
            }
            record.save(update_fields=["response_status", "response_body", "response_headers"])
        else:
            record.delete()
        return response


def _replay(request: Request, key: str, fingerprint: str) -> Response:
    record = IdempotencyRecord.objects.select_for_update().get(user=request.user, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.response_status is None:
        raise IdempotencyKeyInProgress()
    headers = {**record.response_headers, "Idempotent-Replayed": "true"}
    return Response(record.response_body, status=record.response_status, headers=headers)


def idempotency_record_purge(*, older_than: timedelta | None = None) -> int:
    """Delete expired records (their stored responses may hold case data). Returns the count."""
    cutoff = timezone.now() - (older_than or _ttl())
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
