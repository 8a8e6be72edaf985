"""End to end in a real browser: Playwright drives Debian's Chromium (`/usr/bin/chromium`,
installed by .ci/run; a browser is never downloaded) against pytest-django's live server.

A frontline officer signs in, opens a case, passes the safety gate and the consent step, answers
every section of `frontline-adult-conversation` v1 (with the autosave script running), submits
and reads the result. Screenshots go to test-output/screenshots/.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from indicators.engine import load_instrument_file, score
from screening.models import Agency, Case, Screening
from screening.roles import Role
from tests.auth import browser_sign_in
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
INSTRUMENT = ROOT / "seeds" / "instruments" / "frontline-adult-conversation.v2.yaml"
PASSWORD = "correct-horse-battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: the browser is mandatory here)")
    pytest.skip(reason)


@pytest.fixture
def chromium(monkeypatch):
    """A headless Debian Chromium under Playwright, closed after the test."""
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (install Debian's `chromium` package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (dev extra)")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls made by fixtures
    # tearing down afterwards are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def frontline_officer(transactional_db):
    """Real commits (the live server answers from another thread). A transactional test before
    this one may have flushed the role groups the data migration made: make sure they exist."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    call_command("load_instruments", verbosity=0)
    agency = AgencyFactory(name="Harbour Police Unit", kind=Agency.Kind.LAW_ENFORCEMENT)
    return UserFactory(username="officer.e2e", agency=agency, role=Role.FRONTLINE_OFFICER)


def _sign_in(page, base_url, user):
    """Through the sign-in form, and the code page with a real code where the second step is
    owed (tests/auth.py)."""
    browser_sign_in(page, base_url, user, password=PASSWORD)


def _answer_every_section(page, steps: int) -> dict[str, str]:
    """Yes to every question except immediate danger (no) and one "don't know"."""
    answers: dict[str, str] = {}
    for step in range(1, steps + 1):
        page.wait_for_selector(f".progress:has-text('Step {step} of {steps}')")
        for fieldset in page.locator("fieldset.question").all():
            key = fieldset.locator("input[type=radio]").first.get_attribute("name")
            value = {"in_danger_now": "no", "debt_to_work_off": "unknown"}.get(key, "yes")
            fieldset.locator(f"input[value='{value}']").check()
            answers[key] = value
        if step == 2:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "section-page.png"), full_page=True)
        with page.expect_navigation():
            page.click("button:has-text('Save and continue')")
    return answers


def test_a_frontline_officer_screens_a_person_from_sign_in_to_result(
    chromium, live_server, frontline_officer
):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, live_server.url, frontline_officer)

    page.click("text=Open a new case")
    page.fill("#id_age", "34")
    page.fill("#id_languages", "es, en")
    page.select_option("#id_exploitation_type", "labour")
    page.click("button:has-text('Open case')")
    heading = page.inner_text("h1")
    assert heading.startswith("Case C-")
    reference = heading.removeprefix("Case ").strip()
    assert page.title() == f"Case {reference} · Case screening"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "case-detail.png"), full_page=True)
    page.click("text=Start a screening")
    page.screenshot(path=str(SCREENSHOTS / "safety-gate.png"), full_page=True)
    page.check("#id_safe_to_talk_0")  # yes
    page.check("#id_alone_0")  # yes
    page.check("#id_interpreter_used_1")  # no
    page.check("input[name=setting][value=station]")
    assert page.input_value("#id_instrument_version") == "frontline-adult-conversation/2"
    page.click("button:has-text('Continue')")

    page.wait_for_selector("h1:has-text('Explain, then ask for consent')")
    page.screenshot(path=str(SCREENSHOTS / "consent.png"), full_page=True)
    page.check("#id_explained")
    page.check("#id_agrees_0")
    page.check("input[name=method][value=verbal]")
    page.click("button:has-text('Record consent and start')")

    page.wait_for_selector("text=Step 1 of 7")
    assert page.locator("button.quick-exit").is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "section-page-mobile.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    answers = _answer_every_section(page, steps=7)

    page.wait_for_selector("h1:has-text('Check the answers')")
    page.click("button:has-text('Submit screening')")

    page.wait_for_selector("#outcome-title")
    definition = load_instrument_file(INSTRUMENT)
    expected = score(definition, answers, {"age": 34, "exploitation_type": "labour"})
    assert expected.outcome == "indicated"
    assert page.inner_text("#outcome-title") == definition.outcome("indicated").label.en
    assert page.is_visible("text=The tool supports your decision; it does not make it.")
    assert page.is_visible("#non-punishment")  # a law-enforcement user, trafficking indicated
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "result-page.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#outcome-title")
    page.screenshot(path=str(SCREENSHOTS / "result-page-mobile.png"))
    context.close()

    screening = Screening.objects.get(case__reference=reference)
    assert screening.status == Screening.Status.SUBMITTED
    assert screening.outcome == "indicated"
    assert screening.answers == answers
    assert Case.objects.get(reference=reference).created_by == frontline_officer


def test_escape_is_a_quick_exit_that_ends_the_session(
    chromium, live_server, frontline_officer, settings
):
    # A page of this server stands in for the neutral site: the test never leaves the machine.
    settings.QUICK_EXIT_URL = f"{live_server.url}/healthz"
    context = chromium.new_context()
    page = context.new_page()
    _sign_in(page, live_server.url, frontline_officer)
    with page.expect_navigation(url=f"{live_server.url}/healthz"):
        page.keyboard.press("Escape")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    context.close()
