"""Consent withdrawal cancels what it covered (and asks providers to discard what they got);
overdue referrals escalate, then expire; the seed command loads rules and the directory."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.models import OutboxMessage
from referrals.events import REFERRAL_DISCARD, REFERRAL_DISPATCH
from referrals.models import (
    ReferralEvent,
    ReferralStatus,
    RoutingRuleSet,
    ServiceProvider,
)
from referrals.selectors import referral_queue
from referrals.services import outbox_relay, referrals_escalate_overdue
from referrals.tasks import escalate_overdue_referrals
from screening import services
from tests.outbox import outbox_rows
from tests.referrals.conftest import make_provider, record_referral_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdraw(django_capture_on_commit_callbacks):
    """Withdraw a consent, and run what follows its commit: the `consent.withdrawn` event's
    handler (eager Celery) cancels the referrals."""

    def withdraw(consent, by, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.consent_withdraw(consent=consent, by=by, **kwargs)

    return withdraw


def test_withdrawn_consent_cancels_every_not_yet_accepted_referral_it_covered(
    referral_factory, officer, withdraw
):
    provider = make_provider(slug="covered")
    first = referral_factory(provider=provider, status="pending_approval")
    consent = first.consent_used
    statuses = ("approved", "sent", "acknowledged", "accepted", "services_started")
    service_types = ("medical", "legal_aid", "case_management", "mental_health", "labour_rights")
    others = {
        status: referral_factory(
            provider=provider, status=status, consent=consent, service_type=service_type
        )
        for status, service_type in zip(statuses, service_types, strict=True)
    }
    withdraw(consent, officer, note="Changed their mind.")

    first.refresh_from_db()
    assert first.status == ReferralStatus.CANCELLED
    for status, referral in others.items():
        referral.refresh_from_db()
        expected = status if status in ("accepted", "services_started") else "cancelled"
        assert referral.status == expected, status
    discard = OutboxMessage.objects.filter(topic=REFERRAL_DISCARD)
    assert set(discard.values_list("subject_id", flat=True)) == {
        others["sent"].pk,
        others["acknowledged"].pk,
    }
    assert first.events.get().by == officer


def test_discard_notices_reach_the_provider(referral_factory, officer, receiver, withdraw):
    provider = make_provider(slug="hooked", webhook_url=receiver.url)
    referral = referral_factory(provider=provider, status="sent")
    withdraw(referral.consent_used, officer)
    outbox_relay()
    [delivery] = receiver.deliveries
    assert delivery.body == {
        "type": "referral.discard",
        "referral": referral.idempotency_key,
        "reason": "consent_withdrawn",
        "instruction": "Delete the information received with this referral.",
    }
    assert delivery.idempotency_key.endswith(":discard")
    assert referral.events.filter(kind=ReferralEvent.Kind.DISCARD_NOTICE).exists()


def test_an_approved_referral_cancelled_before_delivery_is_never_sent(
    referral_factory, officer, supervisor, receiver, withdraw
):
    from referrals.services import referral_approve

    provider = make_provider(slug="hooked", webhook_url=receiver.url)
    referral = referral_factory(provider=provider)
    referral_approve(referral_id=referral.pk, by=supervisor)
    withdraw(referral.consent_used, officer)
    outbox_relay()
    assert receiver.attempts == 0
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED


def test_another_active_consent_keeps_the_referral(referral_factory, officer, withdraw):
    provider = make_provider(slug="twice")
    referral = referral_factory(provider=provider)
    backup = record_referral_consent(referral.case, officer, service_type="shelter")
    withdraw(referral.consent_used, officer)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert referral.consent_used == backup


def test_a_mandatory_report_survives_withdrawal_with_minimal_facts(
    referral_factory, officer, withdraw
):
    provider = make_provider(slug="welfare", service_types=["child_welfare"])
    referral = referral_factory(
        provider=provider, service_type="child_welfare", mandatory=True, status="pending_approval"
    )
    consent = record_referral_consent(referral.case, officer, service_type="child_welfare")
    referral.consent_used = consent
    referral.save()
    withdraw(consent, officer)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert referral.consent_used is None


def test_overdue_sent_and_acknowledged_referrals_escalate_into_the_queue_then_sent_ones_expire(
    referral_factory, supervisor, settings
):
    settings.REFERRAL_EXPIRY_HOURS = 48
    now = timezone.now()
    overdue = referral_factory(status="sent", due_at=now - timedelta(hours=1))
    long_overdue = referral_factory(status="sent", due_at=now - timedelta(hours=49))
    on_time = referral_factory(status="sent", due_at=now + timedelta(hours=1))
    acknowledged = referral_factory(status="acknowledged", due_at=now - timedelta(hours=1))

    escalate_overdue_referrals.delay()

    for referral in (overdue, long_overdue, on_time, acknowledged):
        referral.refresh_from_db()
    assert overdue.escalated_at is not None
    assert overdue.events.get().kind == ReferralEvent.Kind.ESCALATED
    assert long_overdue.status == ReferralStatus.EXPIRED
    assert on_time.escalated_at is None
    # Acknowledged is not an answer (issue 14): past the due time it escalates too.
    assert acknowledged.escalated_at is not None
    assert acknowledged.escalation_reason == "answer_overdue"
    assert {overdue, acknowledged} <= set(referral_queue(user=supervisor))
    assert referrals_escalate_overdue().escalated == 0  # once only


# --- seeds ---------------------------------------------------------------------------------------


def test_the_seed_command_loads_rules_and_the_demo_directory_idempotently(db):
    call_command("seed_demo", "--no-cases", stdout=io.StringIO())
    out = io.StringIO()
    call_command("load_referral_seeds", stdout=out)
    assert RoutingRuleSet.objects.filter(slug="default-routing", status="published").exists()
    assert ServiceProvider.objects.count() >= 20
    types = {t for p in ServiceProvider.objects.all() for t in p.service_types}
    assert {"shelter", "child_welfare", "legal_aid", "medical"} <= types
    call_command("load_referral_seeds", stdout=out)
    assert "unchanged  default-routing v1" in out.getvalue()


def test_a_bad_routing_file_loads_nothing_and_names_file_rule_and_field(db, tmp_path):
    empty = tmp_path / "providers"
    empty.mkdir()
    bad = tmp_path / "bad.v1.yaml"
    bad.write_text(
        "slug: bad\nversion: 1\nstatus: published\ntitle: t\nrules:\n"
        "  - {key: r1, text: t, when: {flag: nope}, refer: [{service_type: shelter}]}\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command(
            "load_referral_seeds",
            "--routing",
            str(bad),
            "--providers",
            str(empty),
            stderr=err,
            stdout=io.StringIO(),
        )
    assert f"{bad}: rule=r1 field=rules.0.when" in err.getvalue()
    assert not RoutingRuleSet.objects.exists()


def test_a_published_rule_set_never_changes(db, tmp_path):
    empty = tmp_path / "providers"
    empty.mkdir()
    path = tmp_path / "t.v1.yaml"
    text = (
        "slug: t\nversion: 1\nstatus: published\ntitle: t\nrules:\n"
        "  - {key: r1, text: t, when: {always: true}, refer: [{service_type: shelter}]}\n"
    )
    path.write_text(text)
    kwargs = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("load_referral_seeds", "--routing", str(path), "--providers", str(empty), **kwargs)
    path.write_text(text.replace("shelter", "medical"))
    with pytest.raises(CommandError, match="bump the version number to v2"):
        call_command(
            "load_referral_seeds", "--routing", str(path), "--providers", str(empty), **kwargs
        )


def test_deleting_a_case_deletes_its_referrals_and_history_and_sends_nothing(
    referral_factory, supervisor, receiver
):
    from referrals.models import Referral
    from referrals.services import referral_approve

    referral = referral_factory(provider=make_provider(slug="hooked", webhook_url=receiver.url))
    referral_approve(referral_id=referral.pk, by=supervisor)
    referral.case.delete()
    assert not Referral.objects.exists()
    assert not ReferralEvent.objects.exists()
    # The outbox names the referral by id only (the retention purge deletes such rows with
    # the case, tests/referrals/test_retention.py): published, the handler finds nothing to do.
    assert outbox_rows(REFERRAL_DISPATCH, completed_at__isnull=True).count() == 1
    outbox_relay()
    assert receiver.attempts == 0
    assert not outbox_rows(REFERRAL_DISPATCH, completed_at__isnull=True).exists()


def test_the_relay_command_publishes_due_rows(referral_factory, supervisor, receiver):
    from referrals.services import referral_approve

    provider = make_provider(slug="hooked", webhook_url=receiver.url)
    referral = referral_factory(provider=provider)
    referral_approve(referral_id=referral.pk, by=supervisor)
    out = io.StringIO()
    call_command("relay_outbox", "--loop", "--max-runs", "2", "--interval", "0.01", stdout=out)
    assert "claimed 1, published 1" in out.getvalue()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_the_lease_must_outlast_a_task(settings):
    from referrals.checks import referral_outbox_lease

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REFERRAL_OUTBOX_LEASE_SECONDS = settings.CELERY_TASK_TIME_LIMIT
    assert [error.id for error in referral_outbox_lease(None)] == ["referrals.E001"]
    settings.REFERRAL_OUTBOX_LEASE_SECONDS = settings.CELERY_TASK_TIME_LIMIT + 1
    assert referral_outbox_lease(None) == []
