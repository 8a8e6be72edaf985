"""`Idempotency-Key` for POSTs that create.

Same key + same request → the original response (status and body), marked
`Idempotent-Replayed: true`; same key + a different request → 409. Keys are per user; a
record expires after IDEMPOTENCY_KEY_TTL_HOURS and its key is free again.

A request first looks its key up (one indexed read), then does the work and writes the
record holding the response in the same transaction. Two concurrent requests with the same
key may both do the work, but the second one's INSERT waits on the unique index until the
first commits, then fails: its transaction, work included, rolls back and it replays the
first response — so two concurrent POSTs create one object. A failed request stores nothing,
so the client may retry with the same key.

A replay re-checks access: the record names the object the first response showed
(`object_type`, `object_id`), and a replay first asks the resource's own access function
whether the caller may still see it. When not (moved to another agency, the object deleted),
the answer is that function's 404, the same as for a missing object, never the stored body.
The check is passed in by the caller (`ReplayCheck`): config/ imports no app. It costs a query
on replays only; a first request stores the two columns in the INSERT it makes anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.problems import IdempotencyKeyInProgress, IdempotencyKeyReused
from config.db import insert_instance
from config.errors import ValidationError
from config.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Response headers worth replaying: where the object is and which version it was.
REPLAYED_HEADERS = ("Location", "ETag")


class _KeyTaken(Exception):
    """Another request committed this key first: undo this request's work and replay."""


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def _ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24))


@dataclass(frozen=True)
class ReplayCheck:
    """What a creating POST's response shows, and how a replay re-checks the caller may still
    see it.

    `object_id(body)` reads the object's id from the first response's body (stored with the
    record); `access(user, object_id)` is the resource's access function: it raises the error a
    missing object gets (a 404) when the caller may no longer see the object."""

    object_type: str
    object_id: Callable[[Any], object]
    access: Callable[[Any, str], object]


def idempotent(
    request: Request, create: Callable[[], Response], *, replay_check: ReplayCheck
) -> Response:
    """Run `create` at most once per (user, Idempotency-Key); without the header, just run it.
    A replay answers only while `replay_check` lets the caller see the object."""
    key = request.headers.get(HEADER)
    if key is None:
        return create()
    if not _valid_key(key):
        raise ValidationError(
            "The Idempotency-Key header is not valid.",
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID."]},
        )
    fingerprint = _fingerprint(request)
    # Twice at most: the second time round is a replay of what a concurrent request with the
    # same key committed first.
    for _attempt in range(2):
        if (record := _stored_record(request, key)) is not None:
            return _replay(request, record, fingerprint, replay_check)
        try:
            return _create_and_record(request, key, fingerprint, create, replay_check)
        except _KeyTaken:
            continue
    raise IdempotencyKeyInProgress()


@transaction.atomic
def _create_and_record(
    request: Request,
    key: str,
    fingerprint: str,
    create: Callable[[], Response],
    replay_check: ReplayCheck,
) -> Response:
    response = create()
    if 200 <= response.status_code < 300:
        try:
            # The stored body is sealed (it may hold case data): pre_save needs the instance.
            insert_instance(
                IdempotencyRecord(
                    user_id=request.user.pk,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=response.status_code,
                    response_body=response.data,
                    response_headers={
                        name: response[name]
                        for name in REPLAYED_HEADERS
                        if response.has_header(name)
                    },
                    object_type=replay_check.object_type,
                    object_id=str(replay_check.object_id(response.data)),
                )
            )
        except IntegrityError:
            raise _KeyTaken() from None
    return response


@dataclass(frozen=True)
class _StoredResponse:
    fingerprint: str
    status: int
    body: Any
    headers: dict[str, str]
    object_id: str


@cache
def _lookup_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    fields = {field.name: quote(field.column) for field in IdempotencyRecord._meta.fields}
    table = quote(IdempotencyRecord._meta.db_table)
    return (
        f"SELECT {fields['id']}, {fields['fingerprint']}, {fields['response_status']}, "  # noqa: S608 (names from the model, quoted; values are parameters)
        f"{fields['response_body']}, {fields['response_headers']}, {fields['created_at']} < %s, "
        f"{fields['row_uid']}, {fields['object_id']} "
        f"FROM {table} WHERE {fields['user']} = %s AND {fields['key']} = %s"
    )


def _stored_record(request: Request, key: str) -> _StoredResponse | None:
    """The live record of this key, if any; an expired one is deleted (the key is free).

    Plain SQL: this runs on every request that sends a key (see config/db.py for why)."""
    alias = router.db_for_read(IdempotencyRecord)
    connection = connections[alias]
    cutoff = IdempotencyRecord._meta.get_field("created_at").get_db_prep_value(
        timezone.now() - _ttl(), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(alias), [cutoff, request.user.pk, key])
        row = cursor.fetchone()
    if row is None:
        return None
    record_id, fingerprint, status, body, headers, expired, row_uid, object_id = row
    if expired:
        IdempotencyRecord.objects.filter(pk=record_id).delete()
        return None
    body_field = IdempotencyRecord._meta.get_field("response_body")
    headers_field = IdempotencyRecord._meta.get_field("response_headers")
    return _StoredResponse(
        fingerprint=fingerprint,
        status=status,
        body=body_field.open_stored(
            body,
            table=IdempotencyRecord._meta.db_table,
            row_uid=IdempotencyRecord._meta.get_field("row_uid").to_python(row_uid),
            row_id=record_id,
        ),
        headers=headers_field.from_db_value(headers, None, connection),
        object_id=object_id,
    )


def _replay(
    request: Request, record: _StoredResponse, fingerprint: str, replay_check: ReplayCheck
) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    # Raises the resource's 404 when the caller may no longer see the object. A record stored
    # before object_id existed names it in its body only.
    replay_check.access(request.user, record.object_id or str(replay_check.object_id(record.body)))
    headers = {**record.headers, "Idempotent-Replayed": "true"}
    return Response(record.body, status=record.status, headers=headers)


def idempotency_record_purge(*, older_than: timedelta | None = None, dry_run: bool = False) -> int:
    """Delete expired records (their stored responses may hold case data). Returns the count
    (of those that would go, changing nothing, when `dry_run`)."""
    cutoff = timezone.now() - (older_than or _ttl())
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return expired.count()
    deleted, _ = expired.delete()
    return deleted
