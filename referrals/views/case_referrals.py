"""A case's referrals: every one with its status, and proposing one by hand (for who may
change the case; it waits for consent and approval like a routed one)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ActionNotAllowed, ApplicationError, NotFound, ValidationError
from referrals import selectors, services
from referrals.forms import ReferralProposeForm
from referrals.models import ServiceProvider
from screening.forms import add_service_errors
from screening.views._common import post_only, render_page


def _providers() -> list[ServiceProvider]:
    """Every provider that takes referrals; the service checks the one chosen serves the
    person for the chosen service (its error says so)."""
    return list(
        ServiceProvider.objects.filter(is_active=True)
        .exclude(capacity=ServiceProvider.Capacity.CLOSED)
        .order_by("name", "pk")
    )


def _page(request, reference, *, form=None, status=200) -> HttpResponse:
    case, referrals = selectors.referral_list_for_case(user=request.user, case_reference=reference)
    may_propose = bool(case.user_can_change) and case.is_open
    if may_propose and form is None:
        form = ReferralProposeForm(prefix="propose", providers=_providers())
    return render_page(
        request,
        "referrals/case_referrals.html",
        {"case": case, "referrals": referrals, "form": form if may_propose else None},
        status=status,
    )


@login_required
def case_referrals_page(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, reference)


@post_only("referrals:case-referrals", "reference")
@login_required
def referral_propose_page(request: HttpRequest, reference: str) -> HttpResponse:
    form = ReferralProposeForm(request.POST, prefix="propose", providers=_providers())
    status = 400
    if form.is_valid():
        try:
            data = form.cleaned_data
            referral = services.referral_propose(
                case_reference=reference,
                by=request.user,
                service_type=data["service_type"],
                provider_slug=data["provider"],
                priority=data["priority"],
                note=data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except (NotFound, ActionNotAllowed):
            raise
        except ApplicationError as error:
            # A closed case, no screening yet, or the same referral already open.
            form.add_error(None, error.message)
            status = 409
        else:
            messages.success(request, "Referral proposed; it waits for a supervisor.")
            return redirect("referrals:detail", referral_id=referral.pk)
    return _page(request, reference, form=form, status=status)
