"""Case-work pages (issue 14): assign, share, transfer, close and reopen from the case page;
notes and their correction; tasks and "My tasks"; notifications; transfer requests; the
timeline. Each: anonymous, another agency, a role that may not, the happy path; lists keep
a fixed number of queries. All people and agencies are fictional."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.models import Case, CaseNote, CaseShare, CaseTask, CaseTransfer, Consent
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def case_url(case) -> str:
    return reverse("screening:case-detail", kwargs={"reference": case.reference})


def action_url(case, action: str) -> str:
    return reverse(f"screening:case-{action}", kwargs={"reference": case.reference})


def consent_naming(case, by, agency):
    return services.consent_record(
        case=case,
        by=by,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=agency.name,
        valid_until=timezone.now() + timedelta(days=30),
    )


@pytest.fixture
def receiving():
    return AgencyFactory(name="Riverside Support")


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(agency=receiving, role=Role.SUPERVISOR)


@pytest.fixture
def receiving_worker(receiving):
    return UserFactory(agency=receiving, role=Role.SOCIAL_WORKER)


def tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


CASE_ACTIONS = ["assign", "share", "transfer", "close", "reopen"]


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_anonymous_posts_go_to_sign_in(client, case, action):
    response = client.post(action_url(case, action), {})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url",
    ["/tasks/", "/notifications/", "/transfers/", "/contacts/", "/contacts/new/"],
)
def test_anonymous_pages_go_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_another_agency_gets_404_and_nothing_changes(client_for, outsider, case, action):
    response = client_for(outsider).post(action_url(case, action), {"close-reason_code": "other"})
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).is_open


@pytest.mark.parametrize("action", ["assign", "share", "transfer"])
def test_a_worker_on_the_case_gets_403_for_a_supervisors_action(client_for, officer, case, action):
    assert client_for(officer).post(action_url(case, action), {}).status_code == 403


def test_a_get_of_an_action_address_shows_the_case_page(client_for, officer, case):
    response = client_for(officer).get(action_url(case, "close"))
    assert response.status_code == 302 and response["Location"] == case_url(case)


def test_the_case_page_offers_each_person_only_their_controls(
    client_for, officer, supervisor, case
):
    worker_page = client_for(officer).get(case_url(case)).content.decode()
    boss_page = client_for(supervisor).get(case_url(case)).content.decode()
    assert "Add a note" in worker_page and "Add a task" in worker_page
    assert "Close this case" in worker_page
    assert "Give this case to someone" not in worker_page
    assert "Transfer to another agency" not in worker_page
    assert "Give this case to someone" in boss_page
    assert "Share with another agency" in boss_page
    assert "Transfer to another agency" in boss_page


# --- assign ------------------------------------------------------------------------------


def test_a_supervisor_assigns_and_unassigns_from_the_case_page(
    client_for, supervisor, colleague, case
):
    client = client_for(supervisor)
    response = client.post(action_url(case, "assign"), {"assign-worker": colleague.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"{case_url(case)}#people"
    assert "now works on this case" in response.content.decode()
    assert case.assignments.filter(worker=colleague).exists()

    unassign = reverse(
        "screening:case-unassign", kwargs={"reference": case.reference, "worker_id": colleague.pk}
    )
    client.post(unassign)
    assert not case.assignments.filter(worker=colleague).exists()


def test_choosing_nobody_shows_an_error_summary_and_saves_nothing(client_for, supervisor, case):
    response = client_for(supervisor).post(action_url(case, "assign"), {"assign-worker": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and 'href="#id_assign-worker"' in page
    assert not case.assignments.exists()


# --- share -------------------------------------------------------------------------------


def test_sharing_identifying_data_without_consent_is_refused_on_the_page(
    client_for, supervisor, case, receiving
):
    response = client_for(supervisor).post(
        action_url(case, "share"),
        {"share-agency": receiving.pk, "share-reason": "Joint plan", "share-identifying": "on"},
    )
    assert response.status_code == 400
    assert "consent naming this agency" in response.content.decode()
    assert not CaseShare.objects.exists()


def test_a_share_lets_the_partner_read_the_case_and_not_its_notes(
    client_for, officer, supervisor, case, receiving, receiving_worker
):
    services.case_note_add(case=case, by=officer, kind="safety_planning", text="Code word kite")
    partner = client_for(receiving_worker)
    assert partner.get(case_url(case)).status_code == 404

    client_for(supervisor).post(
        action_url(case, "share"), {"share-agency": receiving.pk, "share-reason": "Joint plan"}
    )

    page = partner.get(case_url(case)).content.decode()
    assert "Note: safety planning" in page
    assert "Code word kite" not in page
    assert "Add a note" not in page and "Close this case" not in page
    assert "Your agency sees this case read only." in page


# --- transfer -------------------------------------------------------------------------------


def test_a_transfer_from_request_to_acceptance_and_who_sees_what(
    client_for,
    officer,
    supervisor,
    case,
    receiving,
    receiving_supervisor,
    receiving_worker,
):
    services.case_note_add(case=case, by=officer, kind="other", text="Moved to the coast")
    consent_naming(case, officer, receiving)
    sender, receiver = client_for(supervisor), client_for(receiving_supervisor)

    response = sender.post(
        action_url(case, "transfer"),
        {"transfer-agency": receiving.pk, "transfer-reason": "The person moved to your area"},
        follow=True,
    )
    assert "Transfer asked for" in response.content.decode()
    transfer = CaseTransfer.objects.get()
    detail = reverse("screening:transfer-detail", kwargs={"transfer_id": transfer.pk})

    # The receiver: the request and a summary, not the case.
    incoming = receiver.get("/transfers/").content.decode()
    assert f'href="{detail}"' in incoming
    request_page = receiver.get(detail).content.decode()
    assert "The person moved to your area" in request_page
    assert "Accept the transfer" in request_page
    assert "Moved to the coast" not in request_page
    assert receiver.get(case_url(case)).status_code == 404
    # Their worker does not see the request; the sender sees it and decides nothing.
    assert client_for(receiving_worker).get(detail).status_code == 404
    assert "Accept the transfer" not in sender.get(detail).content.decode()
    assert sender.post(reverse("screening:transfer-accept", args=[transfer.pk])).status_code == 403

    accepted = receiver.post(
        reverse("screening:transfer-accept", args=[transfer.pk]),
        {"accept-assign_to": receiving_worker.pk},
        follow=True,
    )
    assert accepted.redirect_chain[-1][0] == case_url(case)
    assert "is now your agency" in accepted.content.decode()
    assert "Moved to the coast" in client_for(receiving_worker).get(case_url(case)).content.decode()
    for old in (sender, client_for(officer)):
        assert old.get(case_url(case)).status_code == 404


def test_declining_a_transfer_says_why_and_moves_nothing(
    client_for, officer, supervisor, case, receiving, receiving_supervisor
):
    consent_naming(case, officer, receiving)
    transfer = services.case_transfer_request(
        case=case, to_agency=receiving, reason="Closer", by=supervisor
    )
    receiver = client_for(receiving_supervisor)
    url = reverse("screening:transfer-decline", args=[transfer.pk])

    empty = receiver.post(url, {"decline-reason": ""})
    assert empty.status_code == 400 and "There is a problem" in empty.content.decode()
    receiver.post(url, {"decline-reason": "No places this month"})

    transfer.refresh_from_db()
    assert transfer.status == "declined"
    assert Case.objects.get(pk=case.pk).agency_id == supervisor.agency_id


def test_the_transfers_page_is_for_supervisors(client_for, officer):
    assert client_for(officer).get("/transfers/").status_code == 403


def test_the_transfers_list_costs_the_same_for_1_and_4(
    client_for, officer, agency, receiving, receiving_supervisor
):
    boss = UserFactory(agency=agency, role=Role.SUPERVISOR)

    def add(count):
        for _ in range(count):
            case = services.case_create(created_by=officer)
            consent_naming(case, officer, receiving)
            services.case_transfer_request(case=case, to_agency=receiving, reason="x", by=boss)

    client = client_for(receiving_supervisor)
    add(1)
    client.get("/transfers/")
    with CaptureQueriesContext(connection) as few:
        client.get("/transfers/")
    add(3)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/transfers/").content.decode().count("case-card") == 4
    assert len(many) == len(few)


# --- close and reopen ------------------------------------------------------------------


def test_close_with_a_reason_then_reopen(client_for, officer, case):
    client = client_for(officer)
    missing = client.post(action_url(case, "close"), {"close-reason_code": ""})
    assert (
        missing.status_code == 400 and 'href="#id_close-reason_code_0"' in missing.content.decode()
    )

    response = client.post(
        action_url(case, "close"), {"close-reason_code": "not_reached"}, follow=True
    )
    page = response.content.decode()
    assert "Case closed" in page and "We could not reach the person" in page
    assert "Reopen the case" in page and "Add a note" not in page

    reopened = client.post(action_url(case, "reopen"), follow=True).content.decode()
    assert "Case reopened" in reopened and Case.objects.get(pk=case.pk).is_open


# --- notes -----------------------------------------------------------------------------


def test_a_note_is_added_shown_and_corrected_by_its_author(client_for, officer, supervisor, case):
    client = client_for(officer)
    client.post(
        reverse("screening:note-new", kwargs={"reference": case.reference}),
        {"note-kind": "contact_attempt", "note-text": "No answer at 10:00"},
    )
    note = CaseNote.objects.get()
    page = client.get(case_url(case)).content.decode()
    assert "No answer at 10:00" in page and "Correct this note" in page
    assert "Correct this note" not in client_for(supervisor).get(case_url(case)).content.decode()

    correct = reverse("screening:note-correct", kwargs={"note_id": note.pk})
    assert client_for(supervisor).get(correct).status_code == 403
    form = client.get(correct).content.decode()
    assert "No answer at 10:00" in form
    client.post(
        correct,
        {"version": "1", "correct-kind": "contact_attempt", "correct-text": "No answer at 11:00"},
    )
    note.refresh_from_db()
    assert (note.text, note.version) == ("No answer at 11:00", 2)
    stale = client.post(correct, {"version": "1", "correct-kind": "other", "correct-text": "Again"})
    assert stale.status_code == 400 and "another window" in stale.content.decode()


def test_an_empty_note_is_refused_with_the_summary(client_for, officer, case):
    response = client_for(officer).post(
        reverse("screening:note-new", kwargs={"reference": case.reference}),
        {"note-kind": "other", "note-text": " "},
    )
    assert response.status_code == 400
    assert 'href="#id_note-text"' in response.content.decode()
    assert not CaseNote.objects.exists()


def test_an_outsider_cannot_open_a_note_correction(client_for, officer, outsider, case):
    note = services.case_note_add(case=case, by=officer, kind="other", text="x")
    url = reverse("screening:note-correct", kwargs={"note_id": note.pk})
    assert client_for(outsider).get(url).status_code == 404


# --- tasks -------------------------------------------------------------------------------


def test_a_task_is_added_flagged_overdue_and_done(client_for, officer, case):
    client = client_for(officer)
    client.post(
        reverse("screening:task-new", kwargs={"reference": case.reference}),
        {
            "task-description": "Check the shelter place",
            "task-kind": "follow_up",
            "task-due_date": tomorrow(),
        },
    )
    task = CaseTask.objects.get()
    assert task.assignee == officer
    mine = client.get("/tasks/").content.decode()
    assert "Check the shelter place" in mine and "Overdue" not in mine

    CaseTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(hours=1))
    overdue = client.get("/tasks/?overdue=1").content.decode()
    assert "Overdue" in overdue and "Check the shelter place" in overdue
    assert "Overdue" in client.get(case_url(case)).content.decode()

    client.post(reverse("screening:task-done", kwargs={"task_id": task.pk}), {"next": "my-tasks"})
    assert CaseTask.objects.get(pk=task.pk).is_done
    assert "You have no open tasks." in client.get("/tasks/").content.decode()


def test_a_task_due_in_the_past_is_refused_on_its_field(client_for, officer, case):
    response = client_for(officer).post(
        reverse("screening:task-new", kwargs={"reference": case.reference}),
        {"task-description": "x", "task-kind": "follow_up", "task-due_date": "2020-01-01"},
    )
    assert response.status_code == 400
    assert 'href="#id_task-due_date"' in response.content.decode()


def test_an_outsider_cannot_mark_a_task_done(client_for, officer, outsider, case):
    task = services.case_task_add(case=case, by=officer, description="x", due_at=timezone.now())
    response = client_for(outsider).post(
        reverse("screening:task-done", kwargs={"task_id": task.pk})
    )
    assert response.status_code == 404
    assert not CaseTask.objects.get(pk=task.pk).is_done


def test_my_tasks_is_for_case_workers(client_for, agency):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    assert client_for(admin).get("/tasks/").status_code == 403


def test_my_tasks_costs_the_same_for_2_and_6(client_for, officer, case):
    def add(count):
        for _ in range(count):
            services.case_task_add(
                case=case, by=officer, description="Call back", due_at=timezone.now()
            )

    client = client_for(officer)
    add(2)
    client.get("/tasks/")
    with CaptureQueriesContext(connection) as few:
        client.get("/tasks/")
    add(4)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/tasks/").content.decode().count("case-card") == 6
    assert len(many) == len(few)


# --- notifications -----------------------------------------------------------------------


def test_a_notification_opens_its_page_and_is_marked_read(client_for, supervisor, colleague, case):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    client = client_for(colleague)
    page = client.get("/notifications/").content.decode()
    assert f"You were given case {case.reference}." in page and "New" in page
    notice = colleague.notifications.get()

    response = client.post(reverse("screening:notification-open", args=[notice.pk]))
    assert response["Location"] == f"/cases/{case.reference}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    # Someone else's is a 404, like a missing one.
    other = client_for(supervisor).post(reverse("screening:notification-open", args=[notice.pk]))
    assert other.status_code == 404


def test_notifications_cost_the_same_for_2_and_6(client_for, officer):
    def add(count):
        services.notification_send(users=[officer] * count, kind="other", text="Hello")

    client = client_for(officer)
    add(2)
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/notifications/")
    add(4)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/notifications/").content.decode().count("case-card") == 6
    assert len(many) == len(few)


# --- timeline ------------------------------------------------------------------------------


def test_the_timeline_page_pages_older_entries_at_a_fixed_cost(client_for, officer, case):
    url = reverse("screening:case-timeline", kwargs={"reference": case.reference})
    client = client_for(officer)
    services.case_note_add(case=case, by=officer, kind="other", text="First note")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(30):
        services.case_note_add(case=case, by=officer, kind="other", text=f"Later {number}")
    with CaptureQueriesContext(connection) as many:
        first = client.get(url).content.decode()
    assert len(many) == len(few)
    assert "Later 29" in first and "First note" not in first
    older = client.get(url + "?after=" + first.split("?after=")[1].split('"')[0]).content.decode()
    assert "First note" in older and "Later 29" not in older
    broken = client.get(url + "?after=nope", follow=True).content.decode()
    assert "That page link did not work" in broken


def test_another_agency_gets_404_for_the_timeline(client_for, outsider, case):
    url = reverse("screening:case-timeline", kwargs={"reference": case.reference})
    assert client_for(outsider).get(url).status_code == 404
