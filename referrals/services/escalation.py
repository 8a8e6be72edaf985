"""Stuck referrals are escalated to the supervisor queue, each state by its own clock:

- waiting for approval past its due time (`due_at`, set from the priority at proposal);
- blocked for want of consent longer than REFERRAL_CONSENT_WAIT_HOURS: the case's worker also
  gets a "revisit consent" task (consent is asked again by a person, never assumed);
- sent or acknowledged and not answered by the provider's due time;
- accepted with no services started REFERRAL_START_WAIT_HOURS after the acceptance.

A sent referral still unanswered REFERRAL_EXPIRY_HOURS after its due time expires. A new
status clears an escalation (`referral_transition`), so each stuck state escalates once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.errors import ApplicationError
from referrals.models import Referral
from referrals.models import ReferralStatus as S
from referrals.services.outcomes import referral_escalation_mark
from referrals.services.transitions import referral_transition
from screening.models import CaseTask, User

logger = logging.getLogger(__name__)
R = Referral.EscalationReason
# One run handles at most this many referrals per state (the next run takes the rest).
ESCALATION_BATCH = 500
NOTES = {
    R.APPROVAL_OVERDUE: "not approved by the due time: escalated to the supervisor queue",
    R.CONSENT_OVERDUE: "blocked for want of consent too long: the case worker is asked to "
    "revisit consent",
    R.ANSWER_OVERDUE: "not answered by the provider by the due time: escalated to the "
    "supervisor queue",
    R.START_OVERDUE: "accepted but no services started in time: escalated to the supervisor queue",
}


@dataclass(frozen=True)
class EscalationReport:
    escalated: int
    expired: int
    tasks: int = 0


def _stuck(now: datetime) -> dict[str, Q]:
    since = Coalesce("status_changed_at", "created_at")
    consent_before = now - timedelta(hours=settings.REFERRAL_CONSENT_WAIT_HOURS)
    start_before = now - timedelta(hours=settings.REFERRAL_START_WAIT_HOURS)
    return {
        R.APPROVAL_OVERDUE: Q(status=S.PENDING_APPROVAL, due_at__lt=now),
        R.CONSENT_OVERDUE: Q(status=S.BLOCKED_NEEDS_CONSENT, stuck_since__lt=consent_before),
        R.ANSWER_OVERDUE: Q(status__in=(S.SENT, S.ACKNOWLEDGED), due_at__lt=now),
        R.START_OVERDUE: Q(status=S.ACCEPTED, stuck_since__lt=start_before),
    }, since


def _locked(query: Q, since) -> QuerySet[Referral]:
    return (
        Referral.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("case", "provider")
        .annotate(stuck_since=since)
        .filter(query, escalated_at__isnull=True)
        .order_by("pk")[:ESCALATION_BATCH]
    )


def _case_worker(referral: Referral) -> User | None:
    """Whom a case's follow-up goes to: its first assigned worker still active, else the
    worker who opened it."""
    assignment = (
        referral.case.assignments.filter(worker__is_active=True)
        .select_related("worker")
        .order_by("assigned_at", "pk")
        .first()
    )
    return assignment.worker if assignment else referral.case.created_by


def _revisit_consent_task(referral: Referral, now: datetime) -> bool:
    """A "revisit consent" task for the case's worker; none if the case is closed or the
    worker may no longer change it (logged without case data)."""
    from screening.services.followups import case_task_add

    worker = _case_worker(referral)
    service = referral.get_service_type_display().lower()
    try:
        with transaction.atomic():
            case_task_add(
                case=referral.case,
                by=worker,
                assignee=worker,
                kind=CaseTask.Kind.REVISIT_CONSENT,
                description=f"Revisit consent: the referral for {service} is blocked until "
                "the person consents (or it is declined).",
                due_at=now + timedelta(days=1),
            )
    except ApplicationError as error:
        reason = type(error).__name__
        logger.info("escalation: no consent task for referral %s (%s)", referral.pk, reason)
        return False
    return True


@transaction.atomic
def referrals_escalate_overdue(*, now: datetime | None = None) -> EscalationReport:
    now = now or timezone.now()
    expire_before = now - timedelta(hours=settings.REFERRAL_EXPIRY_HOURS)
    expired = 0
    for referral in Referral.objects.select_for_update(skip_locked=True).filter(
        status=S.SENT, due_at__lt=expire_before
    )[:ESCALATION_BATCH]:
        referral_transition(
            referral=referral,
            to=S.EXPIRED,
            note=f"no answer {settings.REFERRAL_EXPIRY_HOURS}h after the due time",
        )
        expired += 1
    escalated = tasks = 0
    stuck, since = _stuck(now)
    for reason, query in stuck.items():
        for referral in _locked(query, since):
            referral_escalation_mark(referral=referral, reason=reason, note=NOTES[reason])
            escalated += 1
            if reason == R.CONSENT_OVERDUE and _revisit_consent_task(referral, now):
                tasks += 1
    if escalated or expired:
        logger.info(
            "referrals: escalated %s, expired %s, consent tasks %s", escalated, expired, tasks
        )
    return EscalationReport(escalated=escalated, expired=expired, tasks=tasks)
