"""The legal hold control of the case page (supervisors of the case's agency): put a case on
hold with a reason, or release it. A refused form is shown again on a page of its own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import InvalidState, ValidationError
from screening.forms import LegalHoldForm, add_service_errors
from screening.permissions import CaseAction, case_access
from screening.services.legal_hold import case_legal_hold_release, case_legal_hold_set
from screening.views._common import error_summary, post_only, render_page


@post_only("screening:case-detail", "reference")
@login_required
def case_legal_hold(request: HttpRequest, reference: str) -> HttpResponse:
    # 404 for a case the user cannot see, 403 for one they may see but not hold (any input).
    case = case_access(
        user=request.user, case_reference_or_id=reference, action=CaseAction.LEGAL_HOLD
    )
    if request.POST.get("action") == "release":
        try:
            case_legal_hold_release(case=case, by=request.user)
        except InvalidState as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Legal hold released: the retention periods apply again.")
        return redirect("screening:case-detail", reference=case.reference)

    form = LegalHoldForm(request.POST)
    if form.is_valid():
        try:
            case_legal_hold_set(case=case, by=request.user, reason=form.cleaned_data["reason"])
        except (ValidationError, InvalidState) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Case put on legal hold: it will not be purged.")
            return redirect("screening:case-detail", reference=case.reference)
    return render_page(
        request,
        "screening/legal_hold.html",
        {"case": case, "form": form, "errors": error_summary(form)},
        status=400,
    )
