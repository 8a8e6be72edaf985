"""Legal hold: supervisors of the case's agency keep a case out of the retention purge, with a
reason, recorded in the case's change history. All people are fictional."""

import pytest

from config.errors import ActionNotAllowed, CaseNotFound, InvalidState, ValidationError
from screening import services
from screening.models import Case
from screening.services.legal_hold import case_legal_hold_release, case_legal_hold_set

pytestmark = pytest.mark.django_db


def test_a_supervisor_puts_a_case_on_hold_with_a_reason_recorded_in_its_history(case, supervisor):
    case_legal_hold_set(case=case, by=supervisor, reason="  Evidence in a labour trial.  ")

    case.refresh_from_db()
    assert case.on_legal_hold
    assert case.legal_hold_by == supervisor
    assert case.legal_hold_reason == "Evidence in a labour trial."
    latest = case.history.order_by("-history_date", "-history_id").first()
    assert latest.history_user == supervisor
    assert latest.legal_hold_at == case.legal_hold_at


def test_releasing_clears_the_hold_and_is_recorded(case, supervisor):
    case_legal_hold_set(case=case, by=supervisor, reason="Records request.")
    case_legal_hold_release(case=case, by=supervisor)

    case.refresh_from_db()
    assert not case.on_legal_hold
    assert (case.legal_hold_by, case.legal_hold_reason) == (None, "")
    held, released = case.history.order_by("-history_date", "-history_id")[:2][::-1]
    assert held.legal_hold_at is not None and released.legal_hold_at is None
    assert released.history_user == supervisor


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_a_hold_needs_a_reason_and_nothing_is_saved_without_one(case, supervisor, reason):
    with pytest.raises(ValidationError) as refused:
        case_legal_hold_set(case=case, by=supervisor, reason=reason)
    assert list(refused.value.field_errors) == ["reason"]
    assert not Case.objects.get(pk=case.pk).on_legal_hold


def test_an_overlong_reason_is_refused(case, supervisor):
    with pytest.raises(ValidationError):
        case_legal_hold_set(case=case, by=supervisor, reason="x" * 2001)
    assert not Case.objects.get(pk=case.pk).on_legal_hold


def test_the_case_worker_may_see_the_case_but_not_hold_it(case, officer, colleague, supervisor):
    services.case_assign(case=case, worker=colleague, by=supervisor)  # a social worker
    for worker in (officer, colleague):
        with pytest.raises(ActionNotAllowed):
            case_legal_hold_set(case=case, by=worker, reason="Keep it.")
    case_legal_hold_set(case=case, by=supervisor, reason="Keep it.")
    with pytest.raises(ActionNotAllowed):
        case_legal_hold_release(case=case, by=officer)
    assert Case.objects.get(pk=case.pk).on_legal_hold


def test_another_agency_cannot_find_the_case(case, outsider):
    with pytest.raises(CaseNotFound):
        case_legal_hold_set(case=case, by=outsider, reason="Keep it.")
    assert not Case.objects.get(pk=case.pk).on_legal_hold


def test_holding_twice_or_releasing_what_is_not_held_is_refused(case, supervisor):
    with pytest.raises(InvalidState):
        case_legal_hold_release(case=case, by=supervisor)
    case_legal_hold_set(case=case, by=supervisor, reason="First reason.")
    with pytest.raises(InvalidState):
        case_legal_hold_set(case=case, by=supervisor, reason="Second reason.")
    assert Case.objects.get(pk=case.pk).legal_hold_reason == "First reason."


def test_a_closed_case_can_be_held(case, supervisor):
    services.case_close(case=case, by=supervisor)
    case_legal_hold_set(case=case, by=supervisor, reason="Appeal pending.")
    assert Case.objects.get(pk=case.pk).on_legal_hold
