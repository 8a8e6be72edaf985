"""The routing rule pages in a real browser on a 390 px screen, by keyboard: an agency
administrator reads the rules in force, starts a draft, saves a mistake (the error summary
takes the focus and names the line), corrects it, reads the changes and the dry run over
the agency's screenings, and publishes. Screenshots under test-output/screenshots/."""

import pytest
from django.contrib.auth.models import Group

from referrals.routing import load_routing_file
from referrals.routing_text import routing_text
from referrals.services.seeds import routing_rule_set_load
from screening import services
from screening.models import Consent
from screening.roles import Role
from tests.auth import browser_sign_in
from tests.browser import test_accessibility as a11y
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import DEFAULT_RULES, POSITIVE
from tests.screening.conftest import FLAG_SCREEN

pytestmark = pytest.mark.browser

chromium = flow.chromium
WIDTH = 390


@pytest.fixture
def admin(transactional_db, tmp_path):
    """An NGO's administrator; the default rules; two submitted screenings of the NGO's."""
    from django.core.management import call_command

    for role in Role:
        Group.objects.get_or_create(name=role.value)
    routing_rule_set_load(definition=load_routing_file(DEFAULT_RULES))
    instrument = tmp_path / "test-flag-screen.v1.yaml"
    instrument.write_text(FLAG_SCREEN.format(version=1, status="published"))
    call_command("load_instruments", str(instrument), verbosity=0)
    from indicators.models import InstrumentVersion

    version = InstrumentVersion.objects.get(instrument__slug="test-flag-screen")
    agency = AgencyFactory(name="Fictional Outreach")
    officer = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    for _ in range(2):
        case = services.case_create(created_by=officer, age=30)
        services.consent_record(
            case=case, by=officer, scope=Consent.Scope.SCREENING, method="verbal"
        )
        screening = services.screening_start(
            case=case,
            by=officer,
            instrument_version=version,
            setting="station",
            safe_to_talk="yes",
            alone="yes",
        )
        screening = services.screening_save_answers(
            screening=screening, by=officer, answers=POSITIVE, expected_version=screening.version
        )
        services.screening_submit(screening=screening, by=officer)
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def shot(page, name: str, axe, problems: list[str]) -> None:
    """A screenshot, and axe-core's WCAG A/AA findings on the page as it is now."""
    page.screenshot(path=str(flow.SCREENSHOTS / f"routing-{name}-390.png"), full_page=True)
    problems += [f"{name}: {text}" for text in a11y._violations(axe, page)]
    problems += [f"{name}: {part} scrolls sideways" for part in page.evaluate(a11y.SIDEWAYS)]


def submit_by_keyboard(page, button: str) -> None:
    page.focus(f"button:has-text('{button}')")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_an_admin_drafts_checks_and_publishes_rules_by_keyboard(chromium, live_server, admin):
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe, problems = a11y._axe(), []
    context = chromium.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    browser_sign_in(page, live_server.url, admin)
    page.click("nav >> text=Routing rules")
    page.wait_for_selector("h1:has-text('Routing rules')")
    assert page.title() == "Routing rules · Case screening"
    assert page.is_visible("text=In force: the default rules") and fits(page)
    shot(page, "in-force", axe, problems)

    submit_by_keyboard(page, "Start a draft")
    page.wait_for_selector("h1:has-text('Draft, version 1')")
    text = page.input_value("#id_text")
    assert "key: minor_child_welfare" in text and fits(page)

    page.fill("#id_text", text.replace("service_type: medical", "service_type: spa"))
    submit_by_keyboard(page, "Save the draft")
    assert page.evaluate("document.activeElement.dataset.errorSummary") is not None
    summary = page.inner_text("[data-error-summary]")
    assert "Rules (YAML): line" in summary and "service_type" in summary and fits(page)
    shot(page, "draft-errors", axe, problems)

    fixed = routing_text(
        {
            **load_routing_file(DEFAULT_RULES).model_dump(mode="json", by_alias=True),
            "rules": [
                {
                    **rule,
                    "refer": [r for r in rule["refer"] if r["service_type"] != "legal_aid"],
                }
                for rule in load_routing_file(DEFAULT_RULES).model_dump(mode="json", by_alias=True)[
                    "rules"
                ]
            ],
        }
    )
    page.fill("#id_text", fixed)
    submit_by_keyboard(page, "Save the draft")
    page.wait_for_selector("text=Draft v1 saved.")

    page.click("nav[aria-label=Draft] >> text=Changes")
    page.wait_for_selector("h1:has-text('changes')")
    assert page.is_visible("text=0 rules added, 0 removed, 1 changed") and fits(page)
    shot(page, "changes", axe, problems)

    page.click("nav[aria-label=Draft] >> text=Dry run")
    page.wait_for_selector("h1:has-text('dry run')")
    assert page.is_visible(
        "text=This version would have proposed 2 referrals differently in 2 of the last 2"
    )
    assert fits(page)
    shot(page, "dry-run", axe, problems)

    page.click("nav[aria-label=Draft] >> text=Changes")
    page.wait_for_selector("h1:has-text('changes')")
    submit_by_keyboard(page, "Publish version 1")
    page.wait_for_selector("text=Version 1 published")
    assert page.is_visible("text=In force: your agency's own rules") and fits(page)
    shot(page, "published", axe, problems)
    context.close()
    assert problems == [], "\n".join(problems)
