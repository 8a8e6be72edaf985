"""The second sign-in step's pages: the code asked for after the password, setting up an
authenticator app (QR code drawn here, no outside service), backup codes (shown once, on the
response to the POST that made them), and an agency administrator's reset of a member's
devices. Who must take the step, and the middleware that sends them here: screening/mfa.py.
"""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe

from config.access_log import access_log_note_login_failed
from config.errors import InvalidState, ValidationError
from screening.forms import MfaCodeForm, MfaSetupForm, add_service_errors
from screening.mfa import MFA_DUE_SESSION_KEY, mfa_pending, mfa_required
from screening.permissions import staff_member_access
from screening.services.mfa import (
    mfa_backup_codes_regenerate,
    mfa_reset_last,
    mfa_status,
    mfa_totp_setup_confirm,
    mfa_totp_setup_start,
    mfa_verify,
)
from screening.services.staff import staff_mfa_reset
from screening.views._common import error_summary, post_only, render_page


def _next_url(request: HttpRequest) -> str:
    """Where to go once the step is done: `next` if it is a path of this site, else home."""
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("screening:my-cases")


def _with_next(name: str, next_url: str) -> str:
    return f"{resolve_url(name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def _verified(request: HttpRequest, device) -> None:
    # A new session id for the stronger sign-in (as Django does at the password step).
    request.session.cycle_key()
    django_otp.login(request, device)
    request.session[MFA_DUE_SESSION_KEY] = True


@login_required
def mfa_verify_page(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the app, or a backup code."""
    next_url = _next_url(request)
    if not mfa_pending(request):
        return redirect(next_url)
    user = request.user
    if not mfa_status(user=user).has_device:
        if mfa_required(user):
            return redirect(_with_next("mfa:setup", next_url))
        # Their device was reset since they signed in, and their role does not require one.
        request.session.pop(MFA_DUE_SESSION_KEY, None)
        return redirect(next_url)
    form = MfaCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                device = mfa_verify(user=user, code=form.cleaned_data["code"])
            except ValidationError as error:
                add_service_errors(form, error)
                access_log_note_login_failed(sender=None)  # logged as a wrong password is
            else:
                _verified(request, device)
                return redirect(next_url)
        status = 400
    return render_page(
        request,
        "registration/mfa_verify.html",
        {"form": form, "errors": error_summary(form), "next": next_url, "mfa_step": True},
        status=status,
    )


def _qr_svg(config_url: str) -> str:
    """The otpauth:// link as an inline SVG: drawn here (no image service sees the secret),
    attributes only (no inline style, which the Content-Security-Policy forbids)."""
    qr = segno.make(config_url, error="m")
    return qr.svg_inline(
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="mfa-qr",
        omitsize=True,
        lineclass=None,
        title="QR code to scan with your authenticator app",
    )


def _key_groups(device) -> str:
    key = b32encode(device.bin_key).decode()
    return " ".join(key[index : index + 4] for index in range(0, len(key), 4))


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the key), enter a code the app shows; then the backup codes,
    shown once on this response."""
    next_url = _next_url(request)
    user = request.user
    try:
        device = mfa_totp_setup_start(user=user)
    except InvalidState:  # already set up: verify with it, or manage it
        if mfa_pending(request):
            return redirect(_with_next("mfa:verify", next_url))
        messages.info(request, "Two-step sign-in is already set up for your account.")
        return redirect("mfa:overview")
    form = MfaSetupForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                setup = mfa_totp_setup_confirm(user=user, code=form.cleaned_data["code"])
            except InvalidState:
                return redirect(_with_next("mfa:setup", next_url))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                _verified(request, setup.device)
                return render_page(
                    request,
                    "registration/mfa_backup_codes.html",
                    {"codes": setup.backup_codes, "next": next_url, "first_setup": True},
                )
        status = 400
    context = {
        "form": form,
        "errors": error_summary(form),
        "next": next_url,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - segno's own markup
        "key_groups": _key_groups(device),
        "required": mfa_required(user),
        "mfa_step": mfa_pending(request),
    }
    return render_page(request, "registration/mfa_setup.html", context, status=status)


@login_required
def mfa_overview(request: HttpRequest) -> HttpResponse:
    """The person's own two-step sign-in: on or off, backup codes left, make new ones."""
    context = {"status": mfa_status(user=request.user), "required": mfa_required(request.user)}
    return render_page(request, "registration/mfa_overview.html", context)


@post_only("mfa:overview")
@login_required
def mfa_backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes in place of the old ones, shown once on this response."""
    try:
        codes = mfa_backup_codes_regenerate(user=request.user)
    except InvalidState:
        return redirect("mfa:setup")
    return render_page(
        request,
        "registration/mfa_backup_codes.html",
        {"codes": codes, "next": resolve_url("mfa:overview"), "first_setup": False},
    )


@login_required
def staff_mfa_reset_page(request: HttpRequest, member_id: int) -> HttpResponse:
    """An agency administrator removes a member's authenticator app and backup codes (lost
    phone): GET asks for confirmation, POST resets. Another agency's member is a 404, a
    colleague without the administrator role a 403."""
    member = staff_member_access(user=request.user, member_id=member_id)
    if request.method == "POST":
        staff_mfa_reset(member=member, by=request.user)
        messages.success(
            request,
            f"Two-step sign-in reset for {member.get_full_name() or member.get_username()}: "
            "they set up a new authenticator app the next time they use the service.",
        )
        return redirect("screening:staff-mfa-reset", member_id=member.pk)
    context = {
        "member": member,
        "status": mfa_status(user=member),
        "last_reset": mfa_reset_last(member=member),
    }
    return render_page(request, "screening/staff_mfa_reset.html", context)
