"""The second sign-in step: setting up an authenticator app (TOTP), the one-time backup codes,
and checking a code. The rules of who must take the step are in screening/mfa.py; an agency
administrator's reset of a member's devices is `staff_mfa_reset` (services/staff.py).

A wrong code counts against the device (django-otp's throttling: after each failure the next
try must wait twice as long, 1 s, 2 s, 4 s, ...), and the count is committed even though the
caller is refused, so checks run in their own short transaction and the refusal
(`ValidationError`) is raised after it.

Backup codes are kept only as keyed digests (HMAC with the blind-index key, the member's id
mixed in): a copy of the database alone gives no usable code. Each works once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.crypto import blind_index
from config.errors import InvalidState, ValidationError
from screening.models import User

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
# 10 characters of base32 (50 bits each); shown as two groups of five.
BACKUP_CODE_LENGTH = 10
_BACKUP_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
TOTP_DIGITS = 6

CODE_MISSING = "Enter the 6-digit code from your authenticator app, or a backup code."
CODE_MALFORMED = (
    "Enter the 6 digits your authenticator app shows, or a backup code of 10 letters and digits."
)
CODE_WRONG = (
    "That code did not work. Enter the newest code your app shows (check the phone's clock "
    "is set automatically), or one of your backup codes."
)
SETUP_CODE_WRONG = (
    "That code did not work. Check that you scanned this page's QR code (or typed its key), "
    "then enter the newest code your app shows."
)


@dataclass(frozen=True)
class MfaStatus:
    has_device: bool
    backup_codes_left: int


@dataclass(frozen=True)
class MfaSetup:
    """A confirmed authenticator app and the backup codes to show once."""

    device: TOTPDevice
    backup_codes: list[str]


def mfa_status(*, user: User) -> MfaStatus:
    """Whether the user has a confirmed authenticator app, and how many backup codes remain."""
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return MfaStatus(has_device=has_device, backup_codes_left=left)


@dataclass(frozen=True)
class MfaReset:
    at: datetime
    by: User | None


def mfa_reset_last(*, member: User) -> MfaReset | None:
    """When the member's devices were last reset, and by whom (their change history)."""
    if member.mfa_reset_at is None:
        return None
    record = (
        User.history.filter(id=member.pk, mfa_reset_at=member.mfa_reset_at)
        .select_related("history_user")
        .order_by("history_date", "history_id")
        .first()
    )
    return MfaReset(at=member.mfa_reset_at, by=record.history_user if record else None)


def mfa_totp_setup_start(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: an unconfirmed device with a fresh secret, the same
    one until it is confirmed (a reload shows the same QR code). `InvalidState` when the user
    already has a confirmed app: an administrator resets it first."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise InvalidState("Two-step sign-in is already set up.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=TOTP_DEVICE_NAME, confirmed=False, digits=TOTP_DIGITS
        )
    return device


def mfa_totp_setup_confirm(*, user: User, code: str) -> MfaSetup:
    """Confirm the app being set up with a code it shows; make the first backup codes.
    `ValidationError` (field `code`) for a wrong, malformed or too-early code; `InvalidState`
    when there is nothing being set up."""
    token = _totp_token(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise InvalidState("Nothing is being set up: start again from the first step.")
        retry_at = _throttled_until(device)
        if retry_at is None and device.verify_token(token):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # Other half-set-up apps of this user (another tab) are no longer wanted.
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            return MfaSetup(device=device, backup_codes=_backup_codes_replace(user))
    raise _refused(retry_at, SETUP_CODE_WRONG)


def mfa_verify(*, user: User, code: str) -> Device:
    """The device that accepts `code` for `user`: 6 digits are checked against the
    authenticator app, 10 characters against the backup codes (used up when accepted).
    `ValidationError` (field `code`) otherwise, saying when to retry if throttled."""
    normalised = _normalise(code)
    if _is_totp(normalised):
        model: type[Device] = TOTPDevice
    elif _is_backup(normalised):
        model = StaticDevice
        normalised = _backup_digest(user, normalised)
    else:
        raise ValidationError("Check the code.", {"code": [_malformed(normalised)]})
    retry_at = None
    with transaction.atomic():
        device = (
            model.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        ).first()
        if device is not None:
            retry_at = _throttled_until(device)
            if retry_at is None and device.verify_token(normalised):
                return device
    raise _refused(retry_at, CODE_WRONG)


@transaction.atomic
def mfa_backup_codes_regenerate(*, user: User) -> list[str]:
    """New backup codes in place of any left (those stop working). Only for someone with a
    confirmed authenticator app."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise InvalidState("Set up two-step sign-in first.")
    return _backup_codes_replace(user)


def mfa_devices_delete(*, user: User) -> int:
    """Delete every device of `user` (authenticator apps, backup codes); their sessions that
    were verified with one are no longer verified (django-otp finds no device). Called by
    `staff_mfa_reset`, which checks who may."""
    deleted = 0
    for model in (TOTPDevice, StaticDevice):
        count, _ = model.objects.filter(user=user).delete()
        deleted += count
    return deleted


def _backup_codes_replace(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=_backup_digest(user, code)) for code in codes
    )
    device.throttle_reset()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _new_backup_code() -> str:
    return "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))


def _backup_digest(user: User, code: str) -> str:
    # StaticToken.token holds 16 characters: 64 bits of the HMAC, plenty to tell codes apart.
    return blind_index("mfa-backup-code", f"{user.pk}:{code}")[:16]


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _is_totp(normalised: str) -> bool:
    return len(normalised) == TOTP_DIGITS and normalised.isdigit()


def _is_backup(normalised: str) -> bool:
    return len(normalised) == BACKUP_CODE_LENGTH and all(
        char in _BACKUP_ALPHABET for char in normalised
    )


def _malformed(normalised: str) -> str:
    return CODE_MISSING if not normalised else CODE_MALFORMED


def _totp_token(code: str) -> str:
    normalised = _normalise(code)
    if not _is_totp(normalised):
        message = (
            "Enter the code from your authenticator app."
            if not normalised
            else "Enter the 6 digits your authenticator app shows."
        )
        raise ValidationError("Check the code.", {"code": [message]})
    return normalised


def _throttled_until(device: models.Model) -> datetime | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    return (info or {}).get("locked_until") or timezone.now()


def _refused(retry_at: datetime | None, wrong: str) -> ValidationError:
    if retry_at is None:
        return ValidationError("Check the code.", {"code": [wrong]})
    wait = max(1, round((retry_at - timezone.now()).total_seconds()))
    at = date_format(timezone.localtime(retry_at), "H:i:s T")
    return ValidationError(
        "Too many wrong codes.",
        {
            "code": [
                f"Too many wrong codes in a row. Wait {_seconds(wait)} (until {at}), then "
                "enter the newest code."
            ]
        },
    )


def _seconds(wait: int) -> str:
    if wait < 120:
        return f"{wait} second{'s' if wait != 1 else ''}"
    minutes = round(wait / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{round(minutes / 60)} hours"
