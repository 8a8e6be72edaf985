"""Delivery in three steps, so no HTTP call runs inside a transaction or under a row lock
(DESIGN "Slow partners never block others"): claim (short transaction), send (outside any),
record (short transaction, state looked at anew)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from referrals.events import REFERRAL_DISCARD, REFERRAL_DISPATCH
from referrals.models import Referral, ReferralEvent, ReferralStatus
from referrals.services import (
    delivery,
    referral_approve,
    referral_dispatch,
    referrals_cancel_for_withdrawn_consent,
)
from screening import services
from tests.outbox import outbox_rows
from tests.referrals.conftest import make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(referral_factory, supervisor, receiver):
    referral = referral_factory(provider=make_provider(slug="hook", webhook_url=receiver.url))
    referral_approve(referral_id=referral.pk, by=supervisor)
    return referral


@pytest.mark.django_db(transaction=True)
def test_the_webhook_is_sent_after_the_commit_outside_any_transaction(
    referral_factory, supervisor, receiver, monkeypatch
):
    referral = referral_factory(provider=make_provider(slug="hook", webhook_url=receiver.url))
    seen = []
    post = delivery.webhook_post

    def watched_post(**kwargs):
        seen.append(connection.in_atomic_block)
        # The approval and the attempt are committed before the request leaves.
        claimed = Referral.objects.get(pk=referral.pk)
        seen.append((claimed.status, claimed.delivery_attempts, bool(claimed.delivery_started_at)))
        return post(**kwargs)

    monkeypatch.setattr(delivery, "webhook_post", watched_post)
    # Published right after the approval's commit (eager Celery: the task runs here).
    referral_approve(referral_id=referral.pk, by=supervisor)
    assert seen == [False, (ReferralStatus.APPROVED, 1, True)]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert referral.delivery_started_at is None
    assert len(receiver.deliveries) == 1
    assert not outbox_rows(REFERRAL_DISPATCH, referral, completed_at__isnull=True).exists()


def test_a_referral_cancelled_while_its_packet_is_on_the_way_gets_a_discard_notice(
    approved, officer, receiver, monkeypatch
):
    post = delivery.webhook_post

    def post_while_consent_is_withdrawn(**kwargs):
        status = post(**kwargs)  # the provider has the packet...
        # ...and meanwhile the person withdrew the consent, and the withdrawal ran.
        services.consent_withdraw(consent=approved.consent_used, by=officer)
        assert referrals_cancel_for_withdrawn_consent(consent_id=approved.consent_used_id) == [
            approved.pk
        ]
        return status

    monkeypatch.setattr(delivery, "webhook_post", post_while_consent_is_withdrawn)
    assert referral_dispatch(referral_id=approved.pk).status == "discarded"

    approved.refresh_from_db()
    assert approved.status == ReferralStatus.CANCELLED
    assert approved.delivery_started_at is None
    assert approved.fields_disclosed  # what the provider holds, for the record
    note = approved.events.filter(kind=ReferralEvent.Kind.DELIVERY_ATTEMPT).get().note
    assert "after the referral was cancelled" in note and "discard" in note
    assert outbox_rows(REFERRAL_DISCARD, approved, completed_at__isnull=True).count() == 1
    assert not outbox_rows(REFERRAL_DISPATCH, approved, completed_at__isnull=True).exists()


def test_a_failed_send_to_a_referral_cancelled_meanwhile_is_not_retried(
    approved, officer, receiver, monkeypatch
):
    def failing_post(**kwargs):
        services.consent_withdraw(consent=approved.consent_used, by=officer)
        referrals_cancel_for_withdrawn_consent(consent_id=approved.consent_used_id)
        raise delivery.TemporaryDeliveryError("HTTP 503")

    monkeypatch.setattr(delivery, "webhook_post", failing_post)
    assert referral_dispatch(referral_id=approved.pk).status == "skipped"
    approved.refresh_from_db()
    assert approved.status == ReferralStatus.CANCELLED
    assert not outbox_rows(REFERRAL_DISCARD).exists()


def test_an_attempt_in_flight_is_left_to_its_worker_until_it_is_overdue(approved, receiver):
    started = timezone.now() - timedelta(seconds=1)
    Referral.objects.filter(pk=approved.pk).update(delivery_started_at=started, delivery_attempts=1)
    assert referral_dispatch(referral_id=approved.pk).status == "busy"
    assert receiver.attempts == 0

    # A worker killed mid-send leaves its mark; once overdue, another worker sends again.
    overdue = timezone.now() - delivery.in_flight_window() - timedelta(seconds=1)
    Referral.objects.filter(pk=approved.pk).update(delivery_started_at=overdue)
    assert referral_dispatch(referral_id=approved.pk).status == "sent"
    approved.refresh_from_db()
    assert approved.delivery_attempts == 2
    assert len(receiver.deliveries) == 1
