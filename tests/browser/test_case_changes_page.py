"""A case's change history in a real browser on a phone-sized screen, by keyboard only: the
page is no wider than the screen (the table scrolls inside its own region), and the region
takes the focus so the arrow keys can scroll it."""

import pytest

from screening import services
from screening.roles import Role
from tests.browser import test_screening_flow as flow
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

# The screening flow's fixtures: a headless Chromium, and a signed-up frontline officer.
chromium = flow.chromium
frontline_officer = flow.frontline_officer


def test_a_supervisor_reads_a_cases_changes_by_keyboard_on_a_phone(
    chromium, live_server, frontline_officer
):
    supervisor = UserFactory(
        username="supervisor.e2e", agency=frontline_officer.agency, role=Role.SUPERVISOR
    )
    case = services.case_create(created_by=frontline_officer, age=34)
    services.case_close(case=case, by=supervisor, reason="Moved to a fictional town.")

    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    flow._sign_in(page, live_server.url, supervisor)
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    page.focus("a:has-text('Change history')")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('Change history')")
    assert page.title() == f"Change history of case {case.reference} · Case screening"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.is_visible("text=Status: Open → Closed")
    assert page.is_visible("text=Close reason: changed")
    assert not page.is_visible("text=Moved to a fictional town.")

    page.focus("a:has-text('Back to case')")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('role')") == "region":
            break
    assert page.evaluate("document.activeElement.getAttribute('aria-labelledby')") == (
        "changes-caption"
    )
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(flow.SCREENSHOTS / "case-changes-mobile.png"), full_page=True)
    context.close()
