"""Every tracked write leaves a change-history row naming who made it, and the draft autosave
leaves none. All people are fictional."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from config.errors import ActionNotAllowed, ValidationError
from screening import services
from screening.models import Case, Consent, Contact, Screening, User
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def rows(model, pk) -> list[tuple[str, str | None]]:
    """(history type, author's username) of an object's history, oldest first."""
    history = model.history.filter(id=pk).select_related("history_user")
    return [
        (row.history_type, row.history_user.username if row.history_user else None)
        for row in history.order_by("history_date", "history_id")
    ]


def test_a_case_records_its_creation_and_closing_with_who(officer, supervisor):
    case = services.case_create(created_by=officer, age=30)
    services.case_close(case=case, by=supervisor, reason="Moved away (fictional).")
    assert rows(Case, case.pk) == [("+", officer.username), ("~", supervisor.username)]
    closed = Case.history.filter(id=case.pk).latest("history_date", "history_id")
    assert closed.status == Case.Status.CLOSED and closed.history_date <= timezone.now()


def test_consent_records_recording_and_withdrawal(case, officer, colleague):
    services.case_assign(
        case=case,
        worker=colleague,
        by=UserFactory(agency=officer.agency, role=Role.SUPERVISOR),
    )
    consent = services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    services.consent_withdraw(consent=consent, by=colleague, note="Changed her mind.")
    assert rows(Consent, consent.pk) == [("+", officer.username), ("~", colleague.username)]


def test_screening_status_changes_are_recorded_but_autosaves_are_not(draft, officer, supervisor):
    for answer in ("yes", "no", "yes"):
        draft = services.screening_save_answers(
            screening=draft,
            by=officer,
            answers={"ran_away": answer},
            expected_version=draft.version,
        )
    assert rows(Screening, draft.pk) == [("+", officer.username)]

    submitted = services.screening_submit(screening=draft, by=officer)
    services.screening_review(screening=submitted, by=supervisor, note="Checked.")
    assert rows(Screening, draft.pk) == [
        ("+", officer.username),
        ("~", officer.username),
        ("~", supervisor.username),
    ]
    statuses = Screening.history.filter(id=draft.pk).order_by("history_date", "history_id")
    assert [row.status for row in statuses] == ["draft", "submitted", "reviewed"]


@pytest.fixture
def submitted(draft, officer) -> Screening:
    answers = {"ran_away": "yes", "police_contact": "yes", "injury": "no", "in_danger_now": "no"}
    saved = services.screening_save_answers(
        screening=draft, by=officer, answers=answers, expected_version=draft.version
    )
    return services.screening_submit(screening=saved, by=officer)


def test_voiding_and_the_override_are_recorded(submitted, supervisor):
    override = services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_negative",
        reason_code="professional_judgement",
        note="Seen before (fictional).",
    )
    services.screening_void(screening=submitted, by=supervisor, reason="Wrong person.")
    assert rows(type(override), override.pk) == [("+", supervisor.username)]
    assert rows(Screening, submitted.pk)[-1] == ("~", supervisor.username)


def test_closing_a_case_records_each_voided_draft(case, draft, supervisor):
    services.case_close(case=case, by=supervisor)
    voided = Screening.history.filter(id=draft.pk).latest("history_date", "history_id")
    assert (voided.status, voided.history_user) == (Screening.Status.VOIDED, supervisor)


@pytest.fixture
def hotline_staff(agency) -> User:
    return UserFactory(agency=agency, role=Role.HOTLINE_STAFF)


def test_a_contact_logged_without_signals_still_gets_its_creation_row(hotline_staff, supervisor):
    contact = services.contact_create(
        created_by=hotline_staff, channel="phone", contact_type="tip", summary="A tip (fictional)."
    )
    created = Contact.history.get(id=contact.pk, history_type="+")
    stored = Contact.objects.get(pk=contact.pk)
    # The row is the one simple-history would have written: every tracked field, the same.
    for field in created.tracked_fields:
        assert getattr(created, field.attname) == getattr(stored, field.attname), field.name
    assert created.summary == "A tip (fictional)."

    contact = services.contact_update(
        contact=contact, by=supervisor, expected_version=1, changes={"immediate_danger": True}
    )
    services.contact_finalise(contact=contact, by=hotline_staff)

    assert rows(Contact, contact.pk) == [
        ("+", hotline_staff.username),
        ("~", supervisor.username),
        ("~", hotline_staff.username),
    ]


# --- staff roles ---------------------------------------------------------------------------


@pytest.fixture
def agency_admin(agency) -> User:
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN)


def roles_in_history(user: User) -> list[set[str]]:
    history = User.history.filter(id=user.pk).order_by("history_date", "history_id")
    return [{row.group.name for row in record.groups.all()} for record in history]


def test_a_role_change_is_one_history_row_with_the_roles_after_it(officer, agency_admin):
    before = roles_in_history(officer)
    services.staff_roles_set(
        user=officer, roles=[Role.SOCIAL_WORKER, Role.SUPERVISOR], by=agency_admin
    )

    after = roles_in_history(officer)
    assert after[:-1] == before and before[-1] == {"frontline_officer"}
    assert after[-1] == {"social_worker", "supervisor"}
    latest = User.history.filter(id=officer.pk).latest("history_date", "history_id")
    assert latest.history_user == agency_admin
    assert officer.role_names == {"social_worker", "supervisor"}


def test_taking_a_role_away_is_recorded_and_setting_the_same_roles_writes_nothing(
    agency, agency_admin
):
    member = UserFactory(agency=agency, role=Role.SUPERVISOR)
    member.groups.add(Group.objects.get(name=Role.SOCIAL_WORKER))
    count = User.history.filter(id=member.pk).count()

    services.staff_roles_set(user=member, roles=[Role.SOCIAL_WORKER], by=agency_admin)
    services.staff_roles_set(user=member, roles=[Role.SOCIAL_WORKER], by=agency_admin)

    assert User.history.filter(id=member.pk).count() == count + 1
    assert roles_in_history(member)[-1] == {"social_worker"}


def test_groups_that_are_not_roles_stay(officer, agency_admin):
    team = Group.objects.create(name="night shift")
    officer.groups.add(team)
    services.staff_roles_set(user=officer, roles=[Role.SUPERVISOR], by=agency_admin)
    assert set(officer.groups.values_list("name", flat=True)) == {"night shift", "supervisor"}


def test_only_an_administrator_of_the_members_agency_changes_roles(officer, supervisor, outsider):
    other_admin = UserFactory(agency=outsider.agency, role=Role.AGENCY_ADMIN)
    for by in (supervisor, other_admin):
        with pytest.raises(ActionNotAllowed):
            services.staff_roles_set(user=officer, roles=[Role.SUPERVISOR], by=by)
    with pytest.raises(ValidationError):
        services.staff_roles_set(user=officer, roles=["emperor"], by=None)
    assert officer.groups.get().name == Role.FRONTLINE_OFFICER


def test_seeded_staff_get_a_creation_row_and_a_role_row(agency):
    services.staff_ensure(
        username="seeded", agency_name=agency.name, role=Role.SUPERVISOR, password="x-Y-z-12345"
    )
    member = User.objects.get(username="seeded")
    assert [row.history_type for row in User.history.filter(id=member.pk)] == ["~", "+"]
    assert roles_in_history(member) == [set(), {"supervisor"}]


def test_history_model_is_the_model_simple_history_registered_for_every_tracked_model():
    """`config.history.history_model` reads simple-history's descriptor without going through
    it (no manager built): the same historical model the manager would give."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    from config.history import history_model

    tracked = [
        model
        for model in apps.get_models()
        if hasattr(model._meta, "simple_history_manager_attribute")
    ]
    assert {Case, Consent, Contact, Screening} <= set(tracked)
    for model in tracked:
        historical = history_model(model)
        assert historical is getattr(model, model._meta.simple_history_manager_attribute).model
        assert issubclass(historical, HistoricalChanges)
