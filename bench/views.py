"""Comparison views for bench/contacts_bench.py: what `POST /api/v1/contacts/` costs beyond
parsing the JSON and inserting the row, and beyond the server and middleware alone; and a
floor: the API's own database and Redis work with the least Python around it."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import timedelta

from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

# The API's own helpers, private ones included: the floor must run the very same statements.
from config.api.idempotency import _lookup_sql
from config.api.throttling import _count
from config.db import insert_instance, insert_row
from config.history import history_record_created
from config.models import AccessLogEntry, IdempotencyRecord
from config.tokens import api_token_authenticate
from screening.contacts import may_log_contacts
from screening.models import Contact

FIELDS = (
    "channel",
    "contact_type",
    "caller_type",
    "language",
    "caller_region",
    "immediate_danger",
    "minor_involved",
    "exploitation_type",
    "situation_location",
    "summary",
)


@csrf_exempt
@require_POST
def minimal_contact_create(request: HttpRequest) -> JsonResponse:
    """Parse the same JSON and insert the same row: no auth, validation or idempotency."""
    data = json.loads(request.body)
    contact = Contact.objects.create(
        agency_id=int(os.environ["BENCH_AGENCY_ID"]),
        created_by_id=int(os.environ["BENCH_USER_ID"]),
        **{name: data[name] for name in FIELDS if name in data},
    )
    return JsonResponse({"id": contact.pk, "status": contact.status}, status=201)


@csrf_exempt
def bare_json(request: HttpRequest) -> JsonResponse:
    """Parse the JSON and answer: the server and middleware alone, no database."""
    data = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "fields": len(data)}, status=201)


@csrf_exempt
@require_POST
def floor_contact_create(request: HttpRequest) -> JsonResponse:
    """The API's statements and round trips, in the API's order, with the least Python around
    them: token lookup, role check, throttle counter, Idempotency-Key lookup, then the contact
    and the idempotency record in one transaction, then the access-log row. No DRF, no
    validation, no error handling: not a way to serve requests, a lower bound on what the
    API's work costs on this machine."""
    token = api_token_authenticate(request.headers["Authorization"].removeprefix("Bearer "))
    if token is None or not may_log_contacts(token.user):
        return JsonResponse({"detail": "no"}, status=403)
    user = token.user
    window = int(time.time() // 60)
    _count(caches["default"], f"throttle_floor_{token.pk}:{window}", window_seconds=60)
    key = request.headers["Idempotency-Key"]
    data = json.loads(request.body)
    fingerprint = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql("default"), [timezone.now() - timedelta(days=1), user.pk, key])
        if cursor.fetchone() is not None:
            return JsonResponse({"detail": "replay"}, status=200)
    with transaction.atomic():
        contact = Contact(
            agency_id=user.agency_id,
            created_by=user,
            **{name: data[name] for name in FIELDS if name in data},
        )
        insert_instance(contact)
        history_record_created(contact, user=user)
        body = {name: getattr(contact, name) for name in ("id", "status", *FIELDS, "version")}
        insert_instance(
            IdempotencyRecord(
                user_id=user.pk,
                key=key,
                fingerprint=fingerprint,
                response_status=201,
                response_body=body,
                object_type="contact",
                object_id=str(contact.pk),
            )
        )
    insert_row(
        AccessLogEntry,
        user_id=user.pk,
        agency_id=user.agency_id,
        api_token_id=token.pk,
        roles=",".join(sorted(user.role_names)),
        method="POST",
        route="bench-floor",
        object_type="contact",
        object_ref=str(contact.pk),
        status_code=201,
        outcome=AccessLogEntry.Outcome.ALLOWED,
    )
    return JsonResponse(body, status=201)
