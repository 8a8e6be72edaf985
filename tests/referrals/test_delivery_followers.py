"""One delivery task goes on with the provider's other approved referrals (issue 12's
throughput target): after its own packet went through quickly, it claims a few more of the
same provider's referrals never tried, sends each outside any transaction and records them
together. A slow or failing provider is not followed; a referral whose consent must be looked
up anew is left to its own task; the followers' own tasks find nothing to do."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.outbox import outbox_relay
from referrals.errors import IllegalTransition
from referrals.events import REFERRAL_DISPATCH
from referrals.models import Referral, ReferralEvent
from referrals.services import delivery, referral_approve, referral_dispatch
from referrals.services.transitions import referrals_transition_together
from screening.models import Consent
from tests.outbox import outbox_rows
from tests.referrals.conftest import make_provider, record_referral_consent

pytestmark = pytest.mark.django_db


SERVICE_TYPES = ["shelter", "medical", "legal_aid", "mental_health", "interpretation"]
SERVICE_TYPES += ["case_management", "labour_rights", "immigration_legal"]


@pytest.fixture
def approved(submitted, officer, supervisor, receiver, referral_factory):
    """`count` referrals of one case to one provider (the receiver), each for another service
    type, each approved on a consent to its service type."""
    case = submitted.case
    provider = make_provider(webhook_url=receiver.url, service_types=SERVICE_TYPES)
    made = []

    def make(count: int) -> list[Referral]:
        for _ in range(count):
            service_type = SERVICE_TYPES[len(made)]
            referral = referral_factory(
                case=case,
                screening=submitted,
                provider=provider,
                service_type=service_type,
                consent=record_referral_consent(case, officer, service_type=service_type),
            )
            referral_approve(referral_id=referral.pk, by=supervisor)
            made.append(referral)
        return made[-count:]

    return make


def _states(referrals):
    return [
        Referral.objects.values_list("status", "delivery_attempts").get(pk=referral.pk)
        for referral in referrals
    ]


def test_one_task_delivers_the_providers_other_approved_referrals(approved, receiver):
    first, *followers = approved(4)
    assert referral_dispatch(referral_id=first.pk).status == "sent"
    assert _states([first, *followers]) == [("sent", 1)] * 4
    keys = {
        Referral.objects.get(pk=referral.pk).idempotency_key for referral in [first, *followers]
    }
    assert receiver.distinct_keys == keys
    assert all(arrived.signature_ok for arrived in receiver.deliveries)
    for referral in followers:
        referral.refresh_from_db()
        assert referral.sent_at is not None and referral.fields_disclosed
        assert referral.delivery_started_at is None
        assert ReferralEvent.objects.filter(
            referral=referral, kind=ReferralEvent.Kind.TRANSITION, to_status="sent"
        ).exists()
        assert not outbox_rows(REFERRAL_DISPATCH, referral, completed_at__isnull=True).exists()


def test_a_followers_own_task_finds_nothing_to_do_without_a_lock(
    approved, receiver, django_assert_num_queries
):
    first, follower = approved(2)
    referral_dispatch(referral_id=first.pk)
    # One read: its state, and whether its outbox rows are open (closed with its record).
    with django_assert_num_queries(1) as context:
        assert referral_dispatch(referral_id=follower.pk).status == "skipped"
    assert not any("FOR UPDATE" in query["sql"] for query in context.captured_queries)
    assert len(receiver.deliveries) == 2


def test_referrals_of_other_providers_are_not_followed(
    approved, submitted, supervisor, referral_factory, officer, receiver
):
    first, follower = approved(2)
    elsewhere = referral_factory(
        case=submitted.case,
        screening=submitted,
        provider=make_provider(webhook_url=receiver.url),
        consent=record_referral_consent(submitted.case, officer, service_type="shelter"),
    )
    referral_approve(referral_id=elsewhere.pk, by=supervisor)
    referral_dispatch(referral_id=first.pk)
    assert _states([first, follower, elsewhere]) == [("sent", 1), ("sent", 1), ("approved", 0)]


def test_followers_cost_fewer_queries_than_their_own_tasks(approved, django_assert_num_queries):
    first, *followers = approved(4)
    # The leader as alone (13, see test_delivery_hot_path), whose record also counts the
    # attempts of the three followers it found and reads their outbox rows' task ids (to
    # revoke, +2); then for the three together (in a savepoint, +2): their locked read, one
    # UPDATE of the three, one INSERT of their history rows, one of their events, one UPDATE
    # of their outbox rows, and the look for more. On PostgreSQL their record also says it
    # need not wait for the disk (+1).
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(13 + 2 + 2 + 1 + 4 + 1 + postgresql, exact=True):
        assert referral_dispatch(referral_id=first.pk).status == "sent"
    assert _states(followers) == [("sent", 1)] * 3  # each alone: 4 × 13 = 52


def test_followers_are_recorded_as_one_transition_each(approved):
    first, *followers = approved(3)
    referral_dispatch(referral_id=first.pk)
    for referral in followers:
        referral.refresh_from_db()
        [history] = referral.history.filter(status="sent")
        assert history.history_type == "~"
        assert history.fields_disclosed == referral.fields_disclosed
        assert history.consent_used_id == referral.consent_used_id
        [event] = ReferralEvent.objects.filter(
            referral=referral, kind=ReferralEvent.Kind.TRANSITION, to_status="sent"
        )
        assert (
            event.from_status == "approved"
            and event.note == "delivered by webhook HTTP 200 on attempt 1"
        )
        assert referral.status_changed_at == event.at == history.history_date
        assert referral.updated_at == event.at
        assert referral.due_at > referral.sent_at


def test_a_slow_provider_is_not_followed(approved, monkeypatch):
    monkeypatch.setattr(delivery, "FOLLOW_WITHIN_SECONDS", 0.0)
    first, *others = approved(3)
    assert referral_dispatch(referral_id=first.pk).status == "sent"
    assert _states(others) == [("approved", 0)] * 2
    for referral in others:  # each its own task
        assert referral_dispatch(referral_id=referral.pk).status == "sent"


def test_a_follower_that_fails_stops_the_batch_and_the_rest_give_back_their_attempt(
    approved, monkeypatch
):
    first, failing, *unsent = approved(4)
    post = delivery.webhook_post
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["idempotency_key"])
        if len(calls) == 2:
            raise delivery.TemporaryDeliveryError("HTTP 503")
        return post(**kwargs)

    monkeypatch.setattr(delivery, "webhook_post", second_fails)
    assert referral_dispatch(referral_id=first.pk).status == "sent"
    assert len(calls) == 2
    assert _states([first, failing, *unsent]) == [
        ("sent", 1),
        ("approved", 1),
        ("approved", 0),
        ("approved", 0),
    ]
    failing.refresh_from_db()
    assert failing.last_delivery_error == "HTTP 503" and failing.delivery_started_at is None
    # Their own tasks were revoked when they were claimed: the relay publishes the failed one
    # once its backoff is over (not a lease later) and the two given back at its next run.
    [row] = outbox_rows(REFERRAL_DISPATCH, failing, completed_at__isnull=True)
    backoff = timedelta(seconds=settings.REFERRAL_RETRY_MAX_SECONDS)
    assert timezone.now() < row.available_at <= timezone.now() + backoff
    assert all(
        Referral.objects.get(pk=referral.pk).delivery_started_at is None for referral in unsent
    )
    now = timezone.now()
    assert all(
        row.available_at <= now
        for referral in unsent
        for row in outbox_rows(REFERRAL_DISPATCH, referral)
    )
    outbox_relay()  # eager here: the tasks run as they are published
    assert _states(unsent) == [("sent", 1), ("sent", 1)]
    assert _states([failing]) == [("approved", 1)]


def test_the_followers_own_tasks_are_revoked_once_their_claim_commits(
    approved, monkeypatch, django_capture_on_commit_callbacks
):
    from config.celery import app as celery_app
    from config.outbox import outbox_task_id

    first, *followers = approved(3)
    for referral in [first, *followers]:  # published, as right after each approval's commit
        outbox_rows(REFERRAL_DISPATCH, referral).update(publish_count=1)
    revoked = []
    monkeypatch.setattr(
        celery_app.control, "revoke", lambda task_ids, **options: revoked.append(task_ids)
    )
    celery_app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert referral_dispatch(referral_id=first.pk).status == "sent"
    finally:
        celery_app.conf.task_always_eager = True
    expected = {
        outbox_task_id(row)
        for referral in followers
        for row in outbox_rows(REFERRAL_DISPATCH, referral)
    }
    assert [set(task_ids) for task_ids in revoked] == [expected]
    assert _states(followers) == [("sent", 1)] * 2


def test_a_referral_whose_consent_ran_out_is_left_to_its_own_task(approved):
    first, ran_out = approved(2)
    Consent.objects.filter(pk=ran_out.consent_used_id).update(
        given_at=timezone.now() - timedelta(days=2), valid_until=timezone.now() - timedelta(days=1)
    )
    referral_dispatch(referral_id=first.pk)
    assert _states([first, ran_out]) == [("sent", 1), ("approved", 0)]
    # Its own task looks for another consent covering it, finds none and says so.
    assert referral_dispatch(referral_id=ran_out.pk).status == "blocked"


def test_claims_follow_one_another_up_to_the_tasks_limit(approved, monkeypatch):
    monkeypatch.setattr(delivery, "FOLLOWERS_PER_CLAIM", 2)
    monkeypatch.setattr(delivery, "FOLLOWED_PER_TASK", 4)
    referrals = approved(7)
    referral_dispatch(referral_id=referrals[0].pk)
    # The leader, then two claims of two; the last two are their own tasks' to deliver.
    assert _states(referrals) == [("sent", 1)] * 5 + [("approved", 0)] * 2


def test_steps_taken_together_are_checked_as_one_by_one(submitted, referral_factory):
    waiting = referral_factory(case=submitted.case, screening=submitted)
    with pytest.raises(IllegalTransition):  # pending approval cannot go straight to sent
        referrals_transition_together([waiting], to="sent", notes=["x"], values={})
    with pytest.raises(ValueError):  # a close needs its outcome, a decline its reason
        referrals_transition_together([waiting], to="declined", notes=["x"], values={})
    waiting.refresh_from_db()
    assert waiting.status == "pending_approval"
    assert not waiting.history.filter(history_type="~").exists()


def test_a_task_for_a_referral_no_longer_approved_closes_its_open_delivery_rows(
    approved, django_assert_num_queries
):
    [referral] = approved(1)
    assert outbox_rows(REFERRAL_DISPATCH, referral, completed_at__isnull=True).exists()
    Referral.objects.filter(pk=referral.pk).update(status="cancelled")
    with django_assert_num_queries(2):  # its state and open rows; closing them
        assert referral_dispatch(referral_id=referral.pk).status == "skipped"
    assert not outbox_rows(REFERRAL_DISPATCH, referral, completed_at__isnull=True).exists()
