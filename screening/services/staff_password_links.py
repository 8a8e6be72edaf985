"""One-time set-password links: how a new member chooses their first password, and how an
agency administrator helps a member who forgot theirs. No password is ever chosen by anyone
but the member, shown on a page or written in an email.

A link is Django's password-reset token (`PasswordResetTokenGenerator`: an HMAC of the
account's state and a timestamp, valid for PASSWORD_RESET_TIMEOUT) under a salt of its own,
so a link made here is no Django password-reset link, nor the other way round. The account's
state it signs includes the password hash, which is why a link works once: setting the
password changes the hash, and every link made before it stops working. Making a link sets a
fresh unusable password for the same reason, so a new link replaces the one before (and a
forgotten password stops working at once). It also signs whether the account is active and
its session generation, so deactivating an account (which raises the generation) kills its
links for good, reactivation included.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.formats import date_format
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from config.errors import ActionNotAllowed, InvalidState, ValidationError
from screening.models import User
from screening.permissions import may_manage_staff
from screening.services.staff import staff_history_record, staff_password_set

logger = logging.getLogger(__name__)

HISTORY_REASON_LINK_MADE = "Set-password link made"
HISTORY_REASON_PASSWORD_SET = "Password set with a one-time link"  # noqa: S105 - words


class StaffPasswordLinkTokens(PasswordResetTokenGenerator):
    key_salt = "screening.services.staff_password_links.StaffPasswordLinkTokens"

    def _make_hash_value(self, user, timestamp) -> str:
        # Django's (id, password hash, last sign-in, timestamp, email) and what ends a link
        # for good: deactivation.
        django_value = super()._make_hash_value(user, timestamp)
        return f"{django_value}{user.is_active}{user.session_generation}"


password_link_tokens = StaffPasswordLinkTokens()


@dataclass(frozen=True)
class PasswordLink:
    """What the set-password address is made of (`uidb64`, `token`) and until when it works.
    The token is a credential: shown to the administrator on one response, emailed to the
    member, never logged or stored."""

    member: User
    uidb64: str
    token: str
    expires_at: datetime


def staff_password_link_make(*, member: User, by: User) -> PasswordLink:
    """A one-time link for `member` to choose their password, made by someone who manages
    their account (not for their own: they change it on their account page), for an active
    account. Their current password stops working at once, every session of theirs ends (the
    session hash follows the password hash), and any earlier link stops working. In the
    change history ("Set-password link made", naming `by`)."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    if member.pk == by.pk:
        raise ValidationError(
            "You cannot make a set-password link for yourself.",
            {"member": ["Change your own password on your account page."]},
        )
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=member.pk)
        if not member.is_active:
            raise InvalidState("The account is deactivated: reactivate it first.")
        member.set_unusable_password()
        staff_history_record(
            member, by=by, reason=HISTORY_REASON_LINK_MADE, update_fields=["password"]
        )
    return PasswordLink(
        member=member,
        uidb64=urlsafe_base64_encode(force_bytes(member.pk)),
        token=password_link_tokens.make_token(member),
        expires_at=timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    )


def _member_of(uidb64: str, *, for_update: bool = False) -> User | None:
    try:
        member_pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    members = User.objects.filter(pk=member_pk, is_active=True)
    if for_update:
        members = members.select_for_update()
    return members.first()


def staff_password_link_member(*, uidb64: str, token: str) -> User | None:
    """The member a set-password link is for, while it still works (None otherwise: used,
    replaced, expired, deactivated, or never made here)."""
    member = _member_of(uidb64)
    if member is None or not password_link_tokens.check_token(member, token):
        return None
    return member


@transaction.atomic
def staff_password_link_use(*, uidb64: str, token: str, password: str) -> User:
    """Set the member's password through their link, once: the account row is locked and the
    token checked against it, so of two uses at the same moment one sets the password and
    the other finds the link used. The password validators apply (`staff_password_set`,
    which also revokes any API tokens); `InvalidState` when the link no longer works. In the
    change history, naming the member."""
    member = _member_of(uidb64, for_update=True)
    if member is None or not password_link_tokens.check_token(member, token):
        raise InvalidState(
            "This link no longer works: it was used already, replaced by a newer one, or it "
            "expired. Ask your agency's administrator for a new one."
        )
    staff_password_set(
        member=member, password=password, by=member, reason=HISTORY_REASON_PASSWORD_SET
    )
    return member


def staff_password_link_email(*, link: PasswordLink, url: str) -> bool:
    """Email the link to the member, if their account has an address: the link and until when
    it works, nothing else (no case, no password, no username). Sent through Django's email
    backend outside any transaction; a failure is logged by its kind only (never the address)
    and returned as False, for the administrator to hand the link over another way."""
    address = link.member.email
    if not address:
        return False
    until = date_format(timezone.localtime(link.expires_at), "j F Y, H:i T")
    body = (
        "An administrator of your agency has given you an account on Case screening, or "
        "asked you to choose a new password for it.\n\n"
        f"Choose your password here (the link works once, until {until}):\n\n{url}\n\n"
        "If you did not expect this email, do not use the link: tell your agency's "
        "administrator.\n"
    )
    try:
        send_mail(
            "Choose your password for Case screening",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [address],
        )
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("set-password email not sent: %s", type(error).__name__)
        return False
    return True
