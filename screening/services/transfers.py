"""Transferring a case to another agency: asked for by a supervisor of the owning agency,
accepted or declined by a supervisor of the receiving one, or withdrawn by the sender.

A transfer hands the whole case over, so it passes the consent gate like a share, when it
is asked for and again when it is accepted (the consent may have been withdrawn between).
On acceptance the case's agency changes; the sending agency's assignments, grants and
emergency access end, a share to the receiving agency becomes its ownership, and open tasks
go to the receiving agency: the sending agency keeps nothing but the history (change
history, timeline, access log). Referrals keep the owning agency beside each referral
(`Referral.case_agency`); the `case.transferred` event, committed with the change, has
referrals move it (screening imports nothing from referrals)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.errors import ConsentRequired, InvalidState
from config.history import history_user_set
from config.outbox import outbox_emit
from screening.consent_gate import agency_disclosure_check
from screening.events import CASE_TRANSFERRED
from screening.models import (
    Agency,
    BreakGlassGrant,
    Case,
    CaseActivity,
    CaseAssignment,
    CaseShare,
    CaseTask,
    CaseTransfer,
    CaseUserObjectPermission,
    Notification,
    User,
)
from screening.permissions import CaseAction, TransferAction, case_access, transfer_access
from screening.querysets import CASE_WORKER_ROLES
from screening.services._common import clean_text, grant_worker, raise_if
from screening.services.notifications import agency_supervisors, notification_send


def _gate(case: Case, agency: Agency) -> None:
    decision = agency_disclosure_check(case=case, agency=agency)
    if not decision.allowed:
        raise ConsentRequired(f"Transferring this case needs {decision.missing}.")


@transaction.atomic
def case_transfer_request(*, case: Case, to_agency: Agency, reason: str, by: User) -> CaseTransfer:
    """A supervisor of the owning agency asks another agency to take the case over. The
    receiving agency's supervisors are told (a notification naming the case reference)."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.SHARE, for_update=True
    )
    to_agency = Agency.objects.get(pk=to_agency.pk)
    problems: dict[str, list[str]] = {}
    if not clean_text(reason):
        problems["reason"] = ["Say why the case should move to this agency."]
    if to_agency.pk == case.agency_id:
        problems["agency"] = ["The case already belongs to this agency."]
    elif not to_agency.is_active:
        problems["agency"] = ["This agency is no longer active."]
    raise_if(problems)
    if not case.is_open:
        raise InvalidState("This case is closed; reopen it before transferring it.")
    if CaseTransfer.objects.filter(case=case, status=CaseTransfer.Status.PENDING).exists():
        raise InvalidState("A transfer of this case is already waiting for an answer.")
    _gate(case, to_agency)
    transfer = CaseTransfer.objects.create(
        case=case,
        from_agency_id=case.agency_id,
        to_agency=to_agency,
        reason=clean_text(reason),
        requested_by=by,
    )
    CaseActivity.objects.create(
        case=case, kind=CaseActivity.Kind.TRANSFER_REQUESTED, by=by, agency=to_agency
    )
    notification_send(
        users=agency_supervisors(to_agency),
        kind=Notification.Kind.TRANSFER_REQUESTED,
        text=f"Another agency asks yours to take over case {case.reference}.",
        link=f"/transfers/{transfer.pk}/",
    )
    return transfer


def _decided(transfer: CaseTransfer, *, status: str, by: User, note: str = "") -> None:
    transfer.status = status
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    transfer.decision_note = clean_text(note)
    transfer.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


@transaction.atomic
def case_transfer_accept(
    *, transfer: CaseTransfer, by: User, assign_to: User | None = None
) -> Case:
    """A supervisor of the receiving agency takes the case over, optionally giving it to one
    of their workers at once. See the module docstring for what moves."""
    transfer = transfer_access(
        user=by, transfer_id=transfer.pk, action=TransferAction.DECIDE, for_update=True
    )
    if not transfer.is_pending:
        raise InvalidState("This transfer was already answered or withdrawn.")
    # Lock order everywhere: the case before what hangs off it.
    case = Case.objects.select_for_update(of=("self",)).get(pk=transfer.case_id)
    if not case.is_open:
        raise InvalidState("The case was closed after the transfer was asked for.")
    if assign_to is not None:
        eligible = User.objects.filter(
            pk=assign_to.pk,
            is_active=True,
            agency_id=by.agency_id,
            groups__name__in=list(CASE_WORKER_ROLES),
        ).exists()
        raise_if(
            {} if eligible else {"assign_to": ["Choose an active case worker of your agency."]}
        )
    _gate(case, transfer.to_agency)
    old_agency_id = case.agency_id
    new_agency_id = transfer.to_agency_id
    # What the sending agency held: its workers' assignments and grants, its emergency
    # access, and notifications about the case.
    old_staff = User.objects.filter(agency_id=old_agency_id).values("pk")
    CaseAssignment.objects.filter(case=case, worker__in=old_staff).delete()
    CaseUserObjectPermission.objects.filter(content_object=case, user__in=old_staff).delete()
    now = timezone.now()
    BreakGlassGrant.objects.filter(case=case, user__in=old_staff, expires_at__gt=now).update(
        expires_at=now
    )
    Notification.objects.filter(case=case, user__in=old_staff).delete()
    CaseShare.objects.filter(case=case, shared_with_agency_id=new_agency_id).delete()
    # Open tasks of the sending agency's staff go to whoever now holds the case.
    holder = assign_to or by
    for task in CaseTask.objects.filter(case=case, done_at__isnull=True, assignee__in=old_staff):
        task.assignee = holder
        history_user_set(task, by)
        task.save(update_fields=["assignee"])

    case.agency_id = new_agency_id
    history_user_set(case, by)
    case.save(update_fields=["agency", "updated_at"])
    _decided(transfer, status=CaseTransfer.Status.ACCEPTED, by=by)
    CaseActivity.objects.create(
        case=case, kind=CaseActivity.Kind.TRANSFER_ACCEPTED, by=by, agency_id=new_agency_id
    )
    if assign_to is not None:
        CaseAssignment.objects.get_or_create(
            case=case, worker=assign_to, defaults={"assigned_by": by}
        )
        grant_worker(case=case, user=assign_to)
        CaseActivity.objects.create(
            case=case, kind=CaseActivity.Kind.ASSIGNED, by=by, worker=assign_to
        )
        if assign_to.pk != by.pk:
            notification_send(
                users=[assign_to],
                kind=Notification.Kind.CASE_ASSIGNED,
                text=f"You were given case {case.reference}.",
                link=f"/cases/{case.reference}/",
                case=case,
            )
    # Told to the sending agency without a link: the case is no longer theirs to open.
    notification_send(
        users=agency_supervisors(old_agency_id),
        kind=Notification.Kind.TRANSFER_DECIDED,
        text=f"The transfer of case {case.reference} was accepted.",
    )
    outbox_emit(topic=CASE_TRANSFERRED, subject=case)
    return case


@transaction.atomic
def case_transfer_decline(*, transfer: CaseTransfer, by: User, reason: str) -> CaseTransfer:
    """A supervisor of the receiving agency declines, saying why: nothing moves."""
    transfer = transfer_access(
        user=by, transfer_id=transfer.pk, action=TransferAction.DECIDE, for_update=True
    )
    if not transfer.is_pending:
        raise InvalidState("This transfer was already answered or withdrawn.")
    raise_if({} if clean_text(reason) else {"reason": ["Say why your agency cannot take it."]})
    _decided(transfer, status=CaseTransfer.Status.DECLINED, by=by, note=reason)
    CaseActivity.objects.create(
        case_id=transfer.case_id,
        kind=CaseActivity.Kind.TRANSFER_DECLINED,
        by=by,
        agency_id=transfer.to_agency_id,
    )
    notification_send(
        users=agency_supervisors(transfer.from_agency_id),
        kind=Notification.Kind.TRANSFER_DECIDED,
        text=f"The transfer of case {transfer.case.reference} was declined.",
        link=f"/cases/{transfer.case.reference}/",
        case=transfer.case,
    )
    return transfer


@transaction.atomic
def case_transfer_cancel(*, transfer: CaseTransfer, by: User) -> CaseTransfer:
    """A supervisor of the sending agency withdraws a request not yet answered."""
    transfer = transfer_access(
        user=by, transfer_id=transfer.pk, action=TransferAction.CANCEL, for_update=True
    )
    if not transfer.is_pending:
        raise InvalidState("This transfer was already answered or withdrawn.")
    _decided(transfer, status=CaseTransfer.Status.CANCELLED, by=by)
    CaseActivity.objects.create(
        case_id=transfer.case_id,
        kind=CaseActivity.Kind.TRANSFER_CANCELLED,
        by=by,
        agency_id=transfer.to_agency_id,
    )
    # The receiving supervisors' "waiting for your answer" notices are moot now.
    Notification.objects.filter(
        kind=Notification.Kind.TRANSFER_REQUESTED, link=f"/transfers/{transfer.pk}/"
    ).delete()
    return transfer
