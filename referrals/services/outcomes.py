"""Referrals to the end: a referral the provider took on (accepted, services started) is
closed with what came of it, by the provider's staff or by the referring agency; and anyone
who may change the case escalates a stuck referral by hand, with a note, to the supervisors
of the case's agency."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.errors import InvalidState, ValidationError
from referrals.models import Referral, ReferralEvent, ServiceProvider
from referrals.models import ReferralStatus as S
from referrals.permissions import ReferralAction, is_provider_staff, referral_access
from referrals.services.answers import NOTE_MAX_LENGTH, referral_for_callback
from referrals.services.transitions import TRANSITIONS, referral_note_event, referral_transition
from screening.models import Notification, User
from screening.services._common import clean_text
from screening.services.notifications import agency_supervisors, notification_send

# A referral may be escalated by hand while someone still has something to do with it.
ESCALATABLE = frozenset(
    {
        S.PENDING_APPROVAL,
        S.BLOCKED_NEEDS_CONSENT,
        S.SENT,
        S.ACKNOWLEDGED,
        S.ACCEPTED,
        S.SERVICES_STARTED,
    }
)
CLOSABLE = frozenset(status for status, steps in TRANSITIONS.items() if S.CLOSED in steps)


def _note_problems(note: str, *, required: bool, what: str) -> dict[str, list[str]]:
    if required and not note:
        return {"note": [what]}
    if len(note) > NOTE_MAX_LENGTH:
        return {"note": [f"Keep the note to {NOTE_MAX_LENGTH} characters."]}
    return {}


@transaction.atomic
def referral_close(
    *,
    referral_id: int,
    outcome: str,
    note: str = "",
    by: User | None = None,
    provider: ServiceProvider | None = None,
) -> Referral:
    """Close a referral the provider took on, with its outcome ("other" needs a note). Provider
    staff (`by`) and the provider's signed callback (`provider`) close referrals sent to them;
    the referring agency (`by`) those of its cases. Closing again with the same outcome
    changes nothing; a referral not taken on (or already closed otherwise) is `InvalidState`."""
    if (provider is None) == (by is None):
        raise TypeError("give exactly one of provider or by")
    note = clean_text(note)
    problems: dict[str, list[str]] = {}
    if outcome not in Referral.Outcome.values:
        problems["outcome"] = [f"Choose one of: {', '.join(Referral.Outcome.values)}."]
    problems |= _note_problems(
        note, required=outcome == Referral.Outcome.OTHER, what="Explain the outcome."
    )
    if problems:
        raise ValidationError("Please correct the highlighted fields.", problems)
    if provider is not None:
        provider_side = True
        referral = referral_for_callback(referral_id=referral_id, provider=provider)
    else:
        provider_side = is_provider_staff(by)
        referral = referral_access(
            user=by,
            referral_id=referral_id,
            action=ReferralAction.ANSWER if provider_side else ReferralAction.CHANGE,
            for_update=True,
        )
    if referral.status == S.CLOSED and referral.outcome == outcome:
        return referral
    if referral.status not in CLOSABLE:
        raise InvalidState(
            "Only a referral the provider accepted can be closed; this one is "
            f"{referral.get_status_display().lower()}."
        )
    referral.outcome = outcome
    referral.closed_by = (
        Referral.ClosedBy.PROVIDER if provider_side else Referral.ClosedBy.REFERRING_AGENCY
    )
    return referral_transition(
        referral=referral,
        to=S.CLOSED,
        by=by,
        by_provider=referral.provider if provider_side else None,
        reason_code=outcome,
        note=note,
        update_fields=("outcome", "closed_by"),
    )


def referral_escalation_mark(
    *, referral: Referral, reason: str, note: str, by: User | None = None
) -> Referral:
    """Mark a referral (locked by the caller) escalated for `reason` with its history entry,
    and tell the supervisors of the case's agency (a notification naming the case reference,
    nothing else). Used by the beat task and by `referral_escalate`."""
    referral.escalated_at = timezone.now()
    referral.escalation_reason = reason
    referral.save(update_fields=["escalated_at", "escalation_reason", "updated_at"])
    referral_note_event(
        referral=referral, kind=ReferralEvent.Kind.ESCALATED, note=note, by=by, reason_code=reason
    )
    reference = referral.case.reference
    notification_send(
        users=[user for user in agency_supervisors(referral.case_agency_id) if user != by],
        kind=Notification.Kind.OTHER,
        text=f"A referral on case {reference} was escalated.",
        link=f"/referrals/{referral.pk}/",
        case=referral.case,
    )
    return referral


@transaction.atomic
def referral_escalate(*, referral_id: int, by: User, note: str) -> Referral:
    """Escalate a stuck referral by hand to the supervisor queue, saying why (a note is
    required). For who may change the case; a referral already escalated, finished or in
    delivery is `InvalidState`."""
    note = clean_text(note)
    problems = _note_problems(note, required=True, what="Say why it needs a supervisor.")
    if problems:
        raise ValidationError("Please correct the highlighted fields.", problems)
    referral = referral_access(
        user=by, referral_id=referral_id, action=ReferralAction.CHANGE, for_update=True
    )
    if referral.escalated_at is not None:
        raise InvalidState("This referral is already escalated.")
    if referral.status not in ESCALATABLE:
        raise InvalidState(
            f"A referral that is {referral.get_status_display().lower()} cannot be escalated."
        )
    return referral_escalation_mark(
        referral=referral, reason=Referral.EscalationReason.MANUAL, note=note, by=by
    )
