"""Case-work pages (issue 14): the case page's controls for assigning, sharing, transferring,
closing and reopening, notes and tasks; the whole timeline; the correction of a note; my
tasks; notifications; transfer requests and their answers. Reads through selectors and
access functions, writes through services; a refused form is shown again on the case page
with its errors (status 400), nothing saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import (
    ActionNotAllowed,
    ApplicationError,
    ConflictError,
    InvalidState,
    ValidationError,
)
from config.keyset import CursorInvalid
from screening import selectors, services
from screening.casework_forms import (
    AssignForm,
    CloseForm,
    NoteForm,
    ShareForm,
    TaskForm,
    TransferAcceptForm,
    TransferDeclineForm,
    TransferForm,
)
from screening.forms import add_service_errors
from screening.models import Case, CaseTransfer, User
from screening.permissions import (
    CaseAction,
    TransferAction,
    case_access,
    is_case_worker,
    transfer_access,
)
from screening.roles import Role
from screening.services.followups import task_access
from screening.services.notes import note_access
from screening.timeline import case_timeline_page
from screening.views._common import list_page, post_only, render_page

TIMELINE_ON_CASE_PAGE = 10
TIMELINE_PER_PAGE = 25
TASKS_PER_PAGE = 25
NOTIFICATIONS_PER_PAGE = 25
TRANSFERS_PER_PAGE = 25


def case_work_context(
    request: HttpRequest,
    case: Case,
    bound: dict[str, forms.Form] | None = None,
    already_read: dict | None = None,
) -> dict[str, Any]:
    """What the case page's case-work sections need: the people on the case, its tasks and
    the newest part of its timeline, and the forms the user may use (a refused one bound,
    with its errors). A fixed number of queries, however big the case; `already_read` are
    rows of the case the page holds whole, for the timeline (`case_timeline_page`)."""
    bound = bound or {}
    may_change, supervises = case.user_can_change, case.user_supervises
    workers = selectors.agency_worker_list(agency_id=case.agency_id)
    agencies = selectors.agency_other_list(agency_id=case.agency_id)
    context: dict[str, Any] = {
        "assignments": selectors.case_page_assignment_list(case=case) if may_change else [],
        "shares": selectors.case_page_share_list(case=case) if supervises else [],
        "pending_transfer": selectors.case_page_transfer_pending(case=case) if supervises else None,
        "tasks": selectors.case_page_task_list(case=case) if may_change else [],
        "timeline": case_timeline_page(
            case=case,
            may_read_narrative=may_change,
            per_page=TIMELINE_ON_CASE_PAGE,
            already_read=already_read,
        ),
        "work_forms": {},
    }
    work_forms: dict[str, forms.Form] = {}
    if case.is_open and may_change:
        work_forms["note"] = bound.get("note") or NoteForm()
        work_forms["task"] = bound.get("task") or TaskForm(workers=workers)
        work_forms["close"] = bound.get("close") or CloseForm()
    if case.is_open and supervises:
        work_forms["assign"] = bound.get("assign") or AssignForm(workers=workers)
        work_forms["share"] = bound.get("share") or ShareForm(agencies=agencies)
        if context["pending_transfer"] is None:
            work_forms["transfer"] = bound.get("transfer") or TransferForm(agencies=agencies)
    fresh = {name: form for name, form in work_forms.items() if name not in bound}
    choices_read_once(workers, [fresh[n].fields[f] for n, f in WORKER_CHOICES if n in fresh])
    choices_read_once(agencies, [fresh[n].fields[f] for n, f in AGENCY_CHOICES if n in fresh])
    context["work_forms"] = work_forms
    return context


# The case page's forms that choose from the agency's workers, and from the other agencies.
WORKER_CHOICES = (("task", "assignee"), ("assign", "worker"))
AGENCY_CHOICES = (("share", "agency"), ("transfer", "agency"))


def choices_read_once(rows: QuerySet, fields: list[forms.ModelChoiceField]) -> None:
    """Let `fields` (of unbound forms, all choosing from `rows`) render their choices from
    one read of `rows`: Django's `ModelChoiceIterator` reads its queryset again, through a
    server-side cursor, for every field it renders. The choices are the ones it makes (its
    `choice()` of each row, after the empty label); validation still uses each field's
    queryset."""
    if not fields:
        return
    objects = list(rows)
    for field in fields:
        iterator = field.iterator(field)
        empty = [("", field.empty_label)] if field.empty_label is not None else []
        field.widget.choices = empty + [iterator.choice(obj) for obj in objects]


def _back_to_case(reference: str, anchor: str = "") -> HttpResponse:
    response = redirect("screening:case-detail", reference=reference)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _refused(request: HttpRequest, reference: str, name: str, form: forms.Form) -> HttpResponse:
    from screening.views.cases import case_detail

    return case_detail(request, reference, work_forms={name: form})


# --- assign, share, transfer, close, reopen -----------------------------------------------


@post_only("screening:case-detail", "reference")
@login_required
def case_assign_page(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.ASSIGN)
    form = AssignForm(request.POST, workers=selectors.agency_worker_list(agency_id=case.agency_id))
    if form.is_valid():
        worker = form.cleaned_data["worker"]
        try:
            services.case_assign(case=case, worker=worker, by=request.user)
        except (ValidationError, InvalidState) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{_name(worker)} now works on this case.")
            return _back_to_case(reference, "people")
    return _refused(request, reference, "assign", form)


@post_only("screening:case-detail", "reference")
@login_required
def case_unassign_page(request: HttpRequest, reference: str, worker_id: int) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.ASSIGN)
    assignment = case.assignments.select_related("worker").filter(worker_id=worker_id).first()
    if assignment is not None:
        services.case_unassign(case=case, worker=assignment.worker, by=request.user)
        messages.success(request, f"{_name(assignment.worker)} no longer works on this case.")
    return _back_to_case(reference, "people")


@post_only("screening:case-detail", "reference")
@login_required
def case_share_page(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.SHARE)
    form = ShareForm(request.POST, agencies=selectors.agency_other_list(agency_id=case.agency_id))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.case_share(
                case=case,
                agency=data["agency"],
                reason=data["reason"],
                identifying=data["identifying"],
                by=request.user,
            )
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Shared with {data['agency'].name}, read only.")
            return _back_to_case(reference, "people")
    return _refused(request, reference, "share", form)


@post_only("screening:case-detail", "reference")
@login_required
def case_transfer_page(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.SHARE)
    form = TransferForm(
        request.POST, agencies=selectors.agency_other_list(agency_id=case.agency_id)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.case_transfer_request(
                case=case, to_agency=data["agency"], reason=data["reason"], by=request.user
            )
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Transfer asked for. {data['agency'].name}'s supervisors will accept or "
                "decline it; until then the case stays with your agency.",
            )
            return _back_to_case(reference, "people")
    return _refused(request, reference, "transfer", form)


@post_only("screening:case-detail", "reference")
@login_required
def case_close_page(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.CLOSE)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.case_close(
                case=case,
                by=request.user,
                reason_code=form.cleaned_data["reason_code"],
                reason=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Case closed. It can be reopened if anything changes.")
            return _back_to_case(reference)
    return _refused(request, reference, "close", form)


@post_only("screening:case-detail", "reference")
@login_required
def case_reopen_page(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.CLOSE)
    services.case_reopen(case=case, by=request.user)
    messages.success(request, "Case reopened.")
    return _back_to_case(reference)


# --- notes ---------------------------------------------------------------------------------


@post_only("screening:case-detail", "reference")
@login_required
def case_note_new(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.case_note_add(case=case, by=request.user, **form.cleaned_data)
        except (ValidationError, InvalidState) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Note added.")
            return _back_to_case(reference, "timeline")
    return _refused(request, reference, "note", form)


@login_required
def case_note_correct_page(request: HttpRequest, note_id: int) -> HttpResponse:
    """The author's correction of their note, on a page of its own: the earlier version
    stays in the change history."""
    note = note_access(user=request.user, note_id=note_id, action=CaseAction.CHANGE)
    if note.author_id != request.user.pk:
        raise PermissionDenied("Only the author corrects a note.")
    initial = {"kind": note.kind, "text": note.text}
    form = NoteForm(request.POST or None, initial=initial, prefix="correct")
    version = request.POST.get("version", note.version)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_note_correct(
                note=note,
                by=request.user,
                text=form.cleaned_data["text"],
                kind=form.cleaned_data["kind"],
                expected_version=int(version),
            )
        except ConflictError:
            form.add_error(
                None, "This note was corrected in another window. Reload to see that version."
            )
        except (ValidationError, InvalidState) as error:
            add_service_errors(form, error)
        except (TypeError, ValueError):
            form.add_error(None, "Reload the page and try again.")
        else:
            messages.success(request, "Note corrected. The earlier version is kept.")
            return _back_to_case(note.case.reference, "timeline")
    return render_page(
        request,
        "screening/note_correct.html",
        {"note": note, "case": note.case, "form": form},
        status=400 if form.is_bound else 200,
    )


# --- tasks ---------------------------------------------------------------------------------


@post_only("screening:case-detail", "reference")
@login_required
def case_task_new(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE)
    form = TaskForm(request.POST, workers=selectors.agency_worker_list(agency_id=case.agency_id))
    if form.is_valid():
        try:
            services.case_task_add(
                case=case,
                by=request.user,
                description=form.cleaned_data["description"],
                kind=form.cleaned_data["kind"],
                due_at=form.due_at(),
                assignee=form.cleaned_data["assignee"],
            )
        except (ValidationError, InvalidState) as error:
            add_service_errors(form, error)
            if "due_at" in getattr(error, "field_errors", {}):
                form.add_error("due_date", error.field_errors["due_at"][0])
        else:
            messages.success(request, "Task added.")
            return _back_to_case(reference, "tasks")
    return _refused(request, reference, "task", form)


@post_only("screening:my-tasks")
@login_required
def case_task_done_page(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_access(user=request.user, task_id=task_id, action=CaseAction.CHANGE)
    services.case_task_done(task=task, by=request.user)
    messages.success(request, "Task marked done.")
    if request.POST.get("next") == "my-tasks":
        return redirect("screening:my-tasks")
    return _back_to_case(task.case.reference, "tasks")


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    if not is_case_worker(request.user):
        raise PermissionDenied("Tasks are for staff who work with cases.")
    overdue_only = request.GET.get("overdue") == "1"
    page = list_page(
        request,
        selectors.my_task_list(user=request.user, overdue_only=overdue_only),
        per_page=TASKS_PER_PAGE,
    )
    return render_page(
        request, "screening/my_tasks.html", {"page": page, "overdue_only": overdue_only}
    )


# --- timeline ------------------------------------------------------------------------------


@login_required
def case_timeline(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.case_get(user=request.user, case_reference_or_id=reference)
    try:
        page = case_timeline_page(
            case=case,
            may_read_narrative=case.user_can_change,
            per_page=TIMELINE_PER_PAGE,
            after=request.GET.get("after") or None,
        )
    except CursorInvalid:
        messages.warning(request, "That page link did not work, so this is the newest page.")
        page = case_timeline_page(
            case=case, may_read_narrative=case.user_can_change, per_page=TIMELINE_PER_PAGE
        )
    return render_page(
        request,
        "screening/case_timeline.html",
        {"case": case, "timeline": page, "first_page": not request.GET.get("after")},
    )


# --- notifications -------------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = list_page(
        request, selectors.notification_list(user=request.user), per_page=NOTIFICATIONS_PER_PAGE
    )
    return render_page(request, "screening/notifications.html", {"page": page})


@post_only("screening:notifications")
@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark it read and go where it points (a path of this service only)."""
    notification = services.notification_mark_read(
        user=request.user, notification_id=notification_id
    )
    if notification.link.startswith("/") and not notification.link.startswith("//"):
        return redirect(notification.link)
    return redirect("screening:notifications")


@post_only("screening:notifications")
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"{count} marked read." if count else "Nothing was unread.")
    return redirect("screening:notifications")


# --- transfers -----------------------------------------------------------------------------


def _require_supervisor(user: User) -> None:
    if not (is_case_worker(user) and user.has_role(Role.SUPERVISOR)):
        raise PermissionDenied("Transfers are answered by supervisors.")


@login_required
def transfer_list_page(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    direction = "outgoing" if request.GET.get("direction") == "outgoing" else "incoming"
    page = list_page(
        request,
        selectors.transfer_list(user=request.user, direction=direction),
        per_page=TRANSFERS_PER_PAGE,
    )
    return render_page(request, "screening/transfers.html", {"page": page, "direction": direction})


def _transfer_page(
    request: HttpRequest,
    transfer: CaseTransfer,
    *,
    accept_form: TransferAcceptForm | None = None,
    decline_form: TransferDeclineForm | None = None,
) -> HttpResponse:
    deciding = transfer.is_pending and transfer.to_agency_id == request.user.agency_id
    workers = selectors.agency_worker_list(agency_id=request.user.agency_id)
    return render_page(
        request,
        "screening/transfer_detail.html",
        {
            "transfer": transfer,
            "deciding": deciding,
            "withdrawable": transfer.is_pending
            and transfer.from_agency_id == request.user.agency_id,
            "accept_form": accept_form
            or (TransferAcceptForm(workers=workers) if deciding else None),
            "decline_form": decline_form or (TransferDeclineForm() if deciding else None),
        },
        status=400 if (accept_form or decline_form) else 200,
    )


@login_required
def transfer_detail_page(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = transfer_access(
        user=request.user, transfer_id=transfer_id, action=TransferAction.VIEW
    )
    return _transfer_page(request, transfer)


@post_only("screening:transfer-detail", "transfer_id")
@login_required
def transfer_accept_page(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = transfer_access(
        user=request.user, transfer_id=transfer_id, action=TransferAction.DECIDE
    )
    form = TransferAcceptForm(
        request.POST, workers=selectors.agency_worker_list(agency_id=request.user.agency_id)
    )
    if form.is_valid():
        try:
            case = services.case_transfer_accept(
                transfer=transfer, by=request.user, assign_to=form.cleaned_data["assign_to"]
            )
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} is now your agency's.")
            return redirect("screening:case-detail", reference=case.reference)
    return _transfer_page(request, transfer, accept_form=form)


@post_only("screening:transfer-detail", "transfer_id")
@login_required
def transfer_decline_page(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = transfer_access(
        user=request.user, transfer_id=transfer_id, action=TransferAction.DECIDE
    )
    form = TransferDeclineForm(request.POST)
    if form.is_valid():
        try:
            services.case_transfer_decline(
                transfer=transfer, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Transfer declined. The other agency has been told.")
            return redirect("screening:transfers")
    return _transfer_page(request, transfer, decline_form=form)


@post_only("screening:transfer-detail", "transfer_id")
@login_required
def transfer_cancel_page(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = transfer_access(
        user=request.user, transfer_id=transfer_id, action=TransferAction.CANCEL
    )
    try:
        services.case_transfer_cancel(transfer=transfer, by=request.user)
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Transfer withdrawn. The case stays with your agency.")
    return redirect("screening:case-detail", reference=transfer.case.reference)


def _name(user: User) -> str:
    return user.get_full_name() or user.get_username()
