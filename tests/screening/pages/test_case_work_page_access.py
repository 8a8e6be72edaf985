"""Case-work pages (issue 14) the first page tests left without one of the four checks: the
unassign, note, task, notification, transfer-answer, timeline and contact-finalise addresses,
each anonymous (sign-in), another agency (404, nothing changed), a role that may not (403 or
the 404 of a missing record) and the happy path where no other test has it; a partner's view
of a shared case and both sides of a withdrawn transfer, before and after. The audit table in
docs/case-work.md names the test for every page. All people and agencies are fictional."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.models import CaseAssignment, CaseNote, CaseTask, CaseTransfer, Consent, Contact
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def case_url(case) -> str:
    return reverse("screening:case-detail", kwargs={"reference": case.reference})


def signs_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.fixture
def receiving():
    return AgencyFactory(name="Riverside Support")


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(agency=receiving, role=Role.SUPERVISOR)


@pytest.fixture
def third_supervisor():
    return UserFactory(agency=AgencyFactory(name="Hillside Outreach"), role=Role.SUPERVISOR)


@pytest.fixture
def transfer(officer, supervisor, case, receiving):
    services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=receiving.name,
        valid_until=timezone.now() + timedelta(days=30),
    )
    return services.case_transfer_request(
        case=case, to_agency=receiving, reason="The person moved", by=supervisor
    )


@pytest.fixture
def note(officer, case):
    return services.case_note_add(case=case, by=officer, kind="other", text="Rang at nine")


@pytest.fixture
def task(officer, case):
    return services.case_task_add(
        case=case, by=officer, description="Call back", due_at=timezone.now() + timedelta(days=1)
    )


def _addresses(case, colleague, note, task, transfer):
    reference = {"reference": case.reference}
    return {
        "unassign": reverse(
            "screening:case-unassign", kwargs={**reference, "worker_id": colleague.pk}
        ),
        "note-new": reverse("screening:note-new", kwargs=reference),
        "task-new": reverse("screening:task-new", kwargs=reference),
        "note-correct": reverse("screening:note-correct", kwargs={"note_id": note.pk}),
        "task-done": reverse("screening:task-done", kwargs={"task_id": task.pk}),
        "timeline": reverse("screening:case-timeline", kwargs=reference),
        "transfer-detail": reverse("screening:transfer-detail", args=[transfer.pk]),
        "transfer-accept": reverse("screening:transfer-accept", args=[transfer.pk]),
        "transfer-decline": reverse("screening:transfer-decline", args=[transfer.pk]),
        "transfer-cancel": reverse("screening:transfer-cancel", args=[transfer.pk]),
        "notifications-read-all": reverse("screening:notifications-read-all"),
        "notification-open": reverse("screening:notification-open", args=[1]),
        "close": reverse("screening:case-close", kwargs=reference),
        "reopen": reverse("screening:case-reopen", kwargs=reference),
    }


ADDRESSES = [
    "unassign",
    "note-new",
    "task-new",
    "note-correct",
    "task-done",
    "timeline",
    "transfer-detail",
    "transfer-accept",
    "transfer-decline",
    "transfer-cancel",
    "notifications-read-all",
    "notification-open",
]
FORM = {
    "note-kind": "other",
    "note-text": "Theirs",
    "task-description": "Theirs",
    "task-kind": "follow_up",
    "task-due_date": "2099-01-01",
    "correct-kind": "other",
    "correct-text": "Theirs",
    "version": "1",
    "decline-reason": "No",
    "close-reason_code": "other",
}


def _nothing_changed(case, colleague, note, task, transfer) -> None:
    assert CaseAssignment.objects.filter(case=case, worker=colleague).exists()
    note.refresh_from_db()
    assert (note.text, note.version) == ("Rang at nine", 1)
    assert CaseNote.objects.filter(case=case).count() == 1
    assert list(CaseTask.objects.filter(case=case)) == [task] and not task.is_done
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.PENDING
    case.refresh_from_db()
    assert case.is_open


@pytest.fixture
def on_the_case(supervisor, colleague, case, note, task, transfer):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    return case, colleague, note, task, transfer


@pytest.mark.parametrize("address", ADDRESSES)
def test_anonymous_is_sent_to_sign_in_and_nothing_changes(client, on_the_case, address):
    url = _addresses(*on_the_case)[address]
    response = client.get(url) if address in ("timeline", "transfer-detail") else client.post(url)
    assert signs_in(response)
    _nothing_changed(*on_the_case)


@pytest.mark.parametrize("address", [a for a in ADDRESSES if not a.startswith("notification")])
def test_another_agency_gets_404_and_nothing_changes(
    client_for, third_supervisor, on_the_case, address
):
    """A supervisor of an agency that neither owns the case nor is asked to take it."""
    url = _addresses(*on_the_case)[address]
    client = client_for(third_supervisor)
    response = (
        client.get(url) if address in ("timeline", "transfer-detail") else client.post(url, FORM)
    )
    assert response.status_code == 404
    _nothing_changed(*on_the_case)


@pytest.mark.parametrize(
    ("address", "who", "status"),
    [
        ("unassign", "officer", 403),  # a worker on the case; assigning is the supervisor's
        ("note-new", "partner", 403),  # a share is read only
        ("task-new", "partner", 403),
        ("note-correct", "supervisor", 403),  # only the author corrects a note
        ("task-done", "partner", 403),
        ("transfer-detail", "receiving_worker", 404),  # the request is for supervisors
        ("transfer-accept", "supervisor", 403),  # the sender does not answer its own request
        ("transfer-decline", "supervisor", 403),
        ("transfer-accept", "receiving_worker", 404),
        ("transfer-cancel", "receiving_supervisor", 403),  # only the sender withdraws
        ("close", "partner", 403),
        ("reopen", "partner", 403),
    ],
)
def test_a_role_that_may_not_is_refused_and_nothing_changes(
    client_for, supervisor, receiving, receiving_supervisor, on_the_case, address, who, status
):
    case = on_the_case[0]
    partner_agency = AgencyFactory(name="Partner Clinic")
    services.case_share(case=case, agency=partner_agency, reason="Joint plan", by=supervisor)
    people = {
        "officer": case.created_by,
        "supervisor": supervisor,
        "partner": UserFactory(agency=partner_agency, role=Role.SOCIAL_WORKER),
        "receiving_worker": UserFactory(agency=receiving, role=Role.SOCIAL_WORKER),
        "receiving_supervisor": receiving_supervisor,
    }
    url = _addresses(*on_the_case)[address]
    client = client_for(people[who])
    response = client.get(url) if address == "transfer-detail" else client.post(url, FORM)
    assert response.status_code == status
    _nothing_changed(*on_the_case)


def test_a_supervisor_unassigns_a_worker_who_then_loses_the_case(
    client_for, supervisor, on_the_case
):
    case, colleague, *_ = on_the_case
    assert client_for(colleague).get(case_url(case)).status_code == 200
    response = client_for(supervisor).post(_addresses(*on_the_case)["unassign"], follow=True)
    assert "no longer works on this case" in response.content.decode()
    assert not CaseAssignment.objects.filter(case=case, worker=colleague).exists()
    assert client_for(colleague).get(case_url(case)).status_code == 404


def test_the_sender_withdraws_a_transfer_and_each_side_sees_it_before_and_after(
    client_for, officer, supervisor, case, transfer, receiving_supervisor
):
    sender, receiver = client_for(supervisor), client_for(receiving_supervisor)
    detail = reverse("screening:transfer-detail", args=[transfer.pk])
    # Before: the receiver sees the request and may answer; the case stays hidden from them.
    assert "Accept the transfer" in receiver.get(detail).content.decode()
    assert receiver.get(case_url(case)).status_code == 404

    response = sender.post(reverse("screening:transfer-cancel", args=[transfer.pk]), follow=True)
    assert "Transfer withdrawn. The case stays with your agency." in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.CANCELLED
    # After: nothing to answer; the case is still ours and still not theirs.
    after = receiver.get(detail)
    assert "Accept the transfer" not in after.content.decode()
    assert receiver.get(case_url(case)).status_code == 404
    assert client_for(officer).get(case_url(case)).status_code == 200
    late = receiver.post(reverse("screening:transfer-accept", args=[transfer.pk]))
    assert late.status_code == 400 and "withdrawn" in late.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.CANCELLED


def test_a_partner_reads_the_timeline_without_note_texts(client_for, supervisor, case, note):
    partner_agency = AgencyFactory(name="Partner Clinic")
    partner = client_for(UserFactory(agency=partner_agency, role=Role.SOCIAL_WORKER))
    url = reverse("screening:case-timeline", kwargs={"reference": case.reference})
    assert partner.get(url).status_code == 404
    services.case_share(case=case, agency=partner_agency, reason="Joint plan", by=supervisor)
    page = partner.get(url).content.decode()
    assert "Note: other" in page and "Rang at nine" not in page
    assert "Shared with another agency" in page
    assert "Rang at nine" in client_for(case.created_by).get(url).content.decode()


def test_reading_all_marks_only_ones_own_notifications(client_for, officer, colleague):
    services.notification_send(users=[officer, officer], kind="other", text="Hello")
    services.notification_send(users=[colleague], kind="other", text="Hello")
    response = client_for(officer).post(reverse("screening:notifications-read-all"), follow=True)
    assert "2 marked read." in response.content.decode()
    assert not officer.notifications.filter(read_at=None).exists()
    assert colleague.notifications.filter(read_at=None).count() == 1


def test_finalising_a_contact_needs_sign_in_and_a_contact_role(client, client_for, officer, agency):
    advocate = UserFactory(agency=agency, role=Role.HOTLINE_STAFF)
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    url = reverse("screening:contact-finalise", args=[contact.pk])
    assert signs_in(client.post(url, {"version": contact.version}))
    assert client_for(officer).post(url, {"version": contact.version}).status_code == 403
    assert Contact.objects.get(pk=contact.pk).is_draft
