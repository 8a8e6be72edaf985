"""Comparison views for bench/contacts_bench.py: what `POST /api/v1/contacts/` costs beyond
parsing the JSON and inserting the row, and beyond the server and middleware alone."""

from __future__ import annotations

import json
import os

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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
