"""Agency administrators' pages for their members' accounts: the members whose sign-in is
paused (and lifting a pause), and deactivating a member. The staff list itself is issue 15's;
these pages link to no one beyond the members they show."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ValidationError
from screening import selectors
from screening.permissions import staff_member_access
from screening.roles import Role
from screening.services.staff import staff_deactivate, staff_unlock
from screening.views._common import post_only, render_page


def _member_name(member) -> str:
    return member.get_full_name() or member.get_username()


@login_required
def agency_lockouts(request: HttpRequest) -> HttpResponse:
    if request.user.agency_id is None or not request.user.has_role(Role.AGENCY_ADMIN):
        raise PermissionDenied("Only an agency's administrators see its members' sign-in pauses.")
    members = selectors.staff_locked_list(agency_id=request.user.agency_id)
    return render_page(
        request,
        "screening/agency_lockouts.html",
        {
            "members": members,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "window_minutes": settings.LOCKOUT_WINDOW_MINUTES,
            "lockout_minutes": settings.LOCKOUT_MINUTES,
        },
    )


@post_only("screening:agency-lockouts")
@login_required
def staff_unlock_page(request: HttpRequest, member_id: int) -> HttpResponse:
    member = staff_member_access(user=request.user, member_id=member_id)
    staff_unlock(member=member, by=request.user)
    messages.success(request, f"{_member_name(member)} can sign in again now.")
    return redirect("screening:agency-lockouts")


@login_required
def staff_deactivate_page(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deactivates. Another agency's member is a 404, a
    colleague for someone who is not an agency administrator a 403."""
    member = staff_member_access(user=request.user, member_id=member_id)
    error = None
    if request.method == "POST":
        try:
            staff_deactivate(member=member, by=request.user)
        except ValidationError as refused:
            error = refused.message
        else:
            messages.success(
                request,
                f"{_member_name(member)}'s account is deactivated: every session of theirs has "
                "ended and their API tokens are revoked.",
            )
            return redirect("screening:staff-deactivate", member_id=member.pk)
    return render_page(
        request,
        "screening/staff_deactivate.html",
        {
            "member": member,
            "is_self": member.pk == request.user.pk,
            "errors": [{"anchor": "main-content", "text": error}] if error else [],
        },
        status=400 if error else 200,
    )
