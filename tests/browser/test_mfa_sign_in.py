"""Two-step sign-in in a real browser, on a phone-sized screen and by keyboard: a supervisor
with no app signs in, is sent to set one up, types the key shown (as an app would use it),
enters the code the app would show, sees the backup codes once, and later signs in with a
backup code. Codes are computed from the key on the page, never mocked."""

from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from screening.roles import Role
from tests.auth import PASSWORD
from tests.browser import test_screening_flow as flow
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

# The screening flow's fixtures: a headless Chromium, and a signed-up frontline officer.
chromium = flow.chromium
frontline_officer = flow.frontline_officer


def code_for(key_text: str) -> str:
    totp = TOTP(b32decode(key_text.replace(" ", "")))
    return f"{totp.token():06d}"


def test_a_supervisor_sets_up_an_app_then_signs_in_with_a_backup_code(
    chromium, live_server, frontline_officer
):
    supervisor = UserFactory(
        username="supervisor.e2e", agency=frontline_officer.agency, role=Role.SUPERVISOR
    )
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    console_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    page.goto(f"{live_server.url}/cases/agency/")
    page.fill("#id_username", supervisor.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('Set up two-step sign-in')")
    assert page.locator("svg.mfa-qr").is_visible()
    assert page.locator("svg.mfa-qr").bounding_box()["width"] <= 390
    assert not page.locator("nav[aria-label=Main]").count()  # nowhere to go before the code
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(flow.SCREENSHOTS / "mfa-setup-mobile.png"), full_page=True)

    key = page.inner_text("#mfa-key")
    page.focus("#id_code")
    page.keyboard.type("000000" if code_for(key) != "000000" else "111111")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-message:has-text('That code did not work.')")
    page.wait_for_timeout(1100)  # django-otp's wait after one wrong code
    page.fill("#id_code", code_for(key))
    page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('save your backup codes')")
    codes = [code.strip() for code in page.locator(".backup-codes code").all_inner_texts()]
    assert len(codes) == 10
    page.click("text=I have saved them: continue")
    page.wait_for_selector("h1:has-text('Agency cases')")

    page.click("button:has-text('Sign out')")
    page.wait_for_selector("h1:has-text('Sign in')")
    page.fill("#id_username", supervisor.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Enter the code from your authenticator app')")
    page.fill("#id_code", codes[0])
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('My cases')")
    # The inline QR code breaks no Content-Security-Policy rule (the wrong code's 400 and the
    # missing favicon are logged as failed loads, which is not what this looks for).
    assert not [text for text in console_errors if "Content Security Policy" in text]
    context.close()


def test_a_supervisor_with_an_app_is_asked_for_its_code_at_sign_in(
    chromium, live_server, frontline_officer
):
    supervisor = UserFactory(
        username="supervisor2.e2e", agency=frontline_officer.agency, role=Role.SUPERVISOR
    )
    context = chromium.new_context()
    page = context.new_page()
    flow._sign_in(page, live_server.url, supervisor)  # password, then the app's code
    page.goto(f"{live_server.url}/cases/agency/")
    page.wait_for_selector("h1:has-text('Agency cases')")
    context.close()
