"""One case carried to the end in a real browser (issue 14): an officer opens a case and
screens the person (the screening pages), proposes a referral by hand on the case's referral
page, a supervisor approves it, the provider's staff accept it, start services and close it
with its outcome on their referral page (packet and whom to call back, never the case); a
note, a task done and the case closed. Screenshots at 390 and 1280 px in
test-output/screenshots/referrals/. The note, task and case-closing pages have their own
browser test (test_case_work_flow.py): here they go through the same services. All people
are fictional."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Referral, ServiceProvider
from referrals.services import referral_dispatch
from screening import services
from screening.models import Agency, Case, Consent
from screening.roles import Role
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

chromium = flow.chromium
frontline_officer = flow.frontline_officer
SHOTS = flow.SCREENSHOTS / "referrals"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _open_case_and_screen(page, base_url) -> str:
    page.goto(f"{base_url}/")
    page.click("text=Open a new case")
    page.fill("#id_age", "34")
    page.fill("#id_languages", "es, en")
    page.select_option("#id_exploitation_type", "labour")
    page.click("button:has-text('Open case')")
    reference = page.inner_text("h1").removeprefix("Case ").strip()
    page.click("text=Start a screening")
    page.check("#id_safe_to_talk_0")
    page.check("#id_alone_0")
    page.check("#id_interpreter_used_1")
    page.check("input[name=setting][value=station]")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("h1:has-text('Explain, then ask for consent')")
    page.check("#id_explained")
    page.check("#id_agrees_0")
    page.check("input[name=method][value=verbal]")
    page.click("button:has-text('Record consent and start')")
    flow._answer_every_section(page, steps=7)
    page.wait_for_selector("h1:has-text('Check the answers')")
    page.click("button:has-text('Submit screening')")
    page.wait_for_selector("#outcome-title")
    return reference


def test_a_case_from_opening_to_a_closed_referral_and_a_closed_case(
    chromium, live_server, frontline_officer
):
    officer = frontline_officer
    supervisor = UserFactory(username="supervisor.e2e", agency=officer.agency, role=Role.SUPERVISOR)
    provider_agency = AgencyFactory(name="Lantern Shelter", kind=Agency.Kind.SERVICE_PROVIDER)
    provider_staff = UserFactory(
        username="shelter.e2e", agency=provider_agency, role=Role.PROVIDER_STAFF
    )
    ServiceProvider.objects.create(
        slug="lantern-shelter",
        name="Lantern Shelter",
        agency=provider_agency,
        channel="inbox",
        service_types=["shelter"],
        regions=["national"],
    )
    base = live_server.url

    # The officer opens the case and screens the person.
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    flow._sign_in(page, base, officer)
    reference = _open_case_and_screen(page, base)
    case = Case.objects.get(reference=reference)
    # The person consents in writing to the shelter referral (the consent form is the case
    # page's, tested elsewhere).
    services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
        method=Consent.Method.WRITTEN,
        service_type="shelter",
        valid_until=timezone.now() + timedelta(days=30),
    )

    # ... and proposes a referral by hand.
    page.goto(f"{base}/referrals/cases/{reference}/")
    page.select_option("#id_propose-service_type", "shelter")
    page.select_option("#id_propose-provider", "lantern-shelter")
    page.fill("#id_propose-note", "Needs a safe place tonight (fictional).")
    with page.expect_navigation():
        page.click("button:has-text('Propose referral')")
    assert page.is_visible("text=Referral proposed; it waits for a supervisor.")
    referral = Referral.objects.get(case=case, service_type="shelter")
    assert referral.status == "pending_approval"
    context.close()

    # The supervisor approves it from the queue.
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    flow._sign_in(page, base, supervisor)
    page.goto(f"{base}/referrals/queue/")
    with page.expect_navigation():
        page.click(f"a[href='/referrals/{referral.pk}/']")
    with page.expect_navigation():
        page.click("button:has-text('Approve and send')")
    assert page.is_visible("text=Referral approved; it is sent next.")
    context.close()
    referral.refresh_from_db()
    if referral.status == "approved":  # no worker behind the live server: deliver here
        referral_dispatch(referral_id=referral.pk)
        referral.refresh_from_db()
    assert referral.status == "sent"

    # The provider's staff accept, start services and close it with its outcome.
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    flow._sign_in(page, base, provider_staff)
    page.goto(f"{base}/referrals/{referral.pk}/")
    assert page.is_visible("text=Who to call back at the referring agency")
    assert page.is_visible(f"text={officer.get_full_name()}")
    assert reference not in page.content()
    for answer in ("Accept", "Services started"):
        with page.expect_navigation():
            page.click(f"button:has-text('{answer}')")
        page.goto(f"{base}/referrals/{referral.pk}/")
    _shoot(page, "provider-referral")
    page.select_option("#id_close-outcome", "services_delivered")
    with page.expect_navigation():
        page.click("button:has-text('Close referral')")
    assert page.is_visible("text=Referral closed.")
    assert page.is_visible("text=Services delivered")
    context.close()
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.closed_by) == (
        "closed",
        "services_delivered",
        "provider",
    )

    # A note, a task done and the case closed; the officer reads the case's referrals.
    services.case_note_add(case=case, by=officer, kind="service_update", text="Placed (fictional).")
    task = services.case_task_add(
        case=case, by=officer, description="Check in after a week", due_at=timezone.now()
    )
    services.case_task_done(task=task, by=officer)
    services.case_close(case=case, by=supervisor, reason_code="services_in_place")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    flow._sign_in(page, base, officer)
    page.goto(f"{base}/referrals/cases/{reference}/")
    assert page.is_visible("text=Services delivered")
    assert not page.is_visible("#propose-referral")
    _shoot(page, "case-referrals")
    page.goto(f"{base}/referrals/home/")
    _shoot(page, "officer-home")
    context.close()
    assert not Case.objects.get(pk=case.pk).is_open
