"""Delivery that loses nothing, against a real Redis, a real Celery worker process and a local
webhook receiver (issue 5, "Reliability").

1. 200 approved referrals; the worker is SIGKILLed mid-run and restarted: every referral
   reaches the receiver; duplicates are recognised by idempotency key.
2. The broker is unreachable when the approvals commit and when the relay runs: approvals
   succeed, rows stay in the outbox, and everything is delivered once the broker is back.
3. A receiver answering 500 three times then 200: delivered once, the events show the retries
   (published right after the approval's commit, retried through the broker).

The worker must read the same database as the test, so these run on PostgreSQL only (the
SQLite test database lives in this process's memory). The worker talks to its own Redis
database number, so no other worker of the session can take these messages.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from kombu import Connection

from config.models import OutboxMessage
from referrals.events import REFERRAL_DISPATCH
from referrals.models import Referral, ReferralEvent, ReferralStatus
from referrals.services import outbox_relay, referral_approve
from screening import services
from screening.models import Consent
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.integration.workers import (
    FAST,
    Worker,
    clear_queue,
    database_url,
    publishing_to,
    require_postgresql,
    worker_broker,
)
from tests.referrals.conftest import SECRET, make_provider
from tests.referrals.receiver import start_receiver

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

WORKER_REDIS_DB = 13  # a Redis database used only by these tests' worker
SERVICE_TYPES = [
    "shelter",
    "medical",
    "mental_health",
    "legal_aid",
    "immigration_legal",
    "labour_rights",
    "law_enforcement_atu",
    "interpretation",
    "case_management",
    "child_welfare",
]


@pytest.fixture(scope="module")
def worker(redis_url, django_db_setup, django_db_blocker, tmp_path_factory):
    require_postgresql("the referral reliability tests")
    broker_url = worker_broker(redis_url, WORKER_REDIS_DB)
    clear_queue(broker_url)
    with django_db_blocker.unblock():
        worker = Worker(broker_url, database_url(), tmp_path_factory.mktemp("worker") / "ready")
    worker.start()
    yield worker
    worker.stop()
    clear_queue(broker_url)


@pytest.fixture
def relay(worker, settings):
    """The outbox relay of this process, publishing to the worker's broker; what the outbox
    publishes right after a commit goes there too."""
    settings.REFERRAL_OUTBOX_LEASE_SECONDS = int(FAST["REFERRAL_OUTBOX_LEASE_SECONDS"])
    broker = Connection(worker.broker_url)
    with publishing_to(worker.broker_url):
        yield lambda **kwargs: outbox_relay(connection=kwargs.get("connection", broker))
    broker.release()


@pytest.fixture
def receiver():
    receiver, server = start_receiver(SECRET)
    yield receiver
    server.shutdown()
    server.server_close()


def _approved_referrals(count: int, receiver_url: str) -> list[Referral]:
    """`count` referrals of one case to providers that all post to the receiver, approved by a
    supervisor through the service (each approval writes its outbox row)."""
    # Transactional tests flush every table, data-migration rows included: bring the roles back.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    agency = AgencyFactory()
    officer = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    supervisor = UserFactory(agency=agency, role=Role.SUPERVISOR)
    case = services.case_create(created_by=officer, age=31, region="Riverside")
    services.consent_record(case=case, by=officer, scope="screening", method="verbal")
    consents = {
        service_type: services.consent_record(
            case=case,
            by=officer,
            scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
            method=Consent.Method.WRITTEN,
            service_type=service_type,
            valid_until=timezone.now() + timedelta(days=30),
        )
        for service_type in SERVICE_TYPES
    }
    from indicators.models import InstrumentVersion
    from screening.models import Screening

    version = InstrumentVersion.objects.filter(status="published").first()
    if version is None:
        from django.core.management import call_command

        call_command("load_instruments", stdout=open(os.devnull, "w"))  # noqa: SIM115
        version = InstrumentVersion.objects.filter(status="published").first()
    screening = services.screening_start(
        case=case,
        by=officer,
        instrument_version=version,
        setting=Screening.Setting.STATION,
        safe_to_talk="yes",
        alone="yes",
    )
    screening = services.screening_submit(screening=screening, by=officer)
    providers = [
        make_provider(
            slug=f"receiver-{index}", service_types=SERVICE_TYPES, webhook_url=receiver_url
        )
        for index in range((count + len(SERVICE_TYPES) - 1) // len(SERVICE_TYPES))
    ]
    due = timezone.now() + timedelta(hours=24)
    referrals = Referral.objects.bulk_create(
        Referral(
            case=case,
            case_agency_id=case.agency_id,
            screening=screening,
            provider=providers[index // len(SERVICE_TYPES)],
            service_type=SERVICE_TYPES[index % len(SERVICE_TYPES)],
            status=ReferralStatus.PENDING_APPROVAL,
            consent_used=consents[SERVICE_TYPES[index % len(SERVICE_TYPES)]],
            due_at=due,
        )
        for index in range(count)
    )
    for referral in referrals:
        referral_approve(referral_id=referral.pk, by=supervisor)
    return referrals


def _wait(condition, *, timeout: float, relay=None, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if relay is not None:
            relay()
        if condition():
            return True
        time.sleep(interval)
    return condition()


# Nothing listens there: what the outbox publishes right after a commit fails at once, as with
# a broker that is down, and the rows wait for the relay.
DEAD_BROKER = "redis://127.0.0.1:9/0"


def test_a_worker_killed_mid_run_loses_no_referral(worker, relay, receiver, capsys):
    receiver.delay = 0.03  # spread the work so the kill lands mid-run
    with publishing_to(DEAD_BROKER):  # the approvals' rows reach the worker through the relay
        referrals = _approved_referrals(200, receiver.url)
    keys = {referral.idempotency_key for referral in referrals}
    started = time.monotonic()

    assert _wait(lambda: len(receiver.distinct_keys) >= 50, timeout=60, relay=relay)
    worker.kill()
    killed_at = len(receiver.distinct_keys)
    time.sleep(1)
    worker.start()

    delivered = _wait(lambda: len(receiver.distinct_keys) >= 200, timeout=90, relay=relay)
    attempts, distinct = receiver.attempts, len(receiver.distinct_keys)
    with capsys.disabled():
        print(
            f"\n[referral reliability] worker SIGKILLed after {killed_at} distinct deliveries; "
            f"attempts={attempts} distinct={distinct} duplicates={attempts - distinct} "
            f"in {time.monotonic() - started:.1f}s"
        )
    assert killed_at < 200, "the kill came after every delivery: nothing was tested"
    assert delivered, f"only {distinct} of 200 referrals reached the receiver"
    assert distinct == 200
    assert receiver.distinct_keys == keys  # duplicates carry the same idempotency key
    assert all(d.signature_ok for d in receiver.deliveries)
    # A referral whose attempt the kill interrupted is sent again once the attempt is overdue
    # (referrals/services/delivery.py `in_flight_window`, 20 s with these settings).
    # A referral whose attempt the kill interrupted after the send is sent again (a duplicate
    # by key) once the attempt is overdue (delivery.py `in_flight_window`, 20 s here), when
    # the relay publishes its row again: the relay keeps running.
    assert _wait(
        lambda: Referral.objects.filter(status=ReferralStatus.SENT).count() == 200,
        timeout=60,
        relay=relay,
    )


def test_approval_succeeds_while_the_broker_is_down_and_delivery_follows(worker, relay, receiver):
    pending = OutboxMessage.objects.filter(completed_at__isnull=True, topic=REFERRAL_DISPATCH)
    with publishing_to(DEAD_BROKER):
        # Each approval's publish after its commit fails; the approval does not.
        started = time.monotonic()
        referrals = _approved_referrals(5, receiver.url)
        assert time.monotonic() - started < 30
        assert Referral.objects.filter(status=ReferralStatus.APPROVED).count() == 5
        # Kept, not leased, due for the relay at once.
        assert pending.count() == 5
        assert set(pending.values_list("publish_count", "publish_failures")) == {(0, 1)}
        assert pending.filter(available_at__lte=timezone.now()).count() == 5

        dead_broker = Connection(DEAD_BROKER, connect_timeout=1)
        report = relay(connection=dead_broker)
        dead_broker.release()
        # The first row the relay tried waits one relay interval; the others stay due.
        assert report.published == 0 and report.failed == report.claimed >= 5
        assert pending.count() == 5
        time.sleep(2)
        assert receiver.attempts == 0

    OutboxMessage.objects.update(available_at=timezone.now())  # the broker is back
    assert _wait(lambda: len(receiver.distinct_keys) == 5, timeout=60, relay=relay)
    assert receiver.distinct_keys == {referral.idempotency_key for referral in referrals}
    assert _wait(
        lambda: Referral.objects.filter(status=ReferralStatus.SENT).count() == 5, timeout=30
    )


def test_a_receiver_failing_three_times_gets_the_referral_once(worker, relay, receiver):
    receiver.fail_first = 3
    [referral] = _approved_referrals(1, receiver.url)

    assert _wait(
        lambda: Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT,
        timeout=60,
        relay=relay,
    )
    assert receiver.statuses == [500, 500, 500, 200]
    assert len(receiver.deliveries) == 1
    referral.refresh_from_db()
    assert referral.delivery_attempts == 4
    retries = [
        event.note for event in referral.events.filter(kind=ReferralEvent.Kind.DELIVERY_ATTEMPT)
    ]
    assert [note.split(":")[0] for note in retries] == [
        "attempt 1 failed",
        "attempt 2 failed",
        "attempt 3 failed",
    ]
    assert all("HTTP 500" in note for note in retries)
    assert referral.events.filter(to_status=ReferralStatus.SENT).get().note.endswith("attempt 4")
