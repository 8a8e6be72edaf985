"""The premises observation checklist (issue 16) in a real browser, on a phone-sized screen
(390 px) and by keyboard alone: from the case page to the result, with no safety gate, no
consent script and no "prefer not to say"; axe-core (WCAG 2.2 A/AA) on the start, a section
and the result page. Screenshots go to test-output/screenshots/."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from indicators.engine import load_instrument_file
from screening import services
from screening.models import Agency, Consent, Screening
from screening.roles import Role
from tests.auth import browser_sign_in
from tests.browser.test_accessibility import _axe, _violations
from tests.browser.test_screening_flow import PASSWORD, SCREENSHOTS, chromium  # noqa: F401
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
V2 = load_instrument_file(ROOT / "seeds" / "instruments" / "imb-premises.v2.yaml")
OBSERVED_SECTION = "access"  # four signs of weight 2: strongly concerning, nothing else seen

FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== 'none';
}"""


def _tab_to(page, predicate: str, *, limit: int = 200) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({predicate}); }}"):
            return
    raise AssertionError(f"Tab never reached {predicate}")


def _button(text: str) -> str:
    return f"el.tagName === 'BUTTON' && el.textContent.trim() === {text!r}"


@pytest.fixture
def inspector(transactional_db):
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    call_command("load_instruments", verbosity=0)
    agency = AgencyFactory(name="Riverside Inspection Unit", kind=Agency.Kind.LAW_ENFORCEMENT)
    return UserFactory(username="inspector.e2e", agency=agency, role=Role.FRONTLINE_OFFICER)


def test_the_premises_checklist_by_keyboard_on_a_phone(chromium, live_server, inspector):  # noqa: F811
    case = services.case_create(created_by=inspector)
    axe = _axe()
    problems: list[str] = []
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    browser_sign_in(page, live_server.url, inspector, password=PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.reference}/")

    _tab_to(
        page, "el.tagName === 'A' && el.textContent.trim() === 'Record what you observe at a place'"
    )
    assert page.evaluate(FOCUS_VISIBLE), "the focused link shows no focus indicator"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Record what you observe at a place')")
    assert "safe" not in page.inner_text("main").lower().split("no safety questions")[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "observation-start-390.png"), full_page=True)
    problems += [f"start page: {text}" for text in _violations(axe, page)]
    _tab_to(page, _button("Start the checklist"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    steps = len(V2.sections)
    for step, section in enumerate(V2.sections, start=1):
        page.wait_for_selector(f".progress:has-text('Step {step} of {steps}')")
        main = page.inner_text("main")
        assert "Prefer not to say" not in main and "Don't know" not in main
        for item in section.items:
            assert page.locator(f"input[name={item.key}]").count() == 3
            _tab_to(page, f"el.name === {item.key!r}")
            # Space: the first answer (observed); ArrowDown: the next one (not observed).
            page.keyboard.press("Space" if section.key == OBSERVED_SECTION else "ArrowDown")
        if section.key == OBSERVED_SECTION:
            page.screenshot(path=str(SCREENSHOTS / "observation-section-390.png"), full_page=True)
            problems += [f"section page: {text}" for text in _violations(axe, page)]
        _tab_to(page, _button("Save and continue"))
        with page.expect_navigation():
            page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('Check what you recorded')")
    _tab_to(page, _button("Submit the checklist"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#observed-title")
    observed = page.locator(".observed-signs li").all_inner_texts()
    assert len(observed) == 4 and all("Access control" in text for text in observed)
    assert "live on site" not in page.inner_text("main")
    # Nothing wider than the phone's screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "observation-result-390.png"), full_page=True)
    problems += [f"result page: {text}" for text in _violations(axe, page)]
    context.close()
    assert problems == [], "WCAG 2.2 A/AA violations (axe-core):\n" + "\n".join(problems)

    screening = Screening.objects.get(case=case)
    assert screening.outcome == "strongly_concerning"
    assert screening.consent is None and not Consent.objects.filter(case=case).exists()
    assert sorted(key for key, value in screening.answers.items() if value == "yes") == sorted(
        item.key for item in V2.sections[1].items
    )
    assert set(screening.answers.values()) == {"yes", "no"}
