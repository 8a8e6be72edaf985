"""bench/views.py's floor must run the statements `POST /api/v1/contacts/` runs, or the
"floor" row of docs/benchmarks.md measures something else."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.contacts_bench import BODY
from config.models import AccessLogEntry, IdempotencyRecord
from screening.models import Contact
from tests.api.helpers import client_for

pytestmark = pytest.mark.django_db


def _statements(queries) -> list[tuple[str, str]]:
    """Each data statement as (verb, table); transaction control left out (in a test
    transaction BEGIN and COMMIT are savepoints, and the API's service adds its own)."""
    found = []
    for query in queries:
        sql = query["sql"]
        verb = sql.split(None, 1)[0].upper()
        if verb in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"):
            continue
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
        found.append((verb, table.group(1) if table else ""))
    return found


def test_the_floor_runs_the_apis_statements_and_writes_the_same_rows(settings, advocate):
    settings.ROOT_URLCONF = "bench.urls"
    api = client_for(advocate)
    # Steady state, as in the benchmark: the token's first use records it (once a minute).
    assert api.post("/api/v1/contacts/", BODY, format="json").status_code == 201
    with CaptureQueriesContext(connection) as by_api:
        response = api.post(
            "/api/v1/contacts/", BODY, format="json", headers={"Idempotency-Key": "api-1"}
        )
    assert response.status_code == 201, response.content
    with CaptureQueriesContext(connection) as by_floor:
        response = api.post(
            "/bench/floor/contacts/", BODY, format="json", headers={"Idempotency-Key": "floor-1"}
        )
    assert response.status_code == 201, response.content

    assert _statements(by_floor) == _statements(by_api)
    assert [verb for verb, _ in _statements(by_api)] == [
        "SELECT",  # token, user and roles
        "SELECT",  # the Idempotency-Key
        "INSERT",  # the contact
        "INSERT",  # its change-history row (insert_instance sends no post_save)
        "INSERT",  # the idempotency record
        "INSERT",  # the access log
    ]
    floor_contact = Contact.objects.get(pk=response.json()["id"])
    assert (floor_contact.agency_id, floor_contact.summary) == (advocate.agency_id, BODY["summary"])
    assert IdempotencyRecord.objects.filter(key="floor-1").exists()
    assert AccessLogEntry.objects.filter(route="bench-floor", object_ref=str(floor_contact.pk))
