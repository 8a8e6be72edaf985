"""GET/POST /api/v1/cases/ and GET /api/v1/cases/{reference}/: one permission model with the
web pages (case_access / visible_to), and field-level visibility of identifying data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import remove_perm

from screening import services
from screening.api.serializers import RESTRICTED_CASE_FIELDS
from screening.models import Case
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"
NEW_CASE = {
    "age": 34,
    "languages": ["es"],
    "region": "Northshire",
    "exploitation_type": "labour",
    "identifying_name": "Fictional Name",
    "narrative": "A fictional account.",
}


def detail_url(case: Case) -> str:
    return f"{URL}{case.reference}/"


@pytest.fixture
def shared_with(hotline_supervisor, case_of_hotline):
    """An NGO the hotline's supervisor shared the case with, and one of its workers."""
    ngo = AgencyFactory(name="Shelter NGO")
    services.case_share(
        case=case_of_hotline, agency=ngo, reason="Shelter placement", by=hotline_supervisor
    )
    return UserFactory(agency=ngo, role=Role.SOCIAL_WORKER)


def test_the_creator_sees_the_case_with_its_identifying_fields(api, case_of_hotline):
    body = api.get(detail_url(case_of_hotline)).json()
    assert body["reference"] == case_of_hotline.reference
    assert body["identifying_name"] == "Fictional Person"
    assert body["narrative"] == "A fictional account."


def test_a_supervisor_of_the_owning_agency_sees_identifying_fields(
    hotline_supervisor, case_of_hotline
):
    body = client_for(hotline_supervisor).get(detail_url(case_of_hotline)).json()
    assert body["identifying_name"] == "Fictional Person"


def test_a_shared_to_agency_sees_the_case_without_identifying_or_narrative_fields(
    shared_with, case_of_hotline
):
    client = client_for(shared_with)
    body = client.get(detail_url(case_of_hotline)).json()
    assert body["reference"] == case_of_hotline.reference
    assert not set(RESTRICTED_CASE_FIELDS) & body.keys()
    [row] = client.get(URL).json()["results"]
    assert not set(RESTRICTED_CASE_FIELDS) & row.keys()
    assert "Fictional Person" not in str(row)


def test_another_agencys_case_is_404_like_a_missing_one(case_of_hotline, outsider):
    client = client_for(outsider)
    assert_problem(client.get(detail_url(case_of_hotline)), 404)
    assert_problem(client.get(f"{URL}C-NONE-XXXX/"), 404)
    assert client.get(URL).json()["results"] == []


def test_anonymous_requests_are_401(anonymous, case_of_hotline):
    assert_problem(anonymous.get(URL), 401)
    assert_problem(anonymous.get(detail_url(case_of_hotline)), 401)
    assert_problem(anonymous.post(URL, NEW_CASE, format="json"), 401)


def test_an_agency_administrator_may_not_open_cases(hotline):
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert_problem(admin.post(URL, NEW_CASE, format="json"), 403)
    assert not Case.objects.exists()


def test_a_user_without_agency_is_403(case_of_hotline):
    assert_problem(client_for(UserFactory(agency=None)).get(URL), 403)


def test_creating_a_case_returns_it_with_its_location(api, advocate):
    response = api.post(URL, NEW_CASE, format="json")
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert response["Location"] == detail_url(case)
    body = response.json()
    assert body["age_band"] == "adult" and body["identifying_name"] == "Fictional Name"
    assert case.agency == advocate.agency


def test_creating_a_case_is_idempotent(api):
    first = api.post(URL, NEW_CASE, format="json", headers={"Idempotency-Key": "case-1"})
    again = api.post(URL, NEW_CASE, format="json", headers={"Idempotency-Key": "case-1"})
    assert again.status_code == 201 and again.json() == first.json()
    other = api.post(
        URL, {**NEW_CASE, "age": 35}, format="json", headers={"Idempotency-Key": "case-1"}
    )
    assert_problem(other, 409)
    assert Case.objects.count() == 1


def test_a_replay_once_the_case_is_out_of_sight_is_the_404_of_a_missing_case(api, advocate):
    key = {"Idempotency-Key": "case-2"}
    first = api.post(URL, NEW_CASE, format="json", headers=key)
    case = Case.objects.get()
    for codename in ("screening.view_case", "screening.change_case"):
        remove_perm(codename, advocate, case)
    again = api.post(URL, NEW_CASE, format="json", headers=key)
    replayed = assert_problem(again, 404)
    missing = assert_problem(api.get(f"{URL}C-0000-0000/"), 404)
    assert replayed["detail"] == missing["detail"] and replayed["type"] == missing["type"]
    assert first.json()["reference"] not in again.content.decode()
    assert NEW_CASE["identifying_name"] not in again.content.decode()


def test_a_replay_to_someone_who_may_no_longer_change_the_case_shows_no_identifying_field(
    api, advocate
):
    key = {"Idempotency-Key": "case-3"}
    api.post(URL, NEW_CASE, format="json", headers=key)
    remove_perm("screening.change_case", advocate, Case.objects.get())
    again = api.post(URL, NEW_CASE, format="json", headers=key)
    assert_problem(again, 403)
    assert NEW_CASE["identifying_name"] not in again.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 200}, "age"),
        ({"age": 15, "age_band": "adult"}, "age_band"),
        ({"languages": "es"}, "languages"),
        ({"gender": "robot"}, "gender"),
    ],
)
def test_invalid_cases_are_400_naming_the_field(api, change, field):
    response = api.post(URL, {**NEW_CASE, **change}, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == [field]
    assert not Case.objects.exists()


def test_the_list_filters_by_status_region_and_type(api, advocate):
    north = services.case_create(created_by=advocate, region="Northshire")
    sexual = services.case_create(created_by=advocate, exploitation_type="sexual")
    services.case_close(case=sexual, by=advocate)

    def references(query: dict) -> list[str]:
        response = api.get(URL, query)
        assert response.status_code == 200, response.content
        return [row["reference"] for row in response.json()["results"]]

    assert references({"status": "closed"}) == [sexual.reference]
    assert references({"region": "NORTHSHIRE"}) == [north.reference]
    assert references({"exploitation_type": "sexual"}) == [sexual.reference]
    assert_problem(api.get(URL, {"age_band": "ancient"}), 400)


def test_the_list_takes_the_same_number_of_queries_for_n_and_2n_cases(api, advocate):
    def add(count: int) -> None:
        for _ in range(count):
            services.case_create(created_by=advocate, identifying_name="Fictional")

    add(3)
    api.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(URL).json()["results"]) == 3
    add(3)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL).json()["results"]) == 6
    assert len(many) == len(few)
