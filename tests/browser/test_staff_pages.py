"""The staff pages in a real browser on a 390 px screen, by keyboard: an agency administrator
adds a member, copies the set-password link shown once, and the member (in another browser)
chooses a password with it and signs in; the link then no longer works. Screenshots under
test-output/screenshots/."""

import pytest

from screening.models import User
from screening.roles import Role
from tests.auth import browser_sign_in
from tests.browser import test_accessibility as a11y
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

chromium = flow.chromium
WIDTH = 390
NEW_PASSWORD = "a-long-fictional-passphrase-7"


@pytest.fixture
def admin(transactional_db) -> User:
    agency = AgencyFactory(name="Fictional Outreach")
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def checked(axe, page, name: str) -> list[str]:
    """The page's WCAG A/AA violations (axe-core) and sideways scrolling, and a screenshot."""
    page.screenshot(path=str(flow.SCREENSHOTS / f"staff-{name}-390.png"), full_page=True)
    problems = [f"{name}: {text}" for text in a11y._violations(axe, page)]
    return problems + [f"{name}: {part} scrolls sideways" for part in page.evaluate(a11y.SIDEWAYS)]


def test_an_admin_adds_a_member_who_sets_a_password_with_the_link(chromium, live_server, admin):
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe = a11y._axe()
    problems: list[str] = []
    context = chromium.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    browser_sign_in(page, live_server.url, admin)
    page.click("nav >> text=Staff")
    page.wait_for_selector("h1:has-text('Staff')")
    assert page.title() == "Staff · Case screening" and fits(page)
    problems += checked(axe, page, "list")

    page.click("text=Add a member")
    page.wait_for_selector("h1:has-text('Add a member')")
    # A mistake first: the error summary takes the focus and links to the field.
    page.focus("#id_username")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.errorSummary") is not None
    assert fits(page)
    problems += checked(axe, page, "new-errors")

    page.focus("#id_username")
    page.keyboard.type("nova.reed")
    page.keyboard.press("Tab")
    page.keyboard.type("Nova")
    page.keyboard.press("Tab")
    page.keyboard.type("Reed")
    page.keyboard.press("Tab")
    page.keyboard.type("nova@example.org")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "roles"
    while page.evaluate("document.activeElement.value") != Role.SOCIAL_WORKER:
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("text=it is shown only once")
    link = page.input_value("#set-password-link")
    token = link.rstrip("/").split("/")[-1]
    assert token not in page.url and token not in page.title()
    assert fits(page)
    problems += checked(axe, page, "link")

    page.click("text=I have given it to them")
    page.wait_for_selector("h1:has-text('Nova Reed')")
    assert token not in page.content() and fits(page)
    problems += checked(axe, page, "member")

    members_browser = chromium.new_context(viewport={"width": WIDTH, "height": 844})
    member_page = members_browser.new_page()
    member_page.goto(link)
    member_page.wait_for_selector("h1:has-text('Choose your password')")
    assert token not in member_page.url and fits(member_page)
    member_page.focus("#id_new_password1")
    member_page.keyboard.type(NEW_PASSWORD)
    member_page.keyboard.press("Tab")
    member_page.keyboard.type(NEW_PASSWORD)
    problems += checked(axe, member_page, "set-password")
    with member_page.expect_navigation():
        member_page.keyboard.press("Enter")
    member_page.wait_for_selector("text=Your password is set")
    member_page.fill("#id_username", "nova.reed")
    member_page.fill("#id_password", NEW_PASSWORD)
    member_page.click("button:has-text('Sign in')")
    member_page.wait_for_selector("h1:has-text('My cases')")

    again = chromium.new_context(viewport={"width": WIDTH, "height": 844}).new_page()
    again.goto(link)
    again.wait_for_selector("h1:has-text('This link no longer works')")
    problems += checked(axe, again, "link-used")
    assert problems == [], "\n".join(problems)
    members_browser.close()
    context.close()
