"""`insert_row` and `insert_instance`, the plain INSERTs for rows written on every API
request: they must store exactly what the ORM stores (defaults, dates, JSON, foreign keys)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.db import insert_instance, insert_row
from config.encrypted import encrypted_fields
from config.models import AccessLogEntry, IdempotencyRecord
from screening.models import Contact
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_row_reads_back_as_the_orm_would_have_written_it():
    person = UserFactory()
    before = timezone.now()
    insert_row(
        AccessLogEntry,
        user=person,
        method="POST",
        route="api-contact-create",
        status_code=201,
        outcome="allowed",
    )
    entry = AccessLogEntry.objects.get()
    assert entry.user == person and (entry.method, entry.status_code) == ("POST", 201)
    assert entry.roles == ""  # the field's default
    assert before <= entry.at <= timezone.now() + timedelta(seconds=1)


def test_an_instance_with_sealed_json_reads_back_as_the_orm_would_have_written_it():
    person = UserFactory()
    before = timezone.now()
    insert_instance(
        IdempotencyRecord(
            user=person,
            key="call-1",
            fingerprint="f" * 64,
            response_status=201,
            response_body={"id": 7, "when": before, "nested": [1, "two", None]},
        )
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


def test_a_model_with_encrypted_fields_is_refused_by_insert_row():
    person = UserFactory()
    with pytest.raises(TypeError, match="insert_instance"):
        insert_row(IdempotencyRecord, user=person, key="k", fingerprint="f", response_body={})
    assert not IdempotencyRecord.objects.exists()


def test_an_unknown_field_is_refused_before_anything_is_written():
    with pytest.raises(TypeError, match="no field"):
        insert_row(AccessLogEntry, method="GET", route="x", status_code=200, colour="blue")
    assert not AccessLogEntry.objects.exists()


def _contact(person, case) -> Contact:
    return Contact(
        agency_id=person.agency_id,
        created_by=person,
        channel=Contact.Channel.CHAT,
        contact_type=Contact.ContactType.TIP,
        caller_region="Eastmarch",
        immediate_danger=True,
        summary="A fictional tip about a fictional workshop.",
        case=case,
        triage_answers={"needs_response_24h": True, "notes": ["one", None]},
    )


def test_an_instance_is_stored_as_save_would_store_it_and_gets_its_key():
    person = UserFactory()
    case = CaseFactory(agency=person.agency, created_by=person)
    by_orm = _contact(person, case)
    by_orm.save()
    before = timezone.now()
    ours = _contact(person, case)
    insert_instance(ours)

    assert ours.pk is not None and ours.pk != by_orm.pk
    assert not ours._state.adding and ours._state.db == "default"
    # auto_now / auto_now_add values are set on the instance, as save() sets them.
    assert before <= ours.created_at <= ours.updated_at <= timezone.now()

    def stored(pk: int) -> dict:
        # Sealed values differ row by row (each row its own row_uid and nonce): compare what
        # they open to.
        contact = Contact.objects.get(pk=pk)
        row = Contact.objects.filter(pk=pk).values().get()
        row.update({field.attname: getattr(contact, field.attname) for field in sealed})
        return {
            k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at", "row_uid")
        }

    sealed = encrypted_fields(Contact)
    assert stored(ours.pk) == stored(by_orm.pk)
    assert stored(ours.pk)["summary"] == "A fictional tip about a fictional workshop."
    assert stored(ours.pk)["triage_answers"] == {"needs_response_24h": True, "notes": ["one", None]}
    assert stored(ours.pk)["version"] == 1 and stored(ours.pk)["status"] == "draft"
    assert Contact.objects.get(pk=ours.pk).created_at == ours.created_at


def test_a_saved_instance_is_refused():
    person = UserFactory()
    contact = _contact(person, None)
    insert_instance(contact)
    with pytest.raises(ValueError, match="saved already"):
        insert_instance(contact)
    assert Contact.objects.count() == 1
