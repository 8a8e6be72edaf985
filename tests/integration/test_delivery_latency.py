"""Slow partners never block others (DESIGN; issue 12), against a real Redis, a real Celery
worker process and two local webhook receivers; and a burst of approvals to one provider goes
in one task, the worker dropping the others' tasks.

Provider A's receiver answers only after 4 s (the worker's webhook timeout is 5 s), provider
B's at once. Approved one after the other, B's referral is delivered while A's request is
still waiting, straight after its approval's commit (no relay run), and A's referral row is
not locked while its request is in flight.

The worker runs two pool processes (`--concurrency=2`, prefetch 1, as in production
settings): with one, B's task would wait behind A's however the delivery code behaved, so
one slot per in-flight request is what the test gives it. PostgreSQL only, like its
neighbours (tests/integration/workers.py).
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from referrals.models import Referral, ReferralStatus
from referrals.services import referral_approve
from screening import services
from screening.models import Consent, Screening
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

ROOT = Path(__file__).resolve().parents[2]
WORKER_REDIS_DB = 12  # a Redis database used only by this module's worker
TIMEOUT = int(FAST["REFERRAL_WEBHOOK_TIMEOUT_SECONDS"])
SLOW = TIMEOUT - 1  # provider A answers just inside the worker's timeout


@pytest.fixture(scope="module")
def worker(redis_url, django_db_setup, django_db_blocker, tmp_path_factory):
    require_postgresql("the delivery latency tests")
    broker_url = worker_broker(redis_url, WORKER_REDIS_DB)
    clear_queue(broker_url)
    with django_db_blocker.unblock():
        worker = Worker(
            broker_url,
            database_url(),
            tmp_path_factory.mktemp("worker") / "ready",
            concurrency=2,
        )
    worker.start()
    yield worker
    worker.stop()
    clear_queue(broker_url)


@pytest.fixture
def published(worker, settings):
    """What the outbox publishes right after a commit goes to this module's worker."""
    settings.REFERRAL_OUTBOX_LEASE_SECONDS = int(FAST["REFERRAL_OUTBOX_LEASE_SECONDS"])
    with publishing_to(worker.broker_url):
        yield


@pytest.fixture
def receivers():
    started = [start_receiver(SECRET), start_receiver(SECRET)]
    started[0][0].delay = SLOW
    yield started[0][0], started[1][0]
    for _, server in started:
        server.shutdown()
        server.server_close()


def _two_referrals(slow_url: str, fast_url: str) -> tuple[Referral, Referral, object]:
    """One case with a submitted screening, referred to provider A (slow receiver) and B
    (fast), each covered by a written consent; returns both and the supervisor."""
    for role in Role:  # transactional tests flush the roles the data migration made
        Group.objects.get_or_create(name=role.value)
    agency = AgencyFactory()
    officer = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    supervisor = UserFactory(agency=agency, role=Role.SUPERVISOR)
    case = services.case_create(created_by=officer, age=34, region="Riverside")
    services.consent_record(case=case, by=officer, scope="screening", method="verbal")
    consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
        method=Consent.Method.WRITTEN,
        service_type="shelter",
        valid_until=timezone.now() + timedelta(days=30),
    )
    from indicators.models import InstrumentVersion

    call_command(
        "load_instruments",
        str(ROOT / "seeds" / "instruments" / "hotline-triage.v1.yaml"),
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    screening = services.screening_start(
        case=case,
        by=officer,
        instrument_version=InstrumentVersion.objects.get(instrument__slug="hotline-triage"),
        setting=Screening.Setting.STATION,
        safe_to_talk="yes",
        alone="yes",
    )
    screening = services.screening_submit(screening=screening, by=officer)
    referrals = [
        Referral.objects.create(
            case=case,
            case_agency_id=case.agency_id,
            screening=screening,
            provider=make_provider(slug=slug, webhook_url=url),
            service_type="shelter",
            status=ReferralStatus.PENDING_APPROVAL,
            consent_used=consent,
            due_at=timezone.now() + timedelta(hours=24),
        )
        for slug, url in (("slow-shelter", slow_url), ("fast-shelter", fast_url))
    ]
    return referrals[0], referrals[1], supervisor


def _wait(condition, *, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def _status(referral: Referral) -> str:
    return Referral.objects.values_list("status", flat=True).get(pk=referral.pk)


def test_a_slow_provider_delays_only_its_own_deliveries(published, receivers, capsys):
    slow, fast = receivers
    referral_a, referral_b, supervisor = _two_referrals(slow.url, fast.url)

    referral_approve(referral_id=referral_a.pk, by=supervisor)
    # A's attempt is claimed and on its way (the claim commits before the send).
    assert _wait(
        lambda: Referral.objects.filter(
            pk=referral_a.pk, delivery_started_at__isnull=False
        ).exists(),
        timeout=10,
    )
    approved_b = time.monotonic()
    referral_approve(referral_id=referral_b.pk, by=supervisor)

    assert _wait(lambda: _status(referral_b) == ReferralStatus.SENT, timeout=SLOW - 1)
    b_after = time.monotonic() - approved_b
    # B is done while A's receiver is still sitting on its request.
    assert slow.attempts == 0
    assert _status(referral_a) == ReferralStatus.APPROVED
    assert [d.idempotency_key for d in fast.deliveries] == [referral_b.idempotency_key]
    # Nobody holds A's row while its request is in flight: a supervisor's or a withdrawal's
    # lock is taken at once (NOWAIT would raise otherwise).
    with transaction.atomic():
        Referral.objects.select_for_update(nowait=True).get(pk=referral_a.pk)

    assert _wait(lambda: _status(referral_a) == ReferralStatus.SENT, timeout=SLOW + 10)
    a_after = time.monotonic() - approved_b
    assert [d.idempotency_key for d in slow.deliveries] == [referral_a.idempotency_key]
    assert all(d.signature_ok for d in slow.deliveries + fast.deliveries)
    with capsys.disabled():
        print(
            f"\n[delivery latency] B delivered {b_after:.2f}s after its approval, "
            f"while A (receiver answering in {SLOW}s) took {a_after:.2f}s"
        )
    assert b_after < 2.0


def _one_providers_referrals(url: str, count: int) -> tuple[list[Referral], object]:
    """`count` referrals of one case to one provider, each for another service type on a
    consent of its own, waiting for approval."""
    first, _, supervisor = _two_referrals(url, url)
    case, screening, provider = first.case, first.screening, first.provider
    officer = case.created_by
    service_types = ["shelter", "medical", "legal_aid", "mental_health", "interpretation"]
    provider.service_types = service_types
    provider.save(update_fields=["service_types"])
    first.delete()  # keep one provider: the fixture made two
    referrals = []
    for service_type in service_types[:count]:
        consent = services.consent_record(
            case=case,
            by=officer,
            scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
            method=Consent.Method.WRITTEN,
            service_type=service_type,
            valid_until=timezone.now() + timedelta(days=30),
        )
        referrals.append(
            Referral.objects.create(
                case=case,
                case_agency_id=case.agency_id,
                screening=screening,
                provider=provider,
                service_type=service_type,
                status=ReferralStatus.PENDING_APPROVAL,
                consent_used=consent,
                due_at=timezone.now() + timedelta(hours=24),
            )
        )
    return referrals, supervisor


def test_a_burst_to_one_provider_goes_in_one_task_and_the_rest_are_revoked(
    published, worker, receivers
):
    from config.celery import app
    from config.models import OutboxMessage
    from config.outbox import outbox_task_id
    from referrals.events import REFERRAL_DISPATCH

    _, fast = receivers
    referrals, supervisor = _one_providers_referrals(fast.url, 4)
    # Queued while the worker takes none, as after an outage or a supervisor's busy minute.
    app.control.cancel_consumer("default", destination=[worker.hostname], reply=True)
    try:
        for referral in referrals:
            referral_approve(referral_id=referral.pk, by=supervisor)
    finally:
        app.control.add_consumer("default", destination=[worker.hostname], reply=True)
    assert _wait(
        lambda: all(_status(referral) == ReferralStatus.SENT for referral in referrals),
        timeout=20,
    )
    # Each delivered once.
    assert sorted(d.idempotency_key for d in fast.deliveries) == sorted(
        Referral.objects.get(pk=referral.pk).idempotency_key for referral in referrals
    )
    rows = {
        row.subject_id: row
        for row in OutboxMessage.objects.filter(
            topic=REFERRAL_DISPATCH, subject_id__in=[referral.pk for referral in referrals]
        )
    }
    assert all(row.completed_at is not None for row in rows.values())

    # The two pool processes took the first two tasks; the third and fourth referrals were
    # delivered by one of them as followers, and their own tasks revoked.
    def revoked() -> set[str]:
        replies = app.control.inspect(destination=[worker.hostname], timeout=1.0).revoked()
        return set().union(*(replies or {}).values())

    followers = {outbox_task_id(rows[referral.pk]) for referral in referrals[2:]}
    assert _wait(lambda: followers <= revoked(), timeout=10, interval=0.2)
    assert outbox_task_id(rows[referrals[0].pk]) not in revoked()
