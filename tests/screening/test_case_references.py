"""Case references are 40 random bits: at a million cases two can meet. Creating a case
retries with a fresh reference instead of failing, whichever way the case is created."""

from collections.abc import Iterator

import pytest

from screening import services
from screening.models import Case, CaseUserObjectPermission, Contact, IdentifierDigest
from screening.roles import Role
from screening.services import cases as case_services
from tests.api.helpers import assert_problem, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def references(*drawn: str) -> Iterator[str]:
    """The references the generator hands out, in this order, then fresh random ones."""
    yield from drawn
    while True:
        yield Case._meta.get_field("reference").default()


@pytest.fixture
def taken(officer) -> Case:
    return services.case_create(created_by=officer)


def test_a_taken_reference_is_drawn_again_and_the_case_is_created(officer, taken, monkeypatch):
    drawn = references(taken.reference, taken.reference, "C-FRSH-REF2")
    monkeypatch.setattr(case_services, "new_case_reference", lambda: next(drawn))

    case = services.case_create(created_by=officer, identifying_phone="+44 20 7946 0999")

    assert case.reference == "C-FRSH-REF2"
    assert Case.objects.count() == 2
    # Everything after the insert happened once, on the new case.
    assert officer.has_perm("screening.view_case", case)
    assert officer.has_perm("screening.change_case", case)
    assert CaseUserObjectPermission.objects.filter(content_object=case).count() == 2
    assert IdentifierDigest.objects.filter(case=case).count() == 1
    assert case.history.count() == 1
    # The case that held the reference first is untouched.
    taken.refresh_from_db()
    assert taken.created_by == officer
    assert CaseUserObjectPermission.objects.filter(content_object=taken).count() == 2


def test_when_every_drawn_reference_is_taken_the_error_is_clear_and_nothing_is_saved(
    officer, taken, monkeypatch
):
    monkeypatch.setattr(case_services, "new_case_reference", lambda: taken.reference)

    with pytest.raises(case_services.CaseReferenceExhausted) as caught:
        services.case_create(created_by=officer, identifying_name="Fictional Person")

    assert "nothing was saved" in caught.value.message
    assert list(Case.objects.all()) == [taken]
    assert not IdentifierDigest.objects.exists()


def test_a_contact_that_opens_a_case_retries_a_taken_reference(taken, monkeypatch):
    hotline_staff = UserFactory(agency=taken.agency, role=Role.HOTLINE_STAFF)
    drawn = references(taken.reference)
    monkeypatch.setattr(case_services, "new_case_reference", lambda: next(drawn))

    contact = services.contact_create(
        created_by=hotline_staff, channel="phone", contact_type="crisis", create_case=True
    )

    assert contact.case is not None
    assert contact.case.reference != taken.reference
    assert Contact.objects.get().case == contact.case
    assert hotline_staff.has_perm("screening.change_case", contact.case)


def test_the_cases_api_retries_a_taken_reference(officer, taken, monkeypatch):
    drawn = references(taken.reference)
    monkeypatch.setattr(case_services, "new_case_reference", lambda: next(drawn))

    response = client_for(officer).post("/api/v1/cases/", {"age": 30}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["reference"] != taken.reference
    assert Case.objects.count() == 2


def test_the_cases_api_answers_a_problem_when_no_reference_is_free(officer, taken, monkeypatch):
    monkeypatch.setattr(case_services, "new_case_reference", lambda: taken.reference)

    response = client_for(officer).post("/api/v1/cases/", {"age": 30}, format="json")

    body = assert_problem(response, 400)
    assert "Try again" in body["detail"]
    assert Case.objects.count() == 1
