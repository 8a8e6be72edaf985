"""Supervisor decisions and the queue: who may decide, approval writes the outbox row in the
same transaction, declines need a reason, the queue's order, filters and query count."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.errors import ActionNotAllowed, ConsentRequired, InvalidState, ValidationError
from referrals.errors import ReferralNotFound
from referrals.events import REFERRAL_DISPATCH
from referrals.models import Referral, ReferralStatus
from referrals.selectors import referral_event_list, referral_queue
from referrals.services import referral_approve, referral_decline, referral_retry_delivery
from screening import services
from screening.models import Consent
from screening.roles import Role
from tests.factories import UserFactory
from tests.outbox import outbox_rows

pytestmark = pytest.mark.django_db


def test_approval_writes_the_outbox_row_in_the_same_transaction(referral_factory, supervisor):
    referral = referral_factory()
    approved = referral_approve(referral_id=referral.pk, by=supervisor)
    assert approved.status == ReferralStatus.APPROVED
    assert approved.approved_by == supervisor
    message = outbox_rows(subject=referral).get()
    assert message.topic == REFERRAL_DISPATCH
    assert message.completed_at is None


def test_a_rolled_back_approval_leaves_no_outbox_row(referral_factory, supervisor):
    referral = referral_factory()
    with pytest.raises(RuntimeError), transaction.atomic():
        referral_approve(referral_id=referral.pk, by=supervisor)
        raise RuntimeError("the request failed after the service")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert not outbox_rows(REFERRAL_DISPATCH).exists()


def test_approving_twice_writes_one_outbox_row(referral_factory, supervisor):
    referral = referral_factory()
    referral_approve(referral_id=referral.pk, by=supervisor)
    referral_approve(referral_id=referral.pk, by=supervisor)
    assert outbox_rows(REFERRAL_DISPATCH, referral).count() == 1


def test_approval_checks_the_consent_again(referral_factory, supervisor, officer):
    referral = referral_factory()
    Consent.objects.filter(pk=referral.consent_used_id).update(
        valid_until=timezone.now() - timedelta(seconds=1),
        given_at=timezone.now() - timedelta(days=1),
    )
    with pytest.raises(ConsentRequired):
        referral_approve(referral_id=referral.pk, by=supervisor)
    assert not outbox_rows(REFERRAL_DISPATCH).exists()


def test_a_mandatory_referral_is_approved_without_consent(referral_factory, supervisor):
    referral = referral_factory(mandatory=True, service_type="child_welfare")
    assert referral_approve(referral_id=referral.pk, by=supervisor).consent_used is None


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("outsider", ReferralNotFound),
        ("officer", ActionNotAllowed),
        ("anonymous", ReferralNotFound),
    ],
)
def test_only_a_supervisor_of_the_owning_agency_decides(referral_factory, who, error, request):
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    referral = referral_factory()
    with pytest.raises(error):
        referral_approve(referral_id=referral.pk, by=user)
    with pytest.raises(error):
        referral_decline(referral_id=referral.pk, by=user, reason_code="duplicate")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL


def test_a_decline_needs_a_supervisor_reason_code(referral_factory, supervisor):
    referral = referral_factory()
    with pytest.raises(ValidationError):
        referral_decline(referral_id=referral.pk, by=supervisor, reason_code="no_capacity")
    with pytest.raises(ValidationError):
        referral_decline(referral_id=referral.pk, by=supervisor, reason_code="other")
    declined = referral_decline(
        referral_id=referral.pk, by=supervisor, reason_code="person_declined", note="Said no."
    )
    assert declined.status == ReferralStatus.DECLINED
    assert declined.declined_by == Referral.DecidedBy.SUPERVISOR
    event = declined.events.get()
    assert (event.by, event.reason_code) == (supervisor, "person_declined")


def test_an_approved_referral_cannot_be_declined(referral_factory, supervisor):
    referral = referral_factory(status="approved")
    with pytest.raises(InvalidState):
        referral_decline(referral_id=referral.pk, by=supervisor, reason_code="duplicate")


def test_a_failed_delivery_can_be_retried(referral_factory, supervisor):
    referral = referral_factory(status="failed", delivery_attempts=8)
    retried = referral_retry_delivery(referral_id=referral.pk, by=supervisor)
    assert retried.status == ReferralStatus.APPROVED
    assert retried.delivery_attempts == 0
    assert outbox_rows(REFERRAL_DISPATCH, referral, completed_at__isnull=True).exists()


def test_the_history_is_visible_to_whoever_sees_the_case(referral_factory, supervisor, outsider):
    referral = referral_factory()
    referral_approve(referral_id=referral.pk, by=supervisor)
    assert [e.to_status for e in referral_event_list(user=supervisor, referral_id=referral.pk)] == [
        "approved"
    ]
    with pytest.raises(ReferralNotFound):
        referral_event_list(user=outsider, referral_id=referral.pk)


# --- the queue --------------------------------------------------------------------------------


@pytest.fixture
def queue_referrals(referral_factory, officer, other_agency):
    now = timezone.now()
    made = {
        "normal_soon": referral_factory(priority=3, due_at=now + timedelta(hours=1)),
        "urgent_late": referral_factory(priority=1, due_at=now + timedelta(hours=5)),
        "urgent_soon": referral_factory(priority=1, due_at=now + timedelta(hours=2)),
        "failed_low": referral_factory(status="failed", priority=4),
        "blocked": referral_factory(status="blocked_needs_consent", consent=None, priority=2),
        "escalated": referral_factory(status="sent", priority=3, escalated_at=now),
        "sent_quiet": referral_factory(status="sent", priority=1),
        "approved": referral_factory(status="approved", priority=1),
    }
    other_officer = UserFactory(agency=other_agency, role=Role.FRONTLINE_OFFICER)
    other_case = services.case_create(created_by=other_officer, age=40)
    services.consent_record(case=other_case, by=other_officer, scope="screening", method="verbal")
    return made


def test_the_queue_puts_failed_first_then_priority_then_due_time(queue_referrals, supervisor):
    names = {r.pk: name for name, r in queue_referrals.items()}
    order = [names[r.pk] for r in referral_queue(user=supervisor)]
    assert order == [
        "failed_low",
        "urgent_soon",
        "urgent_late",
        "blocked",
        "normal_soon",
        "escalated",
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "blocked_needs_consent"}, {"blocked"}),
        ({"service_type": "medical"}, set()),
        ({"region": "Nowhere"}, set()),
    ],
)
def test_the_queue_filters(queue_referrals, supervisor, filters, expected):
    names = {r.pk: name for name, r in queue_referrals.items()}
    assert {names[r.pk] for r in referral_queue(user=supervisor, **filters)} == expected


def test_another_agencys_supervisor_sees_none_of_it(queue_referrals, outsider):
    assert list(referral_queue(user=outsider)) == []


def test_only_supervisors_have_a_queue(officer):
    with pytest.raises(ActionNotAllowed):
        referral_queue(user=officer)


def test_the_queue_takes_two_queries_however_long_it_is(
    queue_referrals, referral_factory, supervisor
):
    def count() -> int:
        supervisor_fresh = type(supervisor).objects.get(pk=supervisor.pk)
        with CaptureQueriesContext(connection) as queries:
            rows = list(referral_queue(user=supervisor_fresh))
            for row in rows:  # what a page shows of each row
                _ = (row.case.reference, row.case.region, row.provider.name)
        return len(queries)

    before = count()
    for _ in range(5):
        referral_factory(priority=2)
    assert count() == before == 2
