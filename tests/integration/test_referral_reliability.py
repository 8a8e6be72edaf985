"""Delivery that loses nothing, against a real Redis, a real Celery worker process and a local
webhook receiver (issue 5, "Reliability").

1. 200 approved referrals; the worker is SIGKILLed mid-run and restarted: every referral
   reaches the receiver; duplicates are recognised by idempotency key.
2. The broker is unreachable when the relay runs after approvals: approvals succeed, rows stay
   in the outbox, and everything is delivered once the broker is back.
3. A receiver answering 500 three times then 200: delivered once, the events show the retries.

The worker must read the same database as the test, so these run on PostgreSQL only (the
SQLite test database lives in this process's memory). The worker talks to its own Redis
database number, so no other worker of the session can take these messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from kombu import Connection

from referrals.models import OutboxMessage, Referral, ReferralEvent, ReferralStatus
from referrals.services import outbox_relay, referral_approve
from screening import services
from screening.models import Consent
from screening.roles import Role
from tests.conftest import _unavailable
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import SECRET, make_provider
from tests.referrals.receiver import start_receiver

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
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
# Short backoff and lease so each test finishes well inside two minutes.
FAST = {
    "REFERRAL_RETRY_BASE_SECONDS": "1",
    "REFERRAL_RETRY_MAX_SECONDS": "2",
    "REFERRAL_OUTBOX_LEASE_SECONDS": "6",
    "REFERRAL_WEBHOOK_TIMEOUT_SECONDS": "5",
}


def _database_url() -> str:
    db = connection.settings_dict
    password = quote(db.get("PASSWORD") or "", safe="")
    user = quote(db.get("USER") or "", safe="")
    auth = f"{user}:{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _worker_broker(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{WORKER_REDIS_DB}", "", ""))


class Worker:
    """A `celery worker` process (prefork, 4 children) in its own process group."""

    def __init__(self, broker_url: str, database_url: str, ready_file: Path) -> None:
        self.broker_url = broker_url
        self.ready_file = ready_file
        self.env = {
            **os.environ,
            **FAST,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "REFERRAL_WORKER_READY_FILE": str(ready_file),
        }
        self.process: subprocess.Popen | None = None
        self.generation = 0

    def start(self) -> None:
        self.generation += 1
        self.ready_file.unlink(missing_ok=True)
        hostname = f"referrals-{os.getpid()}-{self.generation}@localhost"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.referrals.celery_worker_app:app",
                "worker",
                "--pool=prefork",
                "--concurrency=4",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                hostname,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("the referral worker exited at start-up")
            if self.ready_file.exists():
                return
            time.sleep(0.2)
        self.kill()
        pytest.fail("the referral worker was not ready within 60 s")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _clear_queue(broker_url: str) -> None:
    client = redis.Redis.from_url(broker_url)
    try:
        client.delete("default", "unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@pytest.fixture(scope="module")
def worker(redis_url, django_db_setup, django_db_blocker, tmp_path_factory):
    if connection.vendor != "postgresql":
        _unavailable(
            "the referral reliability tests need PostgreSQL: the worker process must share the "
            "test database, and SQLite's test database lives in the test process's memory"
        )
    broker_url = _worker_broker(redis_url)
    _clear_queue(broker_url)
    with django_db_blocker.unblock():
        worker = Worker(broker_url, _database_url(), tmp_path_factory.mktemp("worker") / "ready")
    worker.start()
    yield worker
    worker.stop()
    _clear_queue(broker_url)


@pytest.fixture
def relay(worker, settings):
    """The outbox relay of this process, publishing to the worker's broker."""
    from config.celery import app

    settings.REFERRAL_OUTBOX_LEASE_SECONDS = int(FAST["REFERRAL_OUTBOX_LEASE_SECONDS"])
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    broker = Connection(worker.broker_url)
    yield lambda **kwargs: outbox_relay(connection=kwargs.get("connection", broker))
    broker.release()
    app.conf.task_always_eager = previous


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


def test_a_worker_killed_mid_run_loses_no_referral(worker, relay, receiver, capsys):
    receiver.delay = 0.03  # spread the work so the kill lands mid-run
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
    assert delivered, f"only {distinct} of 200 referrals reached the receiver"
    assert distinct == 200
    assert receiver.distinct_keys == keys  # duplicates carry the same idempotency key
    assert all(d.signature_ok for d in receiver.deliveries)
    assert _wait(
        lambda: Referral.objects.filter(status=ReferralStatus.SENT).count() == 200, timeout=30
    )


def test_approval_succeeds_while_the_broker_is_down_and_delivery_follows(worker, relay, receiver):
    referrals = _approved_referrals(5, receiver.url)  # approvals never touch the broker
    assert Referral.objects.filter(status=ReferralStatus.APPROVED).count() == 5

    dead_broker = Connection("redis://127.0.0.1:9/0", connect_timeout=1)
    report = relay(connection=dead_broker)
    dead_broker.release()
    # 5 deliveries and the screening's routing request: none published, all kept.
    assert (report.published, report.failed) == (0, 6)
    pending = OutboxMessage.objects.filter(
        completed_at__isnull=True, topic=OutboxMessage.Topic.DISPATCH_REFERRAL
    )
    assert pending.count() == 5
    assert OutboxMessage.objects.filter(publish_failures=1).count() == 1
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
