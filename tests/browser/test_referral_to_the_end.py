"""One case carried through its whole life in a real browser, every step on the product's
pages by the person whose step it is (issue 14's acceptance test):

1. a frontline officer opens the case, screens the person, records their written consent to a
   shelter referral and proposes the referral by hand;
2. a supervisor of the officer's agency (second sign-in step taken) finds it from their home
   page in the queue and approves it;
3. the shelter's staff find it from their home page in their inbox, accept it there, start
   services and close it with its outcome on their referral page (the packet and whom to call
   back, never the case);
4. the officer reads the answers on the case, writes a note, adds a task, marks it done from
   My tasks and closes the case.

After each step the test reads what that person sees: statuses by their labels, the
messages, the case's timeline. Screenshots at 390 and 1280 px (no page wider than the
screen) in test-output/screenshots/referrals/. All people are fictional."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from referrals.models import Referral, ServiceProvider
from screening.models import Agency, Case, CaseNote, CaseTask
from screening.roles import Role
from tests.browser import test_screening_flow as flow
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.browser

chromium = flow.chromium
frontline_officer = flow.frontline_officer
SHOTS = flow.SCREENSHOTS / "referrals"


def _shoot(page, name: str) -> None:
    """The page at a phone's width and a desktop's, neither scrolling sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _signed_in(chromium, base: str, user):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    flow._sign_in(page, base, user)
    return context, page


def _menu(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def _submit(page, button: str) -> None:
    with page.expect_navigation():
        page.click(f"button:has-text('{button}')")


def _timeline(page):
    return page.locator("#timeline .timeline-title")


def _open_case_and_screen(page) -> str:
    page.click("text=Open a new case")
    page.fill("#id_age", "34")
    page.fill("#id_languages", "es, en")
    page.select_option("#id_exploitation_type", "labour")
    _submit(page, "Open case")
    reference = page.inner_text("h1").removeprefix("Case ").strip()
    expect(page.locator(".messages")).to_contain_text(f"Case {reference} opened.")
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
    _submit(page, "Submit screening")
    expect(page.locator("#outcome-title")).to_be_visible()
    return reference


def test_one_case_from_opening_to_closing_on_the_pages_of_each_role(
    chromium, live_server, frontline_officer
):
    officer = frontline_officer
    supervisor = UserFactory(
        username="supervisor.e2e",
        first_name="Mira",
        last_name="Stone",
        agency=officer.agency,
        role=Role.SUPERVISOR,
    )
    shelter = AgencyFactory(name="Lantern Shelter", kind=Agency.Kind.SERVICE_PROVIDER)
    shelter_staff = UserFactory(username="shelter.e2e", agency=shelter, role=Role.PROVIDER_STAFF)
    ServiceProvider.objects.create(
        slug="lantern-shelter",
        name="Lantern Shelter",
        agency=shelter,
        channel="inbox",
        service_types=["shelter"],
        regions=["national"],
    )
    base = live_server.url

    # 1. The officer opens the case, screens the person, records the consent, proposes.
    context, page = _signed_in(chromium, base, officer)
    reference = _open_case_and_screen(page)
    with page.expect_navigation():
        page.click(f"a:has-text('Case {reference}')")
    expect(page.locator("h1")).to_have_text(f"Case {reference}")
    expect(_timeline(page).first).to_contain_text("Screening submitted")

    page.click("summary:has-text('Record a consent to share')")
    page.select_option("#id_scope", "referral_service_type")
    page.select_option("#id_service_type", "shelter")
    page.select_option("#id_method", "written")
    page.fill("#id_valid_until", (date.today() + timedelta(days=30)).isoformat())
    _submit(page, "Record consent")
    expect(page.locator(".messages")).to_contain_text("Consent recorded.")
    expect(page.locator("li.consent", has_text="Referral to a type of service")).to_contain_text(
        "(shelter)"
    )
    expect(_timeline(page).first).to_have_text("Consent given: referral to a type of service")

    with page.expect_navigation():
        page.click("text=Every referral of this case")
    page.select_option("#id_propose-service_type", "shelter")
    page.select_option("#id_propose-provider", "lantern-shelter")
    page.fill("#id_propose-note", "Needs a safe place tonight (fictional).")
    _submit(page, "Propose referral")
    expect(page.locator(".messages")).to_contain_text(
        "Referral proposed; it waits for a supervisor."
    )
    expect(page.locator("h1")).to_have_text("Referral for shelter")
    expect(page.locator(".facts").first).to_contain_text("Waiting for approval")
    with page.expect_navigation():
        page.click("a:has-text('Its referrals')")
    card = page.locator("#case-referrals li")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Shelter · Lantern Shelter")
    expect(card.locator(".badge").first).to_have_text("Waiting for approval")
    _shoot(page, "1-officer-referral-proposed")
    context.close()
    referral = Referral.objects.get(case__reference=reference)

    # 2. The supervisor: home page, the queue's count, the referral, approved.
    context, page = _signed_in(chromium, base, supervisor)
    _menu(page, "Home")
    with page.expect_navigation():
        page.click("a:has-text('Waiting for approval')")
    expect(page.locator("h1")).to_have_text("Referral queue")
    queued = page.locator(".referral-card", has_text=reference)
    expect(queued.locator(".badge").first).to_have_text("Waiting for approval")
    _shoot(page, "2-supervisor-queue")
    with page.expect_navigation():
        queued.get_by_role("link", name="Shelter · Lantern Shelter").click()
    expect(page.locator("h1")).to_have_text("Referral for shelter")
    page.fill("#id_approve-note", "Approved: place confirmed by phone (fictional).")
    _submit(page, "Approve and send")
    expect(page.locator(".messages")).to_contain_text("Referral approved; it is sent next.")
    # Delivery to an in-system inbox runs at once after the commit (Celery eager here).
    expect(page.locator(".facts").first).to_contain_text("Sent")
    expect(page.locator("table.history tbody tr", has_text="Approved").first).to_contain_text(
        "supervisor.e2e"
    )
    _menu(page, "Referral queue")
    expect(page.locator(".referral-card", has_text=reference)).to_have_count(0)
    context.close()

    # 3. The shelter's staff: home page, the inbox, accept there; services started; closed.
    context, page = _signed_in(chromium, base, shelter_staff)
    _menu(page, "Home")
    with page.expect_navigation():
        page.click("a:has-text('Sent')")
    expect(page.locator("h1")).to_have_text("Referral inbox")
    entry = page.locator(f"#referral-{referral.pk}")
    expect(entry.locator(".badge").first).to_have_text("Sent")
    assert reference not in page.content()  # the provider never sees the case
    _shoot(page, "3-provider-inbox")
    with page.expect_navigation():
        entry.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Answer recorded.")
    expect(entry.locator(".badge").first).to_have_text("Accepted")

    with page.expect_navigation():
        entry.locator("h2 a").click()
    expect(page.locator("#callback-contacts")).to_contain_text(officer.get_full_name())
    assert reference not in page.content()
    _submit(page, "Services started")
    expect(entry.locator(".badge").first).to_have_text("Services started")
    with page.expect_navigation():
        entry.locator("h2 a").click()
    page.select_option("#id_close-outcome", "services_delivered")
    page.fill("#id_close-note", "Stayed three weeks, then moved to a flat (fictional).")
    _submit(page, "Close referral")
    expect(page.locator(".messages")).to_contain_text("Referral closed.")
    status = page.locator(".facts").first
    expect(status).to_contain_text("Closed (Services delivered, closed by")
    history = page.locator("table.history tbody")
    for what in ("Accepted", "Services started", "Closed"):
        expect(history).to_contain_text(what)
    assert reference not in page.content()
    _shoot(page, "3-provider-referral-closed")
    context.close()

    # 4. The officer: the answers on the case, a note, a task done, the case closed.
    context, page = _signed_in(chromium, base, officer)
    page.goto(f"{base}/cases/{reference}/")
    for title in (
        "Referral for shelter to Lantern Shelter: closed",
        "Referral for shelter to Lantern Shelter: services started",
        "Referral for shelter to Lantern Shelter: accepted",
    ):
        expect(_timeline(page).filter(has_text=title)).to_have_count(1)
    with page.expect_navigation():
        page.click("text=Every referral of this case")
    card = page.locator("#case-referrals li")
    expect(card.locator(".badge").first).to_have_text("Closed")
    expect(card).to_contain_text("Services delivered")
    with page.expect_navigation():
        page.click(f"a:has-text('Case {reference}')")

    page.click("summary:has-text('Add a note')")
    page.check("#id_note-kind_2")  # service update
    page.fill("#id_note-text", "Moved into a flat; shelter stay ended well (fictional).")
    _submit(page, "Add the note")
    expect(page.locator(".messages")).to_contain_text("Note added.")
    note = page.locator("#timeline .timeline-entry").first
    expect(note.locator(".timeline-title")).to_have_text("Note: service update")
    expect(note.locator(".timeline-detail")).to_have_text(
        "Moved into a flat; shelter stay ended well (fictional)."
    )
    expect(note.locator(".timeline-when")).to_contain_text(officer.get_full_name())

    page.click("summary:has-text('Add a task')")
    page.fill("#id_task-description", "Check in a week after the move")
    page.select_option("#id_task-kind", "follow_up")
    page.fill("#id_task-due_date", (date.today() + timedelta(days=7)).isoformat())
    _submit(page, "Add the task")
    expect(page.locator(".messages")).to_contain_text("Task added.")
    expect(page.locator("#tasks li.task")).to_contain_text("Check in a week after the move")
    _menu(page, "My tasks")
    mine = page.locator(".case-card", has_text="Check in a week after the move")
    expect(mine).to_contain_text(reference)
    _submit(page, "Mark done")
    expect(page.locator(".messages")).to_contain_text("Task marked done.")
    expect(page.locator("main")).to_contain_text("You have no open tasks.")
    page.goto(f"{base}/cases/{reference}/")
    expect(page.locator("#tasks li.task", has_text="Check in a week")).to_contain_text("Done")
    expect(page.locator("#tasks button:has-text('Mark done')")).to_have_count(0)

    page.click("summary:has-text('Close this case')")
    page.check("input[name=close-reason_code][value=services_in_place]")
    _submit(page, "Close the case")
    expect(page.locator(".messages")).to_contain_text("Case closed.")
    expect(page.locator(".facts").first).to_contain_text("Closed")
    expect(page.locator("#closing")).to_contain_text("Support is in place")
    expect(_timeline(page).first).to_have_text("Case closed (support is in place)")
    expect(page.locator("text=Start a screening")).to_have_count(0)
    _shoot(page, "4-officer-case-closed")
    with page.expect_navigation():
        page.click("text=Every referral of this case")
    expect(page.locator("#propose-referral")).to_have_count(0)
    _shoot(page, "4-officer-case-referrals")
    context.close()

    # What the pages did, as stored.
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.closed_by) == (
        "closed",
        "services_delivered",
        "provider",
    )
    case = Case.objects.get(reference=reference)
    assert not case.is_open and case.close_reason_code == "services_in_place"
    assert CaseNote.objects.get(case=case).kind == "service_update"
    assert CaseTask.objects.get(case=case).is_done
