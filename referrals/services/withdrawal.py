"""Consent withdrawal: every referral the consent covered that the provider has not accepted
yet is cancelled, and a provider that already received it is told to discard it.

Runs on the `consent.withdrawn` event (task `referrals.cancel_for_withdrawn_consent`), right
after the withdrawal commits. Nothing is disclosed meanwhile: every delivery passes the
consent gate, which reads the consent as it is now."""

from __future__ import annotations

from django.db import transaction

from config.history import history_user_set
from config.outbox import outbox_complete, outbox_emit
from referrals.events import REFERRAL_DISCARD, REFERRAL_DISPATCH
from referrals.models import Referral, ReferralEvent
from referrals.models import ReferralStatus as S
from referrals.services.consent_gate import covering_consent
from referrals.services.transitions import (
    DELIVERED,
    NOT_YET_ACCEPTED,
    referral_note_event,
    referral_transition,
)
from screening.models import Consent, User


@transaction.atomic
def referrals_cancel_for_withdrawn_consent(*, consent_id: int, by: User | None = None) -> list[int]:
    """Returns the ids of cancelled referrals. The change is recorded as made by `by`, or by
    whoever withdrew the consent. Running it again changes nothing.

    A referral another active consent still covers moves to that consent. A mandatory report
    (a child) is not cancelled: it continues with minimal facts only.
    """
    consent = (
        Consent.objects.filter(pk=consent_id, withdrawn_at__isnull=False)
        .select_related("withdrawn_by")
        .first()
    )
    if consent is None:  # not withdrawn (or gone with its case): nothing rests on it to cancel
        return []
    by = by or consent.withdrawn_by
    cancelled: list[int] = []
    referrals = (
        Referral.objects.select_for_update()
        .select_related("provider")
        .filter(consent_used_id=consent_id, status__in=NOT_YET_ACCEPTED)
        .order_by("pk")
    )
    for referral in referrals:
        other = covering_consent(
            case_id=referral.case_id,
            provider=referral.provider,
            service_type=referral.service_type,
            exclude_id=consent_id,
        )
        if other is not None:
            referral.consent_used = other
            history_user_set(referral, by)
            referral.save(update_fields=["consent_used", "updated_at"])
            referral_note_event(
                referral=referral,
                kind=ReferralEvent.Kind.CONSENT,
                by=by,
                note=f"consent {consent_id} withdrawn; still covered by consent {other.pk}",
            )
            continue
        if referral.mandatory:
            referral.consent_used = None
            history_user_set(referral, by)
            referral.save(update_fields=["consent_used", "updated_at"])
            referral_note_event(
                referral=referral,
                kind=ReferralEvent.Kind.CONSENT,
                by=by,
                note="consent withdrawn; the mandatory report continues with minimal facts",
            )
            continue
        was_delivered = referral.status in DELIVERED
        referral_transition(referral=referral, to=S.CANCELLED, by=by, note="consent withdrawn")
        outbox_complete(topic=REFERRAL_DISPATCH, subject_id=referral.pk)
        if was_delivered:
            outbox_emit(topic=REFERRAL_DISCARD, subject=referral)
        cancelled.append(referral.pk)
    return cancelled
