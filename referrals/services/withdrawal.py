"""Consent withdrawal: every referral the consent covered that the provider has not accepted
yet is cancelled, and a provider that already received it is told to discard it."""

from __future__ import annotations

from django.utils import timezone

from config.history import history_user_set
from referrals.models import OutboxMessage, Referral, ReferralEvent
from referrals.models import ReferralStatus as S
from referrals.services.consent_gate import covering_consent
from referrals.services.outbox import outbox_kick_on_commit
from referrals.services.transitions import (
    DELIVERED,
    NOT_YET_ACCEPTED,
    referral_note_event,
    referral_transition,
)
from screening.models import User


def referrals_cancel_for_withdrawn_consent(*, consent_id: int, by: User | None = None) -> list[int]:
    """Run inside the withdrawal's transaction. Returns the ids of cancelled referrals.

    A referral another active consent still covers moves to that consent. A mandatory report
    (a child) is not cancelled: it continues with minimal facts only.
    """
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
        OutboxMessage.objects.filter(
            referral=referral,
            topic=OutboxMessage.Topic.DISPATCH_REFERRAL,
            completed_at__isnull=True,
        ).update(completed_at=timezone.now())
        if was_delivered:
            OutboxMessage.objects.create(
                topic=OutboxMessage.Topic.DISCARD_REFERRAL, referral=referral
            )
            outbox_kick_on_commit()
        cancelled.append(referral.pk)
    return cancelled
