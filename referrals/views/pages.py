"""Referral pages: the supervisor queue, a referral with its history and the supervisor's
decisions, and the provider inbox with the provider's answers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format

from config.errors import ActionNotAllowed, ApplicationError, NotFound, ValidationError
from config.labels import label
from referrals import selectors, services
from referrals.forms import (
    ProviderAnswerForm,
    ReferralCloseForm,
    ReferralDeclineForm,
    ReferralEscalateForm,
    ReferralNoteForm,
    ReferralQueueFilterForm,
)
from referrals.labels import packet_value_label
from referrals.models import Referral
from referrals.models import ReferralStatus as S
from referrals.permissions import ReferralAction, is_provider_staff, referral_access
from referrals.services.answers import ANSWERS
from referrals.services.outcomes import CLOSABLE, ESCALATABLE
from referrals.services.transitions import can_transition
from screening.forms import add_service_errors
from screening.views._common import error_summary, list_page, post_only, render_page

PER_PAGE = 25
# Someone still has to act on a referral in these states by its due time.
WAITING = frozenset({S.PENDING_APPROVAL, S.BLOCKED_NEEDS_CONSENT, S.SENT, S.ACKNOWLEDGED, S.FAILED})

ANSWER_LABELS = {
    "acknowledge": "Acknowledge receipt",
    "accept": "Accept",
    "services_started": "Services started",
}
DECISIONS = {
    "approve": (ReferralNoteForm, services.referral_approve, "Referral approved; it is sent next."),
    "decline": (ReferralDeclineForm, services.referral_decline, "Referral declined."),
    "retry": (ReferralNoteForm, services.referral_retry_delivery, "Delivery will be tried again."),
}


# --- supervisor queue ----------------------------------------------------------------------


@login_required
def referral_queue_page(request: HttpRequest) -> HttpResponse:
    filters = ReferralQueueFilterForm(request.GET)
    filters.is_valid()
    # An invalid filter value is dropped (and marked on the form); the valid ones apply.
    chosen = filters.cleaned_data
    referrals = selectors.referral_queue(
        user=request.user,
        status=chosen.get("status") or None,
        service_type=chosen.get("service_type") or None,
        region=(chosen.get("region") or "").strip() or None,
        escalation=chosen.get("escalation") or None,
    )
    page = list_page(request, referrals, per_page=PER_PAGE)
    return render_page(
        request,
        "referrals/queue.html",
        {"page": page, "filters": filters, "filtered": any(chosen.values()), "now": timezone.now()},
    )


# --- referral detail and decisions ---------------------------------------------------------


def _detail_context(
    request: HttpRequest, referral: Referral, *, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    bound = bound or {}
    supervises = bool(referral.case.user_supervises)
    changes = bool(referral.case.user_can_change)
    forms: dict[str, Any] = {}
    if supervises:
        if referral.status == S.PENDING_APPROVAL:
            forms["approve"] = bound.get("approve") or ReferralNoteForm(prefix="approve")
        if referral.status in (S.PENDING_APPROVAL, S.BLOCKED_NEEDS_CONSENT):
            forms["decline"] = bound.get("decline") or ReferralDeclineForm(prefix="decline")
        if referral.status == S.FAILED:
            forms["retry"] = bound.get("retry") or ReferralNoteForm(prefix="retry")
    if changes:
        if referral.status in CLOSABLE:
            forms["close"] = bound.get("close") or ReferralCloseForm(prefix="close")
        if referral.status in ESCALATABLE and referral.escalated_at is None:
            forms["escalate"] = bound.get("escalate") or ReferralEscalateForm(prefix="escalate")
    return {
        "referral": referral,
        "case": referral.case,
        "events": selectors.referral_history(referral=referral),
        "supervises": supervises,
        "forms": forms,
        "errors": error_summary(*bound.values()),
        "overdue": referral.status in WAITING and referral.due_at < timezone.now(),
    }


def _provider_context(referral: Referral, *, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provider's view of a referral: the packet they received, their answers, the
    history from the delivery on (notes only of their own answers) and whom to call back at
    the referring agency. Never the case."""
    bound = bound or {}
    entry = _inbox_entry(referral, bound.get("answer"))
    forms: dict[str, Any] = {}
    if referral.status in CLOSABLE:
        forms["close"] = bound.get("close") or ReferralCloseForm(prefix="close")
    events = [
        {
            "event": event,
            "note": event.note if event.by_provider_id == referral.provider_id else "",
        }
        for event in selectors.referral_history(referral=referral).filter(at__gte=referral.sent_at)
    ]
    return {
        **entry,
        "events": events,
        "contacts": selectors.referral_callback_contacts(referral=referral),
        "forms": forms,
        "errors": error_summary(*bound.values()),
        "overdue": referral.status in WAITING and referral.due_at < timezone.now(),
    }


def _render_detail(
    request: HttpRequest, referral: Referral, *, bound=None, status: int = 200
) -> HttpResponse:
    if is_provider_staff(request.user):
        return render_page(
            request,
            "referrals/provider_detail.html",
            _provider_context(referral, bound=bound),
            status=status,
        )
    return render_page(
        request,
        "referrals/detail.html",
        _detail_context(request, referral, bound=bound),
        status=status,
    )


@login_required
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    return _render_detail(request, referral)


CASE_WORK = {
    "close": (ReferralCloseForm, services.referral_close, "Referral closed."),
    "escalate": (
        ReferralEscalateForm,
        services.referral_escalate,
        "Referral escalated to the supervisors.",
    ),
}


@post_only("referrals:detail", "referral_id")
@login_required
def referral_case_work(request: HttpRequest, referral_id: int, action: str) -> HttpResponse:
    """Close with an outcome (the provider's staff or the referring agency) or escalate by
    hand (the referring agency); the services check who may."""
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    form_class, service, done = CASE_WORK[action]
    form = form_class(request.POST, prefix=action)
    status = 400
    if form.is_valid():
        try:
            service(referral_id=referral.pk, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except (NotFound, ActionNotAllowed):
            raise
        except ApplicationError as error:
            # Not in a state for this (not taken on yet, already escalated).
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(request, done)
            return redirect("referrals:detail", referral_id=referral.pk)
    return _render_detail(request, referral, bound={action: form}, status=status)


@post_only("referrals:detail", "referral_id")
@login_required
def referral_decide(request: HttpRequest, referral_id: int, decision: str) -> HttpResponse:
    """Approve, decline (with a reason) or retry delivery; supervisors of the case's agency."""
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    if not referral.case.user_supervises:
        raise ActionNotAllowed("Only a supervisor of the case's agency decides referrals.")
    form_class, service, done = DECISIONS[decision]
    form = form_class(request.POST, prefix=decision)
    status = 400
    if form.is_valid():
        try:
            service(referral_id=referral.pk, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            # Not waiting for this any more, or no consent covers it now.
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(request, done)
            return redirect("referrals:detail", referral_id=referral.pk)
    return render_page(
        request,
        "referrals/detail.html",
        _detail_context(request, referral, bound={decision: form}),
        status=status,
    )


# --- provider inbox ------------------------------------------------------------------------


def _inbox_entry(referral: Referral, bound: ProviderAnswerForm | None) -> dict[str, Any]:
    packet = selectors.referral_packet_get(referral=referral)
    # The packet carries an ISO timestamp; people read the referral's due time (formatted
    # once for the card and the packet).
    due = date_format(timezone.localtime(referral.due_at), "j M Y H:i")
    return {
        "referral": referral,
        "due": due,
        "packet": [
            {
                "key": key,
                "label": label(key, "packet_field"),
                "value": due if key == "respond_by" else packet_value_label(key, value),
            }
            for key, value in packet.items()
        ],
        "answers": [
            {"answer": answer, "label": label}
            for answer, label in ANSWER_LABELS.items()
            if can_transition(referral.status, ANSWERS[answer])
        ],
        "decline_form": (
            (bound or ProviderAnswerForm(prefix=f"r{referral.pk}", initial={"answer": "decline"}))
            if can_transition(referral.status, S.DECLINED)
            else None
        ),
    }


def _inbox(
    request: HttpRequest,
    *,
    bound: tuple[int, ProviderAnswerForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    referrals = selectors.referral_inbox(user=request.user)
    page = list_page(request, referrals, per_page=PER_PAGE)
    bound_id, bound_form = bound or (None, None)
    entries = [
        _inbox_entry(referral, bound_form if referral.pk == bound_id else None)
        for referral in page.object_list
    ]
    return render_page(
        request,
        "referrals/inbox.html",
        {"page": page, "entries": entries, "errors": error_summary(bound_form)},
        status=status,
    )


@login_required
def referral_inbox_page(request: HttpRequest) -> HttpResponse:
    return _inbox(request)


@post_only("referrals:inbox")
@login_required
def referral_answer(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Provider staff answer a referral delivered to their agency's inbox."""
    referral = referral_access(
        user=request.user, referral_id=referral_id, action=ReferralAction.ANSWER
    )
    form = ProviderAnswerForm(request.POST, prefix=f"r{referral.pk}")
    if form.is_valid():
        try:
            services.referral_provider_answer(
                referral_id=referral.pk, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except ApplicationError as error:
            # Out of order (already declined, cancelled meanwhile): say so, show the inbox.
            messages.error(request, error.message)
            return redirect("referrals:inbox")
        else:
            messages.success(request, "Answer recorded.")
            return redirect("referrals:inbox")
    return _inbox(request, bound=(referral.pk, form), status=400)
