"""The ILO/EC result page in a real browser (issue 16): on a phone (390 px) it is shorter than
3,000 px with realistic answers, the six-dimension picture shows without JavaScript, axe-core
finds no WCAG 2.2 A/AA violation, and the page is kept as screenshots at 390 and 1280 px in
test-output/screenshots/result/."""

from __future__ import annotations

import io

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from screening.models import Agency
from screening.roles import Role
from tests.browser import test_accessibility as a11y
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory
from tests.ilo_ec_screening import ilo_ec_screening_submit, ilo_ec_version
from tests.walkthrough import DIRECTORY

pytestmark = pytest.mark.browser

chromium = flow.chromium

SCREENSHOTS = flow.SCREENSHOTS / "result"
MAX_PHONE_HEIGHT = 3000


@pytest.fixture
def ilo_ec_result(transactional_db):
    """Real commits (the live server answers from another thread)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    # The demo's providers and routing rules: the page lists the referrals routing proposes.
    directory = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    for entry in directory["providers"]:
        if entry.get("agency"):
            Agency.objects.get_or_create(
                name=entry["agency"], defaults={"kind": Agency.Kind.SERVICE_PROVIDER}
            )
    call_command("load_referral_seeds", verbosity=0, stdout=io.StringIO())
    agency = AgencyFactory(name="Harbour Outreach")
    officer = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    screening = ilo_ec_screening_submit(officer=officer, version=ilo_ec_version())
    return officer, screening


def _height(page) -> int:
    return page.evaluate("() => document.documentElement.scrollHeight")


def test_the_ilo_ec_result_fits_a_phone_and_passes_axe(chromium, live_server, ilo_ec_result):
    officer, screening = ilo_ec_result
    url = f"{live_server.url}{reverse('screening:screening-result', args=[screening.pk])}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    heights = {}
    for width in a11y.WIDTHS:
        context = a11y._context(chromium, live_server.url, officer, width)
        page = context.new_page()
        response = page.goto(url)
        assert response is not None and response.status == 200
        heights[width] = _height(page)
        referrals = page.locator("#referrals .referral-list > li").count()
        page.screenshot(path=str(SCREENSHOTS / f"ilo-ec-result--{width}.png"), full_page=True)
        if width == 390:
            assert page.evaluate(a11y.SIDEWAYS) == []
        else:
            assert a11y._violations(a11y._axe(), page) == []
        context.close()
    print(f"result page height: {heights}, {referrals} referrals listed")
    assert heights[390] < MAX_PHONE_HEIGHT, f"{heights[390]} px tall at 390 px wide"


@pytest.fixture
def bar_results(transactional_db):
    """Results of lists without the ILO/EC picture: a count (forced labour) and a score
    (premises)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    agency = AgencyFactory(name="Harbour Outreach")
    officer = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    screenings = {}
    for slug in ("ilo-forced-labour-11", "imb-premises"):
        version = ilo_ec_version(slug, 1)
        answers = {item.key: "no" for item in version.items.all()}
        for key in list(answers)[:3]:
            answers[key] = "yes"
        answers[list(answers)[3]] = "unknown"
        screenings[slug] = ilo_ec_screening_submit(
            officer=officer, version=version, answers=answers
        )
    return officer, screenings


def test_the_rule_bars_pass_axe_and_fit_a_phone(chromium, live_server, bar_results):
    officer, screenings = bar_results
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for slug, screening in screenings.items():
        url = f"{live_server.url}{reverse('screening:screening-result', args=[screening.pk])}"
        for width in a11y.WIDTHS:
            context = a11y._context(chromium, live_server.url, officer, width)
            page = context.new_page()
            response = page.goto(url)
            assert response is not None and response.status == 200
            assert page.locator("#rule-bars").is_visible()
            page.screenshot(path=str(SCREENSHOTS / f"{slug}-result--{width}.png"), full_page=True)
            if width == 390:
                assert page.evaluate(a11y.SIDEWAYS) == []
            else:
                assert a11y._violations(a11y._axe(), page) == [], slug
            context.close()
