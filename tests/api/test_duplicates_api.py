"""`possible_earlier_records` in the responses of POST /cases/, POST /contacts/ and PATCH
/contacts/{id}/: matches among what the caller may see, and for everything else the very
answer of no match."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening import services
from screening.models import CaseShare, Contact, IdentifierDigest
from screening.roles import Role
from tests.api.helpers import client_for, error_fields
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

# Fictional: Ofcom's drama range and made-up names and documents.
PHONE = "+44 7700 900123"
NOBODYS_PHONE = "+44 7700 900999"
NAME = "María José GARCÍA"
CONTACT = {"channel": "phone", "contact_type": "tip"}


def _post_contact(api, **fields):
    return api.post("/api/v1/contacts/", {**CONTACT, **fields}, format="json")


def _shape(response) -> tuple[int, str, list[str]]:
    """The body with each value that differs between any two contacts replaced by its type,
    and the header names: what a caller could compare."""
    body = response.json()
    for volatile in ("id", "created_at", "updated_at", "caller_phone", "caller_name"):
        body[volatile] = type(body[volatile]).__name__
    return response.status_code, json.dumps(body, sort_keys=True), sorted(response.headers)


# --- contacts ---------------------------------------------------------------------------


def test_a_contact_shows_the_earlier_contact_of_the_same_caller(api, advocate):
    earlier = services.contact_create(created_by=advocate, caller_phone=PHONE, **CONTACT)
    response = _post_contact(api, caller_phone="07700 900123", caller_name=NAME)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["caller_phone"], body["caller_name"]) == ("07700 900123", NAME)
    assert body["possible_earlier_records"] == [
        {"reference": None, "contact": earlier.pk, "matched_on": ["phone"]}
    ]


def test_a_contact_without_caller_details_has_no_earlier_records(api):
    response = _post_contact(api, summary="A fictional tip.")
    assert response.status_code == 201, response.content
    assert response.json()["possible_earlier_records"] == []
    assert response.json()["caller_phone"] == ""


def test_another_agencys_contact_is_not_shown_and_the_answer_is_that_of_no_match(
    api, advocate, outsider
):
    services.contact_create(created_by=outsider, caller_phone=PHONE, caller_name=NAME, **CONTACT)
    hidden_match = _post_contact(api, caller_phone=PHONE, caller_name=NAME)
    no_match = _post_contact(api, caller_phone=NOBODYS_PHONE, caller_name="Ana Lopez")
    assert hidden_match.json()["possible_earlier_records"] == []
    assert _shape(hidden_match) == _shape(no_match)


def test_a_case_of_the_agency_the_supervisor_sees_is_shown_by_its_reference(
    hotline_supervisor, worker
):
    case = services.case_create(created_by=worker, identifying_phone=PHONE)
    response = _post_contact(client_for(hotline_supervisor), caller_phone=PHONE)
    assert response.json()["possible_earlier_records"] == [
        {"reference": case.reference, "contact": None, "matched_on": ["phone"]}
    ]


def test_the_case_a_contact_is_linked_to_is_not_an_earlier_record(hotline_supervisor, worker):
    case = services.case_create(created_by=worker, identifying_phone=PHONE)
    response = _post_contact(
        client_for(hotline_supervisor), caller_phone=PHONE, case=case.reference
    )
    assert response.json()["possible_earlier_records"] == []


def test_changing_the_callers_name_matches_the_new_name_and_not_the_old(api, advocate):
    earlier = services.contact_create(created_by=advocate, caller_name="Ana Lopez", **CONTACT)
    contact = _post_contact(api, caller_name=NAME).json()
    assert contact["possible_earlier_records"] == []
    response = api.patch(
        f"/api/v1/contacts/{contact['id']}/",
        {"caller_name": "LOPEZ, Ana"},
        format="json",
        headers={"If-Match": '"v1"'},
    )
    assert response.status_code == 200, response.content
    assert response.json()["possible_earlier_records"] == [
        {"reference": None, "contact": earlier.pk, "matched_on": ["name"]}
    ]
    again = _post_contact(api, caller_name="Maria Jose Garcia")
    assert again.json()["possible_earlier_records"] == []  # the old name's digest is gone


def test_a_caller_phone_too_long_is_a_400_naming_it_and_saves_nothing(api):
    response = _post_contact(api, caller_phone="0" * 101)
    assert response.status_code == 400
    assert error_fields(response) == ["caller_phone"]
    assert not Contact.objects.exists() and not IdentifierDigest.objects.exists()


def test_the_contacts_detail_and_list_show_caller_details_without_matching(api, advocate):
    contact = services.contact_create(created_by=advocate, caller_phone=PHONE, **CONTACT)
    detail = api.get(f"/api/v1/contacts/{contact.pk}/").json()
    assert detail["caller_phone"] == PHONE
    assert "possible_earlier_records" not in detail
    assert "possible_earlier_records" not in api.get("/api/v1/contacts/").json()["results"][0]


def _statements(queries) -> list[tuple[str, str]]:
    found = []
    for query in queries:
        verb = query["sql"].split(None, 1)[0].upper()
        if verb in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"):
            continue
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', query["sql"])
        found.append((verb, table.group(1) if table else ""))
    return found


def test_caller_details_add_one_digest_insert_and_one_match_query(api, advocate):
    assert _post_contact(api).status_code == 201  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as without:
        assert _post_contact(api, summary="A fictional tip.").status_code == 201
    with CaptureQueriesContext(connection) as with_caller:
        assert _post_contact(api, caller_phone=PHONE, caller_name=NAME).status_code == 201
    extra = list(_statements(with_caller))
    for statement in _statements(without):
        extra.remove(statement)
    assert len(extra) == 2
    digest_statements = [
        query["sql"] for query in with_caller if '"screening_identifierdigest"' in query["sql"]
    ]
    assert len(digest_statements) == 2
    assert digest_statements[0].startswith('INSERT INTO "screening_identifierdigest"')
    assert digest_statements[1].startswith("SELECT")
    assert 'FROM "screening_identifierdigest"' in digest_statements[1]
    assert not [query for query in without if "screening_identifierdigest" in query["sql"]]


# --- cases ----------------------------------------------------------------------------------


def test_creating_a_case_shows_an_earlier_case_of_the_creator(api, advocate):
    earlier = services.case_create(created_by=advocate, identifying_documents="Passport X1234567")
    response = api.post(
        "/api/v1/cases/",
        {"identifying_documents": "passport no. X-123-4567", "identifying_name": NAME},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["possible_earlier_records"] == [
        {"reference": earlier.reference, "contact": None, "matched_on": ["document"]}
    ]


def test_a_case_of_another_agency_is_not_shown_unless_shared(api, advocate, hotline):
    other = AgencyFactory(name="Other Outreach")
    outsider = UserFactory(agency=other, role=Role.FRONTLINE_OFFICER)
    theirs = services.case_create(created_by=outsider, identifying_phone=PHONE)
    hidden = api.post("/api/v1/cases/", {"identifying_phone": PHONE}, format="json")
    nothing = api.post("/api/v1/cases/", {"identifying_phone": NOBODYS_PHONE}, format="json")
    assert hidden.json()["possible_earlier_records"] == []
    assert sorted(hidden.json()) == sorted(nothing.json())
    assert sorted(hidden.headers) == sorted(nothing.headers)

    services.case_share(
        case=theirs,
        agency=hotline,
        reason="Joint support plan",
        by=UserFactory(agency=other, role=Role.SUPERVISOR),
    )
    shown = api.post("/api/v1/cases/", {"identifying_phone": "07700 900123"}, format="json")
    # Now the shared case, and the caller's own case opened above.
    assert shown.json()["possible_earlier_records"] == [
        {"reference": hidden.json()["reference"], "contact": None, "matched_on": ["phone"]},
        {"reference": theirs.reference, "contact": None, "matched_on": ["phone"]},
    ]


def test_a_replay_shows_the_earlier_records_the_caller_may_see_now(api, hotline):
    other = AgencyFactory(name="Other Outreach")
    theirs = services.case_create(
        created_by=UserFactory(agency=other, role=Role.FRONTLINE_OFFICER), identifying_phone=PHONE
    )
    services.case_share(
        case=theirs,
        agency=hotline,
        reason="Joint support plan",
        by=UserFactory(agency=other, role=Role.SUPERVISOR),
    )
    key = {"Idempotency-Key": "case-with-a-match"}
    first = api.post("/api/v1/cases/", {"identifying_phone": PHONE}, format="json", headers=key)
    assert [r["reference"] for r in first.json()["possible_earlier_records"]] == [theirs.reference]
    CaseShare.objects.filter(case=theirs).delete()
    replay = api.post("/api/v1/cases/", {"identifying_phone": PHONE}, format="json", headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["reference"] == first.json()["reference"]
    assert replay.json()["possible_earlier_records"] == []


def test_a_contact_replay_matches_again_with_the_access_of_now(api, advocate, hotline):
    earlier = services.contact_create(created_by=advocate, caller_phone=PHONE, **CONTACT)
    key = {"Idempotency-Key": "contact-with-a-match"}
    body = {**CONTACT, "caller_phone": PHONE}
    first = api.post("/api/v1/contacts/", body, format="json", headers=key)
    assert [r["contact"] for r in first.json()["possible_earlier_records"]] == [earlier.pk]
    Contact.objects.filter(pk=earlier.pk).update(agency=AgencyFactory(name="Elsewhere"))
    replay = api.post("/api/v1/contacts/", body, format="json", headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["possible_earlier_records"] == []


def test_matching_adds_one_query_to_creating_a_case(api, advocate):
    services.case_create(created_by=advocate, identifying_phone=PHONE)
    assert api.post("/api/v1/cases/", {}, format="json").status_code == 201
    with CaptureQueriesContext(connection) as without:
        api.post("/api/v1/cases/", {"region": "Northshire"}, format="json")
    with CaptureQueriesContext(connection) as with_phone:
        response = api.post("/api/v1/cases/", {"identifying_phone": PHONE}, format="json")
    assert len(response.json()["possible_earlier_records"]) == 1
    assert len(with_phone) == len(without) + 2  # the digest INSERT and the match
