"""The outbox on the ground floor (config/outbox.py): rows per subscriber, written in the
caller's transaction; published right after the commit, leased exactly as the relay leases;
a broker that is down fails neither the request nor the row."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from config.models import OutboxMessage
from config.outbox import (
    outbox_complete_all,
    outbox_due_again,
    outbox_emit,
    outbox_relay,
    outbox_subscribe,
    outbox_subscribers,
    outbox_take_over,
)
from referrals.events import REFERRAL_DISPATCH
from screening.events import CONSENT_RECORDED, CONSENT_WITHDRAWN, SCREENING_SUBMITTED
from tests.factories import AgencyFactory
from tests.integration.workers import publishing_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency():
    """Any saved object will do as a subject."""
    return AgencyFactory(name="Outbox Agency")


@pytest.fixture
def not_eager():
    """Publish to the broker (stubbed in each test) rather than run the handler in process."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


def test_referrals_subscribes_to_the_screening_events():
    assert outbox_subscribers(SCREENING_SUBMITTED) == ("referrals.route_screening",)
    assert outbox_subscribers(CONSENT_RECORDED) == ("referrals.route_for_consent",)
    assert outbox_subscribers(CONSENT_WITHDRAWN) == ("referrals.cancel_for_withdrawn_consent",)
    # Every subscriber is a task this process knows (the web process publishes them).
    for topic in (SCREENING_SUBMITTED, CONSENT_RECORDED, CONSENT_WITHDRAWN, REFERRAL_DISPATCH):
        assert all(name in celery_app.tasks for name in outbox_subscribers(topic))


def test_an_event_is_one_row_per_subscriber_naming_its_subject_by_id(agency, monkeypatch):
    from config import outbox

    monkeypatch.setattr(outbox, "_subscribers", {"agency.renamed": ["a.one", "b.two"]})
    rows = outbox_emit(topic="agency.renamed", subject=agency)
    assert [(row.handler, row.subject_type, row.subject_id) for row in rows] == [
        ("a.one", "screening.agency", agency.pk),
        ("b.two", "screening.agency", agency.pk),
    ]
    assert outbox_emit(topic="nobody.listens", subject=agency) == []
    outbox_subscribe("nobody.listens", task="c.three")
    outbox_subscribe("nobody.listens", task="c.three")  # once only
    assert outbox_subscribers("nobody.listens") == ("c.three",)


def test_a_rolled_back_change_leaves_no_event(agency):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_emit(topic=REFERRAL_DISPATCH, subject=agency)
        raise RuntimeError("the request failed later")
    assert not OutboxMessage.objects.exists()


def _published(monkeypatch) -> list:
    """Stand in for the broker: record what would be sent to the referral task."""
    from referrals import tasks

    sent = []
    monkeypatch.setattr(
        tasks.dispatch_referral, "apply_async", lambda **call: sent.append(call["args"])
    )
    return sent


def _task_ids(monkeypatch) -> list:
    from referrals import tasks

    ids = []
    monkeypatch.setattr(
        tasks.dispatch_referral, "apply_async", lambda **call: ids.append(call["task_id"])
    )
    return ids


def test_rows_are_published_right_after_the_commit_and_leased_like_the_relay_does(
    agency, monkeypatch, settings, django_capture_on_commit_callbacks
):
    sent = _published(monkeypatch)
    celery_app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            [row] = outbox_emit(topic=REFERRAL_DISPATCH, subject=agency)
            assert sent == []  # not before the commit
    finally:
        celery_app.conf.task_always_eager = True
    assert sent == [[agency.pk]]
    row.refresh_from_db()
    assert row.publish_count == 1 and row.published_at is not None
    lease = timedelta(seconds=settings.REFERRAL_OUTBOX_LEASE_SECONDS)
    assert row.available_at > timezone.now() + lease - timedelta(seconds=5)
    # The relay leaves it alone until the lease runs out (its handler did not complete it).
    assert outbox_relay().claimed == 0
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox_relay().published == 1
    assert sent == [[agency.pk], [agency.pk]]


def test_a_broker_that_is_down_fails_neither_the_request_nor_the_row(
    agency, django_capture_on_commit_callbacks
):
    with (
        publishing_to("redis://127.0.0.1:9/0"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        [row] = outbox_emit(topic=REFERRAL_DISPATCH, subject=agency)
    row.refresh_from_db()
    assert (row.publish_count, row.publish_failures, row.completed_at) == (0, 1, None)
    assert row.last_error == "OperationalError"
    assert row.available_at <= timezone.now()  # due for the relay at once


def test_each_publication_of_a_row_is_a_task_id_of_its_own(
    agency, monkeypatch, django_capture_on_commit_callbacks, not_eager
):
    ids = _task_ids(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        [row] = outbox_emit(topic=REFERRAL_DISPATCH, subject=agency)
    OutboxMessage.objects.update(available_at=timezone.now())  # its lease ran out
    outbox_relay()
    assert ids == [f"outbox-{row.pk}-1", f"outbox-{row.pk}-2"]


def _revoked(monkeypatch) -> list:
    """Stand in for the broadcast: record the task ids the workers are asked to drop."""
    revoked = []
    monkeypatch.setattr(
        celery_app.control, "revoke", lambda task_ids, **options: revoked.append(task_ids)
    )
    return revoked


def test_work_taken_over_has_its_tasks_revoked_after_the_commit(
    monkeypatch, django_capture_on_commit_callbacks, not_eager
):
    subjects = AgencyFactory.create_batch(3)
    ids = _task_ids(monkeypatch)
    revoked = _revoked(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        rows = [outbox_emit(topic=REFERRAL_DISPATCH, subject=s)[0] for s in subjects]
    never_published = outbox_emit(topic=REFERRAL_DISPATCH, subject=subjects[0])[0]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox_take_over(topic=REFERRAL_DISPATCH, subject_ids=[subjects[0].pk, subjects[1].pk])
        assert revoked == []  # not before the commit
    assert len(callbacks) == 1
    # Completed: nothing more to revoke.
    outbox_complete_all(topic=REFERRAL_DISPATCH, subject_ids=[subjects[1].pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox_take_over(topic=REFERRAL_DISPATCH, subject_ids=[subjects[1].pk])
    assert callbacks == []
    # The published rows' own task ids; the row never published has no task.
    assert [sorted(task_ids) for task_ids in revoked] == [sorted(ids[:2])]
    assert sorted(ids[:2]) == sorted(f"outbox-{row.pk}-1" for row in rows[:2])
    # Taken over is not done: the rows stay open for the relay until completed.
    assert OutboxMessage.objects.get(pk=rows[0].pk).completed_at is None
    assert OutboxMessage.objects.get(pk=never_published.pk).completed_at is None


def test_work_given_back_is_due_for_the_relay(
    agency, monkeypatch, django_capture_on_commit_callbacks, not_eager
):
    sent = _published(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_emit(topic=REFERRAL_DISPATCH, subject=agency)
    assert outbox_relay().claimed == 0  # leased
    outbox_due_again(topic=REFERRAL_DISPATCH, subject_ids=[agency.pk], in_seconds=60)
    assert outbox_relay().claimed == 0  # not yet
    outbox_due_again(topic=REFERRAL_DISPATCH, subject_ids=[agency.pk])
    assert outbox_relay().published == 1
    assert sent == [[agency.pk], [agency.pk]]


def test_a_revoke_the_broker_cannot_take_is_only_a_warning(
    agency, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    ids = _task_ids(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_emit(topic=REFERRAL_DISPATCH, subject=agency)
    with (
        publishing_to("redis://127.0.0.1:9/0"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outbox_take_over(topic=REFERRAL_DISPATCH, subject_ids=[agency.pk])
    assert ids
    assert "revoking 1 task(s) failed" in caplog.text


def test_in_embedded_mode_nothing_is_revoked(
    agency, monkeypatch, django_capture_on_commit_callbacks
):
    revoked = _revoked(monkeypatch)
    OutboxMessage.objects.create(
        topic=REFERRAL_DISPATCH,
        handler="referrals.dispatch_referral",
        subject_type="screening.agency",
        subject_id=agency.pk,
        created_at=timezone.now(),
        available_at=timezone.now(),
        publish_count=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox_take_over(topic=REFERRAL_DISPATCH, subject_ids=[agency.pk])
    assert revoked == []
