"""Supervisor decisions: approve (writes the outbox row in the same transaction), decline
with a reason code, and retry a failed delivery."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.errors import ConsentRequired, InvalidState, ValidationError
from config.outbox import outbox_emit
from referrals.events import REFERRAL_DISPATCH
from referrals.models import Referral
from referrals.models import ReferralStatus as S
from referrals.permissions import ReferralAction, referral_access
from referrals.services.consent_gate import covering_consent
from referrals.services.transitions import referral_transition
from screening.models import User
from screening.services._common import clean_text

SUPERVISOR_DECLINE_REASONS = (
    Referral.DeclineReason.NOT_APPROPRIATE,
    Referral.DeclineReason.PERSON_DECLINED,
    Referral.DeclineReason.DUPLICATE,
    Referral.DeclineReason.SAFETY_CONCERN,
    Referral.DeclineReason.OTHER,
)


def _request_dispatch(referral: Referral) -> None:
    """An outbox row in the decision's transaction, published to the worker right after the
    commit (the relay as the safety net)."""
    outbox_emit(topic=REFERRAL_DISPATCH, subject=referral)


@transaction.atomic
def referral_approve(*, referral_id: int, by: User, note: str = "") -> Referral:
    """Approve a pending referral. The consent gate is checked again now (a consent may have
    run out since routing); a mandatory referral needs none. Approving twice changes nothing."""
    referral = referral_access(
        user=by, referral_id=referral_id, action=ReferralAction.DECIDE, for_update=True
    )
    if referral.status == S.APPROVED:
        return referral
    if referral.status != S.PENDING_APPROVAL:
        raise InvalidState(
            f"Only a referral waiting for approval can be approved ({referral.status})."
        )
    # A place has no person to consent (an observation checklist's referral).
    consent = None
    if not referral.about_place:
        consent = covering_consent(
            case_id=referral.case_id,
            provider=referral.provider,
            service_type=referral.service_type,
        )
    if consent is None and not (referral.mandatory or referral.about_place):
        raise ConsentRequired(
            "No active consent covers this referral any more: record the person's written "
            "consent before approving."
        )
    referral.consent_used = consent
    referral.approved_by = by
    referral.approved_at = timezone.now()
    referral_transition(
        referral=referral,
        to=S.APPROVED,
        by=by,
        note=clean_text(note),
        update_fields=("consent_used", "approved_by", "approved_at"),
    )
    _request_dispatch(referral)
    return referral


@transaction.atomic
def referral_decline(*, referral_id: int, by: User, reason_code: str, note: str = "") -> Referral:
    """A supervisor declines a proposed referral with a reason code ("other" needs a note)."""
    referral = referral_access(
        user=by, referral_id=referral_id, action=ReferralAction.DECIDE, for_update=True
    )
    problems: dict[str, list[str]] = {}
    if reason_code not in SUPERVISOR_DECLINE_REASONS:
        problems["reason_code"] = [f"Choose one of: {', '.join(SUPERVISOR_DECLINE_REASONS)}."]
    elif reason_code == Referral.DeclineReason.OTHER and not clean_text(note):
        problems["note"] = ["Explain the reason."]
    if problems:
        raise ValidationError("Please correct the highlighted fields.", problems)
    if referral.status not in (S.PENDING_APPROVAL, S.BLOCKED_NEEDS_CONSENT):
        raise InvalidState("Only a referral waiting for a decision can be declined.")
    return referral_transition(
        referral=referral, to=S.DECLINED, by=by, reason_code=reason_code, note=clean_text(note)
    )


@transaction.atomic
def referral_retry_delivery(*, referral_id: int, by: User, note: str = "") -> Referral:
    """A supervisor sends a failed referral again (after fixing the provider's channel)."""
    referral = referral_access(
        user=by, referral_id=referral_id, action=ReferralAction.DECIDE, for_update=True
    )
    if referral.status != S.FAILED:
        raise InvalidState("Only a referral whose delivery failed can be sent again.")
    referral.delivery_attempts = 0
    referral_transition(
        referral=referral,
        to=S.APPROVED,
        by=by,
        note=clean_text(note) or "delivery retried",
        update_fields=("delivery_attempts",),
    )
    _request_dispatch(referral)
    return referral
