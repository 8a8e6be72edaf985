"""Referrals through the API: the supervisor queue (cursor pages, filters, pinned query
count), a referral with its history, approve and decline by a supervisor of the case's
agency, and provider staff answering. The same access functions as the referral pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referrals.events import REFERRAL_DISPATCH
from referrals.models import ReferralStatus
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.factories import UserFactory
from tests.outbox import outbox_rows

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/referrals/queue/"


def url(referral, action: str = "") -> str:
    return f"/api/v1/referrals/{referral.pk}/{action}"


@pytest.fixture
def supervisor_api(hotline_supervisor):
    return client_for(hotline_supervisor)


@pytest.fixture
def other_supervisor(other_hotline):
    return UserFactory(agency=other_hotline, role=Role.SUPERVISOR)


# --- queue ----------------------------------------------------------------------------------


def test_the_queue_lists_failed_first_then_by_priority_and_due_time(supervisor_api, make_referral):
    later = make_referral(priority=2, due_at=timezone.now() + timedelta(hours=30))
    sooner = make_referral(priority=2, due_at=timezone.now() + timedelta(hours=3))
    urgent = make_referral(priority=1, service_type="medical")
    failed = make_referral(priority=4, status="failed", service_type="legal_aid")
    make_referral(status="accepted", service_type="mental_health")  # not waiting
    body = supervisor_api.get(QUEUE).json()
    assert [row["id"] for row in body["results"]] == [failed.pk, urgent.pk, sooner.pk, later.pk]
    assert body["results"][0]["provider"]["slug"] and body["previous"] is None


def test_the_queue_pages_exactly_through_ties_on_the_first_key(supervisor_api, make_referral):
    made = [
        make_referral(priority=3, service_type=kind) for kind in ("shelter", "medical", "legal_aid")
    ]
    made += [
        make_referral(priority=3, service_type=kind) for kind in ("mental_health", "labour_rights")
    ]
    seen, page = [], supervisor_api.get(QUEUE, {"page_size": 2}).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = supervisor_api.get(page["next"]).json()
    assert sorted(seen) == sorted(referral.pk for referral in made)
    assert len(seen) == len(set(seen))


def test_the_queue_filters_by_status_service_type_and_region(supervisor_api, make_referral):
    shelter = make_referral()
    failed = make_referral(status="failed", service_type="medical")

    def ids(query: dict) -> list[int]:
        response = supervisor_api.get(QUEUE, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids({"status": "failed"}) == [failed.pk]
    assert ids({"service_type": "shelter"}) == [shelter.pk]
    assert ids({"region": "NORTHSHIRE"}) == [failed.pk, shelter.pk]
    assert ids({"region": "Southshire"}) == []
    response = supervisor_api.get(QUEUE, {"status": "closed", "service_type": "spa"})
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["service_type", "status"]
    assert_problem(supervisor_api.get(QUEUE, {"cursor": "not-a-cursor"}), 400)


def test_the_queue_takes_the_same_number_of_queries_for_n_and_2n_referrals(
    supervisor_api, make_referral
):
    kinds = iter(
        ["shelter", "medical", "legal_aid", "mental_health", "labour_rights", "interpretation"]
    )
    for _ in range(3):
        make_referral(service_type=next(kinds))
    supervisor_api.get(QUEUE)
    with CaptureQueriesContext(connection) as few:
        assert len(supervisor_api.get(QUEUE).json()["results"]) == 3
    for _ in range(3):
        make_referral(service_type=next(kinds))
    with CaptureQueriesContext(connection) as many:
        assert len(supervisor_api.get(QUEUE).json()["results"]) == 6
    assert len(many) == len(few)


def test_only_supervisors_work_the_queue_and_only_their_agencys(
    anonymous, worker, other_supervisor, make_referral
):
    make_referral()
    assert_problem(anonymous.get(QUEUE), 401)
    assert_problem(client_for(worker).get(QUEUE), 403)
    assert client_for(other_supervisor).get(QUEUE).json()["results"] == []


# --- detail ---------------------------------------------------------------------------------


def test_a_referral_is_read_with_its_history(supervisor_api, make_referral, worker):
    referral = make_referral()
    supervisor_api.post(url(referral, "approve"), {"note": "Fine."}, format="json")
    for reader in (supervisor_api, client_for(worker)):  # whoever sees the case
        body = reader.get(url(referral)).json()
        assert body["status"] == "approved"
        assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
            ("pending_approval", "approved")
        ]


def test_another_agencys_referral_is_404(
    anonymous, make_referral, other_supervisor, provider_staff
):
    referral = make_referral()
    assert_problem(anonymous.get(url(referral)), 401)
    assert_problem(client_for(other_supervisor).get(url(referral)), 404)
    assert_problem(client_for(other_supervisor).get("/api/v1/referrals/999999/"), 404)
    # The provider answers it, but does not see the case's side of it.
    assert_problem(client_for(provider_staff).get(url(referral)), 404)


# --- approve and decline --------------------------------------------------------------------------


def test_approving_writes_the_delivery_to_the_outbox_and_is_safe_to_retry(
    supervisor_api, make_referral
):
    referral = make_referral()
    first = supervisor_api.post(url(referral, "approve"), {}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "approved" and first.json()["approved_at"]
    again = supervisor_api.post(url(referral, "approve"), {}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "approved"
    assert outbox_rows(REFERRAL_DISPATCH, referral).count() == 1


def test_approving_without_a_covering_consent_is_409(supervisor_api, make_referral):
    referral = make_referral()
    referral.consent_used.__class__.objects.filter(pk=referral.consent_used_id).update(
        valid_until=timezone.now() - timedelta(seconds=1),
        given_at=timezone.now() - timedelta(days=1),
    )
    body = assert_problem(supervisor_api.post(url(referral, "approve"), {}, format="json"), 409)
    assert body["type"].endswith("consent-required")


def test_declining_needs_a_supervisor_reason_code(supervisor_api, make_referral):
    referral = make_referral()
    missing = supervisor_api.post(url(referral, "decline"), {}, format="json")
    assert_problem(missing, 400)
    assert error_fields(missing) == ["reason_code"]
    providers_reason = supervisor_api.post(
        url(referral, "decline"), {"reason_code": "no_capacity"}, format="json"
    )
    assert error_fields(providers_reason) == ["reason_code"]
    other = supervisor_api.post(url(referral, "decline"), {"reason_code": "other"}, format="json")
    assert_problem(other, 400)
    assert error_fields(other) == ["note"]
    declined = supervisor_api.post(
        url(referral, "decline"), {"reason_code": "duplicate"}, format="json"
    )
    assert declined.status_code == 200
    assert (
        declined.json()["status"] == "declined" and declined.json()["decline_reason"] == "duplicate"
    )
    again = supervisor_api.post(
        url(referral, "decline"), {"reason_code": "duplicate"}, format="json"
    )
    assert assert_problem(again, 409)["type"].endswith("invalid-state")


def test_only_a_supervisor_of_the_cases_agency_decides(
    anonymous, make_referral, worker, other_supervisor, provider_staff
):
    referral = make_referral()
    for action, body in (("approve", {}), ("decline", {"reason_code": "duplicate"})):
        assert_problem(anonymous.post(url(referral, action), body, format="json"), 401)
        assert_problem(client_for(worker).post(url(referral, action), body, format="json"), 403)
        assert_problem(
            client_for(provider_staff).post(url(referral, action), body, format="json"), 403
        )
        outsider = client_for(other_supervisor)
        assert_problem(outsider.post(url(referral, action), body, format="json"), 404)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL


# --- provider answers ---------------------------------------------------------------------------


def test_provider_staff_answer_in_order_and_a_repeat_changes_nothing(provider_staff, make_referral):
    referral = make_referral(status="sent")
    api = client_for(provider_staff)
    acknowledged = api.post(url(referral, "answers"), {"answer": "acknowledge"}, format="json")
    assert acknowledged.status_code == 200, acknowledged.content
    body = acknowledged.json()
    assert body["status"] == "acknowledged"
    assert "case" not in body and "events" not in body  # no case data for the provider
    repeat = api.post(url(referral, "answers"), {"answer": "acknowledge"}, format="json")
    assert repeat.status_code == 200
    assert referral.events.count() == 1
    accepted = api.post(url(referral, "answers"), {"answer": "accept"}, format="json")
    assert accepted.json()["status"] == "accepted"


def test_a_provider_decline_needs_a_reason_and_answers_come_in_order(provider_staff, make_referral):
    referral = make_referral(status="sent")
    api = client_for(provider_staff)
    response = api.post(url(referral, "answers"), {"answer": "decline"}, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == ["reason_code"]
    assert_problem(api.post(url(referral, "answers"), {"answer": "maybe"}, format="json"), 400)
    out_of_order = api.post(url(referral, "answers"), {"answer": "services_started"}, format="json")
    assert_problem(out_of_order, 409)
    declined = api.post(
        url(referral, "answers"), {"answer": "decline", "reason_code": "no_capacity"}, format="json"
    )
    assert declined.json()["status"] == "declined"


def test_only_staff_of_the_receiving_provider_answer(
    anonymous, make_referral, hotline_supervisor, provider_factory_other
):
    referral = make_referral(status="sent")
    body = {"answer": "acknowledge"}
    assert_problem(anonymous.post(url(referral, "answers"), body, format="json"), 401)
    assert_problem(
        client_for(hotline_supervisor).post(url(referral, "answers"), body, format="json"), 403
    )
    assert_problem(
        client_for(provider_factory_other).post(url(referral, "answers"), body, format="json"), 404
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


@pytest.fixture
def provider_factory_other():
    """Staff of another provider's agency."""
    return UserFactory(role=Role.PROVIDER_STAFF)
