"""Emergency access and "who can see this case" in a real browser on a phone-sized screen,
by keyboard only: asking for emergency access, landing on the case read-only, and the case's
creator reading who can see it, no page wider than the screen."""

import pytest

from screening import services
from screening.roles import Role
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

chromium = flow.chromium
frontline_officer = flow.frontline_officer


def test_emergency_access_by_keyboard_then_the_creator_sees_it_on_a_phone(
    chromium, live_server, frontline_officer
):
    case = services.case_create(created_by=frontline_officer, age=34)
    helper = UserFactory(username="helper.e2e", agency=AgencyFactory(), role=Role.SOCIAL_WORKER)

    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    flow._sign_in(page, live_server.url, helper)
    page.goto(f"{live_server.url}/")
    page.focus("a:has-text('Ask for emergency access')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.focus("#id_reference")
    page.keyboard.type(case.reference.lower())
    page.keyboard.press("Tab")
    page.keyboard.type("Fictional: the person is here now and afraid to go back.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Open the case"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.title() == f"Case {case.reference} · Case screening"
    assert page.is_visible("text=Emergency access until")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()

    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    flow._sign_in(page, live_server.url, frontline_officer)
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    page.focus("a:has-text('Who can see this case')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Who can see this case')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.is_visible(f"text={helper.get_full_name()}")
    assert page.is_visible("text=Emergency access (break-glass)")
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(flow.SCREENSHOTS / "case-who-can-see-mobile.png"), full_page=True)
    context.close()
