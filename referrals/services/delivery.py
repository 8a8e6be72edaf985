"""Delivering referrals: the minimal disclosure packet, the three channels (signed webhook,
email, in-system inbox), retries with exponential backoff and jitter, and the discard notice
sent when consent is withdrawn after delivery.

No case data is logged or put in error messages; the packet only leaves through the channel.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from config.outbox import (
    outbox_complete,
    outbox_complete_all,
    outbox_due_again,
    outbox_emit,
    outbox_open_exists,
    outbox_postpone,
    outbox_take_over,
)
from referrals.errors import DeliveryRetry
from referrals.events import REFERRAL_DISCARD, REFERRAL_DISPATCH
from referrals.models import Referral, ReferralEvent, ServiceProvider
from referrals.models import ReferralStatus as S
from referrals.services.consent_gate import covering_consent, missing_consent_text
from referrals.services.transitions import (
    referral_note_event,
    referral_transition,
    referrals_transition_together,
)
from referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from referrals.webhook_targets import (
    WebhookTargetRefused,
    webhook_connection,
    webhook_connection_keep,
    webhook_connection_take,
    webhook_target_resolve,
)
from screening.models import Consent, YesNoUnknown

logger = logging.getLogger(__name__)

# --- the disclosure packet -----------------------------------------------------------------
# Every packet: enough for the provider to triage and to answer, nothing about who the person is.
BASE_FIELDS = (
    "referral",
    "service_type",
    "priority",
    "respond_by",
    "referring_agency",
    "region",
    "age_band",
    "languages",
    "urgent",
    "mandatory",
    "contact_person_directly",
)
# A mandatory child-welfare report without consent: minimal facts only (practice guide: leave
# details to a forensic interviewer).
MANDATORY_FIELDS = (*BASE_FIELDS, "age", "report_reasons")
# A consent covering the service type or the provider: what the service needs to help.
CONSENTED_FIELDS = (*BASE_FIELDS, "age", "gender", "exploitation_type", "outcome", "flags")
# Identifying and narrative fields need a release naming this provider (VAWA: per recipient).
IDENTIFYING_FIELDS = ("name", "phone", "narrative")
# An observation of a place (no consent: nobody was asked): what was seen there, never a
# person's details, and not the case's sealed fields either (a premises case may hold notes).
PLACE_FIELDS = (
    "referral",
    "service_type",
    "priority",
    "respond_by",
    "referring_agency",
    "region",
    "outcome",
    "observed_signs",
)
# Email is not a confidential channel: a notice to log in and nothing more.
EMAIL_FIELDS = ("referral", "service_type", "priority", "respond_by", "referring_agency")


def packet_fields(referral: Referral, consent: Consent | None) -> tuple[str, ...]:
    if referral.about_place:
        fields: tuple[str, ...] = PLACE_FIELDS
    elif consent is None:
        fields = MANDATORY_FIELDS if referral.mandatory else ()
    else:
        fields = CONSENTED_FIELDS
        if consent.scope == Consent.Scope.REFERRAL_PROVIDER:
            fields = (*fields, *IDENTIFYING_FIELDS)
    if referral.provider.channel == ServiceProvider.Channel.EMAIL:
        fields = tuple(name for name in fields if name in EMAIL_FIELDS)
    return fields


def _may_contact_person(case) -> bool:
    return not case.do_not_contact and case.safe_to_contact == YesNoUnknown.YES


def build_packet(referral: Referral, consent: Consent | None) -> dict[str, Any]:
    """The minimal disclosure packet: only the fields `packet_fields` allows."""
    respond_by = timezone.now() + timedelta(hours=referral.provider.response_due_hours)
    return _packet_values(referral, packet_fields(referral, consent), respond_by=respond_by)


def delivered_packet(referral: Referral) -> dict[str, Any]:
    """What the provider received, for the in-system inbox: exactly the fields recorded in
    `fields_disclosed` at delivery, nothing else about the case."""
    return _packet_values(referral, referral.fields_disclosed, respond_by=referral.due_at)


def _packet_values(
    referral: Referral, names: Iterable[str], *, respond_by: datetime
) -> dict[str, Any]:
    """The values of the packet fields `names` (unknown names are left out). Only these are
    read: a field not disclosed is never opened (the sealed ones are decrypted on reading)."""
    case = referral.case
    result = referral.screening.result or {}
    values: dict[str, Callable[[], Any]] = {
        "referral": lambda: referral.idempotency_key,
        "service_type": lambda: referral.service_type,
        "priority": lambda: referral.get_priority_display().lower(),
        "respond_by": lambda: respond_by.replace(microsecond=0).isoformat(),
        "referring_agency": lambda: case.agency.name,
        "region": lambda: case.region,
        "age_band": lambda: case.age_band,
        "languages": lambda: list(case.languages or []),
        "urgent": lambda: case.urgent,
        "mandatory": lambda: referral.mandatory,
        # Do not contact / not safe: the provider goes through the referring agency.
        "contact_person_directly": lambda: _may_contact_person(case),
        "age": lambda: case.age,
        "report_reasons": lambda: sorted(
            set(result.get("flags") or ()) & {"minor", "mandatory_report", "immediate_danger"}
        ),
        "gender": lambda: case.gender,
        "exploitation_type": lambda: case.exploitation_type,
        "outcome": lambda: referral.screening.outcome,
        "flags": lambda: sorted(result.get("flags") or ()),
        "name": lambda: case.identifying_name,
        "phone": lambda: case.identifying_phone if _may_contact_person(case) else "",
        "narrative": lambda: case.narrative,
        "observed_signs": lambda: [
            sign["prompt"] for sign in (result.get("observations") or {}).get("observed", ())
        ],
    }
    return {name: values[name]() for name in names if name in values}


# --- channels ------------------------------------------------------------------------------


class TemporaryDeliveryError(Exception):
    """Network trouble, a timeout, a 5xx, 408 or 429: worth another try."""


class PermanentDeliveryError(Exception):
    """A 4xx or a bad configuration: retrying will not help; a supervisor must look."""


def webhook_post(*, provider: ServiceProvider, body: bytes, idempotency_key: str) -> int:
    """POST a signed body; returns the HTTP status of a 2xx answer or raises. The target is
    resolved and checked here, just before sending, and the connection goes to the checked
    address (referrals/webhook_targets.py: a connection kept from an earlier send only if
    its address is one checked now); redirects are not followed."""
    try:
        target = webhook_target_resolve(provider.webhook_url)
    except WebhookTargetRefused as error:
        raise PermanentDeliveryError(f"webhook target refused: {error}") from None
    except (OSError, UnicodeError) as error:
        raise TemporaryDeliveryError(f"name lookup failed ({type(error).__name__})") from None
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret=provider.webhook_secret, timestamp=timestamp, body=body),
        IDEMPOTENCY_HEADER: idempotency_key,
        "User-Agent": "ht-screening-referrals/1",
    }
    timeout = settings.REFERRAL_WEBHOOK_TIMEOUT_SECONDS
    connection, kept = webhook_connection_take(target, timeout=timeout)
    try:
        try:
            status = _post(connection, target.path, body=body, headers=headers)
        except KEPT_CONNECTION_CLOSED:
            if not kept:
                raise
            # The server closed the kept connection while it was idle: once more, on a new
            # one (the same idempotency key, should the first have arrived after all).
            connection.close()
            connection = webhook_connection(target, timeout=timeout)
            status = _post(connection, target.path, body=body, headers=headers)
    except (http.client.HTTPException, TimeoutError, OSError) as error:
        connection.close()
        raise TemporaryDeliveryError(f"network error ({type(error).__name__})") from None
    webhook_connection_keep(target, connection)
    if 200 <= status < 300:
        return status
    if status >= 500 or status in (408, 429):
        raise TemporaryDeliveryError(f"HTTP {status}")
    raise PermanentDeliveryError(f"HTTP {status}")


# How a kept connection that the server closed while it was idle fails on its next request.
KEPT_CONNECTION_CLOSED = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


def _post(
    connection: http.client.HTTPConnection, path: str, *, body: bytes, headers: dict[str, str]
) -> int:
    """Send one request and read the answer's status. The answer is not used: a little of it
    is read, never all; a connection whose answer was not read to its end is closed."""
    connection.request("POST", path, body=body, headers=headers)
    with connection.getresponse() as response:
        status = response.status
        response.read(64 * 1024)
        if not response.isclosed():  # more than that: not worth reading for the connection
            connection.close()
    return status


def _deliver(referral: Referral, payload: dict[str, Any], *, key_suffix: str = "") -> str:
    """Send `payload` through the provider's channel; returns a short description."""
    provider = referral.provider
    if provider.channel == ServiceProvider.Channel.WEBHOOK:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        status = webhook_post(
            provider=provider, body=body, idempotency_key=referral.idempotency_key + key_suffix
        )
        return f"webhook HTTP {status}"
    if provider.channel == ServiceProvider.Channel.EMAIL:
        lines = [f"{key}: {value}" for key, value in payload.items()]
        try:
            send_mail(
                subject=f"Referral {referral.idempotency_key[:8]} ({referral.service_type})",
                message="\n".join(
                    [
                        *lines,
                        "",
                        "Sign in to the referral service to read and answer it.",
                    ]
                ),
                from_email=None,
                recipient_list=[provider.email],
            )
        except (ConnectionError, OSError) as error:
            raise TemporaryDeliveryError(f"mail error ({type(error).__name__})") from None
        return "email"
    return "in-system inbox"


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with equal jitter, never beyond the broker's visibility timeout
    (a longer countdown would be redelivered while it still waits)."""
    cap = min(
        float(settings.REFERRAL_RETRY_MAX_SECONDS),
        settings.CELERY_BROKER_VISIBILITY_TIMEOUT * 0.5,
    )
    exponential = min(cap, settings.REFERRAL_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0)))
    return exponential / 2 + random.uniform(0, exponential / 2)  # noqa: S311 - jitter only


# --- dispatch ------------------------------------------------------------------------------
# No HTTP call inside a transaction or while a row lock is held (DESIGN: slow partners never
# block others): a delivery is claimed in one short transaction, sent outside any, and its
# outcome recorded in another short one.


@dataclass(frozen=True)
class DispatchOutcome:
    status: str  # sent | failed | blocked | skipped | busy | retry | discarded
    countdown: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class _Claim:
    """What the send needs, read under the lock: the referral (with its provider), the
    consent the packet rests on, the packet and the number of this attempt."""

    referral: Referral
    consent: Consent | None
    payload: dict[str, Any]
    attempt: int


# What a packet (`delivered_packet`) reads of the rows joined to a referral: the case's
# packet fields (with the row's uid, which opens its sealed ones; a sealed field not disclosed
# is never opened), the referring agency's name and the screening's outcome. The claim and
# the inbox read these, and the result's two keys (`packet_result_keys`).
PACKET_FIELDS = (
    "case__row_uid",
    "case__region",
    "case__age",
    "case__age_band",
    "case__gender",
    "case__languages",
    "case__exploitation_type",
    "case__urgent",
    "case__do_not_contact",
    "case__safe_to_contact",
    "case__identifying_name",
    "case__identifying_phone",
    "case__narrative",
    "case__agency__name",
    "screening__outcome",
)

# What a claim reads: the referral's state, the provider's channel, the case's packet fields
# (with the row's uid, which opens its sealed ones; a sealed field not disclosed is never
# opened), the referring agency's name, the screening's outcome and the consent's dates.
CLAIM_FIELDS = (
    "case",
    "screening",
    "provider",
    "service_type",
    "status",
    "priority",
    "mandatory",
    "about_place",
    "consent_used",
    "idempotency_key",
    "delivery_attempts",
    "delivery_started_at",
    "provider__slug",
    "provider__name",
    "provider__channel",
    "provider__webhook_url",
    "provider__row_uid",
    "provider__webhook_secret",
    "provider__email",
    "provider__response_due_hours",
    "case__agency",
    *PACKET_FIELDS,
    "consent_used__scope",
    "consent_used__given_at",
    "consent_used__valid_until",
    "consent_used__withdrawn_at",
)


def packet_result_keys() -> dict[str, KeyTransform]:
    """Annotations reading out, in the database, the only two keys of a screening's result
    (some 15 kB of JSON) a packet shows: for the claim and the inbox alike."""
    return {
        "packet_flags": KeyTransform("flags", "screening__result"),
        "packet_observed": KeyTransform(
            "observed", KeyTransform("observations", "screening__result")
        ),
    }


def packet_result(referral: Referral) -> dict[str, Any]:
    """A screening result holding only `flags` and `observations.observed` (absent: left
    out), from the annotations of `packet_result_keys` on `referral`."""
    result: dict[str, Any] = {}
    if referral.packet_flags is not None:
        result["flags"] = referral.packet_flags
    if referral.packet_observed is not None:
        result["observations"] = {"observed": referral.packet_observed}
    return result


def _without_waiting_for_disk(
    referrals: QuerySet[Referral], *, while_approved: bool = False
) -> QuerySet[Referral]:
    """`referrals` whose SELECT also has this transaction's commit not wait for the WAL to
    reach the disk (PostgreSQL's `synchronous_commit = off` for this transaction only, set
    by the SELECT itself to save a statement's round trip): visible to others at once, and a
    database crash within a fraction of a second may lose the commit, never corrupt it. Only
    for what delivery redoes under the same idempotency key. With `while_approved`, only if
    the row read is still approved (otherwise the setting is left as it is)."""
    if connection.vendor != "postgresql":
        return referrals
    if while_approved:
        setting = RawSQL(
            'set_config(\'synchronous_commit\', CASE WHEN "referrals_referral"."status" = %s '
            "THEN 'off' ELSE current_setting('synchronous_commit') END, true)",
            (S.APPROVED,),
        )
    else:
        setting = RawSQL("set_config('synchronous_commit', 'off', true)", ())
    return referrals.annotate(synchronous_commit=setting)


def _one(referrals: QuerySet[Referral]) -> Referral | None:
    """The referral or None, without the model's ordering (a query per delivery: compiling
    `Meta.ordering` cost more than the query on PostgreSQL)."""
    return next(iter(referrals.order_by()[:1]), None)


def in_flight_window() -> timedelta:
    """How long an attempt may be on its way before another worker may try again (a worker
    killed mid-send leaves its mark): longer than any send can take."""
    return timedelta(seconds=2 * settings.REFERRAL_WEBHOOK_TIMEOUT_SECONDS + 10)


def referral_dispatch(*, referral_id: int) -> DispatchOutcome:
    """Deliver an approved referral once. Raises `DeliveryRetry` (after recording the attempt)
    when another attempt is due; after the last attempt the referral is `failed`.

    Idempotent: a referral that is no longer `approved` is left alone, and one another worker
    is sending right now is skipped ("busy"). A referral cancelled while its packet was on the
    way (consent withdrawn) is recorded as such and the provider is told to discard it.

    When the packet went through quickly, the same task goes on with the provider's other
    approved referrals not yet tried (`_followers_claim`), a few at a time: one claim and one
    record for several, each still sent outside any transaction. A slow or failing provider
    is never followed, so it holds up nobody else's deliveries.
    """
    moot = _dispatch_moot(referral_id)
    if moot is not None:
        return moot
    claim = _dispatch_claim(referral_id)
    if isinstance(claim, DispatchOutcome):
        return claim
    how, error, quick = _send(claim)
    outcome, followers = _dispatch_record(claim, how=how, error=error, follow=quick)
    followed = 0
    while followers:  # none once FOLLOWED_PER_TASK were taken (`follow` below)
        followed += len(followers)
        followers = _followers_deliver(followers, follow=followed < FOLLOWED_PER_TASK)
    if outcome.status == "retry":
        raise DeliveryRetry(
            referral_id=referral_id, countdown=outcome.countdown, reason=outcome.reason
        )
    return outcome


# After its own referral went through within FOLLOW_WITHIN_SECONDS, a task takes up to
# FOLLOWERS_PER_CLAIM more of the provider's approved referrals not yet tried, claim after
# claim while they go as quickly, and FOLLOWED_PER_TASK in all (the others' own tasks deliver
# the rest).
FOLLOW_WITHIN_SECONDS = 1.0
FOLLOWERS_PER_CLAIM = 10
FOLLOWED_PER_TASK = 50


def _dispatch_moot(referral_id: int) -> DispatchOutcome | None:
    """Without a lock or a transaction: the outcome when there is nothing to deliver (the
    referral is gone, no longer approved, or on its way with another worker, most often as
    one of the followers of an earlier task), or None when it must be claimed."""
    # With whether its delivery's outbox rows are still open: most often a follower's were
    # completed with its record, and no UPDATE is needed.
    row = next(
        iter(
            Referral.objects.filter(pk=referral_id)
            .order_by()
            .annotate(
                open_rows=outbox_open_exists(topic=REFERRAL_DISPATCH, subject_id=OuterRef("pk"))
            )
            .values_list("status", "delivery_started_at", "open_rows")[:1]
        ),
        None,
    )
    if row is None:
        outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral_id)
        return DispatchOutcome("skipped", reason="no such referral")
    status, started_at, open_rows = row
    if status != S.APPROVED:
        if open_rows:
            outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral_id)
        return DispatchOutcome("skipped", reason=f"status {status}")
    if started_at and started_at > timezone.now() - in_flight_window():
        return DispatchOutcome("busy")
    return None


def _send(
    claim: _Claim,
) -> tuple[str, PermanentDeliveryError | TemporaryDeliveryError | None, bool]:
    """Send a claimed packet (outside any transaction): how it went, the error if it did not,
    and whether it went through quickly enough to follow with more to the same provider."""
    started = time.monotonic()
    try:
        how = _deliver(claim.referral, claim.payload)
    except (PermanentDeliveryError, TemporaryDeliveryError) as failure:
        return "", failure, False
    return how, None, time.monotonic() - started < FOLLOW_WITHIN_SECONDS


def _claimed(referral: Referral, consent: Consent | None, now: datetime) -> _Claim:
    """The packet of a locked referral, with its attempt counted (set on the row by the
    caller)."""
    # Of the screening's result (some 15 kB of JSON) the database read out only the two keys
    # a packet shows.
    referral.screening.result = packet_result(referral)
    payload = build_packet(referral, consent)
    referral.delivery_attempts += 1
    referral.delivery_started_at = now
    return _Claim(
        referral=referral, consent=consent, payload=payload, attempt=referral.delivery_attempts
    )


def _claim_query() -> QuerySet[Referral]:
    return (
        Referral.objects.select_related(
            "provider", "case", "case__agency", "screening", "consent_used"
        )
        .only(*CLAIM_FIELDS)
        .annotate(**packet_result_keys())
    )


def _followers_claim(*, provider_id: int, now: datetime) -> list[_Claim]:
    """In the caller's transaction: lock up to FOLLOWERS_PER_CLAIM of the provider's approved
    referrals never tried and not on their way (rows another worker holds are skipped), whose
    consent is on the referral and still in force (or which observe a place), and claim them.
    Any other (a consent to look up or run out) is left to its own task."""
    rows = list(
        _claim_query()
        .select_for_update(of=("self",), skip_locked=True)
        .filter(
            provider_id=provider_id,
            status=S.APPROVED,
            delivery_attempts=0,
            delivery_started_at__isnull=True,
        )
        .order_by("pk")[:FOLLOWERS_PER_CLAIM]
    )
    claims = []
    for referral in rows:
        consent = referral.consent_used
        if consent is not None and consent.is_active(now):
            claims.append(_claimed(referral, consent, now))
        elif consent is None and referral.about_place:
            claims.append(_claimed(referral, None, now))
    if claims:
        claimed_ids = [claim.referral.pk for claim in claims]
        Referral.objects.filter(pk__in=claimed_ids).update(
            delivery_attempts=F("delivery_attempts") + 1, delivery_started_at=now
        )
        # Their own tasks have nothing left to do: revoked once this commits. Given back
        # or to be retried, they are the relay's to publish again (`_followers_record`).
        outbox_take_over(topic=REFERRAL_DISPATCH, subject_ids=claimed_ids)
    return claims


def _followers_deliver(claims: list[_Claim], *, follow: bool) -> list[_Claim]:
    """Send the claimed followers one after the other, stopping at the first that fails or
    is slow; record them all in one transaction, which also claims the next followers."""
    sent: list[tuple[str, PermanentDeliveryError | TemporaryDeliveryError | None]] = []
    quick = True
    for claim in claims:
        how, error, quick = _send(claim)
        sent.append((how, error))
        if not quick:
            break
    return _followers_record(claims, sent, follow=follow and quick)


@transaction.atomic
def _followers_record(
    claims: list[_Claim],
    sent: list[tuple[str, PermanentDeliveryError | TemporaryDeliveryError | None]],
    *,
    follow: bool,
) -> list[_Claim]:
    """Lock the followers again (in id order, as claimed) and record what each send did, as
    `_dispatch_record` does for one. Those not sent (the batch stopped early) give back their
    attempt. Returns the next followers claimed when `follow`."""
    referrals = {
        referral.pk: referral
        for referral in Referral.objects.select_for_update()
        .filter(pk__in=[claim.referral.pk for claim in claims])
        .order_by("pk")
    }
    if (
        connection.vendor == "postgresql"
        and len(sent) == len(claims)
        and all(error is None for _, error in sent)
        and all(referral.status == S.APPROVED for referral in referrals.values())
    ):
        # As for one (see `_dispatch_record`): packets arrived on referrals still approved.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")
    arrived: dict[tuple[str, ...], list[tuple[Referral, str]]] = {}
    for claim, (how, error) in zip(claims, sent, strict=False):
        referral = referrals.get(claim.referral.pk)
        if referral is None:  # purged with its case meanwhile
            continue
        if error is None and referral.status == S.APPROVED:
            # The consent is the referral's own (`_followers_claim`): it stays as it is.
            arrived.setdefault(tuple(claim.payload), []).append((referral, _sent_note(claim, how)))
            continue
        # No task of its own comes back for a retry (revoked): the relay's, after the backoff.
        _record_locked(referral, claim, how=how, error=error, own_task=False)
    now = timezone.now()
    due_at = now + timedelta(hours=claims[0].referral.provider.response_due_hours)
    for fields_disclosed, group in arrived.items():
        # The packets that arrived on referrals still approved, recorded as `_record_locked`
        # records one, by the fields they disclosed (most often all alike): one UPDATE, one
        # INSERT of history rows and one of events.
        referrals_transition_together(
            [referral for referral, _ in group],
            to=S.SENT,
            notes=[note for _, note in group],
            values={
                "fields_disclosed": list(fields_disclosed),
                "sent_at": now,
                "due_at": due_at,
                "delivery_started_at": None,
                "last_delivery_error": "",
            },
        )
        outbox_complete_all(
            topic=REFERRAL_DISPATCH, subject_ids=[referral.pk for referral, _ in group]
        )
        for referral, _ in group:
            logger.info("referral %s: delivered (following another)", referral.pk)
    unsent = [claim.referral.pk for claim in claims[len(sent) :]]
    if unsent:
        Referral.objects.filter(pk__in=unsent).update(
            delivery_attempts=F("delivery_attempts") - 1, delivery_started_at=None
        )
        # Given back: the relay publishes them at its next run (their own tasks were revoked).
        outbox_due_again(topic=REFERRAL_DISPATCH, subject_ids=unsent)
        return []
    if not follow:
        return []
    return _followers_claim(provider_id=claims[0].referral.provider_id, now=timezone.now())


@transaction.atomic
def _dispatch_claim(referral_id: int) -> _Claim | DispatchOutcome:
    """Lock the referral, check its state and consent, build the packet and count the
    attempt, marked in flight; the lock goes with this short transaction's commit."""
    referral = _one(
        _without_waiting_for_disk(_claim_query().select_for_update(of=("self",))).filter(
            pk=referral_id
        )
    )
    # Whatever the claim writes (the attempt, a skip, a block) is redone by the next claim if
    # a database crash loses it: it does not wait for the disk.
    if referral is None:
        outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral_id)
        return DispatchOutcome("skipped", reason="no such referral")
    if referral.status != S.APPROVED:
        outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral_id)
        return DispatchOutcome("skipped", reason=f"status {referral.status}")
    now = timezone.now()
    if referral.delivery_started_at and referral.delivery_started_at > now - in_flight_window():
        # Another worker is sending it; it records the outcome and completes the outbox row.
        return DispatchOutcome("busy")

    consent = referral.consent_used
    if consent is not None and not consent.is_active(now):
        consent = None
    if consent is None and not referral.about_place:
        consent = covering_consent(
            case_id=referral.case_id, provider=referral.provider, service_type=referral.service_type
        )
    if consent is None and not (referral.mandatory or referral.about_place):
        # The whole row (locked already): the change history records every field.
        referral = Referral.objects.select_related("provider").get(pk=referral_id)
        referral.missing_consent = missing_consent_text(
            provider=referral.provider, service_type=referral.service_type
        )
        referral.consent_used = None
        referral_transition(
            referral=referral,
            to=S.BLOCKED_NEEDS_CONSENT,
            note="The consent ran out before delivery.",
            update_fields=("missing_consent", "consent_used"),
        )
        outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral_id)
        return DispatchOutcome("blocked")

    claim = _claimed(referral, consent, now)
    # The attempt counts from here, whatever happens to the send (no change-history row:
    # the outcome's is the one that tells).
    Referral.objects.filter(pk=referral_id).update(
        delivery_attempts=claim.attempt, delivery_started_at=now
    )
    return claim


@transaction.atomic
def _dispatch_record(
    claim: _Claim,
    *,
    how: str,
    error: PermanentDeliveryError | TemporaryDeliveryError | None,
    follow: bool = False,
) -> tuple[DispatchOutcome, list[_Claim]]:
    """Lock the referral again and record what the send did, looking at its state anew: a
    supervisor, a withdrawal or a provider may have acted while the packet was on the way.
    With `follow`, once it is recorded as sent, claim the provider's next followers in the
    same transaction (returned with the outcome)."""
    referral_id = claim.referral.pk
    # A packet that arrived on a referral still approved: its record lost in a database crash
    # leaves the referral approved and its outbox row open, the relay publishes it again once
    # its lease runs out and the same packet goes again under the same idempotency key (the
    # provider keeps the first), so that commit need not wait for the disk. Not so the others:
    # a discard notice owed (the referral moved on meanwhile), a retry or a give-up.
    referral = _one(
        _without_waiting_for_disk(
            Referral.objects.select_for_update(), while_approved=error is None
        ).filter(pk=referral_id)
    )
    if referral is None:  # purged with its case meanwhile
        return DispatchOutcome("skipped", reason="no such referral"), []
    outcome = _record_locked(referral, claim, how=how, error=error)
    if not (follow and outcome.status == "sent"):
        return outcome, []
    followers = _followers_claim(provider_id=referral.provider_id, now=timezone.now())
    return outcome, followers


def _record_locked(
    referral: Referral,
    claim: _Claim,
    *,
    how: str,
    error: PermanentDeliveryError | TemporaryDeliveryError | None,
    own_task: bool = True,
) -> DispatchOutcome:
    """Record the send of `claim` on its referral, read anew under the caller's lock. A
    retry of a referral sent by its `own_task` comes back with that task (the relay kept away
    for a lease beyond the backoff); one sent as a follower, whose task was revoked, is the
    relay's to publish once the backoff is over."""
    referral_id = referral.pk
    attempt = claim.attempt
    referral.delivery_started_at = None
    if referral.status != S.APPROVED:
        return _record_moved_on(referral, claim, how=how, error=error)
    if isinstance(error, PermanentDeliveryError):
        return _give_up(referral, f"attempt {attempt}: {error}; not retried")
    if isinstance(error, TemporaryDeliveryError):
        if attempt >= settings.REFERRAL_DELIVERY_MAX_ATTEMPTS:
            return _give_up(referral, f"attempt {attempt} (the last): {error}")
        countdown = backoff_seconds(attempt)
        referral.last_delivery_error = str(error)[:200]
        referral.save(update_fields=["last_delivery_error", "delivery_started_at", "updated_at"])
        referral_note_event(
            referral=referral,
            kind=ReferralEvent.Kind.DELIVERY_ATTEMPT,
            note=f"attempt {attempt} failed: {error}; retry in {countdown:.1f}s",
        )
        if own_task:
            outbox_postpone(topic=REFERRAL_DISPATCH, subject_id=referral_id, seconds=countdown)
        else:
            outbox_due_again(
                topic=REFERRAL_DISPATCH, subject_ids=[referral_id], in_seconds=countdown
            )
        logger.info("referral %s: attempt %s failed (%s)", referral_id, attempt, error)
        return DispatchOutcome("retry", countdown=countdown, reason=str(error))

    now = timezone.now()
    referral.fields_disclosed = list(claim.payload)
    referral.consent_used = claim.consent
    referral.sent_at = now
    referral.due_at = now + timedelta(hours=claim.referral.provider.response_due_hours)
    referral.last_delivery_error = ""
    referral_transition(
        referral=referral,
        to=S.SENT,
        note=_sent_note(claim, how),
        update_fields=(
            "fields_disclosed",
            "consent_used",
            "sent_at",
            "due_at",
            "delivery_started_at",
            "last_delivery_error",
        ),
    )
    outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral_id)
    logger.info("referral %s: delivered on attempt %s", referral_id, attempt)
    return DispatchOutcome("sent")


def _sent_note(claim: _Claim, how: str) -> str:
    return f"delivered by {how} on attempt {claim.attempt}"


def _record_moved_on(
    referral: Referral,
    claim: _Claim,
    *,
    how: str,
    error: PermanentDeliveryError | TemporaryDeliveryError | None,
) -> DispatchOutcome:
    """The referral left `approved` while its packet was on the way (cancelled by a consent
    withdrawal, most likely). Nothing is retried; a packet that arrived must be discarded."""
    outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral.pk)
    if error is not None:
        referral.save(update_fields=["delivery_started_at", "updated_at"])
        return DispatchOutcome("skipped", reason=f"status {referral.status}")
    # What the provider holds now, for the record (the access page lists packets sent).
    referral.fields_disclosed = list(claim.payload)
    referral.save(update_fields=["fields_disclosed", "delivery_started_at", "updated_at"])
    cancelled = referral.status == S.CANCELLED
    referral_note_event(
        referral=referral,
        kind=ReferralEvent.Kind.DELIVERY_ATTEMPT,
        note=(
            f"delivered by {how} on attempt {claim.attempt} after the referral was "
            f"{referral.status}" + ("; the provider is told to discard it" if cancelled else "")
        ),
    )
    if cancelled:
        outbox_emit(topic=REFERRAL_DISCARD, subject=referral)
    logger.info("referral %s: delivered after it was %s", referral.pk, referral.status)
    return DispatchOutcome("discarded" if cancelled else "skipped", reason=referral.status)


def _give_up(referral: Referral, reason: str) -> DispatchOutcome:
    referral.last_delivery_error = reason[:200]
    referral_transition(
        referral=referral,
        to=S.FAILED,
        note=f"delivery failed: {reason}",
        update_fields=("last_delivery_error", "delivery_started_at"),
    )
    outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral.pk)
    logger.warning("referral %s: delivery failed", referral.pk)
    return DispatchOutcome("failed", reason=reason)


# --- discard notice ------------------------------------------------------------------------


def referral_discard_notify(*, referral_id: int) -> DispatchOutcome:
    """Tell the provider of a cancelled referral to discard what it received. Only the
    referral's reference goes out. Retries like delivery; raises `DeliveryRetry`. The send
    happens outside any transaction; a notice sent twice carries the same idempotency key."""
    referral = Referral.objects.select_related("provider").filter(pk=referral_id).first()
    if referral is None:
        outbox_complete(topic=REFERRAL_DISCARD, subject_id=referral_id)
        return DispatchOutcome("skipped", reason="no such referral")
    attempts = referral.events.filter(kind=ReferralEvent.Kind.DISCARD_NOTICE).count() + 1
    payload = {
        "type": "referral.discard",
        "referral": referral.idempotency_key,
        "reason": "consent_withdrawn",
        "instruction": "Delete the information received with this referral.",
    }
    try:
        how = _deliver(referral, payload, key_suffix=":discard")
    except PermanentDeliveryError as error:
        with transaction.atomic():
            referral_note_event(
                referral=referral,
                kind=ReferralEvent.Kind.DISCARD_NOTICE,
                note=f"discard notice failed: {error}; tell the provider another way",
            )
            outbox_complete(topic=REFERRAL_DISCARD, subject_id=referral_id)
        return DispatchOutcome("failed", reason=str(error))
    except TemporaryDeliveryError as error:
        with transaction.atomic():
            referral_note_event(
                referral=referral,
                kind=ReferralEvent.Kind.DISCARD_NOTICE,
                note=f"discard notice attempt {attempts} failed: {error}",
            )
            if attempts >= settings.REFERRAL_DELIVERY_MAX_ATTEMPTS:
                outbox_complete(topic=REFERRAL_DISCARD, subject_id=referral_id)
                return DispatchOutcome("failed", reason=str(error))
            countdown = backoff_seconds(attempts)
            outbox_postpone(topic=REFERRAL_DISCARD, subject_id=referral_id, seconds=countdown)
        raise DeliveryRetry(
            referral_id=referral_id, countdown=countdown, reason=str(error)
        ) from None
    with transaction.atomic():
        referral_note_event(
            referral=referral,
            kind=ReferralEvent.Kind.DISCARD_NOTICE,
            note=f"provider told to discard the referral ({how})",
        )
        outbox_complete(topic=REFERRAL_DISCARD, subject_id=referral_id)
    return DispatchOutcome("sent")
