"""Case-work and referral API operations (issue 14) the first API tests left without one of the
four checks: transfer answers and notes by id (anonymous, a third agency, the wrong role), the
referral operations' anonymous answer, the transfer list's and a case's task list's query
counts, and what a partner sees on the timeline of a shared case. The audit table in
docs/case-work.md names the test for every endpoint. All people are fictional."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from screening import services
from screening.models import CaseNote, CaseTransfer, Consent
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiving():
    return AgencyFactory(name="Riverside Support")


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(agency=receiving, role=Role.SUPERVISOR)


def _consent_naming(case, by, agency):
    services.consent_record(
        case=case,
        by=by,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=agency.name,
        valid_until=timezone.now() + timedelta(days=30),
    )


@pytest.fixture
def transfer(advocate, hotline_supervisor, case_of_hotline, receiving):
    _consent_naming(case_of_hotline, advocate, receiving)
    return services.case_transfer_request(
        case=case_of_hotline, to_agency=receiving, reason="Moved", by=hotline_supervisor
    )


@pytest.fixture
def note(advocate, case_of_hotline):
    return services.case_note_add(case=case_of_hotline, by=advocate, kind="other", text="Rang")


def _transfer_calls(transfer):
    base = f"/api/v1/transfers/{transfer.pk}/"
    return [
        ("get", base, None),
        ("post", f"{base}accept", {}),
        ("post", f"{base}decline", {"reason": "No places"}),
        ("post", f"{base}cancel", {}),
    ]


def _call(client, method, path, body):
    if method == "get":
        return client.get(path)
    return client.post(path, body, format="json")


def test_anonymous_callers_get_401_for_transfers_and_notes_by_id(anonymous, transfer, note):
    for method, path, body in _transfer_calls(transfer):
        assert_problem(_call(anonymous, method, path, body), 401)
    assert_problem(anonymous.patch(f"/api/v1/notes/{note.pk}/", {"text": "x"}), 401)
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.PENDING


def test_a_third_agency_gets_404_for_the_transfer_and_the_note(outsider, transfer, note):
    third = client_for(UserFactory(agency=outsider.agency, role=Role.SUPERVISOR))
    for method, path, body in _transfer_calls(transfer):
        assert_problem(_call(third, method, path, body), 404)
    patched = third.patch(
        f"/api/v1/notes/{note.pk}/", {"text": "Theirs"}, format="json", HTTP_IF_MATCH='"v1"'
    )
    assert_problem(patched, 404)
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.PENDING
    assert CaseNote.objects.get(pk=note.pk).text == "Rang"


def test_a_worker_of_either_agency_may_not_answer_or_withdraw(api, receiving, transfer):
    receiving_worker = client_for(UserFactory(agency=receiving, role=Role.SOCIAL_WORKER))
    for method, path, body in _transfer_calls(transfer):
        assert_problem(_call(receiving_worker, method, path, body), 404)
    # Transfer requests are supervisors' business on both sides: the sending agency's own
    # worker on the case gets the 404 of a missing request too.
    for method, path, body in _transfer_calls(transfer):
        assert_problem(_call(api, method, path, body), 404)
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.PENDING


def test_an_agency_administrator_gets_403_for_a_task_and_a_note(hotline, advocate, note):
    task = services.case_task_add(
        case=note.case, by=advocate, description="Call back", due_at=timezone.now()
    )
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert_problem(admin.post(f"/api/v1/tasks/{task.pk}/done", {}, format="json"), 403)
    assert_problem(admin.get(f"/api/v1/notes/{note.pk}/"), 403)
    task.refresh_from_db()
    assert not task.is_done


def test_referral_operations_answer_anonymous_callers_401(anonymous, make_referral, screened_case):
    referral = make_referral(status="accepted")
    for path in (
        f"/api/v1/referrals/{referral.pk}/close",
        f"/api/v1/referrals/{referral.pk}/escalate",
        f"/api/v1/cases/{screened_case.reference}/referrals",
    ):
        assert_problem(anonymous.post(path, {"outcome": "moved_away"}, format="json"), 401)
    for path in (f"/api/v1/referrals/{referral.pk}/", "/api/v1/referrals/queue/?escalation=any"):
        assert_problem(anonymous.get(path), 401)
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_an_agency_administrator_may_not_close_escalate_or_propose(
    hotline, make_referral, screened_case
):
    referral = make_referral(status="accepted")
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    # Administrators manage staff, not cases: the referral (of a case they cannot see) is the
    # 404 of a missing one, and so is the case they would propose for.
    statuses = [
        admin.post(path, body, format="json").status_code
        for path, body in (
            (f"/api/v1/referrals/{referral.pk}/close", {"outcome": "moved_away"}),
            (f"/api/v1/referrals/{referral.pk}/escalate", {"note": "No reply"}),
            (
                f"/api/v1/cases/{screened_case.reference}/referrals",
                {"service_type": "legal_aid", "provider": "legal-help"},
            ),
        )
    ]
    assert statuses == [404, 404, 404]
    referral.refresh_from_db()
    assert (referral.status, referral.escalated_at) == ("accepted", None)


def test_the_transfer_list_costs_the_same_for_1_and_4(
    advocate, hotline_supervisor, receiving, receiving_supervisor
):
    def add(count):
        for _ in range(count):
            case = services.case_create(created_by=advocate)
            _consent_naming(case, advocate, receiving)
            services.case_transfer_request(
                case=case, to_agency=receiving, reason="Moved", by=hotline_supervisor
            )

    client = client_for(receiving_supervisor)
    add(1)
    client.get("/api/v1/transfers/")
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/transfers/").json()["results"]) == 1
    add(3)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/transfers/").json()["results"]) == 4
    assert len(many) == len(few)


def test_a_cases_task_list_costs_the_same_for_2_and_6(api, advocate, case_of_hotline):
    url = f"/api/v1/cases/{case_of_hotline.reference}/tasks/"

    def add(count):
        for _ in range(count):
            services.case_task_add(
                case=case_of_hotline, by=advocate, description="Call", due_at=timezone.now()
            )

    add(2)
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(url).json()["results"]) == 2
    add(4)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(url).json()["results"]) == 6
    assert len(many) == len(few)


def test_a_partner_reads_the_timeline_of_a_shared_case_without_note_texts(
    advocate, hotline_supervisor, case_of_hotline, receiving, note
):
    partner = client_for(UserFactory(agency=receiving, role=Role.SOCIAL_WORKER))
    url = f"/api/v1/cases/{case_of_hotline.reference}/timeline/"
    assert_problem(partner.get(url), 404)
    services.case_share(
        case=case_of_hotline, agency=receiving, reason="Joint plan", by=hotline_supervisor
    )
    entries = partner.get(url).json()["results"]
    (seen,) = [entry for entry in entries if entry["source"] == "note"]
    assert seen["title"] == "Note: other" and seen["detail"] == ""
    own = client_for(advocate).get(url).json()["results"]
    assert [e["detail"] for e in own if e["source"] == "note"] == ["Rang"]
