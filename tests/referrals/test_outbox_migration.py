"""Moving the outbox to core (core 0007, referrals 0004) keeps every row: a pending delivery
and a completed routing request made with the old table come through with their subject,
their lease and their completion, both ways."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from config.models import OutboxMessage
from referrals.events import REFERRAL_DISPATCH
from screening.events import CONSENT_RECORDED, SCREENING_SUBMITTED

BEFORE = [("referrals", "0003_scale_indexes")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_outbox_rows_survive_the_move_to_core_and_back(referral_factory, submitted):
    referral = referral_factory(status="approved")
    OutboxMessage.objects.all().delete()
    leased_until = timezone.now() + timedelta(minutes=10)
    done_at = timezone.now() - timedelta(days=1)
    try:
        # Back to the old table: the rows the old code knows go there.
        OutboxMessage.objects.create(
            topic=REFERRAL_DISPATCH,
            handler="referrals.dispatch_referral",
            subject_type="referrals.referral",
            subject_id=referral.pk,
            publish_count=2,
            available_at=leased_until,
        )
        OutboxMessage.objects.create(
            topic=SCREENING_SUBMITTED,
            handler="referrals.route_screening",
            subject_type="screening.screening",
            subject_id=submitted.pk,
            completed_at=done_at,
        )
        OutboxMessage.objects.create(  # done: an old process has nothing to do with it
            topic=CONSENT_RECORDED,
            handler="referrals.route_for_consent",
            subject_type="screening.consent",
            subject_id=referral.consent_used_id,
            completed_at=done_at,
        )
        old = _migrate(BEFORE).get_model("referrals", "OutboxMessage")
        assert sorted(old.objects.values_list("topic", "referral_id", "screening_id")) == [
            ("dispatch_referral", referral.pk, None),
            ("route_screening", None, submitted.pk),
        ]

        _migrate(_latest())
        rows = {row.topic: row for row in OutboxMessage.objects.all()}
        assert set(rows) == {REFERRAL_DISPATCH, SCREENING_SUBMITTED, CONSENT_RECORDED}
        dispatch = rows[REFERRAL_DISPATCH]
        assert (dispatch.handler, dispatch.subject_type, dispatch.subject_id) == (
            "referrals.dispatch_referral",
            "referrals.referral",
            referral.pk,
        )
        assert (dispatch.publish_count, dispatch.available_at) == (2, leased_until)
        assert dispatch.completed_at is None
        routed = rows[SCREENING_SUBMITTED]
        assert (routed.subject_id, routed.completed_at) == (submitted.pk, done_at)
    finally:
        _migrate(_latest())


@pytest.mark.django_db(transaction=True)
def test_going_back_waits_for_open_consent_events(submitted, case):
    consent = case.consents.first()
    OutboxMessage.objects.create(
        topic="consent.withdrawn",
        handler="referrals.cancel_for_withdrawn_consent",
        subject_type="screening.consent",
        subject_id=consent.pk,
    )
    try:
        with pytest.raises(RuntimeError, match="open consent"):
            _migrate(BEFORE)
        assert OutboxMessage.objects.filter(topic="consent.withdrawn").exists()
    finally:
        _migrate(_latest())
