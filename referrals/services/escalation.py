"""Overdue referrals: a sent referral nobody acknowledged by its due time is escalated (it
shows in the supervisor queue); one still unanswered REFERRAL_EXPIRY_HOURS later expires."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from referrals.models import Referral, ReferralEvent
from referrals.models import ReferralStatus as S
from referrals.services.transitions import referral_note_event, referral_transition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalationReport:
    escalated: int
    expired: int


@transaction.atomic
def referrals_escalate_overdue(*, now: datetime | None = None) -> EscalationReport:
    now = now or timezone.now()
    expire_before = now - timedelta(hours=settings.REFERRAL_EXPIRY_HOURS)
    expired = 0
    for referral in Referral.objects.select_for_update(skip_locked=True).filter(
        status=S.SENT, due_at__lt=expire_before
    ):
        referral_transition(
            referral=referral,
            to=S.EXPIRED,
            note=f"no answer {settings.REFERRAL_EXPIRY_HOURS}h after the due time",
        )
        expired += 1
    escalated = 0
    for referral in Referral.objects.select_for_update(skip_locked=True).filter(
        status=S.SENT, due_at__lt=now, escalated_at__isnull=True
    ):
        referral.escalated_at = now
        referral.save(update_fields=["escalated_at", "updated_at"])
        referral_note_event(
            referral=referral,
            kind=ReferralEvent.Kind.ESCALATED,
            note="not acknowledged by the due time: escalated to the supervisor queue",
        )
        escalated += 1
    if escalated or expired:
        logger.info("referrals: escalated %s, expired %s", escalated, expired)
    return EscalationReport(escalated=escalated, expired=expired)
