"""Single-row rules the database enforces, and what deleting a case takes with it."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from screening import services
from screening.models import (
    Case,
    CaseAssignment,
    CaseShare,
    CaseUserObjectPermission,
    Consent,
    Screening,
    ScreeningOverride,
)
from tests.factories import CaseFactory, ConsentFactory

pytestmark = pytest.mark.django_db


def refused(save) -> bool:
    try:
        with transaction.atomic():
            save()
    except IntegrityError:
        return True
    return False


def test_a_known_age_decides_the_band(agency):
    assert refused(lambda: CaseFactory(agency=agency, age=15, age_band=Case.AgeBand.ADULT))
    assert refused(lambda: CaseFactory(agency=agency, age=40, age_band=Case.AgeBand.UNKNOWN))
    assert not refused(lambda: CaseFactory(agency=agency, age=None, age_band=Case.AgeBand.MINOR))


def test_a_closed_case_records_when_and_by_whom(agency):
    assert refused(lambda: CaseFactory(agency=agency, status=Case.Status.CLOSED))


def test_a_submitted_screening_must_have_its_result(draft):
    draft.status = Screening.Status.SUBMITTED
    assert refused(draft.save)


def test_a_screening_exists_only_when_it_was_safe_to_talk(draft):
    draft.safe_to_talk = "no"
    assert refused(draft.save)


def test_a_draft_has_no_result(draft):
    draft.result = {"outcome": "screen_positive"}
    assert refused(draft.save)


def test_a_withdrawal_records_who_withdrew(case):
    assert refused(lambda: ConsentFactory(case=case, withdrawn_at=timezone.now()))


def test_an_override_needs_a_note(submitted_screening, supervisor):
    assert refused(
        lambda: ScreeningOverride.objects.create(
            screening=submitted_screening,
            outcome="screen_positive",
            reason_code="other",
            note="",
            by=supervisor,
        )
    )


@pytest.fixture
def submitted_screening(draft, officer):
    draft = services.screening_save_answers(
        screening=draft, by=officer, answers={"ran_away": "yes"}, expected_version=draft.version
    )
    return services.screening_submit(screening=draft, by=officer)


def test_deleting_a_case_deletes_its_grants_and_records(
    case, officer, colleague, supervisor, other_agency, submitted_screening
):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    services.screening_override(
        screening=submitted_screening,
        by=supervisor,
        outcome="screen_positive",
        reason_code="professional_judgement",
        note="Seen in person",
    )
    survivor = services.case_create(created_by=officer)
    assert CaseUserObjectPermission.objects.filter(content_object=case).count() == 4

    case.delete()

    assert set(CaseUserObjectPermission.objects.values_list("content_object", flat=True)) == {
        survivor.pk
    }
    for model in (CaseAssignment, CaseShare, Consent, Screening, ScreeningOverride):
        assert not model.objects.exists(), model.__name__
