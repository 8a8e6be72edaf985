"""Duplicate detection by keyed digests (screening/duplicates.py, services/identifiers.py):
matches among the records the user may see, and nothing at all about the others."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import crypto
from screening import services
from screening.duplicates import (
    EarlierRecord,
    possible_earlier_records,
    possible_earlier_records_of,
)
from screening.identifiers import Identifier
from screening.models import Contact, IdentifierDigest, User
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Fictional: Ofcom's drama range, a made-up passport number, a made-up name.
PHONE = "+44 7700 900123"
PHONE_OTHER_WAY = "07700 900123"
NAME = "María José GARCÍA"
NAME_OTHER_WAY = "garcia maria jose"
PASSPORT = "Passport X1234567; ID card 99-887"
OTHER_KEY = "b3RoZXItYmxpbmQtaW5kZXgta2V5LWZvci10ZXN0czE"


# The people: `agency`, `other_agency`, `officer`, `colleague` (no grant on the officer's
# cases), `supervisor` and `outsider` (a supervisor of the other agency) from conftest.py.


@pytest.fixture
def advocate(agency) -> User:
    return UserFactory(agency=agency, role=Role.HOTLINE_STAFF)


def _matches(user, **values) -> list[dict]:
    return [record.as_dict() for record in possible_earlier_records(user=user, **values)]


def test_a_case_with_the_same_phone_written_another_way_is_found(officer):
    earlier = services.case_create(created_by=officer, identifying_phone=PHONE)
    assert _matches(officer, phone=PHONE_OTHER_WAY) == [
        {"reference": earlier.reference, "contact": None, "matched_on": ["phone"]}
    ]


def test_every_identifier_that_matched_is_named_once(officer):
    earlier = services.case_create(
        created_by=officer,
        identifying_phone=PHONE,
        identifying_name=NAME,
        identifying_documents=PASSPORT,
    )
    found = _matches(
        officer, phone="0044 7700 900 123", name=NAME_OTHER_WAY, documents="id card: 99887"
    )
    assert found == [
        {
            "reference": earlier.reference,
            "contact": None,
            "matched_on": ["phone", "document", "name"],
        }
    ]


def test_a_supervisor_finds_the_agencys_cases(officer, supervisor):
    earlier = services.case_create(created_by=officer, identifying_name=NAME)
    assert [r["reference"] for r in _matches(supervisor, name=NAME_OTHER_WAY)] == [
        earlier.reference
    ]


def test_a_case_the_user_may_not_see_is_never_found(officer, colleague, outsider):
    services.case_create(created_by=outsider, identifying_phone=PHONE, identifying_name=NAME)
    services.case_create(created_by=colleague, identifying_phone=PHONE)
    # Exactly what a phone and name nobody recorded give: nothing to count or compare.
    assert _matches(officer, phone=PHONE, name=NAME) == []
    assert _matches(officer, phone=PHONE, name=NAME) == _matches(officer, phone="+44 7700 900999")


def test_a_case_shared_with_the_users_agency_is_found(officer, outsider, agency):
    theirs = services.case_create(created_by=outsider, identifying_documents=PASSPORT)
    assert _matches(officer, documents="X-1234567") == []
    services.case_share(case=theirs, agency=agency, reason="Joint support plan", by=outsider)
    assert _matches(officer, documents="X-1234567") == [
        {"reference": theirs.reference, "contact": None, "matched_on": ["document"]}
    ]


def test_the_record_itself_is_not_an_earlier_record(officer):
    case = services.case_create(created_by=officer, identifying_phone=PHONE)
    assert _matches(officer, phone=PHONE, exclude_case=case) == []
    assert possible_earlier_records_of(user=officer, case_reference=case.reference) == []


def test_newest_first(officer):
    first = services.case_create(created_by=officer, identifying_phone=PHONE)
    second = services.case_create(created_by=officer, identifying_name=NAME)
    found = _matches(officer, phone=PHONE, name=NAME)
    assert [record["reference"] for record in found] == [second.reference, first.reference]


def test_staff_without_a_case_work_role_find_nothing(officer, agency):
    services.case_create(created_by=officer, identifying_phone=PHONE)
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    admin.role_names  # noqa: B018 - loaded once per request, as the API and pages do
    with CaptureQueriesContext(connection) as queries:
        assert _matches(admin, phone=PHONE) == []
    assert len(queries) == 0


# --- contacts ---------------------------------------------------------------------------


def _contact(by: User, **fields) -> Contact:
    return services.contact_create(
        created_by=by, channel=Contact.Channel.PHONE, contact_type=Contact.ContactType.TIP, **fields
    )


def test_an_earlier_contact_of_the_agency_is_found_by_its_id(advocate, supervisor):
    earlier = _contact(advocate, caller_phone=PHONE, caller_name=NAME)
    assert _matches(supervisor, phone=PHONE_OTHER_WAY) == [
        {"reference": None, "contact": earlier.pk, "matched_on": ["phone"]}
    ]


def test_contacts_are_not_shown_to_roles_that_may_not_see_contacts(advocate, officer):
    _contact(advocate, caller_phone=PHONE)
    assert _matches(officer, phone=PHONE) == []


def test_another_agencys_contacts_are_never_found(advocate, other_agency):
    _contact(UserFactory(agency=other_agency, role=Role.HOTLINE_STAFF), caller_phone=PHONE)
    assert _matches(advocate, phone=PHONE) == []


def test_a_contact_linked_to_a_visible_case_is_reported_as_that_case(advocate, supervisor, officer):
    case = services.case_create(created_by=officer)
    _contact(supervisor, caller_phone=PHONE, case_reference=case.reference)
    assert _matches(supervisor, phone=PHONE) == [
        {"reference": case.reference, "contact": None, "matched_on": ["phone"]}
    ]


def test_a_contact_linked_to_a_case_the_user_may_not_see_shows_no_reference(
    advocate, supervisor, officer
):
    case = services.case_create(created_by=officer)
    contact = _contact(supervisor, caller_phone=PHONE, case_reference=case.reference)
    # The advocate may see the agency's contacts, not the officer's case.
    assert _matches(advocate, phone=PHONE) == [
        {"reference": None, "contact": contact.pk, "matched_on": ["phone"]}
    ]


def test_a_contacts_own_linked_case_is_not_earlier(supervisor, officer):
    case = services.case_create(created_by=officer, identifying_phone=PHONE)
    contact = _contact(supervisor, caller_phone=PHONE, case_reference=case.reference)
    assert _matches(supervisor, phone=PHONE, exclude_contact=contact, exclude_case=case) == []
    assert possible_earlier_records_of(user=supervisor, contact_id=contact.pk) == []
    unlinked = _contact(supervisor, caller_phone=PHONE)
    assert possible_earlier_records_of(user=supervisor, contact_id=unlinked.pk) == [
        EarlierRecord(reference=case.reference, matched_on=["phone"])
    ]


def test_after_a_name_change_the_old_name_no_longer_matches(advocate, supervisor):
    contact = _contact(advocate, caller_name=NAME)
    assert len(_matches(supervisor, name=NAME_OTHER_WAY)) == 1
    services.contact_update(
        contact=contact, by=advocate, expected_version=None, changes={"caller_name": "Ana Lopez"}
    )
    assert _matches(supervisor, name=NAME_OTHER_WAY) == []
    assert _matches(supervisor, name="LOPEZ Ana") == [
        {"reference": None, "contact": contact.pk, "matched_on": ["name"]}
    ]


def test_a_case_whose_name_changes_is_found_by_the_new_name_only(officer):
    from screening.services.identifiers import identifier_digests_store

    case = services.case_create(created_by=officer, identifying_name=NAME)
    case.identifying_name = "Ana Lopez"
    case.save()
    identifier_digests_store(case=case)
    assert _matches(officer, name=NAME) == []
    assert [r["reference"] for r in _matches(officer, name="ana lopez")] == [case.reference]


def test_clearing_a_callers_phone_removes_its_digest(advocate):
    contact = _contact(advocate, caller_phone=PHONE)
    services.contact_update(
        contact=contact, by=advocate, expected_version=None, changes={"caller_phone": ""}
    )
    assert not IdentifierDigest.objects.filter(contact=contact).exists()


def test_a_change_to_other_fields_leaves_the_digests_alone(advocate):
    contact = _contact(advocate, caller_phone=PHONE)
    before = list(IdentifierDigest.objects.filter(contact=contact).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        services.contact_update(
            contact=contact, by=advocate, expected_version=None, changes={"summary": "More."}
        )
    assert not [q for q in queries if "screening_identifierdigest" in q["sql"]]
    assert list(IdentifierDigest.objects.filter(contact=contact).values_list("pk", flat=True)) == (
        before
    )


# --- keyed, and no plaintext ------------------------------------------------------------------


def test_digests_are_keyed_by_the_blind_index_key(officer, settings):
    services.case_create(created_by=officer, identifying_phone=PHONE)
    digest = Identifier("phone", "+447700900123").digest()
    assert IdentifierDigest.objects.get().digest == digest
    settings.BLIND_INDEX_KEY = OTHER_KEY
    assert Identifier("phone", "+447700900123").digest() != digest
    # Digests made with the old key match nothing until they are rebuilt.
    assert _matches(officer, phone=PHONE) == []
    stdout = io.StringIO()
    call_command("identifier_digests_rebuild", stdout=stdout, stderr=io.StringIO())
    assert "screening_case: 1 record(s), digests phone: 1, 0 failed" in stdout.getvalue()
    assert len(_matches(officer, phone=PHONE)) == 1


def test_rebuild_reports_a_row_that_does_not_decrypt_and_keeps_its_digests(officer, settings):
    case = services.case_create(created_by=officer, identifying_phone=PHONE)
    with connection.cursor() as cursor:  # a value sealed for another row
        cursor.execute(
            "UPDATE screening_case SET identifying_phone = %s WHERE id = %s",
            [crypto.seal(b"+447700900123", aad=b"screening_case|identifying_phone|x"), case.pk],
        )
    stderr = io.StringIO()
    with pytest.raises(CommandError, match="did not decrypt"):
        call_command("identifier_digests_rebuild", stdout=io.StringIO(), stderr=stderr)
    assert f"screening_case.identifying_phone row {case.pk}" in stderr.getvalue()
    assert "+447700900123" not in stderr.getvalue()
    assert IdentifierDigest.objects.filter(case=case).count() == 1


def _every_stored_text() -> str:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from introspection)
            found.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(found)


def test_the_database_holds_no_normalised_identifier(officer, advocate):
    services.case_create(
        created_by=officer,
        identifying_phone=PHONE,
        identifying_name=NAME,
        identifying_documents=PASSPORT,
    )
    _contact(advocate, caller_phone=PHONE_OTHER_WAY, caller_name=NAME_OTHER_WAY)
    assert IdentifierDigest.objects.count() == 6
    stored = _every_stored_text().casefold()
    for plaintext in ("+447700900123", "447700900123", "garcia jose maria", "x1234567", "99887"):
        assert plaintext not in stored
    for digest in IdentifierDigest.objects.values_list("digest", flat=True):
        assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")


# --- query counts ---------------------------------------------------------------------------


def test_matching_is_one_query_and_nothing_without_identifiers(
    officer, supervisor, advocate, django_assert_num_queries
):
    services.case_create(created_by=officer, identifying_phone=PHONE, identifying_name=NAME)
    contact = _contact(advocate, caller_phone=PHONE)
    supervisor.role_names  # noqa: B018 - loaded once per request, as the API and pages do
    with django_assert_num_queries(1):
        found = possible_earlier_records(
            user=supervisor, phone=PHONE, name=NAME, documents=PASSPORT
        )
    assert len(found) == 2
    with django_assert_num_queries(0):
        assert possible_earlier_records(user=supervisor, phone="unknown", name="Maria") == []
    with django_assert_num_queries(1):
        possible_earlier_records_of(user=supervisor, contact_id=contact.pk)


def _digest_statements(queries) -> list[str]:
    return [
        q["sql"].split(None, 1)[0].upper()
        for q in queries
        if "screening_identifierdigest" in q["sql"]
    ]


def test_a_case_with_identifiers_adds_one_insert_and_without_none(officer):
    with CaptureQueriesContext(connection) as queries:
        services.case_create(created_by=officer, identifying_phone=PHONE, identifying_name=NAME)
    assert _digest_statements(queries) == ["INSERT"]
    with CaptureQueriesContext(connection) as queries:
        services.case_create(created_by=officer, region="Northshire")
    assert _digest_statements(queries) == []


def test_a_contact_without_caller_details_touches_no_digest(advocate):
    with CaptureQueriesContext(connection) as queries:
        _contact(advocate, summary="A fictional tip.")
    assert _digest_statements(queries) == []
    with CaptureQueriesContext(connection) as queries:
        _contact(advocate, caller_phone=PHONE, caller_name=NAME)
    assert _digest_statements(queries) == ["INSERT"]


def test_a_changed_caller_replaces_the_digests_in_two_statements(advocate):
    contact = _contact(advocate, caller_phone=PHONE)
    with CaptureQueriesContext(connection) as queries:
        services.contact_update(
            contact=contact, by=advocate, expected_version=None, changes={"caller_name": NAME}
        )
    assert _digest_statements(queries) == ["DELETE", "INSERT"]
    assert sorted(
        IdentifierDigest.objects.filter(contact=contact).values_list("kind", flat=True)
    ) == [
        "name",
        "phone",
    ]
