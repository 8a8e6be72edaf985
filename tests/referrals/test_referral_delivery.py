"""Delivery: the minimal disclosure packet, the signed webhook with retries, email, inbox,
and the outbox relay (including a broker that is down)."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu import Connection

from config.celery import app as celery_app
from config.models import OutboxMessage
from referrals.errors import DeliveryRetry
from referrals.models import Referral, ReferralEvent, ReferralStatus
from referrals.services import outbox_relay, referral_approve, referral_dispatch
from referrals.services.delivery import backoff_seconds, build_packet
from screening import services
from screening.models import Consent
from tests.referrals.conftest import make_provider, record_referral_consent

pytestmark = pytest.mark.django_db

IDENTIFYING = {"name", "phone", "narrative"}


@pytest.fixture
def person(officer):
    case = services.case_create(
        created_by=officer,
        age=29,
        gender="female",
        region="Riverside",
        languages=["es"],
        identifying_name="Fictional Person",
        identifying_phone="+00 000 0000",
        narrative="A fictional account.",
        safe_to_contact="yes",
    )
    services.consent_record(case=case, by=officer, scope="screening", method="verbal")
    return case


@pytest.fixture
def webhook_referral(person, officer, start_screening, receiver, referral_factory):
    screening = services.screening_submit(screening=start_screening(person), by=officer)
    provider = make_provider(slug="hook", webhook_url=receiver.url)
    consent = record_referral_consent(person, officer, service_type="shelter")
    # These tests start after routing: drop the events the submit and the consents wrote.
    OutboxMessage.objects.all().delete()
    return referral_factory(case=person, screening=screening, provider=provider, consent=consent)


def test_a_service_type_consent_discloses_no_identifying_fields(webhook_referral):
    packet = build_packet(webhook_referral, webhook_referral.consent_used)
    assert not IDENTIFYING & set(packet)
    assert packet["referral"] == webhook_referral.idempotency_key
    assert packet["gender"] == "female" and packet["age"] == 29


def test_a_consent_naming_the_provider_allows_identifying_fields(webhook_referral, officer):
    consent = record_referral_consent(
        webhook_referral.case, officer, provider=webhook_referral.provider
    )
    packet = build_packet(webhook_referral, consent)
    assert packet["name"] == "Fictional Person"
    assert packet["phone"] == "+00 000 0000"
    assert packet["contact_person_directly"] is True


def test_do_not_contact_keeps_the_phone_out_and_says_so(webhook_referral, officer):
    consent = record_referral_consent(
        webhook_referral.case, officer, provider=webhook_referral.provider
    )
    type(webhook_referral.case).objects.filter(pk=webhook_referral.case_id).update(
        do_not_contact=True
    )
    webhook_referral.case.refresh_from_db()
    packet = build_packet(webhook_referral, consent)
    assert packet["phone"] == ""
    assert packet["contact_person_directly"] is False


def test_a_mandatory_report_without_consent_carries_minimal_facts(webhook_referral):
    webhook_referral.mandatory = True
    packet = build_packet(webhook_referral, None)
    assert not IDENTIFYING & set(packet)
    assert {"gender", "exploitation_type", "outcome", "flags"}.isdisjoint(packet)
    assert {"age", "age_band", "report_reasons", "mandatory"} <= set(packet)


def test_approval_then_relay_delivers_a_signed_webhook_once(webhook_referral, supervisor, receiver):
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    report = outbox_relay()
    assert report.published == 1
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.SENT
    [delivery] = receiver.deliveries
    assert delivery.signature_ok
    assert delivery.idempotency_key == webhook_referral.idempotency_key
    assert sorted(delivery.body) == sorted(webhook_referral.fields_disclosed)
    assert not IDENTIFYING & set(delivery.body)
    assert OutboxMessage.objects.get().completed_at is not None
    assert outbox_relay().published == 0  # nothing left to publish
    assert webhook_referral.due_at > timezone.now() + timedelta(hours=23)


def test_a_receiver_failing_three_times_then_answering_gets_it_once(
    webhook_referral, supervisor, receiver
):
    receiver.fail_first = 3
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    outbox_relay()  # eager Celery: the task and its retries run here
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.SENT
    assert webhook_referral.delivery_attempts == 4
    assert receiver.statuses == [500, 500, 500, 200]
    assert len(receiver.deliveries) == 1
    notes = [
        event.note
        for event in webhook_referral.events.filter(kind=ReferralEvent.Kind.DELIVERY_ATTEMPT)
    ]
    assert len(notes) == 3 and all("HTTP 500" in note for note in notes)
    assert "attempt 4" in webhook_referral.events.last().note


def test_after_the_last_attempt_the_referral_fails(
    webhook_referral, supervisor, receiver, settings
):
    settings.REFERRAL_DELIVERY_MAX_ATTEMPTS = 3
    receiver.fail_first = 99
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    outbox_relay()
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.FAILED
    assert receiver.attempts == 3
    assert "HTTP 500" in webhook_referral.last_delivery_error


def test_a_4xx_answer_is_not_retried(webhook_referral, supervisor, receiver):
    receiver.fail_first, receiver.fail_status = 1, 410
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    outbox_relay()
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.FAILED
    assert receiver.attempts == 1


def test_a_dispatch_raises_the_named_retry_error_with_a_bounded_countdown(
    webhook_referral, supervisor, receiver
):
    receiver.fail_first = 1
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    with pytest.raises(DeliveryRetry) as retry:
        referral_dispatch(referral_id=webhook_referral.pk)
    assert 0 <= retry.value.countdown <= 30
    message = OutboxMessage.objects.get()
    assert message.available_at > timezone.now()  # the relay leaves it to the retry


def test_dispatching_a_delivered_referral_again_sends_nothing(
    webhook_referral, supervisor, receiver
):
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    outbox_relay()
    assert referral_dispatch(referral_id=webhook_referral.pk).status == "skipped"
    assert len(receiver.deliveries) == 1


def test_a_consent_that_ran_out_before_delivery_blocks_it(webhook_referral, supervisor, receiver):
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    Consent.objects.filter(case=webhook_referral.case, scope="referral_service_type").update(
        given_at=timezone.now() - timedelta(days=2), valid_until=timezone.now()
    )
    outbox_relay()
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
    assert receiver.deliveries == []


@pytest.mark.parametrize("exponent", range(1, 12))
def test_backoff_grows_with_jitter_and_stays_under_the_visibility_timeout(exponent, settings):
    settings.REFERRAL_RETRY_BASE_SECONDS = 30
    settings.REFERRAL_RETRY_MAX_SECONDS = 10**6
    settings.CELERY_BROKER_VISIBILITY_TIMEOUT = 3600
    ideal = min(30 * 2 ** (exponent - 1), 1800)
    for _ in range(20):
        assert ideal / 2 <= backoff_seconds(exponent) <= ideal <= 1800


def test_email_carries_a_notice_only(
    person, officer, start_screening, supervisor, referral_factory
):
    screening = services.screening_submit(screening=start_screening(person), by=officer)
    provider = make_provider(
        slug="mail",
        channel="email",
        email="intake@provider.example.org",
        webhook_url="",
        webhook_secret="",
    )
    consent = record_referral_consent(person, officer, provider=provider)
    referral = referral_factory(
        case=person, screening=screening, provider=provider, consent=consent
    )
    referral_approve(referral_id=referral.pk, by=supervisor)
    outbox_relay()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    [message] = mail.outbox
    assert message.to == ["intake@provider.example.org"]
    assert "Fictional Person" not in message.body and "fictional account" not in message.body
    assert set(referral.fields_disclosed) <= {
        "referral",
        "service_type",
        "priority",
        "respond_by",
        "referring_agency",
    }


def test_the_inbox_channel_marks_it_delivered(
    person, officer, start_screening, supervisor, referral_factory, agency
):
    screening = services.screening_submit(screening=start_screening(person), by=officer)
    provider = make_provider(
        slug="inbox", channel="inbox", agency=agency, webhook_url="", webhook_secret=""
    )
    referral = referral_factory(case=person, screening=screening, provider=provider)
    referral_approve(referral_id=referral.pk, by=supervisor)
    outbox_relay()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert "in-system inbox" in referral.events.last().note


def test_a_broker_that_is_down_leaves_the_rows_for_the_next_run(
    webhook_referral, supervisor, receiver
):
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    dead = Connection(
        "redis://127.0.0.1:9/0", connect_timeout=1, transport_options={"max_retries": 0}
    )
    celery_app.conf.task_always_eager = False
    try:
        report = outbox_relay(connection=dead)
    finally:
        celery_app.conf.task_always_eager = True
        dead.release()
    assert (report.published, report.failed) == (0, 1)
    message = OutboxMessage.objects.get()
    assert message.completed_at is None and message.publish_failures == 1
    assert message.last_error
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.APPROVED

    OutboxMessage.objects.update(available_at=timezone.now())  # the next run comes
    assert outbox_relay().published == 1
    webhook_referral.refresh_from_db()
    assert webhook_referral.status == ReferralStatus.SENT
    assert len(receiver.deliveries) == 1


def test_task_arguments_carry_ids_only(webhook_referral, supervisor, monkeypatch):
    from referrals import tasks

    sent = []
    monkeypatch.setattr(
        tasks.dispatch_referral, "apply_async", lambda args, **options: sent.append(args)
    )
    referral_approve(referral_id=webhook_referral.pk, by=supervisor)
    outbox_relay()
    assert sent == [[webhook_referral.pk]]
    json.dumps(sent)


def test_referral_is_not_left_without_an_event_per_attempt(webhook_referral):
    assert Referral.objects.get(pk=webhook_referral.pk).delivery_attempts == 0
