"""`GET /api/v1/cases/{reference}/access/`: who can see a case and why, for the case's own
workers and supervisors of its agency. All people are fictional."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from screening import services
from screening.models import BreakGlassGrant
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def access_url(case) -> str:
    return f"/api/v1/cases/{case.reference}/access/"


def test_anonymous_requests_are_401(anonymous, case_of_hotline):
    assert_problem(anonymous.get(access_url(case_of_hotline)), 401)


def test_another_agencys_case_is_404_like_a_missing_one(outsider, case_of_hotline):
    client = client_for(outsider)
    refused = assert_problem(client.get(access_url(case_of_hotline)), 404)
    missing = assert_problem(client.get("/api/v1/cases/C-NONE-XIST/access/"), 404)
    assert refused == missing


def test_an_agency_administrator_is_403(hotline, case_of_hotline):
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert_problem(admin.get(access_url(case_of_hotline)), 403)


def test_a_shared_to_agency_sees_the_case_but_not_who_else_does(
    hotline_supervisor, case_of_hotline
):
    partner_agency = AgencyFactory()
    services.case_share(
        case=case_of_hotline, agency=partner_agency, reason="Joint work", by=hotline_supervisor
    )
    partner = client_for(UserFactory(agency=partner_agency, role=Role.SOCIAL_WORKER))
    assert partner.get(f"/api/v1/cases/{case_of_hotline.reference}/").status_code == 200
    assert_problem(partner.get(access_url(case_of_hotline)), 403)


def test_the_creator_gets_everyone_with_their_grants(
    api, advocate, hotline_supervisor, case_of_hotline
):
    helper = UserFactory(agency=AgencyFactory(), role=Role.FRONTLINE_OFFICER)
    ends = timezone.now() + timedelta(hours=2)
    BreakGlassGrant.objects.create(
        case=case_of_hotline,
        user=helper,
        reason="Fictional emergency",
        granted_at=ends - timedelta(hours=4),
        expires_at=ends,
    )

    response = api.get(access_url(case_of_hotline))

    assert response.status_code == 200, response.content
    body = response.json()
    by_user = {row["username"]: row for row in body["results"]}
    assert set(by_user) == {advocate.username, hotline_supervisor.username, helper.username}
    assert [grant["kind"] for grant in by_user[advocate.username]["grants"]] == ["creator"]
    assert by_user[advocate.username]["roles"] == [Role.HOTLINE_STAFF.value]
    assert [g["kind"] for g in by_user[hotline_supervisor.username]["grants"]] == ["supervisor"]
    (emergency,) = by_user[helper.username]["grants"]
    assert emergency["kind"] == "break_glass"
    assert emergency["until"] == ends.isoformat().replace("+00:00", "Z")
    assert body["next"] is None


def test_the_list_is_cursor_paginated(api, advocate, hotline, hotline_supervisor, case_of_hotline):
    for _ in range(4):
        worker = UserFactory(agency=hotline, role=Role.HOTLINE_STAFF)
        services.case_assign(case=case_of_hotline, worker=worker, by=hotline_supervisor)
    seen = []
    url = f"{access_url(case_of_hotline)}?page_size=4"
    while url:
        body = api.get(url).json()
        seen += [row["username"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 6


def test_the_list_takes_the_same_number_of_queries_for_n_and_2n_people(
    api, hotline, hotline_supervisor, case_of_hotline
):
    def add(count: int) -> None:
        for _ in range(count):
            worker = UserFactory(agency=hotline, role=Role.HOTLINE_STAFF)
            services.case_assign(case=case_of_hotline, worker=worker, by=hotline_supervisor)

    add(3)
    api.get(access_url(case_of_hotline))
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(access_url(case_of_hotline)).json()["results"]) == 5
    add(3)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(access_url(case_of_hotline)).json()["results"]) == 8
    assert len(many) == len(few)
