"""Referrals to the end (issue 14): closing with an outcome by either side, escalation of
every stuck state (with a "revisit consent" task for the case worker), escalating by hand,
proposing by hand behind the consent gate, and routing again after a provider closed
proposes no second referral for the same service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import ActionNotAllowed, InvalidState, ValidationError
from referrals.errors import ReferralNotFound
from referrals.models import Referral, ReferralEvent, ReferralStatus
from referrals.selectors import referral_queue
from referrals.services import (
    referral_close,
    referral_escalate,
    referral_propose,
    referral_route_for_consent,
    referral_route_screening,
    referrals_escalate_overdue,
)
from screening.models import CaseTask, Notification
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import POSITIVE, make_provider, record_referral_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider_agency():
    return AgencyFactory(name="Fictional Harbour Shelter")


@pytest.fixture
def provider_staff(provider_agency):
    return UserFactory(agency=provider_agency, role=Role.PROVIDER_STAFF)


@pytest.fixture
def inbox_provider(provider_agency):
    return make_provider(
        slug="harbour-shelter", channel="inbox", agency=provider_agency, service_types=["shelter"]
    )


# --- closing with an outcome ---


def test_the_provider_closes_an_accepted_referral_with_its_outcome(
    referral_factory, inbox_provider, provider_staff
):
    referral = referral_factory(provider=inbox_provider, status="services_started")
    referral_close(
        referral_id=referral.pk, by=provider_staff, outcome="services_delivered", note="done"
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED
    assert (referral.outcome, referral.closed_by) == ("services_delivered", "provider")
    event = referral.events.get()
    assert (event.to_status, event.reason_code, event.by_provider) == (
        "closed",
        "services_delivered",
        inbox_provider,
    )


def test_the_referring_agency_closes_it_too(referral_factory, officer):
    referral = referral_factory(status="accepted")
    referral_close(referral_id=referral.pk, by=officer, outcome="not_reached")
    referral.refresh_from_db()
    assert (referral.status, referral.closed_by) == ("closed", "referring_agency")


def test_other_needs_a_note_and_nothing_is_saved(referral_factory, officer):
    referral = referral_factory(status="accepted")
    with pytest.raises(ValidationError) as raised:
        referral_close(referral_id=referral.pk, by=officer, outcome="other")
    assert "note" in raised.value.field_errors
    with pytest.raises(ValidationError):
        referral_close(referral_id=referral.pk, by=officer, outcome="went_fishing")
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.outcome == ""


def test_a_referral_not_taken_on_cannot_be_closed(referral_factory, officer):
    referral = referral_factory(status="sent")
    with pytest.raises(InvalidState):
        referral_close(referral_id=referral.pk, by=officer, outcome="moved_away")


def test_strangers_cannot_close(referral_factory, outsider, inbox_provider):
    referral = referral_factory(status="accepted")
    with pytest.raises(ReferralNotFound):
        referral_close(referral_id=referral.pk, by=outsider, outcome="moved_away")
    # Provider staff of another provider's agency.
    stranger = UserFactory(agency=AgencyFactory(name="Elsewhere"), role=Role.PROVIDER_STAFF)
    with pytest.raises(ReferralNotFound):
        referral_close(referral_id=referral.pk, by=stranger, outcome="moved_away")


# --- escalation of every stuck state ---


def test_each_stuck_state_escalates_once_into_the_queue(
    referral_factory, supervisor, settings, case, officer
):
    settings.REFERRAL_CONSENT_WAIT_HOURS = 24
    settings.REFERRAL_START_WAIT_HOURS = 48
    now = timezone.now()
    long_ago = now - timedelta(hours=72)
    approval = referral_factory(due_at=now - timedelta(minutes=5))
    approval_on_time = referral_factory(due_at=now + timedelta(hours=1))
    blocked = referral_factory(
        status="blocked_needs_consent", consent=None, status_changed_at=long_ago
    )
    blocked_recently = referral_factory(
        status="blocked_needs_consent", consent=None, status_changed_at=now
    )
    acknowledged = referral_factory(status="acknowledged", due_at=now - timedelta(hours=1))
    accepted = referral_factory(status="accepted", status_changed_at=long_ago)
    accepted_recently = referral_factory(status="accepted", status_changed_at=now)

    report = referrals_escalate_overdue(now=now)

    reasons = dict(
        Referral.objects.filter(escalated_at__isnull=False).values_list("pk", "escalation_reason")
    )
    assert reasons == {
        approval.pk: "approval_overdue",
        blocked.pk: "consent_overdue",
        acknowledged.pk: "answer_overdue",
        accepted.pk: "start_overdue",
    }
    assert report.escalated == 4 and report.tasks == 1
    queue = set(referral_queue(user=supervisor))
    assert {acknowledged, accepted} <= queue and accepted_recently not in queue
    assert approval_on_time.pk not in reasons and blocked_recently.pk not in reasons
    # The case worker is asked to revisit consent; the supervisors are told, by reference.
    task = CaseTask.objects.get(case=case)
    assert (task.kind, task.assignee) == ("revisit_consent", officer)
    notes = Notification.objects.filter(user=supervisor)
    assert notes.count() == 4
    assert all(case.reference in n.text for n in notes)
    assert referrals_escalate_overdue(now=now).escalated == 0


def test_an_answer_takes_the_referral_out_of_the_queue_again(referral_factory, supervisor):
    from referrals.services.transitions import referral_transition

    referral = referral_factory(status="sent", due_at=timezone.now() - timedelta(hours=1))
    referrals_escalate_overdue()
    referral.refresh_from_db()
    assert referral in list(referral_queue(user=supervisor))
    referral_transition(referral=referral, to="accepted")
    assert referral not in list(referral_queue(user=supervisor))


def test_a_worker_escalates_by_hand_with_a_note(referral_factory, officer, supervisor):
    referral = referral_factory(status="services_started")
    with pytest.raises(ValidationError):
        referral_escalate(referral_id=referral.pk, by=officer, note="  ")
    referral_escalate(referral_id=referral.pk, by=officer, note="Provider stopped replying")
    referral.refresh_from_db()
    assert referral.escalation_reason == "manual"
    assert referral in list(referral_queue(user=supervisor))
    event = referral.events.get(kind=ReferralEvent.Kind.ESCALATED)
    assert (event.by, event.note) == (officer, "Provider stopped replying")
    with pytest.raises(InvalidState):
        referral_escalate(referral_id=referral.pk, by=officer, note="again")


def test_finished_referrals_and_strangers_cannot_escalate(referral_factory, officer, outsider):
    closed = referral_factory(status="declined", decline_reason="other")
    with pytest.raises(InvalidState):
        referral_escalate(referral_id=closed.pk, by=officer, note="why")
    with pytest.raises(ReferralNotFound):
        referral_escalate(referral_id=referral_factory().pk, by=outsider, note="why")


# --- proposing by hand ---


def test_an_officer_proposes_a_referral_that_waits_for_consent_then_approval(
    case, officer, submitted, supervisor
):
    make_provider(slug="legal-one", service_types=["legal_aid"])
    referral = referral_propose(
        case_reference=case.reference,
        by=officer,
        service_type="legal_aid",
        provider_slug="legal-one",
        note="Asked for help with papers",
    )
    assert referral.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
    assert referral.screening == submitted and referral.rule_key == "manual"
    assert referral in list(referral_queue(user=supervisor))
    first = referral.events.order_by("pk").first()
    assert (first.to_status, first.by) == ("proposed", officer)

    with pytest.raises(InvalidState):
        referral_propose(
            case_reference=case.reference,
            by=officer,
            service_type="legal_aid",
            provider_slug="legal-one",
        )


def test_a_consented_manual_proposal_goes_straight_to_approval(case, officer, submitted):
    provider = make_provider(slug="med-one", service_types=["medical"])
    record_referral_consent(case, officer, provider=provider)
    referral = referral_propose(
        case_reference=case.reference, by=officer, service_type="medical", provider_slug="med-one"
    )
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert referral.consent_used is not None


def test_a_proposal_needs_a_provider_serving_the_person_and_a_screening(case, officer, outsider):
    make_provider(slug="closed-one", service_types=["medical"], capacity="closed")
    with pytest.raises(InvalidState, match="does not take referrals"):
        referral_propose(
            case_reference=case.reference,
            by=officer,
            service_type="medical",
            provider_slug="closed-one",
        )
    make_provider(slug="open-one", service_types=["medical"])
    with pytest.raises(InvalidState, match="Screen the person first"):
        referral_propose(
            case_reference=case.reference,
            by=officer,
            service_type="medical",
            provider_slug="open-one",
        )
    assert not Referral.objects.exists()


def test_wrong_agency_and_read_only_roles_cannot_propose(case, submitted, outsider):
    from config.errors import CaseNotFound

    make_provider(slug="open-one", service_types=["medical"])
    with pytest.raises((CaseNotFound, ActionNotAllowed)):
        referral_propose(
            case_reference=case.reference,
            by=outsider,
            service_type="medical",
            provider_slug="open-one",
        )


# --- no duplicates when a provider closed ---


def test_a_consent_recorded_while_the_provider_is_closed_unblocks_instead_of_duplicating(
    case, officer, routing_rules, submit
):
    first = make_provider(slug="shelter-one", name="A Shelter", service_types=["shelter"])
    make_provider(slug="shelter-two", name="B Shelter", service_types=["shelter"])
    screening = submit(case, POSITIVE)
    referral_route_screening(screening_id=screening.pk)
    blocked = Referral.objects.get(case=case, service_type="shelter")
    assert (blocked.provider, blocked.status) == (first, "blocked_needs_consent")
    # The first provider stops taking referrals; then the person consents.
    first.capacity = "closed"
    first.save()
    consent = record_referral_consent(case, officer, service_type="shelter")
    referral_route_for_consent(consent_id=consent.pk)

    shelters = Referral.objects.filter(case=case, service_type="shelter")
    assert list(shelters) == [blocked]
    blocked.refresh_from_db()
    assert blocked.status == "pending_approval"
