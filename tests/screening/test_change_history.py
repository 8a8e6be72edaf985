"""A case's change history (`screening.history`): who changed which field of what, and when;
old and new values of non-identifying fields, only "changed" for encrypted ones, whose plain
text is in no history table. All people and details are fictional."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.errors import ActionNotAllowed, CaseNotFound
from screening import services
from screening.history import case_change_history, staff_change_history
from screening.models import Consent
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Distinctive values for every encrypted field these tests write.
SECRETS = {
    "name": "Quillon Vexmar",
    "phone": "+44 7700 900461",
    "documents": "Passport ZX9981734",
    "narrative": "Brought over by a cousin called Brannoch",
    "witness": "Witness Ottoline Farquay",
    "withdrawal": "Withdrew after a call from Brannoch",
    "close": "Closed because Vexmar moved to Dunmarrow",
    "summary": "Caller says Vexmar sleeps in the depot",
    "location": "Behind the Dunmarrow cannery",
    "review": "Reviewed: Vexmar's answers consistent",
    "override": "Override: Vexmar seen at the cannery",
    "void": "Voided: wrong Vexmar",
}


def changes_of(supervisor, case, what: str):
    return [c for c in case_change_history(user=supervisor, case=case).changes if c.what == what]


def fields_of(change) -> dict[str, tuple[str | None, str | None, bool]]:
    return {f.field: (f.old, f.new, f.sealed) for f in change.fields}


def test_creation_is_listed_with_who_and_when(officer, supervisor):
    before = timezone.now()
    case = services.case_create(created_by=officer, age=30)
    [created] = changes_of(supervisor, case, "Case")
    assert created.kind == "Created" and created.is_creation and created.fields == ()
    assert created.who == officer.get_full_name()
    assert before <= created.at <= timezone.now()


def test_closing_shows_old_and_new_status_and_only_that_the_reason_changed(officer, supervisor):
    case = services.case_create(created_by=officer, age=30)
    services.case_close(case=case, by=supervisor, reason=SECRETS["close"])

    closed, _created = changes_of(supervisor, case, "Case")
    fields = fields_of(closed)
    assert closed.who == supervisor.get_full_name()
    assert fields["Status"] == ("Open", "Closed", False)
    assert fields["Closed by"] == ("—", supervisor.get_full_name(), False)
    assert fields["Close reason"] == (None, None, True)
    assert SECRETS["close"] not in repr(closed)


def test_a_submitted_screening_shows_its_status_and_the_case_its_new_flag(
    draft, officer, supervisor
):
    draft = services.screening_save_answers(
        screening=draft,
        by=officer,
        answers={"ran_away": "no", "police_contact": "no", "injury": "no", "in_danger_now": "yes"},
        expected_version=draft.version,
    )
    submitted = services.screening_submit(screening=draft, by=officer)
    services.screening_review(screening=submitted, by=supervisor, note=SECRETS["review"])

    reviewed, submit, created = changes_of(supervisor, draft.case, f"Screening {draft.pk}")
    assert created.kind == "Created"
    assert fields_of(submit)["Status"] == ("Draft", "Submitted", False)
    assert fields_of(reviewed)["Status"] == ("Submitted", "Reviewed", False)
    assert fields_of(reviewed)["Review note"] == (None, None, True)
    flagged = changes_of(supervisor, draft.case, "Case")[0]
    assert fields_of(flagged)["Urgent"] == ("No", "Yes", False)
    assert flagged.who == officer.get_full_name()


def test_consent_withdrawal_shows_who_and_hides_the_note(case, officer, supervisor):
    consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.SCREENING,
        method=Consent.Method.VERBAL,
        witness=SECRETS["witness"],
    )
    services.consent_withdraw(consent=consent, by=supervisor, note=SECRETS["withdrawal"])

    withdrawn, created = changes_of(supervisor, case, f"Consent {consent.pk}")
    fields = fields_of(withdrawn)
    assert withdrawn.who == supervisor.get_full_name() and created.kind == "Created"
    assert fields["Withdrawn by"] == ("—", supervisor.get_full_name(), False)
    assert fields["Withdrawal note"] == (None, None, True)
    assert "Witness" not in fields  # not changed, not listed


def test_an_override_is_listed_on_its_case(draft, officer, supervisor):
    submitted = services.screening_submit(screening=draft, by=officer)
    override = services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_positive",
        reason_code="professional_judgement",
        note=SECRETS["override"],
    )
    [change] = changes_of(supervisor, draft.case, f"Override {override.pk} of screening {draft.pk}")
    assert (change.kind, change.who) == ("Created", supervisor.get_full_name())


@pytest.fixture
def hotline_staff(agency):
    """Logs contacts about any case of the agency: a supervisor (plain hotline staff see
    only cases they are given)."""
    return UserFactory(agency=agency, role=Role.SUPERVISOR)


def test_a_contacts_changes_show_on_the_case_it_is_linked_to(case, hotline_staff, supervisor):
    contact = services.contact_create(
        created_by=hotline_staff,
        channel="phone",
        contact_type="tip",
        summary=SECRETS["summary"],
        case_reference=case.reference,
    )
    services.contact_update(
        contact=contact,
        by=hotline_staff,
        expected_version=1,
        changes={"immediate_danger": True, "situation_location": SECRETS["location"]},
    )
    changed, created = changes_of(supervisor, case, f"Contact {contact.pk}")
    fields = fields_of(changed)
    assert created.who == hotline_staff.get_full_name()
    assert fields["Immediate danger"] == ("No", "Yes", False)
    assert fields["Situation location"] == (None, None, True)
    assert "Summary" not in fields and "Version" not in fields

    # Unlinked later: its history still shows here, without naming where it went.
    services.contact_update(contact=contact, by=hotline_staff, expected_version=2, changes={})
    services.contact_update(
        contact=contact, by=hotline_staff, expected_version=3, changes={"case": None}
    )
    unlinked = changes_of(supervisor, case, f"Contact {contact.pk}")[0]
    assert fields_of(unlinked)["Case"] == ("this case", "—", False)


def test_a_save_that_changes_nothing_shown_is_not_a_change(case, hotline_staff, supervisor):
    contact = services.contact_create(
        created_by=hotline_staff, channel="phone", contact_type="tip", case_reference=case.reference
    )
    services.contact_update(contact=contact, by=hotline_staff, expected_version=1, changes={})
    assert [c.kind for c in changes_of(supervisor, case, f"Contact {contact.pk}")] == ["Created"]


def test_only_supervisors_of_the_owning_agency_see_the_changes(case, officer, outsider):
    with pytest.raises(ActionNotAllowed):
        case_change_history(user=officer, case=case)
    with pytest.raises(CaseNotFound):
        case_change_history(user=outsider, case=case.reference)


def test_the_newest_changes_come_first_up_to_the_limit(case, officer, supervisor):
    consents = [
        services.consent_record(
            case=case,
            by=officer,
            scope=Consent.Scope.SCREENING,
            method=Consent.Method.VERBAL,
            given_at=timezone.now() - timedelta(minutes=minutes),
        )
        for minutes in (3, 2, 1)
    ]
    changes = case_change_history(user=supervisor, case=case, limit=2).changes
    assert [c.what for c in changes] == [f"Consent {consents[2].pk}", f"Consent {consents[1].pk}"]


def test_the_query_count_does_not_grow_with_the_history(
    case, officer, supervisor, django_assert_num_queries
):
    def record_and_withdraw(count):
        for _ in range(count):
            consent = services.consent_record(
                case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
            )
            services.consent_withdraw(consent=consent, by=officer)

    record_and_withdraw(2)
    assert supervisor.role_names  # the roles, loaded once per request (the page header needs them)
    # the case's access check, one query per model (case, consents, screenings, overrides,
    # contacts) and one for the staff named in changed fields
    with django_assert_num_queries(7):
        few = case_change_history(user=supervisor, case=case).changes
    record_and_withdraw(5)
    with django_assert_num_queries(7):
        more = case_change_history(user=supervisor, case=case).changes
    assert len(more) == len(few) + 10


def test_no_plaintext_of_an_encrypted_field_is_in_any_history_table(
    agency, officer, supervisor, hotline_staff, instrument_version
):
    case = services.case_create(
        created_by=officer,
        age=30,
        identifying_name=SECRETS["name"],
        identifying_phone=SECRETS["phone"],
        identifying_documents=SECRETS["documents"],
        narrative=SECRETS["narrative"],
    )
    consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.SCREENING,
        method=Consent.Method.VERBAL,
        witness=SECRETS["witness"],
    )
    screening = services.screening_start(
        case=case,
        by=officer,
        instrument_version=instrument_version,
        setting="station",
        safe_to_talk="yes",
        alone="yes",
    )
    submitted = services.screening_submit(screening=screening, by=officer)
    services.screening_review(screening=submitted, by=supervisor, note=SECRETS["review"])
    services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_positive",
        reason_code="other",
        note=SECRETS["override"],
    )
    services.screening_void(screening=submitted, by=supervisor, reason=SECRETS["void"])
    contact = services.contact_create(
        created_by=hotline_staff,
        channel="phone",
        contact_type="tip",
        summary=SECRETS["summary"],
        situation_location=SECRETS["location"],
        case_reference=case.reference,
    )
    services.contact_finalise(contact=contact, by=hotline_staff)
    services.consent_withdraw(consent=consent, by=officer, note=SECRETS["withdrawal"])
    services.case_close(case=case, by=supervisor, reason=SECRETS["close"])

    changes = case_change_history(user=supervisor, case=case).changes
    assert len(changes) >= 10
    shown = repr(changes)
    found = _history_cells_containing(SECRETS.values())
    assert found == []
    assert [secret for secret in SECRETS.values() if secret in shown] == []


def _history_cells_containing(secrets) -> list[str]:
    """Every history table's every column read with SQL, as text."""
    quote = connection.ops.quote_name
    hits = []
    with connection.cursor() as cursor:
        tables = [
            name
            for name in connection.introspection.table_names(cursor)
            if name.startswith(("screening_historical", "referrals_historical"))
        ]
        assert "screening_historicalcase" in tables and "referrals_historicalreferral" in tables
        for table in tables:
            columns = [
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = str(value)
                    hits += [f"{table}.{column}" for secret in secrets if secret in text]
    return hits


# --- staff --------------------------------------------------------------------------------


def test_a_role_change_shows_the_roles_before_and_after(officer, agency):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    services.staff_roles_set(user=officer, roles=[Role.SOCIAL_WORKER, Role.SUPERVISOR], by=admin)
    latest = staff_change_history(user=admin, member=officer)[0]
    assert latest.who == admin.get_full_name()
    assert fields_of(latest)["Roles"] == ("Frontline officer", "Social worker, Supervisor", False)


def test_a_members_history_is_for_their_agencys_administrators(officer, supervisor, outsider):
    for user in (supervisor, UserFactory(agency=outsider.agency, role=Role.AGENCY_ADMIN)):
        with pytest.raises(ActionNotAllowed):
            staff_change_history(user=user, member=officer)
