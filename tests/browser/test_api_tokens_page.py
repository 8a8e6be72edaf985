"""The API tokens page in a real browser, on a phone-sized screen and by keyboard only: create a
token, see it once (nothing wider than the screen), revoke it after the confirmation."""

import pytest

from config.models import ApiToken
from tests.browser import test_screening_flow as flow

pytestmark = pytest.mark.browser

# The screening flow's fixtures: a headless Chromium, and a signed-up frontline officer.
chromium = flow.chromium
frontline_officer = flow.frontline_officer


def test_a_person_creates_and_revokes_a_token_by_keyboard_on_a_phone(
    chromium, live_server, frontline_officer
):
    context = chromium.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    flow._sign_in(page, live_server.url, frontline_officer)
    page.click("nav >> text=API tokens")
    page.wait_for_selector("h1:has-text('API tokens')")
    assert page.title() == "API tokens · Case screening"

    page.focus("#id_name")
    page.keyboard.type("contact-centre")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_days"
    assert page.input_value("#id_days") == "90"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('Your new API token')")
    token = ApiToken.objects.get(user=frontline_officer)
    shown = page.input_value("#new-token")
    assert shown.startswith(f"{token.prefix}.")
    assert shown.split(".")[1] not in page.title() and shown not in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(flow.SCREENSHOTS / "api-token-created.png"), full_page=True)

    page.click("text=back to API tokens")
    assert shown.split(".")[1] not in page.content()
    page.focus(f"#token-{token.prefix} a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Revoke the token')")
    page.focus("button:has-text('Revoke this token')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("text=revoked: requests that use it are refused")
    page.screenshot(path=str(flow.SCREENSHOTS / "api-tokens.png"), full_page=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    context.close()
