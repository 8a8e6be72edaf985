"""The provider directory pages in a real browser on a 390 px screen, by keyboard: a shelter's
administrator stops new referrals, makes a mistake switching to a webhook (the error summary
takes the focus), switches with an address, copies the secret shown once, rotates it, and
reads the change history. axe-core on every page; screenshots under test-output/screenshots/."""

import pytest

from referrals.models import ServiceProvider
from screening.models import Agency, User
from screening.roles import Role
from tests.auth import browser_sign_in
from tests.browser import test_accessibility as a11y
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

chromium = flow.chromium
WIDTH = 390


@pytest.fixture
def admin(transactional_db) -> User:
    agency = AgencyFactory(name="Fictional Lantern Shelter", kind=Agency.Kind.SERVICE_PROVIDER)
    ServiceProvider.objects.create(
        slug="lantern-beds",
        name="Lantern Beds",
        agency=agency,
        channel="inbox",
        service_types=["shelter"],
        regions=["Northmoor"],
        languages=["en"],
    )
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ida", last_name="Vale")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def checked(axe, page, name: str) -> list[str]:
    page.screenshot(path=str(flow.SCREENSHOTS / f"providers-{name}-390.png"), full_page=True)
    problems = [f"{name}: {text}" for text in a11y._violations(axe, page)]
    return problems + [f"{name}: {part} scrolls sideways" for part in page.evaluate(a11y.SIDEWAYS)]


def submit_from_name(page) -> None:
    page.focus("#id_name")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_an_administrator_keeps_the_shelters_entry_by_keyboard(chromium, live_server, admin):
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe = a11y._axe()
    problems: list[str] = []
    context = chromium.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    browser_sign_in(page, live_server.url, admin)
    page.click("nav >> text=Providers")
    page.wait_for_selector("h1:has-text('providers')")
    assert page.title() == "Your providers · Case screening" and fits(page)
    problems += checked(axe, page, "list")

    page.click("text=Lantern Beds")
    page.wait_for_selector("h1:has-text('Lantern Beds')")
    problems += checked(axe, page, "edit")
    # Stop new referrals: untick the box by keyboard, save.
    page.focus("#id_accepting")
    page.keyboard.press("Space")
    submit_from_name(page)
    page.wait_for_selector("text=Routing uses the new entry")
    provider = ServiceProvider.objects.get(slug="lantern-beds")
    assert provider.capacity == ServiceProvider.Capacity.CLOSED

    # A webhook without its address: the error summary takes the focus and names the field.
    page.focus("#id_channel_0")
    page.keyboard.press("Space")
    submit_from_name(page)
    assert page.evaluate("document.activeElement.dataset.errorSummary") is not None
    assert "Webhook address" in page.inner_text("[data-error-summary]")
    assert fits(page)
    problems += checked(axe, page, "edit-errors")

    page.focus("#id_webhook_url")
    page.keyboard.type("http://127.0.0.1:9/lantern")
    submit_from_name(page)
    page.wait_for_selector("text=it is shown only once")
    secret = page.input_value("#new-secret")
    assert len(secret) == 64 and secret not in page.url and fits(page)
    problems += checked(axe, page, "secret")

    page.click("text=I have stored it")
    page.wait_for_selector("text=Rotate the secret")
    assert secret not in page.content()
    page.focus("button:has-text('Rotate the secret')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rotated = page.input_value("#new-secret")
    assert rotated != secret
    assert "The old secret no longer works" in page.content()

    page.click("text=I have stored it")
    page.click("main >> text=Change history")
    page.wait_for_selector("h1:has-text('Change history')")
    history = page.inner_text("main")
    assert "Webhook secret rotated" in history and "Ida Vale" in history
    assert secret not in page.content() and rotated not in page.content()
    assert fits(page)
    problems += checked(axe, page, "history")
    assert problems == [], "\n".join(problems)
    context.close()
