"""Tasks and follow-ups on a case: what, by when, who; done or not. A beat task
(`case_task_reminders_send`) reminds the assignee once a task falls due, in the service and
by an email that names no person; a task not done by its due time is overdue (the lists say
so). Other parts add tasks through `case_task_add` too (e.g. "revisit consent" for a referral
blocked for want of consent)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from config.access_log import access_log_note
from config.errors import InvalidState, NotFound
from config.history import history_user_set
from screening.models import Case, CaseTask, Notification, User
from screening.permissions import CaseAction, case_access
from screening.services._common import raise_if
from screening.services.notifications import notification_send

logger = logging.getLogger(__name__)

TASK = "task"
# How many due tasks one reminder run handles at most (the next run takes the rest).
REMINDER_BATCH = 500


class TaskNotFound(NotFound):
    def __init__(self, message: str = "No such task.") -> None:
        super().__init__(message)


def task_access(*, user: User, task_id: int | str, action: str = CaseAction.VIEW) -> CaseTask:
    """The task, if `user` may do `action` with its case (tasks, like notes, need what
    changing the case needs to be read); `TaskNotFound` for missing and unseen alike."""
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        raise TaskNotFound() from None
    case_id = CaseTask.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise TaskNotFound()
    try:
        case = case_access(user=user, case_reference_or_id=case_id, action=action)
    except NotFound:
        raise TaskNotFound() from None
    task = CaseTask.objects.select_related("assignee").get(pk=pk)
    task.case = case
    access_log_note(object_type=TASK, object_ref=str(pk), case_id=case_id)
    return task


def _may_hold_task(case: Case, user: User | None) -> bool:
    """Someone of the case's agency who may change the case (its creator, an assigned
    worker, a supervisor): a task for anyone else would be one they cannot open. Checked
    on a fresh copy of the account, not the caller's possibly stale one."""
    if user is None:
        return False
    fresh = User.objects.filter(pk=user.pk, is_active=True, agency_id=case.agency_id).first()
    return (
        fresh is not None
        and Case.objects.visible_to(fresh)
        .with_access(fresh)
        .filter(pk=case.pk, user_can_change=True)
        .exists()
    )


@transaction.atomic
def case_task_add(
    *,
    case: Case,
    by: User,
    description: str,
    due_at: datetime,
    assignee: User | None = None,
    kind: str = CaseTask.Kind.FOLLOW_UP,
) -> CaseTask:
    """Add a task to an open case for one of the agency's case workers (default: oneself).
    The assignee is told (unless they set it themselves)."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CHANGE, for_update=True
    )
    if not case.is_open:
        raise InvalidState("This case is closed; reopen it to add tasks.")
    assignee = assignee or by
    cleaned = (description or "").strip()
    problems: dict[str, list[str]] = {}
    if kind not in CaseTask.Kind.values:
        problems["kind"] = ["Choose the kind of task."]
    if not cleaned:
        problems["description"] = ["Say what needs doing."]
    elif len(cleaned) > CaseTask.MAX_LENGTH:
        problems["description"] = [f"Keep it under {CaseTask.MAX_LENGTH} characters."]
    if due_at is None:
        problems["due_at"] = ["Give a due date."]
    elif due_at < timezone.now() - timedelta(days=1):
        problems["due_at"] = ["The due date has passed; give one from today on."]
    if not _may_hold_task(case, assignee):
        problems["assignee"] = ["Choose someone who works on this case (assign them first)."]
    raise_if(problems)
    task = CaseTask(
        case=case,
        kind=kind,
        description=cleaned,
        due_at=due_at,
        assignee=assignee,
        created_by=by,
    )
    history_user_set(task, by)
    task.save()
    access_log_note(object_type=TASK, object_ref=str(task.pk), case_id=case.pk)
    if assignee.pk != by.pk:
        notification_send(
            users=[assignee],
            kind=Notification.Kind.TASK_ASSIGNED,
            text=f"You have a new task on case {case.reference}.",
            link=f"/cases/{case.reference}/#tasks",
            case=case,
        )
    return task


@transaction.atomic
def case_task_done(*, task: CaseTask, by: User) -> CaseTask:
    """Mark the task done (anyone who may change the case). Done twice changes nothing."""
    task = task_access(user=by, task_id=task.pk, action=CaseAction.CHANGE)
    task = CaseTask.objects.select_for_update().get(pk=task.pk)
    if task.done_at is not None:
        return task
    task.done_at, task.done_by = timezone.now(), by
    history_user_set(task, by)
    task.save(update_fields=["done_at", "done_by"])
    return task


@dataclass(frozen=True)
class ReminderReport:
    reminded: int
    emailed: int
    email_failed: int


def _reminder_email(reference: str) -> tuple[str, str]:
    """Subject and body of the email notice: the case reference and nothing else about it,
    no person's name, not even the assignee's (inboxes are shared and read over shoulders)."""
    return (
        "A task is due",
        f"A task on case {reference} is due.\n\nSign in to the case screening service to see it.",
    )


def case_task_reminders_send(*, now: datetime | None = None) -> ReminderReport:
    """Remind the assignee of each open task that has fallen due (within
    TASK_REMINDER_LEAD_MINUTES of its due time) and was not reminded yet: an in-app
    notification, committed with the task's `reminded_at`, then an email notice where the
    assignee has an address. Emails go out after the commit (no mail server call inside a
    transaction); a failed email is logged without any case data and not retried (the in-app
    notification stands)."""
    now = now or timezone.now()
    lead = timedelta(minutes=settings.TASK_REMINDER_LEAD_MINUTES)
    emails: list[tuple[str, str]] = []
    with transaction.atomic():
        due = list(
            CaseTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(done_at__isnull=True, reminded_at__isnull=True, due_at__lte=now + lead)
            .select_related("case", "assignee")
            .order_by("due_at", "pk")[:REMINDER_BATCH]
        )
        for task in due:
            reference = task.case.reference
            notification_send(
                users=[task.assignee],
                kind=Notification.Kind.TASK_DUE,
                text=f"A task on case {reference} is due.",
                link=f"/cases/{reference}/#tasks",
                case=task.case,
            )
            if task.assignee.is_active and task.assignee.email:
                emails.append((task.assignee.email, reference))
        if due:
            CaseTask.objects.filter(pk__in=[task.pk for task in due]).update(reminded_at=now)
    emailed = failed = 0
    for address, reference in emails:
        subject, body = _reminder_email(reference)
        try:
            send_mail(subject=subject, message=body, from_email=None, recipient_list=[address])
        except (ConnectionError, OSError) as error:
            failed += 1
            logger.warning("task reminder email failed (%s)", type(error).__name__)
        else:
            emailed += 1
    return ReminderReport(reminded=len(due), emailed=emailed, email_failed=failed)
