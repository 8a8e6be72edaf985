"""The transition table is enforced in one function: every legal step works and writes an
event; no illegal step succeeds, for every pair of statuses."""

import itertools

import pytest

from config.errors import ValidationError
from referrals.errors import IllegalTransition
from referrals.models import Referral, ReferralEvent, ReferralStatus
from referrals.services.transitions import TRANSITIONS, referral_transition

pytestmark = pytest.mark.django_db

ALL = list(ReferralStatus.values)
PAIRS = list(itertools.product(ALL, ALL))
LEGAL = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


@pytest.fixture
def referral(case, officer, provider_factory, start_screening, screening_consent):
    from screening import services

    screening = services.screening_submit(screening=start_screening(case), by=officer)
    return Referral.objects.create(
        case=case,
        case_agency_id=case.agency_id,
        screening=screening,
        provider=provider_factory(),
        service_type="shelter",
        mandatory=True,  # so the consent constraint never interferes with the table
        due_at=screening.submitted_at,
    )


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(ALL)
    assert all(targets <= set(ALL) for targets in TRANSITIONS.values())


def test_terminal_statuses_go_nowhere():
    for status in ("declined", "closed", "cancelled", "expired"):
        assert TRANSITIONS[status] == frozenset()


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL)
def test_legal_transitions_succeed_and_are_recorded(referral, from_status, to_status):
    # A decline needs its reason, a closing its outcome: both given.
    Referral.objects.filter(pk=referral.pk).update(
        status=from_status, decline_reason="other", outcome="other"
    )
    referral.refresh_from_db()
    referral_transition(referral=referral, to=to_status, reason_code="no_capacity", note="n")
    referral.refresh_from_db()
    assert referral.status == to_status
    event = ReferralEvent.objects.get(referral=referral)
    assert (event.from_status, event.to_status) == (from_status, to_status)


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_illegal_transitions_raise_and_change_nothing(referral, from_status, to_status):
    Referral.objects.filter(pk=referral.pk).update(
        status=from_status, decline_reason="other", outcome="other"
    )
    referral.refresh_from_db()
    with pytest.raises(IllegalTransition):
        referral_transition(referral=referral, to=to_status)
    referral.refresh_from_db()
    assert referral.status == from_status
    assert not ReferralEvent.objects.filter(referral=referral).exists()


def test_a_decline_needs_a_reason_code(referral):
    Referral.objects.filter(pk=referral.pk).update(status="sent")
    referral.refresh_from_db()
    with pytest.raises(ValidationError):
        referral_transition(referral=referral, to="declined")
    referral.refresh_from_db()
    assert referral.status == "sent"


def test_the_happy_path_is_legal_end_to_end(referral):
    path = [
        "proposed",
        "pending_approval",
        "approved",
        "sent",
        "acknowledged",
        "accepted",
        "services_started",
        "closed",
    ]
    for to_status in path[1:]:
        if to_status == "closed":
            referral.outcome = Referral.Outcome.SERVICES_DELIVERED
        referral_transition(referral=referral, to=to_status)
    assert list(referral.events.values_list("to_status", flat=True)) == path[1:]
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("closed", "services_delivered")


def test_closing_without_an_outcome_is_refused_and_changes_nothing(referral):
    Referral.objects.filter(pk=referral.pk).update(status="services_started")
    referral.refresh_from_db()
    with pytest.raises(ValidationError) as raised:
        referral_transition(referral=referral, to="closed")
    assert "outcome" in raised.value.field_errors
    referral.refresh_from_db()
    assert referral.status == "services_started" and not referral.events.exists()


def test_a_new_status_clears_the_escalation_of_the_old_one(referral):
    from django.utils import timezone

    Referral.objects.filter(pk=referral.pk).update(
        status="sent", escalated_at=timezone.now(), escalation_reason="answer_overdue"
    )
    referral.refresh_from_db()
    assert referral.queue_rank == 1
    referral_transition(referral=referral, to="acknowledged")
    referral.refresh_from_db()
    assert referral.escalated_at is None and referral.escalation_reason == ""
    assert referral.queue_rank is None
    assert referral.status_changed_at is not None
