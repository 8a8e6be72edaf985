"""Pages about access itself: who can see a case and why (its own workers and supervisors of
its agency), asking for emergency (break-glass) access, the supervisors' review of emergency
access, and the staff of their agency refused on many cases. Reads go through
`screening.access`, writes through `screening.services.break_glass`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from config.errors import CaseNotFound, InvalidState, ValidationError
from screening.access import break_glass_review_list, case_access_list, refusal_flag_list
from screening.forms import BreakGlassRequestForm, BreakGlassReviewForm, add_service_errors
from screening.roles import Role
from screening.services.break_glass import (
    BreakGlassLimitReached,
    break_glass_grant_access,
    break_glass_request,
    break_glass_review,
    may_break_glass,
)
from screening.views._common import error_summary, list_page, post_only, render_page

PEOPLE_PER_PAGE = 50
REVIEWS_PER_PAGE = 25
RECENTLY_REVIEWED = 10
# These pages say how many people, or grants to review, there are up to this many, then
# "more than" (a count that stops there costs little however long the list).
PEOPLE_COUNTED = 200
REVIEWS_COUNTED = 200


def _role_labels(user) -> str:
    names = sorted(group.name for group in user.groups.all())
    return ", ".join(Role(name).label if name in Role.values else name for name in names)


@login_required
def case_who_can_see(request: HttpRequest, reference: str) -> HttpResponse:
    """Every person who can see the case and the grants that let them, and the referral
    packets sent for it (their providers see the packet, not the case)."""
    from referrals.selectors import case_packet_recipient_list

    access = case_access_list(user=request.user, case_reference_or_id=reference)
    page = list_page(request, access.people, per_page=PEOPLE_PER_PAGE, count_up_to=PEOPLE_COUNTED)
    rows = [
        {"holder": holder, "roles": _role_labels(holder.user)}
        for holder in access.holders(page.object_list)
    ]
    return render_page(
        request,
        "screening/case_who_can_see.html",
        {
            "case": access.case,
            "page": page,
            "rows": rows,
            "packets": case_packet_recipient_list(case=access.case),
        },
    )


@login_required
def break_glass(request: HttpRequest) -> HttpResponse:
    """Ask for emergency access to a case one holds the reference of, with a reason."""
    if not may_break_glass(request.user):
        raise PermissionDenied("Emergency access is for case-work staff of an agency.")
    form = BreakGlassRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                grant = break_glass_request(
                    user=request.user,
                    case_reference=form.cleaned_data["reference"],
                    reason=form.cleaned_data["reason"],
                )
            except BreakGlassLimitReached as error:
                form.add_error(None, error.message)
                status = 429
            except CaseNotFound as error:
                form.add_error("reference", f"{error.message} Check it and try again.")
                status = 404
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                reference = form.cleaned_data["reference"].strip().upper()
                if grant is None:
                    messages.info(request, "You can already see this case.")
                else:
                    until = timezone.localtime(grant.expires_at)
                    messages.success(
                        request,
                        f"Emergency access until {until:%H:%M} on {until:%d %b}. A supervisor "
                        "of the case's agency will review it. You can view the case, not "
                        "change it.",
                    )
                return redirect("screening:case-detail", reference=reference)
    return render_page(
        request,
        "screening/break_glass.html",
        {"form": form, "errors": error_summary(form)},
        status=status,
    )


def _reviews_page(
    request: HttpRequest, *, bound: dict[int, BreakGlassReviewForm] | None = None, status=200
) -> HttpResponse:
    waiting = break_glass_review_list(user=request.user)
    page = list_page(request, waiting, per_page=REVIEWS_PER_PAGE, count_up_to=REVIEWS_COUNTED)
    bound = bound or {}
    rows = [
        {
            "grant": grant,
            "form": bound.get(grant.pk) or BreakGlassReviewForm(prefix=f"grant-{grant.pk}"),
        }
        for grant in page
    ]
    reviewed = list(break_glass_review_list(user=request.user, reviewed=True)[:RECENTLY_REVIEWED])
    return render_page(
        request,
        "screening/break_glass_reviews.html",
        {
            "page": page,
            "rows": rows,
            "reviewed": reviewed,
            "now": timezone.now(),
            "errors": error_summary(*bound.values()),
        },
        status=status,
    )


@login_required
def break_glass_reviews(request: HttpRequest) -> HttpResponse:
    """The supervisor's list of emergency access to their agency's cases still to review."""
    return _reviews_page(request)


@post_only("screening:break-glass-reviews")
@login_required
def break_glass_review_submit(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = break_glass_grant_access(user=request.user, grant_id=grant_id)
    form = BreakGlassReviewForm(request.POST, prefix=f"grant-{grant.pk}")
    if form.is_valid():
        try:
            break_glass_review(
                grant_id=grant.pk,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except (ValidationError, InvalidState) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Emergency access to case {grant.case.reference} reviewed.")
            return redirect("screening:break-glass-reviews")
    return _reviews_page(request, bound={grant.pk: form}, status=400)


@login_required
def refusal_flags(request: HttpRequest) -> HttpResponse:
    """Staff of the supervisor's agency refused on many cases in a short time."""
    return render_page(
        request,
        "screening/refusal_flags.html",
        {
            "flags": refusal_flag_list(user=request.user),
            "threshold": settings.REFUSAL_FLAG_CASES,
            "minutes": settings.REFUSAL_FLAG_MINUTES,
            "days": settings.REFUSAL_FLAG_LOOKBACK_DAYS,
        },
    )
