"""The referral state machine: the one table of legal steps and the one function that takes
them. Every status change in the app goes through `referral_transition`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from config.errors import ValidationError
from config.history import history_user_set
from referrals.errors import IllegalTransition
from referrals.models import Referral, ReferralEvent, ServiceProvider
from referrals.models import ReferralStatus as S
from screening.models import User

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.BLOCKED_NEEDS_CONSENT, S.PENDING_APPROVAL, S.CANCELLED}),
    S.BLOCKED_NEEDS_CONSENT: frozenset({S.PENDING_APPROVAL, S.DECLINED, S.CANCELLED, S.EXPIRED}),
    S.PENDING_APPROVAL: frozenset(
        {S.APPROVED, S.DECLINED, S.BLOCKED_NEEDS_CONSENT, S.CANCELLED, S.EXPIRED}
    ),
    # An approved referral whose consent ran out before delivery goes back to blocked.
    S.APPROVED: frozenset({S.SENT, S.FAILED, S.BLOCKED_NEEDS_CONSENT, S.CANCELLED}),
    S.SENT: frozenset({S.ACKNOWLEDGED, S.ACCEPTED, S.DECLINED, S.CANCELLED, S.EXPIRED}),
    S.ACKNOWLEDGED: frozenset({S.ACCEPTED, S.DECLINED, S.CANCELLED, S.EXPIRED}),
    S.ACCEPTED: frozenset({S.SERVICES_STARTED, S.CLOSED}),
    S.SERVICES_STARTED: frozenset({S.CLOSED}),
    # A supervisor may try delivery again (back to approved) or give up.
    S.FAILED: frozenset({S.APPROVED, S.CANCELLED}),
    S.DECLINED: frozenset(),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}

# Not yet accepted by the provider: what consent withdrawal cancels.
NOT_YET_ACCEPTED = frozenset(
    {
        S.PROPOSED,
        S.BLOCKED_NEEDS_CONSENT,
        S.PENDING_APPROVAL,
        S.APPROVED,
        S.SENT,
        S.ACKNOWLEDGED,
        S.FAILED,
    }
)
# The provider holds the disclosure packet in these states.
DELIVERED = frozenset({S.SENT, S.ACKNOWLEDGED, S.ACCEPTED, S.SERVICES_STARTED})


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def referral_transition(
    *,
    referral: Referral,
    to: str,
    by: User | None = None,
    by_provider: ServiceProvider | None = None,
    reason_code: str = "",
    note: str = "",
    at: datetime | None = None,
    update_fields: tuple[str, ...] = (),
) -> Referral:
    """Move `referral` (whose row the caller holds locked) to `to`, and record the event.

    Raises `IllegalTransition` for a step the table does not allow; a decline needs a reason.
    `update_fields` names other fields the caller changed on the instance, saved together.
    A closed referral needs its outcome (set by the caller). A new status starts a new clock:
    the time is kept in `status_changed_at` and an escalation of the old status is cleared.
    """
    fields, event = _transition_apply(
        referral,
        to,
        by=by,
        by_provider=by_provider,
        reason_code=reason_code,
        note=note,
        at=at or timezone.now(),
    )
    referral.save(update_fields=sorted(fields | set(update_fields)))
    event.save()
    return referral


def referrals_transition_together(
    referrals: list[Referral], *, to: str, notes: list[str], values: dict[str, Any]
) -> None:
    """`referral_transition` for several referrals at once (each row locked by the caller,
    each with its note, no user acting), with `values`, the same for every one, for other
    fields: the same checks and fields, in one UPDATE, one INSERT of their change-history
    rows and one of their events. Not for a step that needs a reason or an outcome."""
    if to in (S.CLOSED, S.DECLINED):
        raise ValueError(f"a step to {to} needs its own reason or outcome")
    at = timezone.now()
    events = []
    for referral, note in zip(referrals, notes, strict=True):
        _, event = _transition_apply(referral, to, note=note, at=at)
        events.append(event)
        for name, value in values.items():
            setattr(referral, name, value)
        referral.updated_at = at  # what `auto_now` does on save
    # What `_transition_apply` set on each instance (an escalation cleared, as on every step).
    Referral.objects.filter(pk__in=[referral.pk for referral in referrals]).update(
        status=to,
        status_changed_at=at,
        updated_at=at,
        escalated_at=None,
        escalation_reason="",
        **values,
    )
    Referral.history.bulk_history_create(referrals, update=True, default_date=at)
    ReferralEvent.objects.bulk_create(events)


def _transition_apply(
    referral: Referral,
    to: str,
    *,
    at: datetime,
    by: User | None = None,
    by_provider: ServiceProvider | None = None,
    reason_code: str = "",
    note: str = "",
) -> tuple[set[str], ReferralEvent]:
    """Check the step and set its fields on `referral`; returns the fields set and the step's
    event (not saved yet)."""
    from_status = referral.status
    if not can_transition(from_status, to):
        raise IllegalTransition(from_status, to)
    fields = {"status", "updated_at", "status_changed_at"}
    if to == S.CLOSED:
        if referral.outcome not in Referral.Outcome.values:
            raise ValidationError(
                "Say what came of the referral.",
                {"outcome": [f"Choose one of: {', '.join(Referral.Outcome.values)}."]},
            )
        fields.add("outcome")  # the outcome checked is the outcome stored
    if referral.escalated_at is not None or referral.escalation_reason:
        referral.escalated_at, referral.escalation_reason = None, ""
        fields |= {"escalated_at", "escalation_reason"}
    if to == S.DECLINED:
        if reason_code not in Referral.DeclineReason.values:
            raise ValidationError(
                "Say why the referral is declined.",
                {"reason_code": [f"Choose one of: {', '.join(Referral.DeclineReason.values)}."]},
            )
        referral.decline_reason = reason_code
        referral.declined_by = (
            Referral.DecidedBy.PROVIDER
            if by_provider is not None
            else Referral.DecidedBy.SUPERVISOR
        )
        fields |= {"decline_reason", "declined_by"}
    referral.status = to
    referral.status_changed_at = at
    history_user_set(referral, by)
    event = ReferralEvent(
        referral=referral,
        kind=ReferralEvent.Kind.TRANSITION,
        from_status=from_status,
        to_status=to,
        by=by,
        by_provider=by_provider,
        reason_code=reason_code,
        note=note,
        at=at,
    )
    return fields, event


def referral_note_event(
    *,
    referral: Referral,
    kind: str,
    note: str,
    by: User | None = None,
    by_provider: ServiceProvider | None = None,
    reason_code: str = "",
) -> ReferralEvent:
    """A history entry that is not a status change (delivery attempt, escalation, consent)."""
    return ReferralEvent.objects.create(
        referral=referral,
        kind=kind,
        from_status=referral.status,
        to_status=referral.status,
        by=by,
        by_provider=by_provider,
        reason_code=reason_code,
        note=note,
    )
