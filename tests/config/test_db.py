"""`insert_row`, the plain INSERT for bookkeeping rows written on every API request: it must
store exactly what `Model.objects.create` stores (defaults, dates, JSON, foreign keys)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.db import insert_row
from config.models import AccessLogEntry, IdempotencyRecord
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_row_reads_back_as_the_orm_would_have_written_it():
    person = UserFactory()
    before = timezone.now()
    insert_row(
        IdempotencyRecord,
        user=person,
        key="call-1",
        fingerprint="f" * 64,
        response_status=201,
        response_body={"id": 7, "when": before, "nested": [1, "two", None]},
    )
    record = IdempotencyRecord.objects.get()
    assert record.user == person
    assert (record.key, record.fingerprint, record.response_status) == ("call-1", "f" * 64, 201)
    # JSON through the field's own encoder (DjangoJSONEncoder: datetimes as ISO strings).
    assert record.response_body["nested"] == [1, "two", None]
    assert record.response_body["when"].startswith(before.isoformat()[:19])
    assert record.response_headers == {}  # the field's default
    # auto_now_add: stamped at insert time, timezone-aware.
    assert before <= record.created_at <= timezone.now() + timedelta(seconds=1)


def test_foreign_keys_may_be_given_by_id_and_nulls_stay_null():
    person = UserFactory()
    insert_row(
        AccessLogEntry,
        user_id=person.pk,
        method="GET",
        route="api-case-list",
        status_code=200,
        outcome="allowed",
    )
    entry = AccessLogEntry.objects.get()
    assert entry.user_id == person.pk
    assert entry.agency_id is None and entry.case_id is None and entry.client_ip is None
    assert entry.object_ref == ""


def test_an_unknown_field_is_refused_before_anything_is_written():
    with pytest.raises(TypeError, match="no field"):
        insert_row(AccessLogEntry, method="GET", route="x", status_code=200, colour="blue")
    assert not AccessLogEntry.objects.exists()
