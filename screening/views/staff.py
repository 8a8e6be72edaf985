"""Agency administrators' pages for their members' accounts (issue 15): the staff list, a
member's page with its change history, adding a member (who chooses their own password
through a one-time link), changing roles, making a new set-password link, deactivating and
reactivating, the members whose sign-in is paused (and lifting a pause); and the page the
link opens, where the member sets their password.

Every member is fetched through `staff_member_access` (another agency's member is a 404, a
colleague for someone who is no administrator a 403) and every change is a service call
(screening/services/staff.py, staff_password_links.py). Forms post, then redirect to the
member's page; the two responses that show a set-password link are the exception, as the
API token page's is: the link is a credential, shown once on the response to the POST that
made it, never put in a URL, a redirect or the session for later."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy

from config.errors import InvalidState, ValidationError
from screening import selectors
from screening.forms import add_service_errors
from screening.history import CHANGES_LIMIT, staff_change_history
from screening.mfa import mfa_required
from screening.permissions import (
    require_agency_admin,
    staff_member_access,
    staff_roles_grantable,
)
from screening.roles import Role
from screening.services.mfa import mfa_status
from screening.services.staff import (
    staff_create,
    staff_deactivate,
    staff_reactivate,
    staff_roles_change,
    staff_unlock,
)
from screening.services.staff_password_links import (
    PasswordLink,
    password_link_tokens,
    staff_password_link_email,
    staff_password_link_make,
    staff_password_link_use,
)
from screening.staff_forms import StaffCreateForm, StaffRolesForm, StaffSetPasswordForm
from screening.views._common import list_page, post_only, render_page
from screening.views.history import CHANGES_ORDER

STAFF_PER_PAGE = 25
# The forms of "Add a member" this session sent (their random id → the member added), so that
# sending one again leads to that member; the last few only.
SESSION_MEMBERS_ADDED = "staff_members_added"
ADDED_REMEMBERED = 10
MEMBER_CHANGES_PER_PAGE = 25


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
    if request.POST.get("back") == "member":  # the member's page has the button too
        return redirect("screening:staff-detail", member_id=member.pk)
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


# --- the staff list, a member's page, adding a member (issue 15) ----------------------------


@login_required
def staff_list_page(request: HttpRequest) -> HttpResponse:
    """The agency's members by username: roles, active or deactivated, sign-in paused, two-step
    sign-in set up. `?status=active|deactivated` narrows it."""
    status = request.GET.get("status")
    if status not in selectors.STAFF_STATUSES:
        status = None
    page = list_page(
        request, selectors.staff_list(user=request.user, status=status), per_page=STAFF_PER_PAGE
    )
    return render_page(request, "screening/staff_list.html", {"page": page, "status": status})


def _link_url(request: HttpRequest, link: PasswordLink) -> str:
    return request.build_absolute_uri(
        reverse("screening:staff-set-password", kwargs={"uidb64": link.uidb64, "token": link.token})
    )


def _link_page(request: HttpRequest, link: PasswordLink, *, new_member: bool) -> HttpResponse:
    """The link, shown once on the response to the POST that made it (and emailed to the
    member if they have an address)."""
    url = _link_url(request, link)
    emailed = staff_password_link_email(link=link, url=url)
    return render_page(
        request,
        "screening/staff_password_link_made.html",
        {
            "member": link.member,
            "url": url,
            "expires_at": link.expires_at,
            "emailed": emailed,
            "email_failed": bool(link.member.email) and not emailed,
            "new_member": new_member,
            "mfa_required": mfa_required(link.member),
        },
    )


@login_required
def staff_new_page(request: HttpRequest) -> HttpResponse:
    """Add a member to the administrator's agency: username, name, email (optional), roles of
    the agency's kind. The answer to a successful POST is their set-password link."""
    require_agency_admin(request.user)
    grantable = staff_roles_grantable(request.user.agency.kind)
    form = StaffCreateForm(
        request.POST or None,
        grantable=grantable,
        initial={"request_id": secrets.token_urlsafe(16)},
    )
    added: dict[str, int] = request.session.get(SESSION_MEMBERS_ADDED, {})
    sent_before = added.get(request.POST.get("request_id") or "")
    if request.method == "POST" and sent_before is not None:
        messages.warning(
            request,
            "That form was already sent: the member was added then, and their set-password "
            "link was shown only once. If it was not given to them, make a new one here.",
        )
        return redirect("screening:staff-detail", member_id=sent_before)
    if request.method == "POST" and form.is_valid():
        try:
            member = staff_create(by=request.user, **form.service_arguments())
            link = staff_password_link_make(member=member, by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request_id := form.cleaned_data["request_id"]:
                kept = list(added.items())[-(ADDED_REMEMBERED - 1) :]
                request.session[SESSION_MEMBERS_ADDED] = {**dict(kept), request_id: member.pk}
            messages.success(request, f"{_member_name(member)} is added.")
            return _link_page(request, link, new_member=True)
    return render_page(
        request,
        "screening/staff_new.html",
        {"form": form, "agency": request.user.agency},
        status=400 if form.is_bound else 200,
    )


@login_required
def staff_detail_page(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's account (roles, state, sign-in pause, two-step sign-in), what an
    administrator can do with it, and its change history, newest first."""
    member = staff_member_access(user=request.user, member_id=member_id)
    changes = staff_change_history(user=request.user, member=member)
    page = list_page(
        request,
        changes,
        per_page=MEMBER_CHANGES_PER_PAGE,
        ordering=CHANGES_ORDER,
        count_up_to=CHANGES_LIMIT,
    )
    return render_page(
        request,
        "screening/staff_detail.html",
        {
            "member": member,
            "roles": sorted(member.role_names & set(Role.values)),
            "is_self": member.pk == request.user.pk,
            "is_locked": selectors.staff_is_locked(member=member),
            "mfa": mfa_status(user=member),
            "mfa_required": mfa_required(member),
            "has_password": member.has_usable_password(),
            "page": page,
            "limit": CHANGES_LIMIT,
            "limited": len(changes) >= CHANGES_LIMIT,
        },
    )


@login_required
def staff_roles_page(request: HttpRequest, member_id: int) -> HttpResponse:
    """Change a member's roles: those of the agency's kind, and any they hold already (which
    may be taken away, not given)."""
    member = staff_member_access(user=request.user, member_id=member_id)
    held = sorted(member.role_names & set(Role.values))
    grantable = staff_roles_grantable(member.agency.kind) if member.agency else ()
    choices = [*grantable, *(role for role in held if role not in grantable)]
    form = StaffRolesForm(request.POST or None, choices=choices, initial={"roles": held})
    if request.method == "POST" and form.is_valid():
        try:
            staff_roles_change(member=member, roles=form.cleaned_data["roles"], by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{_member_name(member)}'s roles are saved.")
            return redirect("screening:staff-detail", member_id=member.pk)
    return render_page(
        request,
        "screening/staff_roles.html",
        {"form": form, "member": member, "is_self": member.pk == request.user.pk},
        status=400 if form.is_bound else 200,
    )


@post_only("screening:staff-detail", "member_id")
@login_required
def staff_reactivate_page(request: HttpRequest, member_id: int) -> HttpResponse:
    member = staff_member_access(user=request.user, member_id=member_id)
    staff_reactivate(member=member, by=request.user)
    messages.success(
        request,
        f"{_member_name(member)}'s account is active again: they sign in with their password "
        "(or make them a new set-password link).",
    )
    return redirect("screening:staff-detail", member_id=member.pk)


@login_required
def staff_password_link_page(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET asks for confirmation (their current password and any earlier link stop working);
    POST makes the link and shows it once."""
    member = staff_member_access(user=request.user, member_id=member_id)
    error = None
    if request.method == "POST":
        try:
            link = staff_password_link_make(member=member, by=request.user)
        except (ValidationError, InvalidState) as refused:
            error = refused.message
        else:
            return _link_page(request, link, new_member=False)
    return render_page(
        request,
        "screening/staff_password_link.html",
        {
            "member": member,
            "is_self": member.pk == request.user.pk,
            "has_password": member.has_usable_password(),
            "errors": [{"anchor": "main-content", "text": error}] if error else [],
        },
        status=400 if error else 200,
    )


# --- the member's side: the page their link opens ------------------------------------------


class StaffSetPasswordView(auth_views.PasswordResetConfirmView):
    """Django's password-reset confirmation, with the links of
    screening/services/staff_password_links.py: the token moves from the address into the
    session at once (so it never leaks through a Referer header or the browser's history),
    the form applies the password validators, and the password is set by
    `staff_password_link_use`, which checks the token again under a row lock (single use).
    Then to the sign-in page: signing in applies the two-step rules as always (a supervisor
    or administrator sets up an authenticator app before anything else)."""

    form_class = StaffSetPasswordForm
    token_generator = password_link_tokens
    template_name = "registration/staff_set_password.html"
    success_url = reverse_lazy("login")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            # Someone else's link opened in a signed-in browser: do not mix the two accounts.
            return self.response_class(
                request=request,
                template=["registration/staff_set_password_signed_in.html"],
                context={},
                status=409,
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.validlink:
            context["member"] = self.user
            context["mfa_required"] = mfa_required(self.user)
        return context

    def form_valid(self, form):
        token = self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN, "")
        try:
            staff_password_link_use(
                uidb64=self.kwargs["uidb64"],
                token=token,
                password=form.cleaned_data["new_password1"],
            )
        except InvalidState:
            self.validlink = False
            return self.render_to_response(self.get_context_data(form=form), status=409)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        messages.success(self.request, "Your password is set. Sign in with it now.")
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


staff_set_password_page = StaffSetPasswordView.as_view()
