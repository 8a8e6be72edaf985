"""Case work after the screening (issue 14): assign, share through the consent gate,
transfer, close and reopen, notes with versions, tasks with reminders, notifications and the
timeline. All people and agencies are fictional."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from config.errors import (
    ActionNotAllowed,
    CaseNotFound,
    ConflictError,
    ConsentRequired,
    InvalidState,
    ValidationError,
)
from screening import selectors, services
from screening.events import CASE_TRANSFERRED
from screening.models import (
    Agency,
    BreakGlassGrant,
    Case,
    CaseActivity,
    CaseNote,
    CaseTask,
    Consent,
    Notification,
)
from screening.permissions import TransferNotFound
from screening.roles import Role
from screening.services.notes import note_access
from screening.timeline import case_timeline_page
from tests.factories import AgencyFactory, UserFactory
from tests.outbox import outbox_rows

pytestmark = pytest.mark.django_db


def sees(user, case) -> bool:
    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


def named_consent(case, by, agency_name: str) -> Consent:
    return services.consent_record(
        case=case,
        by=by,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=agency_name,
        valid_until=timezone.now() + timedelta(days=30),
    )


@pytest.fixture
def receiving(other_agency):
    return other_agency


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(agency=receiving, role=Role.SUPERVISOR)


@pytest.fixture
def receiving_worker(receiving):
    return UserFactory(agency=receiving, role=Role.SOCIAL_WORKER)


# --- assign -----------------------------------------------------------------------------


def test_assigning_tells_the_worker_and_unassigning_ends_their_access(case, supervisor, colleague):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    assert sees(colleague, case)
    (notice,) = Notification.objects.filter(user=colleague)
    assert notice.text == f"You were given case {case.reference}."
    assert notice.link == f"/cases/{case.reference}/"

    services.case_unassign(case=case, worker=colleague, by=supervisor)
    assert not sees(colleague, case)
    kinds = list(
        CaseActivity.objects.filter(case=case).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["assigned", "unassigned"]


def test_a_worker_may_not_assign(case, officer, colleague):
    with pytest.raises(ActionNotAllowed):
        services.case_assign(case=case, worker=colleague, by=officer)


# --- share: the consent gate -------------------------------------------------------------


def test_sharing_identifying_data_needs_a_consent_naming_the_agency_and_ends_with_it(
    case, officer, supervisor, receiving, receiving_worker
):
    with pytest.raises(ConsentRequired):
        services.case_share(
            case=case, agency=receiving, reason="Joint work", by=supervisor, identifying=True
        )
    assert not case.shares.exists()

    consent = named_consent(case, officer, receiving.name.upper())
    services.case_share(
        case=case, agency=receiving, reason="Joint work", by=supervisor, identifying=True
    )
    seen = selectors.case_get(user=receiving_worker, case_reference_or_id=case.reference)
    assert not seen.user_can_change
    assert selectors.case_identifying_visible(user=receiving_worker, case=seen)

    services.consent_withdraw(consent=consent, by=officer)
    assert not selectors.case_identifying_visible(user=receiving_worker, case=seen)


def test_a_share_without_identifying_data_needs_no_consent_and_shows_none(
    case, supervisor, receiving, receiving_worker
):
    services.case_share(case=case, agency=receiving, reason="Joint work", by=supervisor)
    seen = selectors.case_get(user=receiving_worker, case_reference_or_id=case.reference)
    assert not selectors.case_identifying_visible(user=receiving_worker, case=seen)


def test_law_enforcement_needs_the_sharing_consent_even_without_identifying_data(case, supervisor):
    police = AgencyFactory(kind=Agency.Kind.LAW_ENFORCEMENT)
    with pytest.raises(ConsentRequired):
        services.case_share(case=case, agency=police, reason="Investigation", by=supervisor)


def test_a_mandatory_report_goes_to_child_welfare_without_consent(officer, supervisor):
    minor = services.case_create(created_by=officer, age=15)
    welfare = AgencyFactory(kind=Agency.Kind.CHILD_WELFARE)
    ngo = AgencyFactory(kind=Agency.Kind.NGO_SOCIAL_SERVICES)

    share = services.case_share(
        case=minor, agency=welfare, reason="Mandatory report", by=supervisor, identifying=True
    )
    assert share.consent is None
    with pytest.raises(ConsentRequired):
        services.case_share(
            case=minor, agency=ngo, reason="Support", by=supervisor, identifying=True
        )


def test_a_withdrawn_consent_no_longer_allows_a_share(case, officer, supervisor, receiving):
    consent = named_consent(case, officer, receiving.name)
    services.consent_withdraw(consent=consent, by=officer)
    with pytest.raises(ConsentRequired):
        services.case_share(
            case=case, agency=receiving, reason="Joint work", by=supervisor, identifying=True
        )


def test_what_each_party_sees_before_and_after_a_share(
    case, officer, supervisor, receiving, receiving_supervisor, receiving_worker
):
    assert not sees(receiving_supervisor, case) and not sees(receiving_worker, case)
    named_consent(case, officer, receiving.name)
    services.case_share(case=case, agency=receiving, reason="Joint work", by=supervisor)

    assert sees(officer, case) and sees(supervisor, case)
    for partner in (receiving_supervisor, receiving_worker):
        seen = selectors.case_get(user=partner, case_reference_or_id=case.reference)
        assert not seen.user_can_change and not seen.user_supervises
    with pytest.raises(ActionNotAllowed):
        services.case_note_add(case=case, by=receiving_worker, kind="other", text="Hello")


# --- transfer ------------------------------------------------------------------------------


def test_transfer_moves_ownership_grants_and_tasks_and_old_agency_keeps_nothing(
    case, officer, colleague, supervisor, receiving, receiving_supervisor, receiving_worker
):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    task = services.case_task_add(
        case=case,
        by=officer,
        description="Call back about housing",
        due_at=timezone.now() + timedelta(days=2),
    )
    named_consent(case, officer, receiving.name)
    outsider_helper = UserFactory(agency=AgencyFactory(), role=Role.FRONTLINE_OFFICER)
    BreakGlassGrant.objects.create(
        case=case,
        user=colleague,
        reason="Fictional emergency",
        expires_at=timezone.now() + timedelta(hours=2),
    )

    transfer = services.case_transfer_request(
        case=case, to_agency=receiving, reason="The person moved to your area", by=supervisor
    )
    # Before the answer: the receiving agency sees the request, not the case.
    assert not sees(receiving_supervisor, case)
    assert Notification.objects.filter(
        user=receiving_supervisor, link=f"/transfers/{transfer.pk}/"
    ).exists()
    with pytest.raises(ActionNotAllowed):
        services.case_transfer_accept(transfer=transfer, by=supervisor)
    with pytest.raises(TransferNotFound):
        services.case_transfer_accept(transfer=transfer, by=outsider_helper)

    services.case_transfer_accept(
        transfer=transfer, by=receiving_supervisor, assign_to=receiving_worker
    )

    case.refresh_from_db()
    assert case.agency_id == receiving.pk
    for old in (officer, colleague, supervisor):
        assert not sees(old, case), old
        assert not Notification.objects.filter(user=old, case=case).exists()
    assert sees(receiving_supervisor, case)
    moved = selectors.case_get(user=receiving_worker, case_reference_or_id=case.reference)
    assert moved.user_can_change
    task.refresh_from_db()
    assert task.assignee == receiving_worker
    assert outbox_rows(CASE_TRANSFERRED, case).count() == 1
    # An answered request cannot be withdrawn.
    with pytest.raises(InvalidState):
        services.case_transfer_cancel(transfer=transfer, by=supervisor)


def test_a_declined_transfer_moves_nothing(
    case, officer, supervisor, receiving, receiving_supervisor
):
    named_consent(case, officer, receiving.name)
    transfer = services.case_transfer_request(
        case=case, to_agency=receiving, reason="Closer to the person", by=supervisor
    )
    with pytest.raises(ValidationError):
        services.case_transfer_decline(transfer=transfer, by=receiving_supervisor, reason=" ")
    services.case_transfer_decline(
        transfer=transfer, by=receiving_supervisor, reason="No capacity this month"
    )
    case.refresh_from_db()
    assert case.agency_id == supervisor.agency_id and sees(officer, case)
    assert not sees(receiving_supervisor, case)
    assert Notification.objects.filter(user=supervisor, kind="transfer_decided").exists()


def test_a_transfer_needs_consent_and_only_one_waits_at_a_time(
    case, officer, supervisor, receiving
):
    with pytest.raises(ConsentRequired):
        services.case_transfer_request(case=case, to_agency=receiving, reason="x", by=supervisor)
    named_consent(case, officer, receiving.name)
    services.case_transfer_request(case=case, to_agency=receiving, reason="x", by=supervisor)
    with pytest.raises(InvalidState):
        services.case_transfer_request(case=case, to_agency=receiving, reason="y", by=supervisor)


def test_a_consent_withdrawn_before_acceptance_stops_the_transfer(
    case, officer, supervisor, receiving, receiving_supervisor
):
    consent = named_consent(case, officer, receiving.name)
    transfer = services.case_transfer_request(
        case=case, to_agency=receiving, reason="x", by=supervisor
    )
    services.consent_withdraw(consent=consent, by=officer)
    with pytest.raises(ConsentRequired):
        services.case_transfer_accept(transfer=transfer, by=receiving_supervisor)
    case.refresh_from_db()
    assert case.agency_id == supervisor.agency_id


def test_a_worker_may_not_ask_for_a_transfer(case, officer, receiving):
    with pytest.raises(ActionNotAllowed):
        services.case_transfer_request(case=case, to_agency=receiving, reason="x", by=officer)


# --- close and reopen -----------------------------------------------------------------------


def test_close_with_a_reason_and_reopen(case, officer):
    services.case_close(case=case, by=officer, reason_code="not_reached", reason="Three tries")
    case.refresh_from_db()
    assert not case.is_open and case.close_reason_code == "not_reached"
    services.case_reopen(case=case, by=officer)
    with pytest.raises(ValidationError):
        services.case_close(case=case, by=officer, reason_code="nonsense")
    case.refresh_from_db()
    assert case.is_open and case.closed_at is None and case.close_reason_code == ""
    kinds = list(
        CaseActivity.objects.filter(case=case).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["closed", "reopened"]


def test_a_shared_to_agency_may_not_close(case, officer, supervisor, receiving):
    named_consent(case, officer, receiving.name)
    services.case_share(case=case, agency=receiving, reason="Joint", by=supervisor)
    partner = UserFactory(agency=receiving, role=Role.SOCIAL_WORKER)
    with pytest.raises(ActionNotAllowed):
        services.case_close(case=case, by=partner)


# --- notes -----------------------------------------------------------------------------------


def test_a_note_is_sealed_and_its_correction_keeps_the_old_version_in_history(case, officer):
    note = services.case_note_add(
        case=case, by=officer, kind="safety_planning", text="Agreed a code word: blue kite"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM screening_casenote WHERE id = %s", [note.pk])
        (stored,) = cursor.fetchone()
    assert "blue kite" not in stored

    corrected = services.case_note_correct(
        note=note, by=officer, text="Agreed a code word: red kite", expected_version=1
    )
    assert corrected.version == 2 and corrected.text == "Agreed a code word: red kite"
    versions = list(CaseNote.history.filter(id=note.pk).order_by("history_id"))
    assert [v.text for v in versions] == [
        "Agreed a code word: blue kite",
        "Agreed a code word: red kite",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM screening_historicalcasenote")
        assert all("kite" not in row[0] for row in cursor.fetchall())

    with pytest.raises(ConflictError):
        services.case_note_correct(note=note, by=officer, text="Again", expected_version=1)


def test_only_the_author_corrects_a_note(case, officer, supervisor):
    note = services.case_note_add(case=case, by=officer, kind="other", text="First try")
    with pytest.raises(ActionNotAllowed):
        services.case_note_correct(note=note, by=supervisor, text="Mine", expected_version=1)


def test_notes_are_refused_on_closed_cases_and_to_outsiders(case, officer, outsider):
    with pytest.raises(CaseNotFound):
        services.case_note_add(case=case, by=outsider, kind="other", text="x")
    services.case_close(case=case, by=officer)
    with pytest.raises(InvalidState):
        services.case_note_add(case=case, by=officer, kind="other", text="x")


def test_an_empty_note_saves_nothing(case, officer):
    with pytest.raises(ValidationError) as error:
        services.case_note_add(case=case, by=officer, kind="bogus", text="  ")
    assert set(error.value.field_errors) == {"kind", "text"}
    assert not CaseNote.objects.exists()


def test_note_access_hides_notes_of_cases_one_cannot_see(case, officer, outsider):
    note = services.case_note_add(case=case, by=officer, kind="other", text="x")
    from screening.services.notes import NoteNotFound

    with pytest.raises(NoteNotFound):
        note_access(user=outsider, note_id=note.pk)


# --- tasks and reminders --------------------------------------------------------------------


def test_a_task_for_a_colleague_tells_them_and_can_be_done(case, officer, colleague, supervisor):
    with pytest.raises(ValidationError):  # not on the case yet: they could not open it
        services.case_task_add(
            case=case,
            by=officer,
            description="x",
            due_at=timezone.now() + timedelta(days=1),
            assignee=colleague,
        )
    services.case_assign(case=case, worker=colleague, by=supervisor)
    task = services.case_task_add(
        case=case,
        by=officer,
        description="Check the shelter place",
        due_at=timezone.now() + timedelta(days=1),
        assignee=colleague,
        kind=CaseTask.Kind.REVISIT_CONSENT,
    )
    assert Notification.objects.filter(user=colleague, kind="task_assigned").exists()
    done = services.case_task_done(task=task, by=officer)
    assert done.is_done and not done.is_overdue()


def test_a_task_cannot_go_to_another_agency(case, officer, outsider):
    with pytest.raises(ValidationError) as error:
        services.case_task_add(
            case=case,
            by=officer,
            description="x",
            due_at=timezone.now() + timedelta(days=1),
            assignee=outsider,
        )
    assert "assignee" in error.value.field_errors


def test_due_tasks_are_reminded_once_in_app_and_by_an_email_naming_no_person(case, officer):
    officer.email = "officer@example.org"
    officer.save()
    services.case_task_add(
        case=case.__class__.objects.get(pk=case.pk),
        by=officer,
        description="Call Ana Fictional about the hearing",
        due_at=timezone.now() + timedelta(minutes=1),
    )
    later = timezone.now() + timedelta(minutes=5)

    report = services.case_task_reminders_send(now=later)
    again = services.case_task_reminders_send(now=later)

    assert (report.reminded, report.emailed) == (1, 1)
    assert again.reminded == 0
    (email,) = mail.outbox
    assert email.to == ["officer@example.org"]
    assert f"A task on case {case.reference} is due." in email.body
    for text in (email.subject, email.body):
        assert "Ana" not in text and officer.last_name not in text and "hearing" not in text
    (notice,) = Notification.objects.filter(user=officer, kind="task_due")
    assert notice.text == f"A task on case {case.reference} is due."


def test_a_task_not_yet_due_is_not_reminded_and_is_not_overdue(case, officer):
    task = services.case_task_add(
        case=case, by=officer, description="Later", due_at=timezone.now() + timedelta(days=3)
    )
    assert services.case_task_reminders_send().reminded == 0
    assert not task.is_overdue()
    assert task.is_overdue(timezone.now() + timedelta(days=4))


def test_the_beat_schedule_runs_the_reminders():
    from django.conf import settings

    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["screening-task-reminders"]
    assert entry["task"] == "screening.case_task_reminders_send"
    app.loader.import_default_modules()
    assert "screening.case_task_reminders_send" in app.tasks


# --- timeline --------------------------------------------------------------------------------


def test_the_timeline_shows_every_kind_of_step_newest_first_and_pages(
    case, officer, supervisor, colleague, screening_consent
):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    for number in range(3):
        services.case_note_add(case=case, by=officer, kind="other", text=f"Note {number}")
    services.case_close(case=case, by=officer, reason_code="services_in_place")

    first = case_timeline_page(case=case, may_read_narrative=True, per_page=4)
    second = case_timeline_page(
        case=case, may_read_narrative=True, per_page=4, after=first.next_cursor
    )

    titles = [entry.title for entry in [*first, *second]]
    assert titles[0] == "Case closed (support is in place)"
    assert "Consent given: screening" in titles
    assert any(title.startswith("Worker assigned") for title in titles)
    assert [e.detail for e in first if e.source == "note"] == ["Note 2", "Note 1", "Note 0"]
    assert second.next_cursor is None and len(titles) == 6
    ats = [entry.at for entry in [*first, *second]]
    assert ats == sorted(ats, reverse=True)


def test_the_timeline_hides_note_text_from_those_who_may_not_read_the_narrative(case, officer):
    services.case_note_add(case=case, by=officer, kind="safety_planning", text="Code word")
    (entry,) = [
        e for e in case_timeline_page(case=case, may_read_narrative=False) if e.source == "note"
    ]
    assert entry.detail == "" and entry.title == "Note: safety planning"
