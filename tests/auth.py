"""Signing people in for tests as the service sees them: with the second sign-in step taken
where it is owed (screening/mfa.py: supervisors and agency administrators, and anyone with a
device). MFA is never switched off for tests; these helpers take the step for real.

- `sign_in(client, user)`: a test client signed in and, where owed, verified with a
  confirmed authenticator app (the session holds its id, as `django_otp.login` leaves it).
- `browser_sign_in(page, base_url, user)`: through the sign-in form and, where owed, the code
  page with a code computed from the device's key.
- `totp_code(device)`: the code an authenticator app shows now (never a mocked check).
"""

from __future__ import annotations

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from screening.mfa import MFA_DUE_SESSION_KEY, mfa_required
from screening.models import User

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


def mfa_owed(user: User) -> bool:
    return mfa_required(user) or user_has_device(user)


def totp_device_confirmed(user: User) -> TOTPDevice:
    """The user's authenticator app, set up and confirmed (made if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    return device


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0, at: float | None = None) -> str:
    """The code the app shows at `at` (now), `steps_ahead` time steps later."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = (time.time() if at is None else at) + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def totp_code_unused(device: TOTPDevice) -> str:
    """A code the device will accept now: each time step's code works once (django-otp keeps
    the last step used), so after a sign-in in this step, the next step's (within the
    device's tolerance of one step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    ahead = max(0, device.last_t + 1 - totp.t())
    if ahead > device.tolerance:
        time.sleep(device.step * (ahead - device.tolerance))
        return totp_code_unused(device)
    return totp_code(device, steps_ahead=ahead)


def sign_in(client: Client, user: User) -> Client:
    """Sign `client` in as `user`, with the second step taken if it is owed."""
    client.force_login(user)
    if mfa_owed(user):
        device = totp_device_confirmed(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[MFA_DUE_SESSION_KEY] = True
        session.save()
    return client


def signed_in_client(user: User) -> Client:
    return sign_in(Client(), user)


def browser_sign_in(page, base_url: str, user: User, *, password: str = PASSWORD) -> None:
    """Through the real forms: password, then (if owed) the code from the user's app. Ends on
    the page the sign-in leads to (My cases)."""
    device = totp_device_confirmed(user) if mfa_owed(user) else None
    page.goto(f"{base_url}/")
    assert page.url.startswith(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button:has-text('Sign in')")
    if device is not None:
        page.wait_for_selector("h1:has-text('Enter the code from your authenticator app')")
        page.fill("#id_code", totp_code_unused(device))
        page.click("button:has-text('Continue')")
    page.wait_for_selector("h1:has-text('My cases')")
