"""Referrals to the end through the API (issue 14): close with an outcome (provider staff or
the referring agency), escalate by hand, propose by hand, the queue's escalation filter, and
a provider's view of a referral that never carries the case."""

import pytest
from django.utils import timezone

from referrals.models import Referral
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import make_provider

pytestmark = pytest.mark.django_db


def url(referral, action: str = "") -> str:
    return f"/api/v1/referrals/{referral.pk}/{action}"


@pytest.fixture
def stranger_staff():
    return UserFactory(agency=AgencyFactory(name="Elsewhere Outreach"), role=Role.PROVIDER_STAFF)


def test_anonymous_callers_are_refused(anonymous, make_referral, screened_case):
    referral = make_referral(status="accepted")
    for path in (url(referral, "close"), url(referral, "escalate")):
        assert anonymous.post(path, {"outcome": "moved_away", "note": "x"}).status_code in (
            401,
            403,
        )
    response = anonymous.post(f"/api/v1/cases/{screened_case.reference}/referrals", {})
    assert response.status_code in (401, 403)


def test_the_provider_closes_and_sees_no_case(make_referral, provider_staff):
    referral = make_referral(status="services_started", sent_at=timezone.now())
    api = client_for(provider_staff)
    response = api.post(url(referral, "close"), {"outcome": "services_delivered"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "closed" and body["outcome"] == "services_delivered"
    assert "case" not in body
    detail = api.get(url(referral)).json()
    assert "case" not in detail and detail["outcome"] == "services_delivered"


def test_the_referring_worker_closes_with_other_and_a_note(make_referral, worker):
    referral = make_referral(status="accepted")
    api = client_for(worker)
    response = api.post(url(referral, "close"), {"outcome": "other"}, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == ["note"]
    response = api.post(
        url(referral, "close"), {"outcome": "other", "note": "Went home"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["closed_by"] == "referring_agency"


def test_closing_needs_the_agency_and_a_referral_taken_on(
    make_referral, outsider, stranger_staff, worker
):
    referral = make_referral(status="accepted")
    for who in (outsider, stranger_staff):
        response = client_for(who).post(
            url(referral, "close"), {"outcome": "moved_away"}, format="json"
        )
        assert_problem(response, 404)
    waiting = make_referral(status="sent", service_type="medical")
    response = client_for(worker).post(
        url(waiting, "close"), {"outcome": "moved_away"}, format="json"
    )
    assert_problem(response, 409)
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_escalating_by_hand_puts_it_in_the_queue_filtered_by_reason(
    make_referral, worker, hotline_supervisor, outsider, provider_staff
):
    referral = make_referral(status="accepted", sent_at=timezone.now())
    assert_problem(
        client_for(outsider).post(url(referral, "escalate"), {"note": "x"}, format="json"), 404
    )
    # Provider staff close and answer; escalating is the referring agency's.
    assert_problem(
        client_for(provider_staff).post(url(referral, "escalate"), {"note": "x"}, format="json"),
        404,
    )
    api = client_for(worker)
    assert_problem(api.post(url(referral, "escalate"), {}, format="json"), 400)
    response = api.post(url(referral, "escalate"), {"note": "No reply"}, format="json")
    assert response.status_code == 200
    assert response.json()["escalation_reason"] == "manual"
    queue = client_for(hotline_supervisor).get("/api/v1/referrals/queue/", {"escalation": "manual"})
    assert [row["id"] for row in queue.json()["results"]] == [referral.pk]
    assert_problem(api.post(url(referral, "escalate"), {"note": "again"}, format="json"), 409)


def test_proposing_by_hand(worker, screened_case, submitted_screening, outsider, provider_staff):
    make_provider(slug="legal-help", service_types=["legal_aid"])
    path = f"/api/v1/cases/{screened_case.reference}/referrals"
    body = {"service_type": "legal_aid", "provider": "legal-help"}
    assert_problem(client_for(outsider).post(path, body, format="json"), 404)
    assert_problem(client_for(provider_staff).post(path, body, format="json"), 404)
    wrong = client_for(worker).post(
        path, {"service_type": "medical", "provider": "legal-help"}, format="json"
    )
    assert_problem(wrong, 409)
    response = client_for(worker).post(path, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "blocked_needs_consent"
    assert Referral.objects.count() == 1
