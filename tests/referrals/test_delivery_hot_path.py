"""The per-delivery work (issue 12's throughput target): the claim reads only what the packet
and the send need, and the packet it builds is the one the whole rows give; sealed fields
that are not disclosed are never opened; a delivery's queries are pinned; on PostgreSQL the
record of a sent packet does not wait for the disk while a discard notice owed does."""

from datetime import datetime

import pytest
from django.db import connection

from config import crypto
from config.models import OutboxMessage
from referrals.models import Referral
from referrals.services import (
    delivery,
    referral_approve,
    referral_dispatch,
    referrals_cancel_for_withdrawn_consent,
)
from referrals.services.delivery import build_packet
from screening import services
from tests.referrals.conftest import make_provider, record_referral_consent

pytestmark = pytest.mark.django_db

CASE_SEALED = {"identifying_name", "identifying_phone", "identifying_documents", "narrative"}


@pytest.fixture
def person(officer):
    case = services.case_create(
        created_by=officer,
        age=33,
        gender="male",
        region="Riverside",
        languages=["ro", "en"],
        identifying_name="Fictional Person",
        identifying_phone="+00 000 0001",
        narrative="A fictional account.",
        safe_to_contact="yes",
    )
    services.consent_record(case=case, by=officer, scope="screening", method="verbal")
    return case


@pytest.fixture
def approve(person, officer, start_screening, receiver, referral_factory, supervisor):
    screening = services.screening_submit(screening=start_screening(person), by=officer)
    OutboxMessage.objects.all().delete()

    def make(*, naming_the_provider: bool = False) -> Referral:
        provider = make_provider(webhook_url=receiver.url)  # one referral per provider
        if naming_the_provider:
            consent = record_referral_consent(person, officer, provider=provider)
        else:
            consent = record_referral_consent(person, officer, service_type="shelter")
        referral = referral_factory(
            case=person, screening=screening, provider=provider, consent=consent
        )
        referral_approve(referral_id=referral.pk, by=supervisor)
        return referral

    return make


@pytest.mark.parametrize("naming_the_provider", [False, True])
def test_the_packet_sent_is_the_one_the_whole_rows_give(approve, receiver, naming_the_provider):
    referral = approve(naming_the_provider=naming_the_provider)
    assert referral_dispatch(referral_id=referral.pk).status == "sent"
    [sent] = receiver.deliveries
    whole = Referral.objects.get(pk=referral.pk)  # every column of every row, plain ORM
    expected = build_packet(whole, whole.consent_used)
    assert set(sent.body) == set(expected) == set(whole.fields_disclosed)
    for name in set(expected) - {"respond_by"}:  # respond_by: "now" plus the hours
        assert sent.body[name] == expected[name], name
    assert (
        abs(
            datetime.fromisoformat(sent.body["respond_by"])
            - datetime.fromisoformat(expected["respond_by"])
        ).total_seconds()
        < 5
    )
    assert sent.body["flags"] == sorted(whole.screening.result.get("flags") or [])
    assert ("name" in sent.body) is naming_the_provider


def test_sealed_fields_that_are_not_disclosed_are_never_opened(approve, monkeypatch):
    referral = approve()  # a service-type consent: nothing identifying goes
    opened = []
    real = crypto.open_sealed

    def watched(stored, **kwargs):
        opened.append((kwargs["table"], kwargs["column"]))
        return real(stored, **kwargs)

    monkeypatch.setattr(crypto, "open_sealed", watched)
    assert referral_dispatch(referral_id=referral.pk).status == "sent"
    assert not {column for table, column in opened if table == "screening_case"} & CASE_SEALED
    assert ("referrals_serviceprovider", "webhook_secret") in opened  # the signature's key


def test_a_delivery_runs_a_pinned_number_of_queries(approve, django_assert_num_queries):
    referral = approve()
    # First a plain read of its state (anything to do?). Claim: the locking read of every row
    # the packet needs, the attempt. Record: the locked read, the referral, its history row,
    # its event, the outbox row, and the look for the provider's other referrals to follow
    # with (none here). The test's own transaction turns the claim and the record each into a
    # savepoint (+2 each).
    expected = 1 + 2 + 6 + 4
    with django_assert_num_queries(expected, exact=True):
        assert referral_dispatch(referral_id=referral.pk).status == "sent"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's setting"
)
@pytest.mark.django_db(transaction=True)  # each step its own transaction, as in production
def test_a_sent_record_does_not_wait_for_the_disk_but_a_discard_notice_owed_does(
    approve, officer, monkeypatch
):
    settings_at_record = []
    complete = delivery.outbox_complete

    def watched_complete(**kwargs):
        # Inside the record's transaction, just before its commit.
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            settings_at_record.append(cursor.fetchone()[0])
        return complete(**kwargs)

    monkeypatch.setattr(delivery, "outbox_complete", watched_complete)
    # Published right after the approval's commit (eager Celery: the delivery runs here).
    sent = approve()
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert settings_at_record == ["off"]

    post = delivery.webhook_post
    withdrawn = []

    def post_while_consent_is_withdrawn(**kwargs):
        status = post(**kwargs)
        key = kwargs["idempotency_key"]
        if not withdrawn and not key.endswith(":discard"):
            # The provider has the packet; meanwhile the person withdrew the consents and
            # the withdrawal ran (its discard notices are sent here too, eagerly).
            withdrawn.append(key)
            referral = Referral.objects.get(idempotency_key=key)
            services.consent_withdraw(consent=sent.consent_used, by=officer)
            services.consent_withdraw(consent=referral.consent_used, by=officer)
            referrals_cancel_for_withdrawn_consent(consent_id=referral.consent_used_id)
        return status

    monkeypatch.setattr(delivery, "webhook_post", post_while_consent_is_withdrawn)
    settings_at_record.clear()
    cancelled = approve()
    assert withdrawn == [cancelled.idempotency_key]
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled" and cancelled.fields_disclosed
    # The record owing a discard notice (and the notice's own) is on the disk first.
    assert settings_at_record and set(settings_at_record) == {"on"}
