"""Case work in a real browser on a phone-sized screen (390 px), by keyboard: a note, a task
added and done, and the case closed with a reason, no page wider than the screen; then the
same case page at 1280 px. All people are fictional."""

import pytest

from screening import services
from screening.models import Case, CaseNote, CaseTask
from tests.browser import test_screening_flow as flow

pytestmark = pytest.mark.browser

chromium = flow.chromium
frontline_officer = flow.frontline_officer


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _open(page, summary: str) -> None:
    """Open a disclosure (<details>) by keyboard, as a person tabbing through would."""
    page.focus(f"summary:has-text('{summary}')")
    page.keyboard.press("Enter")


def test_note_task_and_closing_by_keyboard_on_a_phone(chromium, live_server, frontline_officer):
    case = services.case_create(created_by=frontline_officer, age=29)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    flow._sign_in(page, live_server.url, frontline_officer)
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    _fits(page, 390)

    _open(page, "Add a note")
    page.focus("#id_note-kind_1")  # safety planning
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("Agreed a safe time to call: mornings (fictional).")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add the note"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.is_visible("text=Note added.")
    assert page.is_visible("text=Agreed a safe time to call")
    _fits(page, 390)

    _open(page, "Add a task")
    page.focus("#id_task-description")
    page.keyboard.type("Call back about the shelter place")
    page.fill("#id_task-due_date", "2099-01-31")
    page.focus("button:has-text('Add the task')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.is_visible("text=Task added.")
    page.focus("button:has-text('Mark done')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert CaseTask.objects.get().is_done
    _fits(page, 390)

    _open(page, "Close this case")
    page.focus("#id_close-reason_code_0")
    page.keyboard.press("Space")
    page.focus("button:has-text('Close the case')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.is_visible("text=Case closed.")
    assert page.title() == f"Case {case.reference} · Case screening"
    _fits(page, 390)
    flow.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(flow.SCREENSHOTS / "case-work-mobile.png"), full_page=True)
    context.close()

    assert not Case.objects.get(pk=case.pk).is_open
    assert CaseNote.objects.get().kind == "safety_planning"

    wide = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = wide.new_page()
    flow._sign_in(page, live_server.url, frontline_officer)
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    assert page.is_visible("text=Reopen the case")
    _fits(page, 1280)
    page.screenshot(path=str(flow.SCREENSHOTS / "case-work-wide.png"), full_page=True)
    wide.close()
