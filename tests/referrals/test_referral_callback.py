"""The signed provider callback endpoint and the provider-answer service."""

import json
import time

import pytest
from django.urls import reverse

from referrals.errors import ReferralNotFound
from referrals.models import ProviderCallbackReceipt, Referral, ReferralEvent, ReferralStatus
from referrals.services import referral_provider_answer
from referrals.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from screening.roles import Role
from tests.factories import UserFactory
from tests.referrals.conftest import SECRET, make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(referral_factory):
    return referral_factory(status="sent")


def post(client, provider_slug, data, *, secret=SECRET, timestamp=None, signature=None):
    body = json.dumps(data).encode()
    timestamp = str(int(time.time())) if timestamp is None else str(timestamp)
    headers = {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature or sign(secret=secret, timestamp=timestamp, body=body),
    }
    url = reverse("referrals:provider-callback", args=[provider_slug])
    return client.post(url, body, content_type="application/json", headers=headers)


def answer(referral, verb="acknowledge", event_id="evt-1", **extra):
    return {"event_id": event_id, "referral": referral.idempotency_key, "answer": verb, **extra}


# --- signatures ------------------------------------------------------------------------------


def test_a_signature_verifies_only_for_the_same_secret_body_and_time():
    body = b'{"a":1}'
    now = time.time()
    signature = sign(secret="s", timestamp=int(now), body=body)
    ok = {"secret": "s", "timestamp": str(int(now)), "body": body, "signature": signature}
    assert verify(**ok, now=now, window_seconds=300)
    assert not verify(**{**ok, "secret": "t"}, now=now, window_seconds=300)
    assert not verify(**{**ok, "body": b'{"a":2}'}, now=now, window_seconds=300)
    assert not verify(**ok, now=now + 301, window_seconds=300)
    assert not verify(**{**ok, "timestamp": "yesterday"}, now=now, window_seconds=300)
    assert not verify(**{**ok, "signature": None}, now=now, window_seconds=300)


# --- the endpoint ------------------------------------------------------------------------------


def test_the_happy_path_records_the_answer_as_an_event(client, sent):
    response = post(client, sent.provider.slug, answer(sent, note="On it."))
    assert response.status_code == 200
    assert response.json() == {"referral": sent.idempotency_key, "status": "acknowledged"}
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.ACKNOWLEDGED
    event = sent.events.get()
    assert (event.by_provider, event.note) == (sent.provider, "On it.")


@pytest.mark.parametrize(
    "tamper",
    ["bad_signature", "wrong_secret", "stale", "future", "no_headers", "unknown_provider"],
)
def test_unsigned_or_stale_callbacks_are_refused_with_401(client, sent, tamper):
    slug = sent.provider.slug
    kwargs = {}
    if tamper == "bad_signature":
        kwargs["signature"] = "sha256=" + "0" * 64
    elif tamper == "wrong_secret":
        kwargs["secret"] = "not-the-secret"
    elif tamper == "stale":
        kwargs["timestamp"] = int(time.time()) - 3600
    elif tamper == "future":
        kwargs["timestamp"] = int(time.time()) + 3600
    elif tamper == "unknown_provider":
        slug = "no-such-provider"
    if tamper == "no_headers":
        response = client.post(
            reverse("referrals:provider-callback", args=[slug]),
            json.dumps(answer(sent)),
            content_type="application/json",
        )
    else:
        response = post(client, slug, answer(sent), **kwargs)
    assert response.status_code == 401
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.SENT
    assert not ReferralEvent.objects.exists()


def test_a_replayed_callback_returns_the_first_answer_and_acts_once(client, sent):
    first = post(client, sent.provider.slug, answer(sent, "accept"))
    replay = post(client, sent.provider.slug, answer(sent, "accept"))
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replay"] == "true"
    assert sent.events.count() == 1
    assert ProviderCallbackReceipt.objects.count() == 1


def test_a_new_event_with_the_same_answer_changes_nothing(client, sent):
    post(client, sent.provider.slug, answer(sent, "accept", event_id="a"))
    response = post(client, sent.provider.slug, answer(sent, "accept", event_id="b"))
    assert response.status_code == 200
    assert sent.events.count() == 1


def test_a_provider_cannot_answer_another_providers_referral(client, sent):
    other = make_provider(slug="other-provider")
    response = post(client, other.slug, answer(sent))
    assert response.status_code == 404
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.SENT


def test_an_answer_out_of_order_is_a_409(client, sent):
    response = post(client, sent.provider.slug, answer(sent, "services_started"))
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"answer": "decline"}, "reason_code"),
        ({"answer": "maybe"}, "answer"),
        ({"answer": ""}, "answer"),
        ({"event_id": ""}, "event_id"),
    ],
)
def test_a_bad_answer_is_a_400_naming_the_field(client, sent, data, field):
    response = post(client, sent.provider.slug, {**answer(sent), **data})
    assert response.status_code == 400
    assert field in response.json()["field_errors"]


def test_a_decline_with_a_reason_is_recorded(client, sent):
    response = post(client, sent.provider.slug, answer(sent, "decline", reason_code="no_capacity"))
    assert response.status_code == 200
    sent.refresh_from_db()
    assert (sent.status, sent.decline_reason, sent.declined_by) == (
        "declined",
        "no_capacity",
        Referral.DecidedBy.PROVIDER,
    )


def test_a_provider_closes_a_referral_it_took_on_with_its_outcome(client, referral_factory):
    referral = referral_factory(status="services_started")
    response = post(
        client,
        referral.provider.slug,
        answer(referral, "close", outcome="services_delivered", note="Stayed three weeks."),
    )
    assert response.status_code == 200
    assert response.json() == {"referral": referral.idempotency_key, "status": "closed"}
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.closed_by) == (
        "closed",
        "services_delivered",
        Referral.ClosedBy.PROVIDER,
    )
    event = referral.events.get()
    assert (event.to_status, event.by_provider, event.by, event.note) == (
        "closed",
        referral.provider,
        None,
        "Stayed three weeks.",
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "outcome"),
        ({"outcome": "went_well"}, "outcome"),
        ({"outcome": 3}, "outcome"),
        ({"outcome": "other"}, "note"),  # "other" is explained in the note
    ],
)
def test_a_close_without_a_valid_outcome_is_a_400_and_changes_nothing(
    client, referral_factory, extra, field
):
    referral = referral_factory(status="accepted")
    response = post(client, referral.provider.slug, answer(referral, "close", **extra))
    assert response.status_code == 400
    assert field in response.json()["field_errors"]
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("accepted", "")
    assert not referral.events.exists()


def test_closing_a_referral_not_taken_on_is_a_409(client, sent):
    response = post(client, sent.provider.slug, answer(sent, "close", outcome="not_reached"))
    assert response.status_code == 409
    sent.refresh_from_db()
    assert (sent.status, sent.outcome) == ("sent", "")


def test_a_close_replayed_or_repeated_acts_once(client, referral_factory):
    referral = referral_factory(status="accepted")
    closing = answer(referral, "close", outcome="moved_away")
    first = post(client, referral.provider.slug, closing)
    replay = post(client, referral.provider.slug, closing)
    again = post(client, referral.provider.slug, {**closing, "event_id": "evt-2"})
    assert first.status_code == replay.status_code == again.status_code == 200
    assert replay["Idempotent-Replay"] == "true"
    assert referral.events.count() == 1


def test_a_provider_cannot_close_another_providers_referral(client, referral_factory):
    referral = referral_factory(status="accepted")
    other = make_provider(slug="other-provider")
    response = post(client, other.slug, answer(referral, "close", outcome="not_reached"))
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_an_unknown_answer_names_every_answer_the_callback_takes(client, sent):
    response = post(client, sent.provider.slug, answer(sent, "maybe"))
    assert response.json()["field_errors"]["answer"] == [
        "Choose one of: acknowledge, accept, decline, services_started, close."
    ]


def test_only_post_is_allowed(client, sent):
    url = reverse("referrals:provider-callback", args=[sent.provider.slug])
    assert client.get(url).status_code == 405


# --- provider staff answering in the system -----------------------------------------------------


def test_provider_staff_answer_referrals_of_their_own_provider(referral_factory, other_agency):
    provider = make_provider(slug="inbox-provider", channel="inbox", agency=other_agency)
    referral = referral_factory(status="sent", provider=provider)
    staff = UserFactory(agency=other_agency, role=Role.PROVIDER_STAFF)
    answered = referral_provider_answer(referral_id=referral.pk, by=staff, answer="accept")
    assert answered.status == ReferralStatus.ACCEPTED
    assert answered.events.get().by == staff


@pytest.mark.parametrize("who", ["supervisor", "other_provider_staff", "same_agency_officer"])
def test_nobody_else_answers_for_a_provider(referral_factory, other_agency, who, request):
    provider = make_provider(slug="inbox-provider", channel="inbox", agency=other_agency)
    referral = referral_factory(status="sent", provider=provider)
    if who == "supervisor":
        user = request.getfixturevalue("supervisor")
    elif who == "other_provider_staff":
        user = UserFactory(role=Role.PROVIDER_STAFF)
    else:
        user = UserFactory(agency=other_agency, role=Role.FRONTLINE_OFFICER)
    with pytest.raises(ReferralNotFound):
        referral_provider_answer(referral_id=referral.pk, by=user, answer="accept")


def test_the_provider_inbox_lists_delivered_referrals_of_their_agency_only(
    referral_factory, other_agency, django_assert_num_queries
):
    from referrals.selectors import referral_inbox

    provider = make_provider(slug="inbox-provider", channel="inbox", agency=other_agency)
    delivered = [
        referral_factory(status=s, provider=provider, service_type=t)
        for s, t in [("sent", "shelter"), ("accepted", "medical")]
    ]
    referral_factory(status="pending_approval", provider=provider, service_type="legal_aid")
    referral_factory(status="sent")  # another provider's
    staff = UserFactory(agency=other_agency, role=Role.PROVIDER_STAFF)
    staff = type(staff).objects.get(pk=staff.pk)
    with django_assert_num_queries(2):
        listed = [(r.pk, r.provider.name) for r in referral_inbox(user=staff)]
    assert {pk for pk, _ in listed} == {r.pk for r in delivered}


def test_dispatch_logs_carry_no_case_data(referral_factory, supervisor, receiver, caplog):
    import logging

    from referrals.services import outbox_relay, referral_approve
    from screening.models import Case

    provider = make_provider(slug="hooked", webhook_url=receiver.url)
    referral = referral_factory(provider=provider)
    case = Case.objects.get(pk=referral.case_id)
    case.identifying_name, case.narrative = "Fictional Name", "Fictional narrative"
    case.save()
    receiver.fail_first = 1
    caplog.set_level(logging.DEBUG)
    referral_approve(referral_id=referral.pk, by=supervisor)
    outbox_relay()
    assert "attempt 1 failed" in caplog.text
    assert "Fictional" not in caplog.text
    assert referral.case.reference not in caplog.text


# --- input no callback turns into a server error ---------------------------------------------


def _post_raw(client, provider_slug, body: bytes):
    timestamp = str(int(time.time()))
    headers = {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret=SECRET, timestamp=timestamp, body=body),
    }
    url = reverse("referrals:provider-callback", args=[provider_slug])
    return client.post(url, body, content_type="application/json", headers=headers)


def test_a_deeply_nested_signed_body_is_a_400_and_changes_nothing(client, sent):
    body = b'{"event_id": "evt-1", "note": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = _post_raw(client, sent.provider.slug, body)
    assert response.status_code == 400
    assert "levels deep" in response.json()["detail"]
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.SENT
    assert not ProviderCallbackReceipt.objects.exists()


@pytest.mark.parametrize("field", ["event_id", "referral", "note"])
def test_a_nul_character_in_a_signed_body_is_a_400_naming_the_field(client, sent, field):
    data = answer(sent)
    data[field] = data.get(field, "") + "\x00"
    response = post(client, sent.provider.slug, data)
    assert response.status_code == 400
    assert field in response.json()["field_errors"]
    assert not ProviderCallbackReceipt.objects.exists()


def test_a_note_over_its_length_is_a_400_and_nothing_is_recorded(client, sent):
    response = post(client, sent.provider.slug, answer(sent, note="x" * 200_000))
    assert response.status_code == 400
    assert "note" in response.json()["field_errors"]
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.SENT and not sent.events.exists()
