import pytest

from config import errors
from screening import services
from screening.models import Agency, Case, CaseAssignment, CaseShare, Consent, Screening
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_case_create_owns_the_case_by_the_creators_agency_and_grants_the_creator(officer):
    case = services.case_create(
        created_by=officer,
        age=34,
        gender=Case.Gender.FEMALE,
        languages=["es", " es ", "qu"],
        exploitation_type=Case.ExploitationType.LABOUR,
        identifying_name="Fictional Person",
        safe_to_contact="no",
        do_not_contact=True,
    )
    assert case.agency == officer.agency
    assert case.age_band == Case.AgeBand.ADULT
    assert case.languages == ["es", "qu"]
    assert case.reference.startswith("C-")
    assert "Fictional" not in case.reference
    assert officer.has_perm("screening.view_case", case)
    assert officer.has_perm("screening.change_case", case)
    assert not case.mandatory_report_required


def test_a_case_created_for_a_minor_is_flagged_for_a_mandatory_report(officer):
    case = services.case_create(created_by=officer, age=15)
    assert case.age_band == Case.AgeBand.MINOR
    assert case.mandatory_report_required


def test_case_create_rejects_bad_fields_and_saves_nothing(officer):
    with pytest.raises(errors.ValidationError) as caught:
        services.case_create(
            created_by=officer, age=130, languages="es", exploitation_type="unknown"
        )
    assert set(caught.value.field_errors) == {"age", "languages"}
    with pytest.raises(errors.ValidationError) as caught:
        services.case_create(created_by=officer, exploitation_type="organ_removal")
    assert "exploitation_type" in caught.value.field_errors
    with pytest.raises(errors.ValidationError) as caught:
        services.case_create(created_by=officer, age=16, age_band=Case.AgeBand.ADULT)
    assert "age_band" in caught.value.field_errors
    assert not Case.objects.exists()


def test_agency_administrators_do_not_create_cases(agency):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    with pytest.raises(errors.ActionNotAllowed):
        services.case_create(created_by=admin)
    assert not Case.objects.exists()


def test_a_supervisor_assigns_a_worker_who_can_then_change_the_case(case, supervisor, colleague):
    assert not colleague.has_perm("screening.change_case", case)

    assignment = services.case_assign(case=case, worker=colleague, by=supervisor)
    again = services.case_assign(case=case, worker=colleague, by=supervisor)

    assert again == assignment
    assert assignment.assigned_by == supervisor
    assert list(case.assigned_workers.all()) == [colleague]
    assert colleague.has_perm("screening.change_case", case)


def test_a_worker_cannot_assign_and_nobody_can_assign_to_another_agency(
    case, officer, colleague, supervisor, outsider
):
    with pytest.raises(errors.ActionNotAllowed):
        services.case_assign(case=case, worker=colleague, by=officer)
    with pytest.raises(errors.ValidationError) as caught:
        services.case_assign(case=case, worker=outsider, by=supervisor)
    assert "worker" in caught.value.field_errors
    with pytest.raises(errors.CaseNotFound):
        services.case_assign(case=case, worker=outsider, by=outsider)
    assert not CaseAssignment.objects.exists()


def test_unassigning_removes_the_workers_grants(case, supervisor, colleague):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    services.case_unassign(case=case, worker=colleague, by=supervisor)
    colleague = type(colleague).objects.get(pk=colleague.pk)
    assert not colleague.has_perm("screening.view_case", case)
    assert not case.assigned_workers.exists()


def test_case_share_needs_a_reason_and_another_agency(case, supervisor, other_agency):
    with pytest.raises(errors.ValidationError) as caught:
        services.case_share(case=case, agency=other_agency, reason="  ", by=supervisor)
    assert "reason" in caught.value.field_errors
    with pytest.raises(errors.ValidationError) as caught:
        services.case_share(case=case, agency=case.agency, reason="why", by=supervisor)
    assert "agency" in caught.value.field_errors
    assert not CaseShare.objects.exists()

    share = services.case_share(
        case=case, agency=other_agency, reason="Joint casework", by=supervisor
    )
    assert share.shared_by == supervisor
    # The copy "cases shared with my agency" walks in list order is the case's own time.
    share.refresh_from_db()
    assert share.case_created_at == Case.objects.get(pk=case.pk).created_at
    with pytest.raises(errors.InvalidState):
        services.case_share(case=case, agency=other_agency, reason="again", by=supervisor)


def test_sharing_with_law_enforcement_needs_that_consent_unless_reporting_is_mandatory(
    case, officer, supervisor
):
    police = AgencyFactory(kind=Agency.Kind.LAW_ENFORCEMENT)
    with pytest.raises(errors.ConsentRequired):
        services.case_share(case=case, agency=police, reason="Investigation", by=supervisor)

    services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.LAW_ENFORCEMENT_SHARING,
        method=Consent.Method.WRITTEN,
        valid_until=case.created_at.replace(year=case.created_at.year + 1),
    )
    assert services.case_share(case=case, agency=police, reason="Investigation", by=supervisor)

    minor_case = services.case_create(created_by=officer, age=14)
    assert services.case_share(case=minor_case, agency=police, reason="Report", by=supervisor)


def test_closing_a_case_voids_its_drafts_and_is_idempotent(case, officer, draft):
    closed = services.case_close(case=case, by=officer, reason="Moved away")
    again = services.case_close(case=case, by=officer)

    assert closed.status == again.status == Case.Status.CLOSED
    assert again.closed_at == closed.closed_at
    draft.refresh_from_db()
    assert draft.status == Screening.Status.VOIDED
    assert draft.voided_by == officer


def test_a_shared_to_agency_may_not_close_the_case(case, supervisor, outsider, other_agency):
    services.case_share(case=case, agency=other_agency, reason="Joint casework", by=supervisor)
    with pytest.raises(errors.ActionNotAllowed):
        services.case_close(case=case, by=outsider)
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
