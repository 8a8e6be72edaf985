"""The signed-in person's own account: changing the password and signing out everywhere.

A password change keeps this session (Django's `update_session_auth_hash`) and ends every
other one; it also revokes the person's API tokens (`staff_password_set`). Signing out
everywhere ends every session, this one included, and leaves the API tokens alone: they
belong to systems, not to browsers, and have their own page to revoke them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ValidationError
from config.tokens import api_token_list
from screening.forms import add_service_errors
from screening.roles import Role
from screening.services.staff import staff_password_set, staff_sessions_end
from screening.views._common import error_summary, post_only, render_page


class _PasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password2"].help_text = "The new password again, to be sure of it."
        self.fields["new_password1"].help_text = (
            "At least 12 characters. Not a common password, not only digits, and not like "
            "your name or username."
        )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    is_agency_admin = request.user.agency_id is not None and request.user.has_role(
        Role.AGENCY_ADMIN
    )
    return render_page(request, "screening/account.html", {"is_agency_admin": is_agency_admin})


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = _PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            revoked = staff_password_set(
                member=request.user, password=form.cleaned_data["new_password1"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            update_session_auth_hash(request, request.user)
            tokens = (
                f" and {revoked} API token{'s' if revoked != 1 else ''} revoked" if revoked else ""
            )
            messages.success(
                request,
                f"Password changed. You are still signed in here; every other session has "
                f"ended{tokens}.",
            )
            return redirect("screening:account")
    active_tokens = api_token_list(user=request.user).filter(revoked_at__isnull=True).count()
    return render_page(
        request,
        "screening/password_change.html",
        {"form": form, "errors": error_summary(form), "active_tokens": active_tokens},
        status=400 if form.is_bound else 200,
    )


@post_only("screening:account")
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    staff_sessions_end(member=request.user)
    logout(request)
    messages.success(
        request, "You are signed out everywhere: on this device and on every other one."
    )
    return redirect("login")
